"""Numbered schema migrations, applied in order, each in its own transaction at open.

Never edit a released migration: add the next number. ``SCHEMA_VERSION`` is the count of
migrations this program knows; a store that has applied more was written by a newer msl-tui.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("msl_tui")

SYNC_COLUMNS = {
    "device_id": str,
    "hlc": str,
    "created_at": str,
    "updated_at": str,
    "deleted": int,
    # Per-field winning clock stamps (JSON): what a merge compares against.
    "field_stamps": str,
}


@migrations(name="m001_initial")
def m001_initial(db: Database) -> None:
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("kols").create(
        {
            "id": str,
            "name": str,
            "credentials": str,
            "specialty": str,
            "therapeutic_areas": str,
            "institution": str,
            "city": str,
            "region": str,
            "country": str,
            "territory": str,
            "influence": str,
            "stance": str,
            "strengths": str,
            "preferred_channels": str,
            "identified_by": str,
            "identification_note": str,
            "stage": str,
            "tags": str,
            "profile_note": str,
            **SYNC_COLUMNS,
        },
        pk="id",
        not_null={"name"},
    )
    db.table("plans").create(
        {
            "id": str,
            "kol_id": str,
            "period_start": str,
            "period_end": str,
            "objectives": str,
            "activities": str,
            "cadence_days": int,
            "lifecycle_phase": str,
            "status": str,
            "owner_msl": str,
            **SYNC_COLUMNS,
        },
        pk="id",
    )
    db.table("plans").create_index(["kol_id", "period_start"])
    db.table("interactions").create(
        {
            "id": str,
            "kol_id": str,
            "msl_id": str,
            "occurred_at": str,
            "channel": str,
            "duration_min": int,
            "objective_id": str,
            "notes": str,
            "questions_asked": str,
            "insights": str,
            "feedback": str,
            "adverse_event": str,
            "med_info_request": str,
            "transfer_of_value": str,
            "status": str,
            "submitted_at": str,
            "amendments": str,
            "tags": str,
            # Derived, for the priority query: day zero of an AE not yet reported.
            "ae_pending_since": str,
            **SYNC_COLUMNS,
        },
        pk="id",
    )
    db.table("interactions").create_index(["kol_id", "occurred_at"])
    db.execute(
        "CREATE INDEX idx_interactions_ae_pending ON interactions(ae_pending_since) "
        "WHERE ae_pending_since IS NOT NULL"
    )
    db.table("followups").create(
        {
            "id": str,
            "kol_id": str,
            "interaction_id": str,
            "action": str,
            "due": str,
            "owner": str,
            "done": int,
            "done_at": str,
            **SYNC_COLUMNS,
        },
        pk="id",
    )
    db.execute("CREATE INDEX idx_followups_open ON followups(kol_id, due) WHERE done = 0")
    # The append-only change log: every local write and every imported change.
    db.table("changes").create(
        {
            "device_id": str,
            "seq": int,
            "hlc": str,
            "entity": str,
            "record_id": str,
            "patch": str,
            "base": str,
            "author": str,
        },
        pk=("device_id", "seq"),
        not_null={"hlc", "entity", "record_id", "patch"},
    )
    db.table("changes").create_index(["entity", "record_id"])
    db.table("changes").create_index(["hlc"])
    db.table("conflicts").create(
        {
            "id": int,
            "entity": str,
            "record_id": str,
            "field": str,
            "kept_value": str,
            "kept_hlc": str,
            "other_value": str,
            "other_hlc": str,
            "detected_at": str,
            "resolved_at": str,
            "resolution": str,
        },
        pk="id",
    )
    db.table("imported_bundles").create(
        {
            "bundle_id": str,
            "file": str,
            "kind": str,
            "source": str,
            "imported_at": str,
            "changes": int,
        },
        pk="bundle_id",
    )
    # Unsent visit text: local to this laptop, never synced, never lost.
    db.table("drafts").create(
        {"id": str, "kol_id": str, "payload": str, "updated_at": str}, pk="id"
    )
    db.table("prompts").create({"id": str, "purpose": str, "text": str, "created_at": str}, pk="id")
    db.table("kols").enable_fts(
        ["name", "institution", "specialty", "tags", "profile_note"],
        create_triggers=True,
        tokenize="unicode61 remove_diacritics 2",
    )
    db.table("interactions").enable_fts(["notes"], create_triggers=True)


@migrations(name="m002_sync")
def m002_sync(db: Database) -> None:
    # Export reads one table's changes in log order: (entity, rowid) is this index's order.
    db.execute("CREATE INDEX idx_changes_entity ON changes(entity)")
    # A conflict is one losing write of one field: recomputing it must not duplicate it.
    db.execute(
        "CREATE UNIQUE INDEX idx_conflicts_key ON conflicts(entity, record_id, field, other_hlc)"
    )


@migrations(name="m003_objective_index")
def m003_objective_index(db: Database) -> None:
    # Plan progress counts interactions per objective for every KOL on the list.
    db.execute(
        "CREATE INDEX idx_interactions_objective ON interactions(objective_id) "
        "WHERE objective_id IS NOT NULL"
    )


@migrations(name="m004_ledger_digest")
def m004_ledger_digest(db: Database) -> None:
    # A bundle id names one bundle: the ledger keeps the manifest's digest so that the same
    # id with other content is refused instead of being reported as "already imported".
    db.execute("ALTER TABLE imported_bundles ADD COLUMN manifest_sha256 TEXT")


@migrations(name="m005_privacy")
def m005_privacy(db: Database) -> None:
    # One row per erased KOL, and nothing about them but the id: what travels so every
    # store erases the same person, and drops their old changes when they come back.
    db.table("erasures").create(
        {
            "kol_id": str,
            "erased_at": str,
            "reason": str,
            "erased_by": str,
            "device_id": str,
        },
        pk="kol_id",
        not_null={"erased_at", "reason", "erased_by", "device_id"},
    )


@migrations(name="m006_kol_situation")
def m006_kol_situation(db: Database) -> None:
    # The ranking's facts per KOL, kept up to date by every write (store/situation.py), so
    # the list opens without aggregating every interaction. score/score_day: a cache of the
    # last ranking, cleared for a KOL whenever its facts change.
    from msl_tui.store import situation

    db.execute(
        "CREATE TABLE kol_situation (kol_id TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "last_contact TEXT, open_followups INTEGER NOT NULL DEFAULT 0, "
        "followup_dues TEXT NOT NULL DEFAULT '[]', ae_pending_since TEXT, plan_id TEXT, "
        "cadence_days INTEGER, lifecycle_phase TEXT, "
        "open_objectives INTEGER NOT NULL DEFAULT 0, score REAL, score_day TEXT)"
    )
    db.execute("CREATE INDEX idx_situation_rank ON kol_situation(score DESC, name, kol_id)")
    situation.refresh(db.conn, None)


@migrations(name="m007_compact_stamps")
def m007_compact_stamps(db: Database) -> None:
    # Nothing to change in the tables: from here on a row's field_stamps may hold the
    # marker (store/codec.py STAMPS_MARKER) instead of a JSON object. The name alone makes
    # an older msl-tui refuse this store ("written by a newer msl-tui") rather than misread
    # it. Storage only: bundles carry the same as before (sync/bundle.py WIRE_VERSION).
    del db


SCHEMA_VERSION = len(migrations._migrations)


def applied_count(db: Database) -> int:
    return len(migrations.applied(db))
