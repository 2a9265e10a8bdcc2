"""The one way instants are made, written and read: UTC, to the second, ``YYYY-MM-DDTHH:MM:SSZ``.

Every stored or exported instant goes through ``iso``; every stored one is read back with
``parse``. One format means string order equals time order in SQL and in files.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now in UTC to the second: the precision every stored instant has."""
    return datetime.now(UTC).replace(microsecond=0)


def to_utc(value: datetime) -> datetime:
    """An aware instant in UTC to the second; naive input is this machine's local time."""
    if value.tzinfo is None:
        value = value.astimezone()
    return value.astimezone(UTC).replace(microsecond=0)


def iso(value: datetime) -> str:
    """The stored form of an instant."""
    return to_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return iso(utcnow())


def parse(text: str) -> datetime:
    """Read a stored instant back (aware, UTC). Raises ValueError on anything else."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return value.astimezone(UTC)


def from_ms(wall_ms: int) -> datetime:
    return datetime.fromtimestamp(wall_ms // 1000, UTC)
