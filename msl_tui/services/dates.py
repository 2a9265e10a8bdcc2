"""Dates as people type them: "yesterday 3pm", "last fri", "2 days ago", "21/11 14:30".

A small relative layer handles words; python-dateutil handles absolute forms. A day given
without a time keeps the clock time of ``now`` for "today"/"now" and 09:00 otherwise (a
plausible visit hour; the MSL can type one). ``direction`` says which way a bare weekday
points: back for a visit just made, forward for a follow-up's due date.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Literal

from dateutil import parser as dateutil_parser

Direction = Literal["past", "future"]
DEFAULT_TIME = time(9, 0)

WEEKDAYS = {
    name: index
    for index, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "weds", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}
UNITS = {
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "wk": "weeks",
    "wks": "weeks",
    "week": "weeks",
    "weeks": "weeks",
}

_AGO = re.compile(r"^(\d+)\s*([a-z]+)\s+ago$")
_IN = re.compile(r"^in\s+(\d+)\s*([a-z]+)$")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")
_DAY_THEN_TIME = re.compile(r"^(.*?)(?:\s+(?:at\s+)?(\d{1,2}(?::\d{2})?\s*(?:am|pm)?))?$")


class DateParseError(ValueError):
    """The text is not a date or time this parser understands."""


def _parse_time(text: str) -> time | None:
    match = _TIME.match(text.strip())
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    if match[3] == "pm" and hour < 12:
        hour += 12
    elif match[3] == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    if match[3] is None and match[2] is None:
        return None  # a bare number is not a time ("21" could be a day)
    return time(hour, minute)


def _relative_day(word: str, now: datetime, direction: Direction) -> datetime | None:
    """The day a word names, at midnight; None if it is not a day word."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    simple = {"today": 0, "now": 0, "yesterday": -1, "tomorrow": 1, "tmrw": 1}
    if word in simple:
        return midnight + timedelta(days=simple[word])
    parts = word.split()
    modifier = None
    if len(parts) == 2 and parts[0] in ("last", "next", "this"):
        modifier, word = parts
    if word in WEEKDAYS:
        target = WEEKDAYS[word]
        delta = target - now.weekday()
        if modifier == "last" or (modifier is None and direction == "past"):
            delta = delta - 7 if delta > 0 or (modifier == "last" and delta == 0) else delta
        elif modifier == "next" or (modifier is None and direction == "future"):
            delta = delta + 7 if delta < 0 or (modifier == "next" and delta == 0) else delta
        return midnight + timedelta(days=delta)
    return None


def parse_when(
    text: str, now: datetime, *, dayfirst: bool = True, direction: Direction = "past"
) -> datetime:
    """The moment ``text`` names, relative to ``now`` (whose tzinfo the result keeps)."""
    cleaned = " ".join(text.strip().lower().split())
    if not cleaned:
        raise DateParseError("no date given: type e.g. 'now', 'yesterday 3pm' or '21/11 14:30'")
    if cleaned == "now":
        return now.replace(microsecond=0)

    for pattern, sign in ((_AGO, -1), (_IN, 1)):
        match = pattern.match(cleaned)
        if match and match[2] in UNITS:
            amount = int(match[1]) * sign
            return (now + timedelta(**{UNITS[match[2]]: amount})).replace(microsecond=0)

    only_time = _parse_time(cleaned)
    if only_time is not None:
        return now.replace(hour=only_time.hour, minute=only_time.minute, second=0, microsecond=0)

    match = _DAY_THEN_TIME.match(cleaned)
    if match:
        day_word, time_text = match[1].strip(), match[2]
        day = _relative_day(day_word, now, direction)
        at = _parse_time(time_text) if time_text else None
        if day is not None and (time_text is None or at is not None):
            if at is None:
                at = now.time() if day_word == "today" else DEFAULT_TIME
            return day.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)

    try:
        default = now.replace(hour=DEFAULT_TIME.hour, minute=0, second=0, microsecond=0)
        parsed = dateutil_parser.parse(
            cleaned, dayfirst=dayfirst, default=default.replace(tzinfo=None)
        )
    except (ValueError, OverflowError) as exc:
        raise DateParseError(f"cannot read {text.strip()!r} as a date or time") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=now.tzinfo)
    elif now.tzinfo is not None:
        parsed = parsed.astimezone(now.tzinfo)
    else:
        parsed = parsed.replace(tzinfo=None)
    return parsed


# Words people put before a due date ("by fri", "due next mon", "before 31/12").
_DUE_PREFIX = re.compile(r"^(?:by|due(?:\s+on)?|before|on)\s+")
DUE_EXAMPLES = "'next fri', 'by fri', 'in 2 weeks', '31/12' or '2026-12-31'"


def parse_due(text: str, now: datetime, *, dayfirst: bool = True) -> date:
    """The day a typed due date names: the same words as visit dates, pointing forward.

    Accepts what follow-up lines accept after "by": ``next fri``, ``by fri``, ``in 2 weeks``.
    """
    cleaned = _DUE_PREFIX.sub("", " ".join(text.strip().lower().split()))
    if not cleaned:
        raise DateParseError(f"no date given: type e.g. {DUE_EXAMPLES}")
    try:
        due = parse_when(cleaned, now, dayfirst=dayfirst, direction="future").date()
    except DateParseError as exc:
        raise DateParseError(f"cannot read {text.strip()!r}; try {DUE_EXAMPLES}") from exc
    # "15/03" typed in November means next March, not eight months ago.
    years = 0
    while due < now.date() and not _year_given(cleaned, dayfirst) and years < 8:
        years += 1
        try:
            due = due.replace(year=now.year + years)
        except ValueError:  # 29/02: the next leap year
            continue
    return due


def _year_given(cleaned: str, dayfirst: bool) -> bool:
    """Whether a date as typed names its year: dateutil fills a missing year from its
    default, so two defaults a year apart give two different answers."""
    try:
        first, second = (
            dateutil_parser.parse(cleaned, dayfirst=dayfirst, default=datetime(year, 1, 1))
            for year in (2000, 2004)  # both leap years, so "29/02" reads in either
        )
    except (ValueError, OverflowError):
        return True  # not a calendar date (a word like "yesterday"): leave it as read
    return first.year == second.year
