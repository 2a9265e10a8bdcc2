"""The store keeps what it is given, logs every change, and finds it again."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, date, datetime, timedelta

import pytest

from msl_tui.models import (
    AdverseEvent,
    EngagementPlan,
    FollowUp,
    Interaction,
    Kol,
    MslProfile,
    Objective,
)
from msl_tui.store import Store, situation
from msl_tui.store.codec import ENTITIES, STAMPS_MARKER, decode_stamps

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def changes(store: Store) -> list[dict]:  # type: ignore[type-arg]
    return list(store.db.query("select * from changes order by seq"))


def test_every_entity_round_trips(store: Store) -> None:
    kol = store.save(Kol(name="Dr Jane Roe", tags=["lupus"], strengths=["speaker"]))
    plan = store.save(
        EngagementPlan(
            kol_id=kol.id,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
            objectives=[Objective(description="Map gaps")],
        )
    )
    visit = store.save(
        Interaction(
            kol_id=kol.id,
            occurred_at=NOW,
            notes="talked",
            status="submitted",
            submitted_at=NOW,
            adverse_event=AdverseEvent(day_zero=NOW, event="rash"),
        )
    )
    followup = store.save(FollowUp(kol_id=kol.id, interaction_id=visit.id, action="send"))
    for record in (kol, plan, visit, followup):
        assert store.get(type(record), record.id) == record


def test_an_update_logs_only_the_changed_fields_with_the_stamp_it_replaced(store: Store) -> None:
    kol = store.save(Kol(name="Dr Jane Roe"))
    store.save(kol.evolve(stance="advocate"))
    first, second = changes(store)
    assert json.loads(second["patch"]) == {"stance": "advocate"}
    assert json.loads(second["base"]) == {"stance": first["hlc"]}
    assert second["hlc"] > first["hlc"]
    assert second["seq"] == first["seq"] + 1


def test_saving_an_unchanged_record_writes_nothing(store: Store) -> None:
    kol = store.save(Kol(name="Dr Jane Roe"))
    store.save(kol)
    assert len(changes(store)) == 1


def test_delete_is_a_logged_tombstone(store: Store) -> None:
    kol = store.save(Kol(name="Dr Jane Roe"))
    store.delete(Kol, kol.id)
    assert store.list_kols() == []
    assert store.get(Kol, kol.id).deleted  # type: ignore[union-attr]
    assert json.loads(changes(store)[-1]["patch"]) == {"deleted": True}


def test_drafts_are_kept_exactly_and_removed_on_request(store: Store) -> None:
    payload = {"notes": "half a thought — with ünïcödé\nand a second line", "n": [1, 2]}
    store.save_draft("visit:k", "k", payload)
    assert store.load_draft("visit:k") == payload
    store.delete_draft("visit:k")
    assert store.load_draft("visit:k") is None


def test_overview_counts_follow_ups_contacts_and_pending_adverse_events(store: Store) -> None:
    kol = store.save(Kol(name="Dr Jane Roe"))
    store.save(
        Interaction(
            kol_id=kol.id,
            occurred_at=NOW - timedelta(days=3),
            notes="a",
            status="submitted",
            submitted_at=NOW,
            adverse_event=AdverseEvent(day_zero=NOW - timedelta(days=3)),
        )
    )
    store.save(FollowUp(kol_id=kol.id, action="late", due=date(2026, 11, 1)))
    store.save(FollowUp(kol_id=kol.id, action="later", due=date(2026, 12, 1)))
    store.save(FollowUp(kol_id=kol.id, action="done", due=date(2026, 10, 1), done=True))
    (row,) = store.kol_overview(date(2026, 11, 23))
    assert row["open_followups"] == 2
    assert row["overdue_followups"] == 1
    assert row["oldest_due"] == "2026-11-01"
    assert row["last_contact"].startswith("2026-11-20")
    assert row["ae_pending_since"].startswith("2026-11-20")


def test_a_reported_adverse_event_is_no_longer_pending(store: Store) -> None:
    kol = store.save(Kol(name="Dr Jane Roe"))
    ae = AdverseEvent(day_zero=NOW, reported_at=NOW + timedelta(hours=2), reference="PV-1")
    store.save(Interaction(kol_id=kol.id, occurred_at=NOW, adverse_event=ae))
    assert store.kol_overview(date(2026, 11, 23))[0]["ae_pending_since"] is None


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("roe", True),  # prefix of a name
        ("nordv", True),  # prefix of the institution
        ("lupus", True),  # a tag
        ("nephritis", True),  # a word in a note
        ("zurich", True),  # diacritics folded: Zürich
        ("cardiology", False),
        ("", False),
        ('"; drop table kols; --', False),  # punctuation is never FTS syntax
    ],
)
def test_full_text_search(store: Store, query: str, found: bool) -> None:
    kol = store.save(
        Kol(
            name="Dr Jane Roe",
            institution="Nordvik University Hospital",
            tags=["lupus"],
            city="Zürich",
            profile_note="Works in Zürich",
        )
    )
    store.save(Interaction(kol_id=kol.id, occurred_at=NOW, notes="Lupus nephritis outcomes"))
    assert (store.search_kol_ids(query) == [kol.id]) is found


def test_search_skips_deleted_kols(store: Store) -> None:
    kol = store.save(Kol(name="Dr Jane Roe"))
    store.delete(Kol, kol.id)
    assert store.search_kol_ids("roe") == []


def test_find_by_name_ranks_the_closest_first(store: Store) -> None:
    store.save(Kol(name="Dr Jane Roe"))
    store.save(Kol(name="Dr Janet Roeland"))
    assert store.find_kols_by_name("jane roe")[0].name == "Dr Jane Roe"


def test_a_new_store_file_is_private_and_durable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "private" / "msl.db"
    store = Store.open(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    pragma = {
        name: store.db.execute(f"pragma {name}").fetchone()[0]
        for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
    }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 5000,
    }


def test_the_device_id_and_clock_survive_reopening(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "msl.db"
    first = Store.open(path)
    first.set_profile(MslProfile(msl_id="ana", name="Ana", device_id="laptop-1"))
    kol = first.save(Kol(name="Dr A"))
    first.close()
    again = Store.open(path)
    assert again.device_id == "laptop-1"
    later = again.save(kol.evolve(stance="neutral"))
    assert later.hlc > kol.hlc


def test_a_bulk_insert_into_an_empty_store_indexes_every_word_and_keeps_indexing(
    store: Store,
) -> None:
    # The first bulk load builds the full-text indexes once, at the end.
    kol = Kol(name="Dr Ada Quillfeather", institution="Harbour Clinic")
    visit = Interaction(
        kol_id=kol.id, occurred_at=datetime(2026, 10, 1, tzinfo=UTC), notes="pharmacokinetics"
    )
    store.bulk_insert([kol, visit])
    assert store.search_kol_ids("quill") == [kol.id]
    assert store.search_note_kol_ids("pharmaco") == [kol.id]
    later = store.save(Kol(name="Dr Bo Quillon"))  # the triggers are back for what follows
    assert set(store.search_kol_ids("quill")) == {kol.id, later.id}


def test_a_bulk_insert_into_an_empty_store_leaves_the_same_schema_and_situations(
    store: Store,
) -> None:
    # Secondary indexes and full-text triggers are dropped for the load and built at the
    # end; the kept situations are computed in one pass. What is left must be the same.
    schema = "select type, name, tbl_name, sql from sqlite_master order by type, name"
    before = list(store.db.conn.execute(schema))
    kol = Kol(name="Dr Ada Quillfeather", institution="Harbour Clinic")
    visit = Interaction(
        kol_id=kol.id, occurred_at=datetime(2026, 10, 1, tzinfo=UTC), notes="pharmacokinetics"
    )
    store.bulk_insert([kol, visit, Kol(name="Dr Bo Quillon")])
    assert list(store.db.conn.execute(schema)) == before
    computed = situation.compute(store.db.conn, None)
    assert situation.kept(store) == sorted(computed, key=lambda s: s["kol_id"])
    assert len(computed) == 2
    assert store.db.conn.execute("pragma integrity_check").fetchone() == ("ok",)


def test_a_bulk_insert_stamps_every_field_as_a_save_would(store: Store) -> None:
    kol = Kol(name='Dr "Quoted" Ünal', tags=["renal"])
    visit = Interaction(kol_id=kol.id, occurred_at=datetime(2026, 10, 1, tzinfo=UTC), notes="x")
    store.bulk_insert([kol, visit])
    for entity in (ENTITIES["kol"], ENTITIES["interaction"]):
        [row] = store.db.conn.execute(
            f"select id, hlc, field_stamps from {entity.table}"
        ).fetchall()
        [patch] = store.db.conn.execute(
            "select patch from changes where record_id = ?", [row[0]]
        ).fetchone()
        # Every field carries the row's own stamp: the compact marker, read as that.
        assert row[2] == STAMPS_MARKER
        assert decode_stamps(entity, row[2], row[1]) == dict.fromkeys(json.loads(patch), row[1])
