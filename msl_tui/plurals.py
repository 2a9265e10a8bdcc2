"""Counts in words: "1 row", "2 rows", "1 KOL", "3 KOLs"."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` and ``noun``, the noun in the plural unless the count is exactly one;
    ``many`` for nouns that do not just take an "s" ("1 entry", "2 entries")."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {many or noun + 's'}"
