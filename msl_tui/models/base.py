"""What every synced record carries, and the strictness all models share."""

from __future__ import annotations

import re
import time
import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from msl_tui.clock import STAMP_RE
from msl_tui.timestamps import to_utc, utcnow

# Dates later than this many days ahead are typing mistakes, not plans.
FUTURE_LIMIT_DAYS = 3 * 366

# What text may not hold: control characters (C0 and C1), lone surrogates (SQLite cannot
# store them) and the bidi overrides and isolates that make a name read differently on
# screen from what is stored. Notes may keep newlines and tabs. One regex search is C-fast
# on a 100,000-character note; a Python loop over it is not.
_BAD_ONE_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200f\u2028\u2029\u202a-\u202e"
    "\u2060-\u2069\ufeff\U000e0000-\U000e007f]"
)
_BAD_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def new_id() -> str:
    return str(uuid.uuid4())


def _to_utc(value: datetime) -> datetime:
    """Store every instant in UTC, to the second: naive input is this machine's local time."""
    return to_utc(value)


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored as text, in words; None when it can."""
    found = (_BAD_MULTILINE if multiline else _BAD_ONE_LINE).search(value)
    if found is None:
        return None
    code = ord(found.group())
    if 0xD800 <= code <= 0xDFFF:
        return "contains a broken character (a lone surrogate)"
    if code in (0x2028, 0x2029):
        return f"contains the line separator U+{code:04X}"
    if 0x200B <= code <= 0x200F or 0x2060 <= code <= 0x2064 or code == 0xFEFF or code > 0xFFFF:
        return f"contains the invisible character U+{code:04X}"
    if 0x202A <= code <= 0x2069:
        return f"contains the direction override U+{code:04X}"
    return f"contains the control character U+{code:04X}"


# Terminal colour and title sequences that a paste from a terminal carries: dropped whole, so
# "ESC[31m" does not leave "[31m" behind in the note.
_ANSI = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])|\x9b[0-?]*[ -/]*[@-~]"
)


def typed_text(value: str, *, multiline: bool = False) -> str:
    """What the person typed or pasted, without the invisible characters the text grammars
    refuse (control characters, direction overrides, lone surrogates; in one-line text also
    zero-width marks). They cannot see them, so they could never find and remove them.
    Newlines and tabs stay in multi-line text; in one-line text they become spaces."""
    value = _ANSI.sub("", value)
    if multiline:
        return _BAD_MULTILINE.sub("", _OTHER_BREAKS.sub("\n", value))
    return _BAD_ONE_LINE.sub("", re.sub("[\t\n\r\u2028\u2029]", " ", value))


def _one_line(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(f"text {problem}")
    return value


_OTHER_BREAKS = re.compile("\r\n?|[\u2028\u2029]")


def _unix_newlines(value: object) -> object:
    """Pasted text keeps its line breaks as one kind: ``\n`` (Windows CR LF, old Mac CR,
    Unicode line and paragraph separators)."""
    if isinstance(value, str):
        return _OTHER_BREAKS.sub("\n", value)
    return value


def repair_text(value: Any) -> Any:
    """``value`` (nested lists and dicts too) with every character text may not hold
    written out as an escape (``\x1b``): for reading old rows, never for new input."""
    if isinstance(value, str):
        return _BAD_ONE_LINE.sub(lambda m: _escape_char(m.group()), value)
    if isinstance(value, list):
        return [repair_text(v) for v in value]
    if isinstance(value, dict):
        return {k: repair_text(v) for k, v in value.items()}
    return value


def _escape_char(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _multiline(value: str) -> str:
    problem = text_problem(value, multiline=True)
    if problem:
        raise ValueError(f"text {problem}")
    return value


# No record of this trade predates 1970; a year-1 or year-9999 instant is a typing mistake
# or an attack, and breaks time-zone arithmetic further on (OverflowError).
EARLIEST = date(1970, 1, 1)


def _instant_in_range(value: datetime) -> datetime:
    try:
        value = _to_utc(value)
        # Seconds since the epoch, not utcnow() + timedelta: the same bound (utcnow() is
        # time.time() cut to the second, and ``value`` is to the second) at a fraction of
        # the cost, which counts when an import checks a million records.
        ahead = value.timestamp() > int(time.time()) + _FUTURE_LIMIT_S
    except (OverflowError, ValueError):
        raise ValueError("that date is out of range") from None
    if value.date() < EARLIEST:
        raise ValueError(f"{value.date().isoformat()} is before {EARLIEST.year}")
    if ahead:
        raise ValueError(f"{value.date().isoformat()} is more than {FUTURE_LIMIT_DAYS} days ahead")
    return value


_FUTURE_LIMIT_S = FUTURE_LIMIT_DAYS * 86_400


def _day_in_range(value: date) -> date:
    if value < EARLIEST:
        raise ValueError(f"{value.isoformat()} is before {EARLIEST.year}")
    if value - date.today() > timedelta(days=FUTURE_LIMIT_DAYS):
        raise ValueError(f"{value.isoformat()} is more than {FUTURE_LIMIT_DAYS} days ahead")
    return value


def _not_far_future_date(value: date) -> date:
    return _day_in_range(value)


# The form str(uuid.UUID(...)) gives: such a value is valid as it is, without building a UUID.
_CANONICAL_UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z", re.ASCII
)


def _valid_uuid(value: str) -> str:
    if _CANONICAL_UUID.match(value):
        return value
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
LongText = Annotated[
    str,
    BeforeValidator(_unix_newlines),
    StringConstraints(max_length=100_000),
    AfterValidator(_multiline),
]
# A short note that must say something (follow-up information on an adverse event).
NoteText = Annotated[
    str,
    BeforeValidator(_unix_newlines),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5000),
    AfterValidator(_multiline),
]
Tag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    AfterValidator(_one_line),
]
RecordId = Annotated[str, AfterValidator(_valid_uuid)]
StampText = Annotated[str, AfterValidator(_valid_stamp)]
PastOrNear = Annotated[datetime, AfterValidator(_instant_in_range)]
Instant = Annotated[datetime, AfterValidator(_instant_in_range)]
DateNotFar = Annotated[date, AfterValidator(_not_far_future_date)]
Day = Annotated[date, AfterValidator(_day_in_range)]


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
