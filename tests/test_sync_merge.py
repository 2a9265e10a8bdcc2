"""Merging: last writer wins per field, unseen losers become conflicts, nothing is dropped."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sync_helpers import add_kol, add_visit, file_hash, make_store, snapshot

from msl_tui.models import EngagementPlan, Interaction, Kol
from msl_tui.store import Store, sync_log
from msl_tui.sync.export import export_bundle
from msl_tui.sync.importer import import_bundle
from msl_tui.sync.merge import refresh_conflicts, resolve


def ship(src: Store, dst: Store, folder: Path, *, full: bool = False) -> None:
    result = export_bundle(src, folder, full=full, sign=False)
    if result.path is not None:
        import_bundle(dst, result.path)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Store, Store]:
    """One MSL on two laptops, both starting from the same KOL."""
    a = make_store(tmp_path / "a.db", "ana", "laptop-a")
    b = make_store(tmp_path / "b.db", "ana", "laptop-b")
    add_kol(a, "Dr Mira Holt", institution="St Olaf")
    ship(a, b, tmp_path)
    return a, b


def _kol(store: Store) -> Kol:
    return store.list_kols()[0]


def test_concurrent_edits_keep_the_loser_as_a_conflict(pair: tuple[Store, Store], tmp_path: Path):
    a, b = pair
    a.save(_kol(a).evolve(institution="Royal Free"))
    b.save(_kol(b).evolve(institution="Guy's"))  # later stamp: wins
    ship(a, b, tmp_path)
    ship(b, a, tmp_path)
    assert _kol(a).institution == _kol(b).institution == "Guy's"
    conflicts = sync_log.list_conflicts(a)
    assert [(c["field"], c["other_value"]) for c in conflicts] == [("institution", "Royal Free")]
    assert snapshot(a) == snapshot(b)


def test_taking_the_other_value_travels_and_settles_both(pair: tuple[Store, Store], tmp_path):
    a, b = pair
    a.save(_kol(a).evolve(institution="Royal Free"))
    b.save(_kol(b).evolve(institution="Guy's"))
    ship(a, b, tmp_path)
    ship(b, a, tmp_path)
    conflict = sync_log.list_conflicts(b)[0]
    resolve(b, conflict["id"], "other", now="2026-11-23T10:00:00Z")
    ship(b, a, tmp_path)
    assert _kol(a).institution == _kol(b).institution == "Royal Free"
    assert snapshot(a)["conflicts"] == snapshot(b)["conflicts"] == []


def test_an_edit_that_saw_the_other_is_not_a_conflict(pair: tuple[Store, Store], tmp_path: Path):
    a, b = pair
    a.save(_kol(a).evolve(city="Leeds"))
    ship(a, b, tmp_path)
    b.save(_kol(b).evolve(city="York"))
    ship(b, a, tmp_path)
    assert _kol(a).city == "York"
    assert sync_log.list_conflicts(a) == sync_log.list_conflicts(b) == []


def test_two_machines_agreeing_then_a_knowing_edit_is_not_a_conflict(
    pair: tuple[Store, Store], tmp_path: Path
):
    """Found by the replicas property test: two laptops set the same city at once (they
    agree: no conflict), a third store sees the merged record and changes the city. The
    agreeing edit must count as seen, not come back as a conflict against the third."""
    a, b = pair
    c = make_store(tmp_path / "c.db", "ana", "laptop-c")
    ship(a, c, tmp_path, full=True)
    a.save(_kol(a).evolve(city="York"))
    b.save(_kol(b).evolve(city="York"))  # later stamp: the winner, same value
    ship(a, c, tmp_path)
    ship(b, c, tmp_path)
    c.save(_kol(c).evolve(city="Leeds"))  # has seen York from both
    for store in (a, b):
        ship(c, store, tmp_path)
    ship(a, b, tmp_path)
    ship(b, a, tmp_path)
    ship(a, c, tmp_path)
    ship(b, c, tmp_path)
    assert _kol(a).city == _kol(b).city == _kol(c).city == "Leeds"
    for store in (a, b, c):
        assert sync_log.list_conflicts(store) == []
    assert snapshot(a) == snapshot(b) == snapshot(c)


def test_notes_edited_on_two_machines_keep_both_texts(pair: tuple[Store, Store], tmp_path: Path):
    a, b = pair
    visit = add_visit(a, _kol(a), "Asked about renal dosing.")
    ship(a, b, tmp_path)
    a.save(a.get(Interaction, visit.id).evolve(notes="Asked about renal dosing. Wants data."))  # type: ignore[union-attr]
    b.save(b.get(Interaction, visit.id).evolve(notes="Asked about renal dosing; follow up."))  # type: ignore[union-attr]
    ship(a, b, tmp_path)
    ship(b, a, tmp_path)
    for store in (a, b):
        notes = store.get(Interaction, visit.id).notes  # type: ignore[union-attr]
        assert "Wants data." in notes and "follow up." in notes
    assert snapshot(a) == snapshot(b)
    # Editing the merged text has seen both: the conflict settles on every replica.
    merged = b.get(Interaction, visit.id)
    b.save(merged.evolve(notes="Asked about renal dosing. Wants data; follow up."))  # type: ignore[union-attr]
    ship(b, a, tmp_path)
    assert snapshot(a)["conflicts"] == snapshot(b)["conflicts"] == []


def test_a_stale_edit_does_not_bring_a_deleted_record_back(pair: tuple[Store, Store], tmp_path):
    a, b = pair
    kol_id = _kol(a).id
    a.delete(Kol, kol_id)
    b.save(_kol(b).evolve(city="Bath"))  # b has not seen the delete
    ship(a, b, tmp_path)
    ship(b, a, tmp_path)
    for store in (a, b):
        assert store.list_kols() == []
        [conflict] = sync_log.list_conflicts(store)
        assert conflict["field"] == "deleted" and conflict["other_value"] == {"city": "Bath"}
    resolve(a, sync_log.list_conflicts(a)[0]["id"], "other", now="2026-11-23T10:00:00Z")
    ship(a, b, tmp_path)
    assert [k.city for k in b.list_kols()] == ["Bath"]
    assert snapshot(a) == snapshot(b)


def test_changes_arriving_before_their_record_wait_for_it(tmp_path: Path) -> None:
    a = make_store(tmp_path / "a.db", "ana", "laptop-a")
    ho = make_store(tmp_path / "ho.db", "ho", "ho-1", role="head office")
    kol = add_kol(a, "Dr Oskar Lind")
    first = export_bundle(a, tmp_path / "1", sign=False).path
    a.save(kol.evolve(city="Oslo"))
    second = export_bundle(a, tmp_path / "2", sign=False).path
    report = import_bundle(ho, second)  # type: ignore[arg-type]
    assert report.tables["kols"].waiting == 1 and ho.list_kols() == []
    import_bundle(ho, first)  # type: ignore[arg-type]
    assert [(k.name, k.city) for k in ho.list_kols()] == [("Dr Oskar Lind", "Oslo")]
    assert snapshot(a) == snapshot(ho)


def test_export_is_incremental_and_reimport_is_a_no_op(tmp_path: Path) -> None:
    a = make_store(tmp_path / "a.db", "ana", "laptop-a")
    add_kol(a, "Dr A")
    first = export_bundle(a, tmp_path / "x", sign=False)
    add_kol(a, "Dr B")
    second = export_bundle(a, tmp_path / "x", sign=False)
    assert first.counts["kols"] == 1 and second.counts["kols"] == 1
    assert export_bundle(a, tmp_path / "x", sign=False).path is None
    assert export_bundle(a, tmp_path / "x", full=True, sign=False).counts["kols"] == 2
    ho = make_store(tmp_path / "ho.db", "ho", "ho-1", role="head office")
    import_bundle(ho, first.path)  # type: ignore[arg-type]
    ho.close()
    before = file_hash(tmp_path / "ho.db")
    ho = Store.open(tmp_path / "ho.db")
    again = import_bundle(ho, first.path)  # type: ignore[arg-type]
    ho.close()
    assert again.already is not None and "already imported" in again.lines()[0]
    assert file_hash(tmp_path / "ho.db") == before


def test_dry_run_counts_and_writes_nothing(pair: tuple[Store, Store], tmp_path: Path) -> None:
    a, b = pair
    a.save(_kol(a).evolve(institution="Royal Free"))
    b.save(_kol(b).evolve(institution="Guy's"))
    add_visit(b, _kol(b), "New visit")
    path = export_bundle(b, tmp_path / "d", sign=False).path
    before = snapshot(a)
    report = import_bundle(a, path, dry_run=True)  # type: ignore[arg-type]
    assert snapshot(a) == before
    assert (report.tables["kols"].updated, report.tables["kols"].conflicts) == (1, 1)
    assert report.tables["interactions"].inserted == 1
    assert "dry run, nothing written" in report.lines()[0]


def test_roster_for_one_msl_holds_their_kols_and_plans(tmp_path: Path) -> None:
    ho = make_store(tmp_path / "ho.db", "ho", "ho-1", role="head office")
    mine, other = add_kol(ho, "Dr Mine"), add_kol(ho, "Dr Other")
    for kol, msl in ((mine, "ana"), (other, "bob")):
        ho.save(
            EngagementPlan(
                kol_id=kol.id,
                period_start=date(2026, 1, 1),
                period_end=date(2026, 12, 31),
                owner_msl=msl,
            )
        )
    path = export_bundle(ho, tmp_path / "r", roster_for="ana", sign=False).path
    ana = make_store(tmp_path / "ana.db", "ana", "laptop-a")
    import_bundle(ana, path)  # type: ignore[arg-type]
    assert [k.name for k in ana.list_kols()] == ["Dr Mine"]
    assert [p.owner_msl for p in ana.plans_for(mine.id)] == ["ana"]


def test_refresh_conflicts_is_idempotent(pair: tuple[Store, Store], tmp_path: Path) -> None:
    a, b = pair
    a.save(_kol(a).evolve(city="Leeds"))
    b.save(_kol(b).evolve(city="York"))
    ship(a, b, tmp_path)
    refresh_conflicts(b, now="2026-11-23T10:00:00Z")
    refresh_conflicts(b, now="2026-11-23T11:00:00Z")
    assert len(sync_log.list_conflicts(b)) == 1


def test_edits_valid_alone_but_invalid_together_merge_the_same_in_any_order(
    tmp_path: Path,
) -> None:
    """Two laptops move the two ends of one plan's period past each other. Each edit is
    valid; together they are not. Head office takes both bundles in either order, refuses
    neither, keeps a valid plan and lists the edit that could not apply as a conflict."""
    a = make_store(tmp_path / "a.db", "ana", "laptop-a")
    b = make_store(tmp_path / "b.db", "ana", "laptop-b")
    kol = add_kol(a, "Dr Mira Holt")
    plan = a.save(
        EngagementPlan(kol_id=kol.id, period_start=date(2026, 1, 1), period_end=date(2026, 6, 30))
    )
    ship(a, b, tmp_path / "start")
    a.save(plan.evolve(period_end=date(2026, 2, 1)))
    other = b.get(EngagementPlan, plan.id)
    assert other is not None
    b.save(other.evolve(period_start=date(2026, 3, 1)))
    from_a = export_bundle(a, tmp_path / "from-a", sign=False).path
    from_b = export_bundle(b, tmp_path / "from-b", sign=False).path
    assert from_a is not None and from_b is not None
    first = tmp_path / "start" / next(p.name for p in (tmp_path / "start").glob("*.mslsync"))
    offices = []
    for n, order in enumerate(((from_a, from_b), (from_b, from_a))):
        office = make_store(tmp_path / f"ho{n}.db", "head.office", f"ho-{n}", role="head office")
        import_bundle(office, first)
        for bundle in order:
            import_bundle(office, bundle)
        offices.append(office)
    kept = [o.get(EngagementPlan, plan.id) for o in offices]
    assert kept[0] is not None and kept[0].period_start <= kept[0].period_end
    assert snapshot(offices[0]) == snapshot(offices[1])
    assert len(sync_log.list_conflicts(offices[0])) == 1
