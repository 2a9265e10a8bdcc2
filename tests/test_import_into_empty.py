"""A big import into an empty store builds the full-text indexes and kept situations once
at its end and reads, per batch, only records an earlier batch may have written: the store
must end exactly as an import written row by row, conflicts included."""

from __future__ import annotations

import random
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from msl_tui.models import AdverseEvent, Interaction
from msl_tui.store import Store, situation
from msl_tui.store.written import Written
from msl_tui.sync import importer
from msl_tui.sync.export import export_bundle
from msl_tui.sync.importer import ImportError_, import_bundle
from tests.sync_helpers import add_kol, add_visit, make_store, snapshot
from tests.test_import_search_index import _index, _indexes, _triggers, refuse_batch


def _bundle_with_conflicts(tmp_path: Path) -> Path:
    """A full bundle from a store that merged another's concurrent edits: records with
    changes from two devices, spread over batches, and open conflicts to rebuild."""
    a = make_store(tmp_path / "a.db", "alice", "dev-a")
    kols = [add_kol(a, f"Dr Renal {i}", profile_note=f"cohort {i}") for i in range(3)]
    visits = [add_visit(a, kols[i % 3], notes=f"dosing note {i}") for i in range(8)]
    day = datetime(2026, 11, 20, 9, tzinfo=UTC)
    add_visit(a, kols[1], notes="biomarker event", adverse_event=AdverseEvent(day_zero=day))
    later = a.save(visits[0].evolve(occurred_at=visits[0].occurred_at + timedelta(days=3)))
    a.delete(Interaction, later.id)  # the latest visit of its KOL, deleted
    c = make_store(tmp_path / "c.db", "carol", "dev-c")
    import_bundle(c, export_bundle(a, tmp_path / "to-c", full=True, sign=False).path)
    # Both change the same fields without seeing each other's edit.
    a.save(visits[1].evolve(duration_min=45, notes="rewritten by alice"))
    kol = c.get_kol(kols[2].id)
    assert kol is not None
    c.save(kol.evolve(profile_note="carol's view"))
    visit = c.get(Interaction, visits[1].id)
    assert visit is not None
    c.save(visit.evolve(duration_min=20, notes="rewritten by carol"))
    a.save(kols[2].evolve(profile_note="alice's view"))
    import_bundle(a, export_bundle(c, tmp_path / "to-a", full=True, sign=False).path)
    path = export_bundle(a, tmp_path / "out", full=True, sign=False).path
    assert path is not None
    a.close()
    c.close()
    return path


def test_a_big_import_into_an_empty_store_ends_as_one_written_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _bundle_with_conflicts(tmp_path)
    monkeypatch.setattr(importer, "BATCH", 2)
    by_row = make_store(tmp_path / "row.db", "bob", "dev-b")
    by_batch = make_store(tmp_path / "batch.db", "bob", "dev-b")
    indexes, triggers = _indexes(by_batch), _triggers(by_batch)
    monkeypatch.setattr(importer, "BIG_IMPORT", 10**9)
    import_bundle(by_row, bundle)
    monkeypatch.setattr(importer, "BIG_IMPORT", 1)
    import_bundle(by_batch, bundle)
    assert snapshot(by_batch) == snapshot(by_row)
    assert snapshot(by_batch)["conflicts"]  # the merge's reads found the earlier batches
    assert situation.kept(by_batch) == situation.kept(by_row)
    assert situation.kept(by_batch) == sorted(
        situation.compute(by_batch.db.conn, None), key=lambda s: s["kol_id"]
    )
    assert _index(by_batch) == _index(by_row)
    assert _indexes(by_batch) == indexes
    assert _triggers(by_batch) == triggers
    # The triggers index later writes again.
    add_visit(by_batch, add_kol(by_batch, "Dr Later"), notes="cohort later")
    assert "cohort later" in [notes for notes, _ in _index(by_batch)["cohort"]]
    assert by_batch.db.conn.execute("pragma integrity_check").fetchone() == ("ok",)
    by_row.close()
    by_batch.close()


def test_a_refused_big_import_into_an_empty_store_leaves_it_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _bundle_with_conflicts(tmp_path)
    store = make_store(tmp_path / "b.db", "bob", "dev-b")
    indexes, triggers = _indexes(store), _triggers(store)
    refuse_batch(monkeypatch, 6)
    with pytest.raises(ImportError_, match="refused for the test"):
        import_bundle(store, bundle)
    assert (_indexes(store), _triggers(store)) == (indexes, triggers)
    assert store.count_all() == 0
    assert situation.kept(store) == []
    assert store.may_hold(["any"]) == ["any"]  # the written ids went with the write
    store.close()
    with sqlite3.connect(tmp_path / "b.db") as conn:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)


def test_the_written_filter_never_forgets_an_id() -> None:
    rng = random.Random(7)
    written = Written()
    ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(20_000)]
    written.add(ids[:10_000])
    assert written.may_hold(ids[:10_000]) == ids[:10_000]
    # Ids never written are mostly told apart (a few may be read needlessly).
    assert len(written.may_hold(ids[10_000:])) < 100


def test_only_a_big_write_into_an_empty_store_narrows_the_reads(tmp_path: Path) -> None:
    store = make_store(tmp_path / "b.db", "bob", "dev-b")
    with store.transaction(), store.big_write():
        kol = add_kol(store, "Dr Written")
        assert store.may_hold([kol.id, "never-written"]) == [kol.id]
    assert store.may_hold([kol.id, "never-written"]) == [kol.id, "never-written"]
    with store.transaction(), store.big_write():  # the store holds a record now
        assert store.may_hold(["never-written"]) == ["never-written"]
    store.close()


def test_the_last_contact_is_the_latest_live_visit(tmp_path: Path) -> None:
    store: Store = make_store(tmp_path / "b.db", "bob", "dev-b")
    kol = add_kol(store, "Dr Kept")
    first = add_visit(store, kol, notes="first")
    latest = store.save(
        first.evolve(id=str(uuid.uuid4()), occurred_at=first.occurred_at + timedelta(days=9))
    )
    [row] = situation.compute(store.db.conn, [kol.id])
    assert row["last_contact"] == situation.kept(store)[0]["last_contact"]
    assert row["last_contact"].startswith("2026-11-11")
    store.delete(Interaction, latest.id)
    [row] = situation.compute(store.db.conn, [kol.id])
    assert row["last_contact"].startswith("2026-11-02")
    assert situation.kept(store)[0]["last_contact"] == row["last_contact"]
    store.close()
