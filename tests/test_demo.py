"""The demo territory is believable, complete and the same every time."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from msl_tui.demo import seed_demo
from msl_tui.models import FollowUp, Interaction, Kol
from msl_tui.services.kol_list import KolListService, ListQuery
from msl_tui.store import Store
from msl_tui.store.codec import ENTITIES, decode_stamps

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TABLES = ("kols", "plans", "interactions", "followups")
# Sync bookkeeping (stamps, device, write time) differs by design; the content must not.
VOLATILE = {"hlc", "device_id", "updated_at", "field_stamps"}


def content(store: Store) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    result = {}
    for table in TABLES:
        rows = store.db.query(f"select * from {table} order by id")
        result[table] = [tuple(v for k, v in sorted(r.items()) if k not in VOLATILE) for r in rows]
    return result


def build(seed: int = 7) -> Store:
    store = Store.memory()
    seed_demo(store, kols=40, years=1.0, seed=seed, now=NOW)
    return store


def test_same_seed_same_territory() -> None:
    assert content(build()) == content(build())


def test_another_seed_another_territory() -> None:
    assert content(build(7)) != content(build(8))


def test_the_demo_has_every_case_the_app_must_show() -> None:
    store = Store.memory()
    summary = seed_demo(store, kols=40, years=1.0, seed=7, now=NOW)
    kols = store.list_kols()
    assert {(k.influence.value, k.stance.value) for k in kols} >= {
        (i, s)
        for i in ("global", "national", "regional", "local")
        for s in ("advocate", "neutral", "negative", "unknown")
    }
    interactions = [i for k in kols for i in store.interactions_for(k.id, limit=10_000)]
    assert any(i.ae_unreported() for i in interactions)
    assert any(i.transfer_of_value for i in interactions)
    assert any(i.feedback and i.feedback.sentiment.value == "negative" for i in interactions)
    followups = [f for k in kols for f in store.followups_for(k.id)]
    assert any(not f.done and f.due and f.due < NOW.date() for f in followups)
    assert summary.kols == store.count(Kol) == 40
    assert summary.interactions == store.count(Interaction)
    assert summary.followups == store.count(FollowUp)
    assert summary.unreported_adverse_events == sum(i.ae_unreported() for i in interactions)


def test_every_name_is_invented_and_unique_enough() -> None:
    names = Counter(k.name for k in build().list_kols())
    assert all(name.startswith("Dr ") for name in names)
    assert len(names) >= 35


@pytest.mark.parametrize(("kols", "years"), [(40, 1.0), (150, 2.0)])
def test_the_demo_reads_like_a_real_territory(kols: int, years: float) -> None:
    store = Store.memory()
    summary = seed_demo(store, kols=kols, years=years, seed=7, now=NOW)
    rows = KolListService(store).load(ListQuery(), NOW).rows
    today = NOW.date()
    overdue = [r for r in rows if r.next_due is not None and r.next_due < today]
    this_week = [
        r for r in rows if r.next_due is not None and today <= r.next_due <= today + timedelta(7)
    ]
    assert 0.10 <= len(overdue) / len(rows) <= 0.15
    assert 0.10 <= len(this_week) / len(rows) <= 0.20
    # Most are within cadence; a few are badly overdue, not everyone.
    badly = [r for r in overdue if (today - r.next_due).days > 45]  # type: ignore[operator]
    assert 1 <= len(badly) <= len(overdue) // 2 + 1
    unreported = [r for r in rows if r.ae_hours_left is not None]
    assert len(unreported) == 1 == summary.unreported_adverse_events
    assert rows[0].kol_id == unreported[0].kol_id


def test_seeding_the_default_demo_is_fast() -> None:
    started = time.perf_counter()
    seed_demo(Store.memory(), now=NOW)  # the 150 KOLs `msl demo` builds on first use
    assert time.perf_counter() - started < 5


def test_the_unvalidated_build_stores_exactly_what_a_validated_one_does() -> None:
    # The generator skips model validation for speed; that is only sound if every row and
    # every change it stores is byte for byte what validated models would have stored.
    stores = []
    for validate in (True, False):
        store = Store.memory()
        seed_demo(store, kols=300, years=3.5, seed=11, now=NOW, validate=validate)
        stores.append(store)
    checked, fast = stores
    assert content(checked) == content(fast)
    changes = "select seq, entity, record_id, patch, base, author from changes order by seq"
    assert list(checked.db.query(changes)) == list(fast.db.query(changes))
    stamped = "select id, hlc, field_stamps from {} order by id"
    for entity in ENTITIES.values():
        # The same fields carry stamps (the stamps themselves are write times).
        keys = [
            [r["id"], sorted(decode_stamps(entity, r["field_stamps"], r["hlc"]))]
            for s in (checked, fast)
            for r in s.db.query(stamped.format(entity.table))
        ]
        half = len(keys) // 2
        assert keys[:half] == keys[half:]
    assert checked.count(Interaction) > 3000


def test_two_demo_stores_are_two_devices_that_can_swap_bundles(tmp_path) -> None:
    from msl_tui.sync.export import export_bundle
    from msl_tui.sync.importer import import_bundle

    first, second = Store.open(tmp_path / "a.db"), Store.open(tmp_path / "b.db")
    for store, seed in ((first, 1), (second, 2)):
        seed_demo(store, kols=5, years=0.5, seed=seed, now=NOW)
    assert first.device_id != second.device_id
    bundle = export_bundle(first, tmp_path, sign=False).path
    assert bundle is not None
    report = import_bundle(second, bundle)  # refused before: "its own" device id, never made here
    assert report.total().inserted > 0
    assert second.count(Kol) == first.count(Kol) + 5
