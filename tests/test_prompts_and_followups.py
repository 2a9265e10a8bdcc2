"""Neutral prompts by purpose, and follow-ups written as lines in a note."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import pytest

from msl_tui.models.enums import ObjectiveKind, PromptPurpose, Stance
from msl_tui.services.followups import parse_followups
from msl_tui.services.language import check_text
from msl_tui.services.prompts import BUILTIN_PROMPTS, Prompt, root_cause_question, suggest_prompts


def test_every_purpose_has_at_least_five_prompts() -> None:
    counts = Counter(p.purpose for p in BUILTIN_PROMPTS)
    assert all(counts[purpose] >= 5 for purpose in PromptPurpose)


@pytest.mark.parametrize("prompt", BUILTIN_PROMPTS, ids=lambda p: p.id)
def test_every_builtin_prompt_is_neutral(prompt: Prompt) -> None:
    assert check_text(prompt.text) == []
    assert prompt.text.endswith(("?", "."))


def test_prompt_ids_are_unique() -> None:
    assert len({p.id for p in BUILTIN_PROMPTS}) == len(BUILTIN_PROMPTS)


@pytest.mark.parametrize(
    ("options", "first_purpose"),
    [
        ({"negative_feedback_without_root_cause": True}, PromptPurpose.ROOT_CAUSE),
        ({"stance": Stance.NEGATIVE}, PromptPurpose.PERCEPTION),
        ({"objective_kind": ObjectiveKind.SCIENTIFIC}, PromptPurpose.EVIDENCE_NEEDS),
        ({"objective_kind": ObjectiveKind.BUSINESS}, PromptPurpose.UNMET_NEEDS),
        ({}, PromptPurpose.CURRENT_PRACTICE),
        (
            {"negative_feedback_without_root_cause": True, "stance": Stance.ADVOCATE},
            PromptPurpose.ROOT_CAUSE,
        ),
    ],
)
def test_the_lead_purpose_follows_the_situation(
    options: dict, first_purpose: PromptPurpose
) -> None:  # type: ignore[type-arg]
    assert suggest_prompts(**options)[0].purpose is first_purpose


def test_the_msls_own_prompts_come_first_within_a_lead_purpose() -> None:
    mine = Prompt(
        "mine-1", PromptPurpose.EVIDENCE_NEEDS, "Which endpoints matter most to you?", builtin=False
    )
    suggested = suggest_prompts(objective_kind=ObjectiveKind.SCIENTIFIC, custom=[mine])
    assert suggested[0] == mine


def test_limit_is_respected() -> None:
    assert len(suggest_prompts(limit=3)) == 3


def test_root_cause_question_is_a_neutral_root_cause_prompt() -> None:
    prompt = root_cause_question()
    assert prompt.purpose is PromptPurpose.ROOT_CAUSE and check_text(prompt.text) == []


NOW = datetime(2026, 11, 23, 10, 0)  # a Monday


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "- [ ] send the trial reprint by fri",
            ("send the trial reprint", date(2026, 11, 27), False),
        ),
        ("- [x] call back", ("call back", None, True)),
        ("- [X] call back", ("call back", None, True)),
        ("[ ] ask MI about dosing due 30/11", ("ask MI about dosing", date(2026, 11, 30), False)),
        ("TODO: send slides before next tue", ("send slides", date(2026, 11, 24), False)),
        (
            "* [ ] book the advisory board by 2026-12-15",
            ("book the advisory board", date(2026, 12, 15), False),
        ),
        ("- [ ] meet by the lake", ("meet by the lake", None, False)),
        (
            "follow-up: share the poster by tomorrow",
            ("share the poster", date(2026, 11, 24), False),
        ),
    ],
)
def test_follow_up_lines(line: str, expected: tuple) -> None:  # type: ignore[type-arg]
    (parsed,) = parse_followups(line, NOW)
    assert (parsed.action, parsed.due, parsed.done) == expected


def test_other_lines_are_not_follow_ups_and_line_numbers_are_kept() -> None:
    note = "Discussed dosing.\n- a bullet, not a task\n- [ ] send reprint by fri\nThanks."
    assert [(f.line, f.action) for f in parse_followups(note, NOW)] == [(3, "send reprint")]
