"""Follow-ups written as lines in a note: `- [ ] send the trial reprint by fri`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from msl_tui.services.dates import DateParseError, parse_when

_LINE = re.compile(
    r"^\s*(?:[-*]\s*)?(?:\[(?P<box>[ xX])\]|(?P<todo>todo|follow[- ]up)\s*:)\s*(?P<text>.+?)\s*$",
    re.IGNORECASE,
)
_DUE = re.compile(r"^(?P<action>.+?)\s+(?:by|due|before)\s+(?P<when>[^,;]+?)\.?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParsedFollowUp:
    action: str
    due: date | None
    done: bool
    line: int


def parse_followups(note: str, now: datetime, *, dayfirst: bool = True) -> list[ParsedFollowUp]:
    found = []
    for number, line in enumerate(note.splitlines(), start=1):
        match = _LINE.match(line)
        if not match:
            continue
        text = match["text"]
        done = (match["box"] or " ").lower() == "x"
        action, due = text, None
        due_match = _DUE.match(text)
        if due_match:
            try:
                due = parse_when(
                    due_match["when"], now, dayfirst=dayfirst, direction="future"
                ).date()
                action = due_match["action"]
            except DateParseError:
                pass  # not a date after all: the whole line is the action
        found.append(ParsedFollowUp(action.strip(), due, done, number))
    return found
