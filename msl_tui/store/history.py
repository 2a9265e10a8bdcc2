"""A record's edit history, read from the change log: who changed what, and when."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from msl_tui.clock import Stamp
from msl_tui.store.store import Store


@dataclass(frozen=True, slots=True)
class ChangeEntry:
    stamp: str
    device_id: str
    author: str
    fields: dict[str, Any]

    @property
    def wall_ms(self) -> int:
        return Stamp.parse(self.stamp).wall_ms


def record_history(store: Store, entity: str, record_id: str) -> list[ChangeEntry]:
    """Every change to one record, newest first."""
    with store._lock:
        rows = list(
            store.db.query(
                "select hlc, device_id, author, patch from changes "
                "where entity = ? and record_id = ? order by hlc desc",
                [entity, record_id],
            )
        )
    return [
        ChangeEntry(r["hlc"], r["device_id"], r["author"] or "", json.loads(r["patch"]))
        for r in rows
    ]
