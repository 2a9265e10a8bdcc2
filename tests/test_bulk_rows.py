"""A bulk load writes the rows the one row builder would: ``Store.bulk_load`` builds them from
the canonical fields without a model (store/bulk.py), so each stored row is rebuilt here from
its record with ``codec.record_row`` and must match column for column."""

from __future__ import annotations

from datetime import UTC, datetime

from msl_tui.demo import seed_demo
from msl_tui.models import Kol
from msl_tui.store import Store
from msl_tui.store.codec import ENTITIES, decode_stamps, from_row, record_row, row_columns

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_every_bulk_row_is_the_row_record_row_makes() -> None:
    store = Store.memory()
    seed_demo(store, kols=120, years=2.0, seed=3, now=NOW)
    seen = 0
    for entity in ENTITIES.values():
        columns = row_columns(entity)
        for row in store.db.query(f"select * from {entity.table}"):
            expected = record_row(
                entity,
                from_row(entity, row),
                device=row["device_id"],
                hlc=row["hlc"],
                updated_at=row["updated_at"],
                field_stamps=decode_stamps(entity, row["field_stamps"], row["hlc"]),
            )
            assert [row[c] for c in columns] == expected
            seen += 1
    assert seen == store.count_all()


def test_bulk_insert_of_models_matches_a_save_of_each() -> None:
    kols = [Kol(name=f"Dr Bulk {i}", tags=["a", "b"], institution="Ward 7") for i in range(30)]
    bulk, saved = Store.memory(), Store.memory()
    assert bulk.bulk_insert(kols) == 30
    for kol in kols:
        saved.save(kol)
    volatile = {"hlc", "updated_at", "field_stamps", "device_id"}
    for table in ("kols",):
        rows = [
            [
                {k: v for k, v in r.items() if k not in volatile}
                for r in s.db.query(f"select * from {table} order by id")
            ]
            for s in (bulk, saved)
        ]
        assert rows[0] == rows[1]
    patches = [
        [r["patch"] for r in s.db.query("select patch from changes order by record_id")]
        for s in (bulk, saved)
    ]
    assert patches[0] == patches[1]


def test_stamps_after_a_bulk_load_are_unique_increasing_and_the_clock_moves_past_them() -> None:
    store = Store.memory()
    seed_demo(store, kols=40, years=1.0, seed=5, now=NOW)
    stamps = [r["hlc"] for r in store.db.query("select hlc from changes order by seq")]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert store.get_meta("hlc_last") == stamps[-1]
    kol = store.list_kols()[0]
    edited = store.save(kol.evolve(institution="Another Hospital"))
    assert edited.hlc > stamps[-1]
    rows = {
        r["hlc"] for t in ("kols", "interactions") for r in store.db.query(f"select hlc from {t}")
    }
    assert rows <= {*stamps, edited.hlc}


def test_a_bulk_load_into_a_store_with_records_keeps_triggers_and_situations() -> None:
    store = Store.memory()
    seed_demo(store, kols=10, years=0.5, seed=1, now=NOW)
    more = [Kol(name=f"Dr Later {i}", institution="Late Clinic") for i in range(3)]
    store.bulk_insert(more)
    assert set(store.search_kol_ids("Later")) == {k.id for k in more}
    situated = {r["kol_id"] for r in store.db.query("select kol_id from kol_situation")}
    assert {k.id for k in more} <= situated
