"""Spots possible adverse-event mentions in a note so the MSL can confirm them in time.

Recall matters more than precision: a hit only asks the MSL to confirm. Plain negations
("no side effects reported", "no adverse events") do not trigger, nor do look-alikes such as
"side-by-side", "hospital pharmacy" or "dose-finding".
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AEMention:
    start: int
    end: int
    phrase: str
    category: str


_TERMS: tuple[tuple[str, str], ...] = (
    ("side effect", r"side[- ]effects?\b(?!-)"),
    ("side effect", r"adverse (?:event|reaction|effect|drug reaction)s?"),
    ("side effect", r"\b(?:skin )?rash(?:es)?\b"),
    ("side effect", r"\bnausea\b|\bvomiting\b|\bdiarrh(?:o)?ea\b"),
    ("side effect", r"\banaphyla(?:xis|ctic)\b|\ballergic reactions?\b"),
    ("side effect", r"\bliver (?:injury|damage|toxicity)\b|\bhepatotoxicity\b"),
    ("side effect", r"\btoxicity\b|\bintolerance\b|\breaction to\b"),
    ("hospitalisation", r"\bhospitali[sz](?:ed|ation)\b"),
    ("hospitalisation", r"\badmitted to (?:the )?(?:hospital|icu|ward|a&e|er)\b"),
    ("hospitalisation", r"\b(?:emergency|er|a&e) (?:admission|visit)\b"),
    ("pregnancy exposure", r"\bpregnan(?:t|cy)\b(?! registry)"),
    ("overdose", r"\boverdos(?:e|ed|es|ing)\b"),
    ("misuse", r"\b(?:misuse|abuse)[ds]?\b|\boff[- ]label use\b"),
    ("lack of effect", r"\b(?:did ?n[o']?t|does ?n[o']?t|didn't|doesn't) work\b"),
    ("lack of effect", r"\bstopped working\b|\black of (?:efficacy|effect)\b"),
    ("lack of effect", r"\bno (?:therapeutic )?effect\b|\bnot effective\b|\bineffective\b"),
    ("death", r"\b(?:died|death|fatal(?:ity)?|passed away)\b"),
    ("medication error", r"\bwrong dose\b|\bdosing error\b|\bmedication error\b"),
    ("harm", r"\bharm(?:ed)?\b|\binjur(?:y|ed|ies)\b"),
)
_PATTERN = re.compile(
    "|".join(f"(?P<t{n}>{regex})" for n, (_, regex) in enumerate(_TERMS)), re.IGNORECASE
)
# "no", "without", "denies" shortly before a term cancel it: "no side effects were seen".
_NEGATION = re.compile(
    r"\b(?:no|without|denie[sd]|never|nor|not any)\b[\w\s,-]{0,20}$", re.IGNORECASE
)


def detect_adverse_events(text: str) -> list[AEMention]:
    mentions = []
    for match in _PATTERN.finditer(text):
        category = next(
            _TERMS[int(name[1:])][0] for name, value in match.groupdict().items() if value
        )
        before = text[max(0, match.start() - 24) : match.start()]
        # "no effect" is itself the term; other negations cancel the mention.
        if category != "lack of effect" and _NEGATION.search(before):
            continue
        mentions.append(AEMention(match.start(), match.end(), match.group(0), category))
    return mentions


def mentions_adverse_event(text: str) -> bool:
    return bool(detect_adverse_events(text))
