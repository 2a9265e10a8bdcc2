"""Store errors carry one line a person can act on."""

from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """Opening or writing the store failed; the message says what to do."""


class StoreBusyError(StoreError):
    """Another program held the write lock for longer than the busy timeout."""

    def __init__(self, path: Path | None) -> None:
        where = f"the store {path}" if path else "the store"
        super().__init__(f"{where} is busy (another msl is writing to it): try again in a moment")


def store_trouble_words(error: BaseException) -> str:
    """A store failure in the words an MSL reads (never SQLite's own text)."""
    if isinstance(error, StoreError):
        return str(error)
    text = str(error).lower()
    if "locked" in text or "busy" in text:
        return "The store is busy (another msl is writing to it)."
    if "full" in text:
        return "The disk is full: free some space."
    if "readonly" in text or "read-only" in text:
        return "The store is read-only here."
    return "The store could not be written."
