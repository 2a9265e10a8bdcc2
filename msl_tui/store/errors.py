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
