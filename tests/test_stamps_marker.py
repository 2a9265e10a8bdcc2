"""The field-stamps marker: a row every data field of which carries the row's own hlc
stores ``*`` instead of the JSON object. Read through ``codec.decode_stamps``, it must
give what the JSON gave, in every merge order; older stores keep their JSON rows; an
older msl-tui refuses a store that may hold the marker; bundles keep their version."""

from __future__ import annotations

import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sync_helpers import snapshot

from msl_tui.models import Interaction, Kol, MslProfile
from msl_tui.store import Store, StoreError, codec, database, sync_log
from msl_tui.store.codec import ENTITIES, STAMPS_MARKER, decode_stamps
from msl_tui.sync import bundle
from msl_tui.sync.bundle import WIRE_VERSION, BundleError, Manifest
from msl_tui.sync.export import export_bundle
from msl_tui.sync.importer import import_bundle

KOL = ENTITIES["kol"]
DEVICES = ("laptop-a", "laptop-b")


@contextmanager
def json_stamps_only() -> Iterator[None]:
    """Writes as msl-tui did before the marker: every row's stamps as a JSON object."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(codec, "_covers_data_fields", lambda entity, keys: False)
        yield


def _store(device: str, path: Path | None = None) -> Store:
    store = Store.open(path) if path else Store.memory()
    store.set_profile(MslProfile(msl_id=device, name=device, device_id=device))
    return store


def _stamp_columns(store: Store) -> list[str]:
    return [
        r[0]
        for e in ENTITIES.values()
        for r in store.db.conn.execute(f"select field_stamps from {e.table} order by id")
    ]


def test_a_new_record_stores_the_marker_and_an_edit_the_whole_object() -> None:
    store = _store("laptop-a")
    kol = store.save(Kol(name="Dr A", city="Leeds"))
    [text] = _stamp_columns(store)
    assert text == STAMPS_MARKER
    stamps = sync_log.field_stamps(store, KOL, kol.id)
    assert stamps == dict.fromkeys(KOL.data_fields(), kol.hlc)
    edited = store.save(kol.evolve(city="York"))
    [text] = _stamp_columns(store)
    written = json.loads(text)
    assert written == {**stamps, "city": edited.hlc}
    [change] = [
        r for r in sync_log.iter_changes(store, "kol") if json.loads(r["patch"]) == {"city": "York"}
    ]
    assert json.loads(change["base"]) == {"city": kol.hlc}  # the marker's stamp, expanded


ops = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.integers(0, 1), st.sampled_from(["Leeds", "York"])),
        st.tuples(
            st.just("edit"),
            st.integers(0, 1),
            st.integers(0, 20),
            st.sampled_from(["city", "institution", "profile_note"]),
        ),
        st.tuples(st.just("visit"), st.integers(0, 1), st.integers(0, 20)),
        st.tuples(st.just("delete"), st.integers(0, 1), st.integers(0, 20)),
        st.tuples(st.just("send"), st.integers(0, 1)),
    ),
    min_size=1,
    max_size=14,
)


def _play(steps: list[tuple], folder: Path) -> list[Path]:
    """Two laptops create, edit and delete, sending each other bundles; every bundle made."""
    laptops = [_store(d) for d in DEVICES]
    made: list[Path] = []
    for n, step in enumerate(steps):
        store = laptops[step[1]]
        kols = [store.get(Kol, r["id"]) for r in sync_log.iter_rows(store, KOL)]
        if step[0] == "create":
            store.save(Kol(name=f"Dr {n}", city=step[2]))
        elif step[0] == "edit" and kols:
            kol = kols[step[2] % len(kols)]
            store.save(kol.evolve(**{step[3]: f"{step[3]} {n}"}))  # type: ignore[union-attr]
        elif step[0] == "visit" and kols:
            kol = kols[step[2] % len(kols)]
            store.save(
                Interaction(kol_id=kol.id, occurred_at="2026-10-01T09:00:00Z", notes=f"n{n}")
            )  # type: ignore[union-attr]
        elif step[0] == "delete" and kols:
            store.delete(Kol, kols[step[2] % len(kols)].id)  # type: ignore[union-attr]
        elif step[0] == "send":
            path = export_bundle(store, folder, sign=False).path
            if path is not None:
                made.append(path)
                import_bundle(laptops[1 - step[1]], path)
    for store in laptops:
        path = export_bundle(store, folder, full=True, sign=False).path
        if path is not None:
            made.append(path)
    return made


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=ops, order=st.randoms(use_true_random=False))
def test_any_changes_in_any_order_give_the_same_stamps_and_records_as_json(
    steps: list[tuple], order
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bundles = _play(steps, Path(tmp))
        shuffled = list(bundles)
        order.shuffle(shuffled)
        in_order, marked = _store("ho-1"), _store("ho-2")
        for path in bundles:
            import_bundle(in_order, path)
        for path in shuffled:
            import_bundle(marked, path)
        with json_stamps_only():
            plain = _store("ho-3")
            for path in shuffled:
                import_bundle(plain, path)
        assert STAMPS_MARKER not in _stamp_columns(plain)
        expected = snapshot(plain)  # rows (decoded stamps included) and open conflicts
        assert snapshot(marked) == expected
        assert snapshot(in_order) == expected
        for entity in ENTITIES.values():
            for row in sync_log.iter_rows(plain, entity, live_only=False):
                assert sync_log.field_stamps(marked, entity, row["id"]) == json.loads(
                    row["field_stamps"]
                )


def test_an_older_store_upgrades_and_reads_its_json_rows_as_before(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with json_stamps_only():
        old = _store("laptop-a", path)
        kol = old.save(Kol(name="Dr Old", city="Leeds"))
        old.close()
    conn = sqlite3.connect(path)  # as msl-tui left it before m007 (which changes no table)
    conn.execute("delete from _sqlite_migrations where name = 'm007_compact_stamps'")
    conn.commit()
    [[before]] = conn.execute("select field_stamps from kols").fetchall()
    conn.close()
    assert database.pending_migrations(path) == 1
    store = Store.open(path)
    assert [r["name"] for r in store.db.query("select name from _sqlite_migrations")][-1] == (
        "m007_compact_stamps"
    )
    assert _stamp_columns(store) == [before]  # not rewritten
    assert sync_log.field_stamps(store, KOL, kol.id) == json.loads(before)
    edited = store.save(kol.evolve(city="York"))
    assert json.loads(_stamp_columns(store)[0]) == {**json.loads(before), "city": edited.hlc}
    store.close()


def test_a_program_that_knows_six_migrations_refuses_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "new.db"
    _store("laptop-a", path).save(Kol(name="Dr New"))
    monkeypatch.setattr(database, "MIGRATION_NAMES", database.MIGRATION_NAMES[:6])
    monkeypatch.setattr(database, "SCHEMA_VERSION", 6)
    with pytest.raises(StoreError, match=r"newer msl-tui \(schema has m007_compact_stamps"):
        Store.open(path)


def test_a_postgresql_program_that_knows_three_migrations_refuses_the_store(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from msl_tui.store import pg_migrations

    Store.open(pg_url).close()
    monkeypatch.setattr(pg_migrations, "MIGRATIONS", pg_migrations.MIGRATIONS[:3])
    monkeypatch.setattr(pg_migrations, "SCHEMA_VERSION", 3)
    with pytest.raises(StoreError, match="newer msl-tui"):
        Store.open(pg_url)


def test_sqlite_and_postgresql_write_the_same_stamp_columns(pg_url: str, tmp_path: Path) -> None:
    laptop = _store("laptop-a")
    kols = [laptop.save(Kol(name=f"Dr {i}")) for i in range(4)]
    laptop.save(kols[0].evolve(city="York"))
    laptop.save(Interaction(kol_id=kols[1].id, occurred_at="2026-10-01T09:00:00Z", notes="x"))
    path = export_bundle(laptop, tmp_path, full=True, sign=False).path
    assert path is not None
    lite, pg = Store.open(tmp_path / "ho.db"), Store.open(pg_url)
    import_bundle(lite, path)
    import_bundle(pg, path)
    columns = _stamp_columns(lite)
    assert columns.count(STAMPS_MARKER) == 4  # three KOLs and the visit; the edited one is JSON
    pg_columns = [
        r["field_stamps"]
        for e in ENTITIES.values()
        for r in pg.db.query(f"select field_stamps from {e.table} order by id")
    ]
    assert sorted(pg_columns) == sorted(columns)
    assert snapshot(pg) == snapshot(lite)
    lite.close()
    pg.close()


def _manifest(path: Path) -> dict:
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read(bundle.MANIFEST))


def test_bundles_keep_their_wire_version_and_a_newer_one_is_refused(tmp_path: Path) -> None:
    laptop = _store("laptop-a")
    laptop.save(Kol(name="Dr A"))
    path = export_bundle(laptop, tmp_path, sign=False).path
    assert path is not None
    data = _manifest(path)
    assert data["schema"] == WIRE_VERSION == 6  # what msl-tui wrote before m007
    assert Manifest.parse(json.dumps(data).encode()).schema == 6
    data["schema"] = 7
    with pytest.raises(
        BundleError,
        match=r"bundle schema version 7 is newer than this store's \(6\): upgrade msl-tui",
    ):
        Manifest.parse(json.dumps(data).encode())


def test_decode_stamps_reads_both_forms() -> None:
    assert decode_stamps(KOL, STAMPS_MARKER, "h") == dict.fromkeys(KOL.data_fields(), "h")
    assert decode_stamps(KOL, '{"city":["a","b"]}', "h") == {"city": ["a", "b"]}
    assert decode_stamps(KOL, None, "h") == {}


def test_a_new_store_has_8_kib_pages_and_an_existing_one_keeps_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = Store.open(tmp_path / "new.db")
    assert new.db.conn.execute("pragma page_size").fetchone()[0] == 8192
    new.close()
    with monkeypatch.context() as patch:  # a store made before: SQLite's 4 KiB pages
        patch.setattr(database, "PAGE_SIZE", 4096)
        _store("laptop-a", tmp_path / "old.db").close()
    store = Store.open(tmp_path / "old.db")
    store.save(Kol(name="Dr Old"))
    assert store.db.conn.execute("pragma page_size").fetchone()[0] == 4096
    assert store.db.conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    store.close()
