"""What every synced record carries, and the strictness all models share."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from msl_tui.clock import STAMP_RE

# Dates later than this many days ahead are typing mistakes, not plans.
FUTURE_LIMIT_DAYS = 3 * 366


def utcnow() -> datetime:
    """Now in UTC to the second: the precision every stored instant has."""
    return datetime.now(UTC).replace(microsecond=0)


def new_id() -> str:
    return str(uuid.uuid4())


def _to_utc(value: datetime) -> datetime:
    """Store every instant in UTC, to the second: naive input is this machine's local time."""
    if value.tzinfo is None:
        value = value.astimezone()
    return value.astimezone(UTC).replace(microsecond=0)


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


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
LongText = Annotated[str, StringConstraints(max_length=100_000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
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
