"""The bulk way into a server store: new rows straight through COPY, stored rows through
one upsert, the kept situation refreshed once before the commit. Same store as SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest
from field_bundles import canonical_dump

from msl_tui.models import Kol, MslProfile
from msl_tui.store import Store, StoreError, situation
from msl_tui.store.store import BULK_ROWS
from msl_tui.sync import importer
from msl_tui.sync.export import export_bundle
from msl_tui.sync.importer import import_bundle

if TYPE_CHECKING:
    from msl_tui.store.pg import PgDatabase

N = BULK_ROWS + 50


@pytest.fixture(scope="module")
def two_bundles(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A laptop's full export of N new KOLs, then one in which every KOL was edited."""
    folder = tmp_path_factory.mktemp("bulk")
    laptop = Store.open(folder / "laptop.db")
    laptop.set_profile(MslProfile(msl_id="m1", name="M One", device_id="laptop-1"))
    kols = [Kol(name=f"Dr Bulk {i}", institution="Old Hospital") for i in range(N)]
    laptop.bulk_insert(kols)
    first = export_bundle(laptop, folder / "first.mslsync", full=True, sign=False).path
    for kol in laptop.list_kols():
        laptop.save(kol.evolve(institution="New Hospital"))
    second = export_bundle(laptop, folder / "second.mslsync", sign=False).path
    laptop.close()
    assert first is not None and second is not None
    return [first, second]


def test_new_and_stored_rows_in_bulk_give_sqlites_store(
    pg_url: str, two_bundles: list[Path], tmp_path: Path
) -> None:
    lite, pg = Store.open(tmp_path / "ho.db"), Store.open(pg_url)
    reports = []
    for bundle in two_bundles:
        reports.append(import_bundle(pg, bundle))
        assert import_bundle(lite, bundle).lines() == reports[-1].lines()
    assert reports[0].tables["kols"].inserted == reports[1].tables["kols"].updated == N
    assert canonical_dump(lite) == canonical_dump(pg)
    assert {k.institution for k in pg.list_kols()} == {"New Hospital"}
    lite.close()
    pg.close()


def test_the_kept_situation_is_refreshed_once_per_import_and_right(
    pg_url: str, two_bundles: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH", 100)  # several batches per import
    pg = Store.open(pg_url)
    calls: list[int] = []
    refresh = situation.refresh

    def counted(conn, ids):  # type: ignore[no-untyped-def]
        calls.append(len(set(ids or [])))
        refresh(conn, ids)

    monkeypatch.setattr(situation, "refresh", counted)
    for bundle in two_bundles:
        import_bundle(pg, bundle)
    assert calls == [N, N]  # one refresh per import, of every KOL it touched
    kept = situation.kept(pg)
    with pg._lock:
        fresh = situation.compute(pg.db.conn, None)
    assert len(kept) == N and kept == sorted(fresh, key=lambda r: r["kol_id"])
    pg.close()


def test_a_copy_that_fails_behind_fails_its_transaction_whole(pg_url: str) -> None:
    """A COPY runs on a helper thread while the import goes on: its error is raised at the
    next use of the connection (or at the commit), and nothing of the transaction stays."""
    store = Store.open(pg_url)
    db = cast("PgDatabase", store.db)
    taken = [("probe-2", "x"), ("device_id", "taken already")]
    with pytest.raises(StoreError, match="written twice"), store.transaction():
        db.execute("insert into meta(key, value) values ('probe-1', 'x')")
        db.copy_rows("meta", ["key", "value"], taken)
        store.get_meta("probe-1")
    with pytest.raises(StoreError, match="written twice"), store.transaction():
        db.copy_rows("meta", ["key", "value"], taken)  # nothing after it: the commit raises
    assert store.get_meta("probe-1") is None and store.get_meta("probe-2") is None
    with store.transaction():  # the connection is fit for the next transaction
        db.copy_rows("meta", ["key", "value"], [("probe-3", "x")])
    assert store.get_meta("probe-3") == "x"
    store.close()
