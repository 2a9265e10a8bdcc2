"""Conflicts in a person's words: which KOL and which record, when and where each value
was written. The conflict's number stays, as ``resolve`` needs it; record ids and raw
clock stamps do not help anyone decide."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from msl_tui.clock import ClockError, Stamp
from msl_tui.safe_text import printable
from msl_tui.store import sync_log
from msl_tui.store.store import Store
from msl_tui.timestamps import from_ms

NOUNS = {"kol": "KOL", "interaction": "visit", "plan": "plan", "followup": "follow-up"}


def record_words(entity: str, record_id: str, label: tuple[str | None, str | None] | None) -> str:
    """``visit with Dr Mira Holt on 2026-03-02``; a record this store lacks by its noun and
    short id (it may be waiting for its other changes, or erased)."""
    noun = NOUNS.get(entity, printable(entity, 20))
    if label is None:
        return f"{noun} {printable(record_id[:8])} (not in this store)"
    name, detail = (printable(v, 60) if v else "" for v in label)
    kol = name or "an unknown KOL"
    if entity == "kol":
        return f"KOL {kol}" + (f" ({detail})" if detail else "")
    if entity == "interaction":
        return f"visit with {kol}" + (f" on {detail[:10]}" if detail else "")
    if entity == "plan":
        return f"plan for {kol}" + (f" from {detail[:10]}" if detail else "")
    if entity == "followup":
        return f"follow-up for {kol}" + (f": {printable(detail, 30)}" if detail else "")
    return f"{noun} of {kol}"


def stamp_words(hlc: str) -> str:
    """A clock stamp as the device and the minute it names: ``laptop-a, 2026-03-02 09:15``."""
    try:
        stamp = Stamp.parse(hlc)
    except (ClockError, TypeError):
        return printable(hlc, 60)
    when = from_ms(stamp.wall_ms).strftime("%Y-%m-%d %H:%M")
    return f"{printable(stamp.device, 40)}, {when} UTC"


def labels(store: Store, rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """Each conflict row's record in words, keyed by (entity, record id)."""
    keys = [(str(r["entity"]), str(r["record_id"])) for r in rows]
    found = sync_log.record_labels(store, keys)
    return {key: record_words(key[0], key[1], found.get(key)) for key in keys}
