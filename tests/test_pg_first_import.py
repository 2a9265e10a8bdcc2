"""A big import into a server store it holds alone: the merge asks the server nothing about
records and changes the store provably did not hold (``PgDatabase.bulk``), and its COPYs
stream behind. The store it ends with is exactly SQLite's, and every refusal stays."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from field_bundles import canonical_dump, field_bundles
from sync_helpers import make_store

from msl_tui.store import Store, StoreError
from msl_tui.store.pg_bulk import Written
from msl_tui.sync import importer
from msl_tui.sync.export import export_bundle
from msl_tui.sync.importer import ImportError_, import_bundle

if TYPE_CHECKING:
    from msl_tui.store.pg import PgDatabase


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The field bundles, then one full export of everything they carry: records with
    several changes far apart in the log, a conflict, a tombstone, two devices."""
    folder = tmp_path_factory.mktemp("first")
    bundles = field_bundles(folder, kols=12, years=0.5)
    ho = make_store(folder / "relay.db", "relay", "dev-relay")
    for bundle in bundles:
        import_bundle(ho, bundle)
    full = export_bundle(ho, folder / "full.mslsync", full=True, sign=False).path
    ho.close()
    assert full is not None
    return [*bundles, full]


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every import a big write, in batches of 7: a record's changes land in several."""
    monkeypatch.setattr(importer, "BIG_IMPORT", 1)
    monkeypatch.setattr(importer, "BATCH", 7)


def _record_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The merge's reads of stored changes and rows, as sent to the server."""
    from msl_tui.store.pg import PgDatabase

    seen: list[str] = []
    execute = PgDatabase.execute

    def spy(self: PgDatabase, sql: str, params: Any = None) -> Any:
        if sql.startswith("select") and (" from changes where" in sql or "where id = any" in sql):
            seen.append(sql)
        return execute(self, sql, params)

    monkeypatch.setattr(PgDatabase, "execute", spy)
    return seen


@pytest.mark.usefixtures("small_batches")
def test_a_full_bundle_into_an_empty_store_asks_little_and_gives_sqlites_store(
    pg_url: str, chain: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = chain[-1]
    lite, pg = Store.open(tmp_path / "ho.db"), Store.open(pg_url)
    reads = _record_reads(monkeypatch)
    report = import_bundle(pg, full)
    assert import_bundle(lite, full).lines() == report.lines()
    dump = canonical_dump(pg)
    assert dump == canonical_dump(lite)
    assert dump["open_conflicts"], "the bundle carries a conflict"
    batches = -(-report.manifest.total_changes() // 7)  # type: ignore[union-attr]
    # Records met again in a later batch are read (their earlier changes count); the rest
    # is known absent without asking.
    assert 0 < len(reads) < batches / 2, (len(reads), batches)
    lite.close()
    pg.close()


@pytest.mark.usefixtures("small_batches")
def test_big_imports_into_a_store_holding_records_give_sqlites_store(
    pg_url: str, chain: list[Path], tmp_path: Path
) -> None:
    """The first bundle finds an empty store, the next ones find its records: they read."""
    lite, pg = Store.open(tmp_path / "ho.db"), Store.open(pg_url)
    for bundle in chain:
        assert import_bundle(lite, bundle).lines() == import_bundle(pg, bundle).lines()
    assert canonical_dump(pg) == canonical_dump(lite)
    lite.close()
    pg.close()


@pytest.mark.usefixtures("small_batches")
def test_a_change_key_reused_with_other_content_is_still_refused(
    pg_url: str, tmp_path: Path
) -> None:
    """The bundle's device has changes stored already: the merge reads them, and a change
    that reuses one's key with other content is refused, the store untouched."""
    from sync_helpers import add_kol, add_visit, read_members
    from test_sync_bad_input import Case, _reused_seq

    laptop = make_store(tmp_path / "laptop.db", "ana", "dev-ana")
    add_visit(laptop, add_kol(laptop, "Dr Mira Holt"), "Talked about dosing.")
    good = export_bundle(laptop, tmp_path, sign=False).path
    laptop.close()
    assert good is not None
    pg = Store.open(pg_url)
    import_bundle(pg, good)
    before = canonical_dump(pg)
    case = Case(read_members(good))
    _reused_seq(case)
    spoiled = case.write(tmp_path / "reused.mslsync")
    with pytest.raises(ImportError_, match="already received with different content"):
        import_bundle(pg, spoiled)
    assert canonical_dump(pg) == before
    pg.close()


def test_written_never_forgets_a_record_or_a_change() -> None:
    rng = random.Random(7)
    written = Written()
    rows = [
        ["interaction", str(uuid.UUID(int=rng.getrandbits(128))), "dev-a", rng.randrange(1, 10**6)]
        for _ in range(20_000)
    ]
    written.add(rows, (0, 1, 2, 3))
    ids = [r[1] for r in rows]
    assert written.maybe_records("interaction", ids) == ids
    seqs = [r[3] for r in rows]
    assert written.maybe_seqs("dev-a", seqs) == seqs
    others = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(20_000)]
    assert len(written.maybe_records("interaction", others)) <= 2  # a false maybe is rare
    assert written.maybe_records("kol", ids[:100]) == []  # another table's ids are apart
    assert written.maybe_seqs("dev-b", seqs) == []
    unseen = set(range(1, 10**6 + 1)) - set(seqs)
    assert written.maybe_seqs("dev-a", sorted(unseen)[:5000]) == []


def test_written_sequence_numbers_below_far_above_and_odd() -> None:
    written = Written()
    written.add([("kol", "k1", "d", 500)], (0, 1, 2, 3))
    written.add([("kol", "k2", "d", 3)], (0, 1, 2, 3))  # below the first: the bits move
    assert written.maybe_seqs("d", [2, 3, 4, 499, 500, 501]) == [3, 500]
    written.add([("kol", "k3", "d", 2**40)], (0, 1, 2, 3))  # too wide a span: all maybe
    assert written.maybe_seqs("d", [1, 2]) == [1, 2]
    written.add([("kol", "k4", "e", "7")], (0, 1, 2, 3))  # not a number: all maybe
    assert written.maybe_seqs("e", [7, 8]) == [7, 8]


def test_many_copies_behind_land_in_order_and_a_failed_one_stops_the_rest(pg_url: str) -> None:
    store = Store.open(pg_url)
    db = cast("PgDatabase", store.db)
    with pytest.raises(StoreError, match="written twice"), store.transaction():
        for n in range(12):
            db.copy_rows("meta", ["key", "value"], [(f"lane-{n}", str(n))])
        db.copy_rows("meta", ["key", "value"], [("lane-0", "again")])  # raised at the commit
    assert store.get_meta("lane-0") is None  # nothing of it stays
    with store.transaction():
        for n in range(12):
            db.copy_rows("meta", ["key", "value"], [(f"lane-{n}", str(n))])
    assert [store.get_meta(f"lane-{n}") for n in range(12)] == [str(n) for n in range(12)]
    with pytest.raises(StoreError, match="written twice"), store.transaction():
        db.copy_rows("meta", ["key", "value"], [("lane-1", "again")])
        for n in range(12, 30):  # queued behind the failure: skipped, then the error
            db.copy_rows("meta", ["key", "value"], [(f"lane-{n}", str(n))])
    assert store.get_meta("lane-12") is None
    store.close()


def test_the_latest_visit_read_by_index_is_the_group_bys(pg_url: str) -> None:
    """A KOL's last contact on a server, asked for given KOLs, is read backwards from the
    index: the same as the whole-table answer, past a deleted latest visit, for a KOL
    with no visit, and for one whose visits are all deleted."""
    from sync_helpers import add_kol, add_visit

    from msl_tui.models import Interaction
    from msl_tui.store import situation

    store = make_store(pg_url, "ana", "dev-ana")
    both, none, gone = (add_kol(store, f"Dr {n}") for n in ("Both", "None", "Gone"))
    early = store.save(
        Interaction(kol_id=both.id, msl_id="ana", occurred_at=datetime(2026, 1, 5, 9, tzinfo=UTC))
    )
    store.delete(Interaction, add_visit(store, both, "late").id)  # on 2 November
    store.delete(Interaction, add_visit(store, gone, "only").id)
    ids = [both.id, none.id, gone.id]
    with store._lock:
        asked = situation.compute(store.db.conn, ids)
        whole = situation.compute(store.db.conn, None)
    assert sorted(asked, key=lambda s: s["kol_id"]) == sorted(whole, key=lambda s: s["kol_id"])
    last = {s["kol_id"]: s["last_contact"] for s in asked}
    assert last[none.id] is None and last[gone.id] is None
    assert last[both.id] is not None and last[both.id].startswith("2026-01-05")
    assert early.id
    store.close()
