"""Dates typed the way people type them, relative to a fixed Monday morning."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from msl_tui.services.dates import DateParseError, parse_due, parse_when

NOW = datetime(2026, 11, 23, 10, 0)  # a Monday

CASES = [
    ("now", {}, datetime(2026, 11, 23, 10, 0)),
    ("today", {}, datetime(2026, 11, 23, 10, 0)),
    ("yesterday", {}, datetime(2026, 11, 22, 9, 0)),
    ("tomorrow", {}, datetime(2026, 11, 24, 9, 0)),
    ("yesterday 9:15", {}, datetime(2026, 11, 22, 9, 15)),
    ("yesterday 3pm", {}, datetime(2026, 11, 22, 15, 0)),
    ("mon", {}, datetime(2026, 11, 23, 9, 0)),
    ("fri", {}, datetime(2026, 11, 20, 9, 0)),
    ("fri", {"direction": "future"}, datetime(2026, 11, 27, 9, 0)),
    ("Friday", {}, datetime(2026, 11, 20, 9, 0)),
    ("tue", {}, datetime(2026, 11, 17, 9, 0)),
    ("tue", {"direction": "future"}, datetime(2026, 11, 24, 9, 0)),
    ("last fri 3pm", {}, datetime(2026, 11, 20, 15, 0)),
    ("last mon", {}, datetime(2026, 11, 16, 9, 0)),
    ("next tue", {}, datetime(2026, 11, 24, 9, 0)),
    ("next mon", {}, datetime(2026, 11, 30, 9, 0)),
    ("2 days ago", {}, datetime(2026, 11, 21, 10, 0)),
    ("3d ago", {}, datetime(2026, 11, 20, 10, 0)),
    ("1 week ago", {}, datetime(2026, 11, 16, 10, 0)),
    ("in 3 days", {}, datetime(2026, 11, 26, 10, 0)),
    ("in 2 hours", {}, datetime(2026, 11, 23, 12, 0)),
    ("3pm", {}, datetime(2026, 11, 23, 15, 0)),
    ("14:30", {}, datetime(2026, 11, 23, 14, 30)),
    ("21/11 14:30", {}, datetime(2026, 11, 21, 14, 30)),
    ("11/21", {}, datetime(2026, 11, 21, 9, 0)),  # unambiguous either way
    ("03/04", {"dayfirst": True}, datetime(2026, 4, 3, 9, 0)),
    ("03/04", {"dayfirst": False}, datetime(2026, 3, 4, 9, 0)),
    ("2026-11-21", {}, datetime(2026, 11, 21, 9, 0)),
    ("2026-11-21T14:30", {}, datetime(2026, 11, 21, 14, 30)),
    ("  Yesterday   3PM ", {}, datetime(2026, 11, 22, 15, 0)),
]


@pytest.mark.parametrize(
    ("text", "options", "expected"), CASES, ids=[f"{t}-{o}" for t, o, _ in CASES]
)
def test_dates_people_type(text: str, options: dict, expected: datetime) -> None:  # type: ignore[type-arg]
    assert parse_when(text, NOW, **options) == expected


def test_an_aware_now_keeps_its_zone() -> None:
    aware = NOW.replace(tzinfo=UTC)
    assert parse_when("yesterday 3pm", aware) == datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
    assert parse_when("2026-11-21", aware).tzinfo == UTC


@pytest.mark.parametrize("text", ["", "   ", "garbage words", "35/35", "next blursday"])
def test_unreadable_text_is_refused_naming_it(text: str) -> None:
    with pytest.raises(DateParseError) as caught:
        parse_when(text, NOW)
    if text.strip():
        assert text.strip() in str(caught.value)


DUE_CASES = [
    ("next fri", date(2026, 11, 27)),
    ("by fri", date(2026, 11, 27)),
    ("fri", date(2026, 11, 27)),
    ("due next mon", date(2026, 11, 30)),
    ("before 31/12", date(2026, 12, 31)),
    ("in 2 weeks", date(2026, 12, 7)),
    ("tomorrow", date(2026, 11, 24)),
    ("2027-01-15", date(2027, 1, 15)),
    # A day and month without a year: the next one, never eight months ago (QA 10).
    ("15/03", date(2027, 3, 15)),
    ("by 15/03", date(2027, 3, 15)),
    ("15 mar", date(2027, 3, 15)),
    ("23/11", date(2026, 11, 23)),
    ("1/12", date(2026, 12, 1)),
    # A year typed is kept as typed, even in the past; the plan form refuses that.
    ("15/03/2026", date(2026, 3, 15)),
]


@pytest.mark.parametrize(("text", "expected"), DUE_CASES, ids=[t for t, _ in DUE_CASES])
def test_due_dates_take_the_words_visit_notes_take(text: str, expected: date) -> None:
    assert parse_due(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "by", "by blursday", "soonish"])
def test_an_unreadable_due_date_says_what_would_work(text: str) -> None:
    with pytest.raises(DateParseError, match="next fri"):
        parse_due(text, NOW)
