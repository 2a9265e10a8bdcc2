"""What every synced record carries, and the strictness all models share."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from msl_tui.clock import STAMP_RE
from msl_tui.timestamps import to_utc, utcnow

# Dates later than this many days ahead are typing mistakes, not plans.
FUTURE_LIMIT_DAYS = 3 * 366

# Characters that reorder text (bidi overrides and isolates): a name carrying one reads
# differently on screen from what is stored.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def new_id() -> str:
    return str(uuid.uuid4())


def _to_utc(value: datetime) -> datetime:
    """Store every instant in UTC, to the second: naive input is this machine's local time."""
    return to_utc(value)


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored as text, in words; None when it can."""
    for ch in value:
        if multiline and ch in "\n\t":
            continue
        category = unicodedata.category(ch)
        if category == "Cs":
            return "contains a broken character (a lone surrogate)"
        if category == "Cc":
            return f"contains the control character U+{ord(ch):04X}"
        if ch in _BIDI_CONTROLS:
            return f"contains the direction override U+{ord(ch):04X}"
    return None


def _one_line(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(f"text {problem}")
    return value


def _multiline(value: str) -> str:
    problem = text_problem(value, multiline=True)
    if problem:
        raise ValueError(f"text {problem}")
    return value


def _not_far_future_dt(value: datetime) -> datetime:
    value = _to_utc(value)
    if value - utcnow() > timedelta(days=FUTURE_LIMIT_DAYS):
        raise ValueError(f"{value.isoformat()} is more than {FUTURE_LIMIT_DAYS} days ahead")
    return value


def _not_far_future_date(value: date) -> date:
    if value - date.today() > timedelta(days=FUTURE_LIMIT_DAYS):
        raise ValueError(f"{value.isoformat()} is more than {FUTURE_LIMIT_DAYS} days ahead")
    return value


def _valid_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a UUID") from exc


def _valid_stamp(value: str) -> str:
    if not STAMP_RE.match(value):
        raise ValueError(f"{value!r} is not a clock stamp")
    return value


# Text grammars: one-line texts refuse control characters, notes keep newlines and tabs;
# none may hold lone surrogates (SQLite cannot store them) or direction overrides.
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_one_line),
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_one_line)
]
LongText = Annotated[str, StringConstraints(max_length=100_000), AfterValidator(_multiline)]
Tag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    AfterValidator(_one_line),
]
RecordId = Annotated[str, AfterValidator(_valid_uuid)]
StampText = Annotated[str, AfterValidator(_valid_stamp)]
PastOrNear = Annotated[datetime, AfterValidator(_not_far_future_dt)]
Instant = Annotated[datetime, AfterValidator(_to_utc)]
DateNotFar = Annotated[date, AfterValidator(_not_far_future_date)]


class Strict(BaseModel):
    """Reject unknown fields and re-validate on assignment; enums by value."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)


class SyncedRecord(Strict):
    """Fields every record that travels between machines carries.

    ``hlc`` is the hybrid-logical-clock stamp of the record's latest change and
    ``deleted`` is a tombstone: records are never removed, so a delete can travel.
    """

    id: RecordId = Field(default_factory=new_id)
    device_id: Name = "local"
    hlc: StampText = "0000000000000-0000-local"
    created_at: Instant = Field(default_factory=utcnow)
    updated_at: Instant = Field(default_factory=utcnow)
    deleted: bool = False

    def evolve(self, **changes: Any) -> Self:
        """A validated copy with ``changes`` applied (``model_copy`` would skip validation)."""
        return self.model_validate({**self.model_dump(), **changes})
