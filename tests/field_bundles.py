"""Bundles from two invented laptops, for the head-office tests: a rich territory each
(visits, insights, feedback, adverse events, requests, transfers of value), one KOL both
laptops edited at once (a conflict), a deleted follow-up (a tombstone)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sync_helpers import NOW, make_store

from msl_tui.demo import seed_demo
from msl_tui.models import FollowUp, Kol
from msl_tui.store import Store, sync_log
from msl_tui.store.codec import ENTITIES, decode_stamps
from msl_tui.sync.export import export_bundle
from msl_tui.sync.importer import import_bundle


def field_bundles(folder: Path, *, kols: int = 10, years: float = 0.5) -> list[Path]:
    """Four bundles, in the order head office would receive them."""
    folder.mkdir(parents=True, exist_ok=True)
    a = make_store(folder / "a.db", "ana", "dev-ana")
    b = make_store(folder / "b.db", "ben", "dev-ben")
    seed_demo(a, kols=kols, years=years, seed=11, now=NOW, profile=None)
    seed_demo(b, kols=kols, years=years, seed=12, now=NOW, profile=None)
    a1 = export_bundle(a, folder / "a1.mslsync").path
    b1 = export_bundle(b, folder / "b1.mslsync").path
    import_bundle(b, a1)  # Ben now holds Ana's KOLs too
    shared = sorted(a.list_kols(), key=lambda k: k.id)[0]
    a.save(shared.evolve(city="Oslo", profile_note="seen at the congress"))
    kol_b = b.get(Kol, shared.id)
    assert kol_b is not None
    b.save(kol_b.evolve(city="Bergen", profile_note="prefers e-mail"))
    done = a._select(FollowUp, "1 = 1", [], "id")[0]
    a.delete(FollowUp, done.id)
    a2 = export_bundle(a, folder / "a2.mslsync").path
    b2 = export_bundle(b, folder / "b2.mslsync").path
    a.close()
    b.close()
    paths = [a1, b1, a2, b2]
    assert all(p is not None for p in paths)
    return [p for p in paths if p is not None]


def canonical_dump(store: Store) -> dict[str, Any]:
    """Everything that must be the same whichever engine or import order: rows, the change
    log as a set, open conflicts, the ledger. Local surrogates (the log's rowid, conflict
    ids) and local times (import and detection moments) are left out."""
    data: dict[str, Any] = {}
    for entity in ENTITIES.values():
        data[entity.table] = [
            {**row, "field_stamps": decode_stamps(entity, row["field_stamps"], row["hlc"])}
            for row in sync_log.iter_rows(store, entity, live_only=False)
        ]
    changes = []
    for entity in ENTITIES:
        for row in sync_log.iter_changes(store, entity):
            row = dict(row)
            row.pop("rowid")
            changes.append(row)
    data["changes"] = sorted(changes, key=lambda r: (r["device_id"], r["seq"]))
    data["open_conflicts"] = sorted(
        (c["entity"], c["record_id"], c["field"], c["kept_hlc"], c["other_hlc"],
         json.dumps(c["kept_value"]), json.dumps(c["other_value"]))
        for c in sync_log.list_conflicts(store)
    )  # fmt: skip
    data["erasures"] = sorted(
        (r["kol_id"], r["erased_at"], r["reason"], r["erased_by"], r["device_id"])
        for r in store.db.query("select * from erasures")
    )
    data["ledger"] = sorted(
        (r["bundle_id"], r["file"], r["kind"], r["source"], r["changes"], r["manifest_sha256"])
        for r in store.db.query("select * from imported_bundles")
    )
    return data


def weekly_bundles(folder: Path, laptops: int = 4, weeks: int = 3) -> list[Path]:
    """Small weekly bundles from several laptops that all edit one KOL each week (so
    merges running at once meet on it), plus each laptop's own visits."""
    folder.mkdir(parents=True, exist_ok=True)
    stores = [make_store(folder / f"l{n}.db", f"msl{n}", f"dev-l{n}") for n in range(laptops)]
    for n, store in enumerate(stores):
        seed_demo(store, kols=4, years=0.2, seed=100 + n, now=NOW, profile=None)
    shared = stores[0].list_kols()[0]
    first = export_bundle(stores[0], folder / "shared.mslsync", full=True).path
    assert first is not None
    paths = [first]
    for store in stores[1:]:
        import_bundle(store, first)
    for week in range(weeks):
        for n, store in enumerate(stores):
            kol = store.get(Kol, shared.id)
            assert kol is not None
            store.save(kol.evolve(city=f"city {n}.{week}", profile_note=f"week {week} by {n}"))
            out = export_bundle(store, folder / f"w{week}-l{n}.mslsync").path
            assert out is not None
            paths.append(out)
    for store in stores:
        store.close()
    return paths
