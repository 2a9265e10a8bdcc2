"""A library of open, neutral questions, offered by what the visit is for.

Every built-in prompt passes the language check (a test holds that). Ordering rules of
``suggest_prompts``, first match wins for the lead purposes:

1. negative feedback without a root cause: root-cause questions first;
2. a negative stance: perception of the company, then root cause;
3. a scientific objective: evidence needs, then current practice;
4. a business objective: unmet needs, then the relationship itself;
5. otherwise: current practice, then unmet needs.

The remaining purposes follow in library order; the MSL's own prompts of a lead purpose come
before the built-in ones of that purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from msl_tui.models.enums import ObjectiveKind, PromptPurpose, Stance


@dataclass(frozen=True, slots=True)
class Prompt:
    id: str
    purpose: PromptPurpose
    text: str
    builtin: bool = True


def _group(purpose: PromptPurpose, slug: str, *texts: str) -> list[Prompt]:
    return [Prompt(f"{slug}-{n}", purpose, text) for n, text in enumerate(texts, start=1)]


BUILTIN_PROMPTS: tuple[Prompt, ...] = (
    *_group(
        PromptPurpose.CURRENT_PRACTICE,
        "practice",
        "How does your team currently decide when to start or change treatment?",
        "Walk me through a typical patient you saw this month.",
        "What guides your choice between the available options today?",
        "How has your approach changed over the last year?",
        "Who else is involved in these decisions at your centre?",
    ),
    *_group(
        PromptPurpose.UNMET_NEEDS,
        "needs",
        "Where do your patients still struggle most?",
        "What would make the biggest difference to your patients' care?",
        "Which patients are hardest to manage today, and why?",
        "What gets in the way of the care you would like to give?",
        "What questions do your patients ask that are hard to answer?",
    ),
    *_group(
        PromptPurpose.EVIDENCE_NEEDS,
        "evidence",
        "What data would help you in your practice?",
        "Which questions does the current evidence leave open for you?",
        "How do you judge whether trial results apply to your patients?",
        "What would you want to see in a future study?",
        "Which sources do you rely on for new clinical data?",
    ),
    *_group(
        PromptPurpose.PERCEPTION,
        "perception",
        "How would you describe your experience of working with our company?",
        "What could we do differently to be more useful to you?",
        "How do you prefer to receive scientific updates from us?",
        "What have you heard from colleagues about our medical team?",
        "When has our support fallen short for you?",
    ),
    *_group(
        PromptPurpose.ROOT_CAUSE,
        "root",
        "Can you tell me more about what happened?",
        "When did this first become a concern for you?",
        "What would have needed to be different?",
        "How has this affected your work or your patients?",
        "What would a good resolution look like for you?",
    ),
    *_group(
        PromptPurpose.RELATIONSHIP,
        "relationship",
        "How useful have our recent meetings been for you?",
        "How often would you like us to be in touch, and how?",
        "What should we stop doing?",
        "What topics would you like our next conversation to cover?",
        "How could we better recognise your contribution?",
    ),
)


def root_cause_question() -> Prompt:
    """The neutral question to ask when negative feedback has no root cause yet."""
    return next(p for p in BUILTIN_PROMPTS if p.purpose is PromptPurpose.ROOT_CAUSE)


def _lead_purposes(
    objective_kind: ObjectiveKind | None, stance: Stance | None, root_cause_missing: bool
) -> list[PromptPurpose]:
    if root_cause_missing:
        return [PromptPurpose.ROOT_CAUSE, PromptPurpose.PERCEPTION]
    if stance is Stance.NEGATIVE:
        return [PromptPurpose.PERCEPTION, PromptPurpose.ROOT_CAUSE]
    if objective_kind is ObjectiveKind.SCIENTIFIC:
        return [PromptPurpose.EVIDENCE_NEEDS, PromptPurpose.CURRENT_PRACTICE]
    if objective_kind is ObjectiveKind.BUSINESS:
        return [PromptPurpose.UNMET_NEEDS, PromptPurpose.RELATIONSHIP]
    return [PromptPurpose.CURRENT_PRACTICE, PromptPurpose.UNMET_NEEDS]


def suggest_prompts(
    *,
    objective_kind: ObjectiveKind | None = None,
    stance: Stance | None = None,
    negative_feedback_without_root_cause: bool = False,
    custom: Sequence[Prompt] = (),
    limit: int = 8,
) -> list[Prompt]:
    leads = _lead_purposes(objective_kind, stance, negative_feedback_without_root_cause)
    order = leads + [p for p in PromptPurpose if p not in leads]
    ranked: list[Prompt] = []
    for purpose in order:
        ranked.extend(p for p in custom if p.purpose is purpose)
        ranked.extend(p for p in BUILTIN_PROMPTS if p.purpose is purpose)
    # Two from each lead purpose first, then the rest in order, so the list stays varied.
    head = [p for purpose in leads for p in [q for q in ranked if q.purpose is purpose][:3]]
    tail = [p for p in ranked if p not in head]
    return (head + tail)[:limit]
