"""Shared pieces for the sync tests: small stores, bundles, and logical snapshots of a store."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from msl_tui.models import Interaction, Kol, MslProfile
from msl_tui.store import Store, sync_log
from msl_tui.store.codec import ENTITIES, decode_stamps
from msl_tui.sync.merge import refresh_conflicts

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def make_store(path: Path | str, msl_id: str, device: str, role: str = "msl") -> Store:
    store = Store.open(path)
    store.set_profile(
        MslProfile(msl_id=msl_id, name=msl_id.title(), role=role, device_id=device)  # type: ignore[arg-type]
    )
    return store


def add_kol(store: Store, name: str, **fields: Any) -> Kol:
    return store.save(Kol(name=name, **fields))


def add_visit(store: Store, kol: Kol, notes: str = "", **fields: Any) -> Interaction:
    return store.save(
        Interaction(
            kol_id=kol.id,
            msl_id=store.author,
            occurred_at=datetime(2026, 11, 2, 10),
            notes=notes,
            **fields,
        )
    )


def snapshot(store: Store) -> dict[str, Any]:
    """What must agree between replicas: rows (not local timestamps) and open conflicts."""
    refresh_conflicts(store, now="2026-11-23T09:00:00Z")
    data: dict[str, Any] = {}
    for entity in ENTITIES.values():
        rows = []
        for row in sync_log.iter_rows(store, entity, live_only=False):
            row = dict(row)
            row.pop("updated_at", None)
            row["field_stamps"] = decode_stamps(entity, row["field_stamps"], row["hlc"])
            rows.append(row)
        data[entity.table] = rows
    data["conflicts"] = sorted(
        (c["entity"], c["record_id"], c["field"], c["other_hlc"], json.dumps(c["other_value"]))
        for c in sync_log.list_conflicts(store)
    )
    return data


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_zip(path: Path, members: list[tuple[str, bytes]], *, stored: bool = False) -> Path:
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def read_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def part_entry(name: str, table: str, data: bytes) -> dict[str, Any]:
    return {
        "name": name,
        "table": table,
        "size": len(data),
        "count": data.count(b"\n"),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
