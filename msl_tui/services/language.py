"""Points out leading questions and promotional wording, with a neutral rewording.

It advises; it never blocks. Patterns are word-bounded and case-insensitive, and a few
everyday uses ("the best time to reach you", "superior vena cava") are excused explicitly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["leading", "promotional"]


@dataclass(frozen=True, slots=True)
class LanguageHint:
    start: int
    end: int
    phrase: str
    kind: Kind
    message: str
    suggestion: str


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str]
    kind: Kind
    message: str
    suggestion: str


def _rule(regex: str, kind: Kind, message: str, suggestion: str) -> _Rule:
    return _Rule(re.compile(regex, re.IGNORECASE), kind, message, suggestion)


LEADING = "suggests its own answer"
SELLING = "a claim that sells rather than informs"

RULES: tuple[_Rule, ...] = (
    _rule(
        r"\b(?:don'?t|do not) you (?:agree|think|feel)\b",
        "leading",
        LEADING,
        "What is your view on this?",
    ),
    _rule(
        r"\b(?:wouldn'?t|would not|won'?t) you (?:agree|say|think)\b",
        "leading",
        LEADING,
        "How would you describe it?",
    ),
    _rule(r"\bwould you not agree\b", "leading", LEADING, "What is your view on this?"),
    _rule(
        r"\bisn'?t it (?:true|clear|obvious|fair to say)\b",
        "leading",
        LEADING,
        "What has your experience been?",
    ),
    _rule(
        r"\bis it not (?:true|clear|obvious)\b",
        "leading",
        LEADING,
        "What has your experience been?",
    ),
    _rule(r"\bsurely\b", "leading", LEADING, "Ask openly: 'How do you see ...?'"),
    _rule(
        r"\byou (?:must|have to|would) (?:admit|agree)\b",
        "leading",
        LEADING,
        "What is your view on this?",
    ),
    _rule(
        r"\bas you (?:surely |must )?know\b",
        "leading",
        LEADING,
        "Ask what they know: 'What have you seen of ...?'",
    ),
    _rule(r"\bobviously\b", "leading", LEADING, "Drop it and ask: 'How do you see ...?'"),
    _rule(
        r"\bwouldn'?t it be better\b",
        "leading",
        LEADING,
        "What would work better for your patients?",
    ),
    _rule(
        r",\s*(?:right|correct|no)\s*\?",
        "leading",
        "a tag question that asks for a yes",
        "End on an open question: 'How do you see it?'",
    ),
    _rule(
        r"\bbest[- ]in[- ]class\b",
        "promotional",
        SELLING,
        "Describe what the data show, e.g. 'in the phase III trial ...'",
    ),
    _rule(
        r"(?<!you )(?<!works )(?<!work )(?<!suits )(?<!suit )(?<!at )(?<!your )(?<!fits )(?<!all )(?<!all the )"
        r"\b(?:the )?best\b(?! (?:time|way|day|place|person|contact|format|approach|"
        r"practice|practices|of luck|wishes|regards))(?! to\b)(?!-known)",
        "promotional",
        SELLING,
        "Say what the evidence shows, not a ranking",
    ),
    _rule(
        r"\bsuperior\b(?! vena cava)",
        "promotional",
        SELLING,
        "State the comparison the data support: 'How does it compare with ...?'",
    ),
    _rule(
        r"\bsafest\b",
        "promotional",
        SELLING,
        "Refer to the safety profile in the prescribing information",
    ),
    _rule(
        r"\bmost effective\b",
        "promotional",
        SELLING,
        "Cite the efficacy results and their comparator",
    ),
    _rule(
        r"\bbreakthrough\b(?! therapy designation)",
        "promotional",
        SELLING,
        "Describe what is new, with the data",
    ),
    _rule(r"\brevolutionary\b", "promotional", SELLING, "Describe what is new, with the data"),
    _rule(r"\bmiracle\b", "promotional", SELLING, "Describe the observed outcomes"),
    _rule(r"\bgame[- ]?changer\b", "promotional", SELLING, "Describe what is new, with the data"),
    _rule(
        r"\bunmatched\b|\bunrivall?ed\b|\bunbeatable\b",
        "promotional",
        SELLING,
        "Say what the evidence shows, not a ranking",
    ),
    _rule(
        r"\bclearly better\b|\bfar better\b",
        "promotional",
        SELLING,
        "State the comparison the data support",
    ),
    _rule(
        r"\bno side[- ]effects\b(?! (?:were |was )?reported)",
        "promotional",
        "an absolute safety claim",
        "Refer to the safety profile in the prescribing information",
    ),
    _rule(
        r"\bcompletely safe\b|\b100% safe\b|\brisk[- ]free\b",
        "promotional",
        "an absolute safety claim",
        "Refer to the safety profile in the prescribing information",
    ),
    _rule(r"\bguarantee[ds]?\b", "promotional", SELLING, "Describe the observed outcomes"),
    _rule(
        r"\bgold standard\b",
        "promotional",
        SELLING,
        "Cite the guideline or data that support its place",
    ),
)


def check_text(text: str) -> list[LanguageHint]:
    """Every leading or promotional phrase in ``text``, in order; overlaps keep the first."""
    hints: list[LanguageHint] = []
    for rule in RULES:
        for match in rule.pattern.finditer(text):
            hints.append(
                LanguageHint(
                    start=match.start(),
                    end=match.end(),
                    phrase=match.group(0).strip(" ,?"),
                    kind=rule.kind,
                    message=rule.message,
                    suggestion=rule.suggestion,
                )
            )
    hints.sort(key=lambda h: (h.start, -h.end))
    kept: list[LanguageHint] = []
    for hint in hints:
        if kept and hint.start < kept[-1].end:
            continue
        kept.append(hint)
    return kept


def is_neutral(text: str) -> bool:
    return not check_text(text)
