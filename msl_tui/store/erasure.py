"""The SQL of erasure: removing one KOL's personal data from every table, and the bytes of it
from the file.

An erased record loses its row, its conflicts, its drafts and its FTS entries. Its changes
stay in the log as payload-free markers (patch and base ``{}``, no author): the log keeps
each ``(device, seq)`` it has seen, so sequence numbers are never reused and a change that
comes back later is known for what it is (a change of an erased record) and dropped. An
empty patch is never a real change (a change always sets a field), so the marker cannot be
mistaken for one, and exports leave markers out.

Functions take a Store and hold its lock; only ``scrub`` commits, as VACUUM must run
outside a transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from msl_tui.safe_text import printable
from msl_tui.store.codec import ENTITIES
from msl_tui.store.errors import StoreError
from msl_tui.store.store import Store

MARKER = "{}"  # the patch (and base) of an erased change
SCRUB_PENDING_META = "erasure_scrub_pending"
# Tables whose rows belong to a KOL through their kol_id column.
KOL_OWNED = ("plan", "interaction", "followup")
_IN_BATCH = 500


def _chunks(items: Sequence[Any], size: int = _IN_BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- the erasure records --------------------------------------------------------------------


def erased_kol_ids(store: Store) -> set[str]:
    with store._lock:
        return {r[0] for r in store.db.conn.execute("select kol_id from erasures")}


def get_erasure(store: Store, kol_id: str) -> dict[str, Any] | None:
    with store._lock:
        rows = list(store.db.query("select * from erasures where kol_id = ?", [kol_id]))
    return rows[0] if rows else None


def iter_erasures(store: Store) -> Iterator[dict[str, Any]]:
    with store._lock:
        yield from store.db.query("select * from erasures order by rowid")


def max_erasure_rowid(store: Store) -> int:
    with store._lock:
        row = store.db.conn.execute("select coalesce(max(rowid), 0) from erasures").fetchone()
    return int(row[0])


def record_erasure(
    store: Store, kol_id: str, *, erased_at: str, reason: str, erased_by: str, device_id: str
) -> bool:
    """Keep the erasure record (the first one wins: an erasure is never undone or redone).
    True if it is new here."""
    with store._lock:
        cursor = store.db.conn.execute(
            "insert into erasures(kol_id, erased_at, reason, erased_by, device_id) "
            "values (?, ?, ?, ?, ?) on conflict(kol_id) do nothing",
            [kol_id, erased_at, reason, erased_by, device_id],
        )
        return cursor.rowcount == 1


# -- what a KOL owns ------------------------------------------------------------------------


def records_of_kol(store: Store, kol_id: str) -> dict[str, set[str]]:
    """Every record id that belongs to the KOL: its own, the rows that name it, and records
    known only from the change log (a creation that named the KOL, whose row is not here:
    deleted by an earlier erasure elsewhere, or waiting for the rest of its changes)."""
    found: dict[str, set[str]] = {"kol": {kol_id}, **{e: set() for e in KOL_OWNED}}
    with store._lock:
        conn = store.db.conn
        for name in KOL_OWNED:
            table = ENTITIES[name].table
            found[name].update(
                r[0] for r in conn.execute(f"select id from {table} where kol_id = ?", [kol_id])
            )
        # A cheap text test first, which skips parsing nearly every patch.
        named = (
            "strpos(patch, ?) > 0 and patch::jsonb ->> 'kol_id' = ?"
            if store.server
            else "instr(patch, ?) > 0 and json_valid(patch) and json_extract(patch, '$.kol_id') = ?"
        )
        for entity, record_id in conn.execute(
            f"select distinct entity, record_id from changes where {named}", [kol_id, kol_id]
        ):
            if entity in found:
                found[entity].add(record_id)
    return found


def count_drafts(store: Store, kol_id: str) -> int:
    with store._lock:
        row = store.db.conn.execute(
            "select count(*) from drafts where kol_id = ?", [kol_id]
        ).fetchone()
    return int(row[0])


# -- erasing --------------------------------------------------------------------------------


def erase_records(store: Store, entity_name: str, record_ids: Iterable[str]) -> int:
    """Remove these records' rows and conflicts and empty their changes into markers; the
    FTS triggers take their words out of the indexes. Returns the rows removed. The caller
    holds the transaction; ``scrub`` afterwards clears the bytes."""
    entity = ENTITIES[entity_name]
    ids = sorted(set(record_ids))
    removed = 0
    with store._lock:
        conn = store.db.conn
        for part in _chunks(ids):
            marks = ", ".join("?" for _ in part)
            store.touch_kols(
                part
                if entity_name == "kol"
                else [r[0] for r in conn.execute(
                    f"select kol_id from {entity.table} where id in ({marks})", list(part)
                )]
            )  # fmt: skip
            removed += conn.execute(
                f"delete from {entity.table} where id in ({marks})", list(part)
            ).rowcount
            conn.execute(
                f"delete from conflicts where entity = ? and record_id in ({marks})",
                [entity_name, *part],
            )
            conn.execute(
                f"update changes set patch = ?, base = ?, author = '' "
                f"where entity = ? and record_id in ({marks}) and patch != ?",
                [MARKER, MARKER, entity_name, *part, MARKER],
            )
    return removed


def erase_drafts(store: Store, kol_id: str) -> int:
    with store._lock:
        return int(store.db.conn.execute("delete from drafts where kol_id = ?", [kol_id]).rowcount)


def optimise_indexes(store: Store) -> None:
    """Merge the full-text indexes into one segment each: a deleted row's words otherwise
    stay in older segments until a merge happens to reach them. A server has none."""
    if store.server:
        return
    with store._lock:
        for fts in ("kols_fts", "interactions_fts"):
            store.db.conn.execute(f"insert into {fts}({fts}) values ('optimize')")


def erased_record_ids(store: Store, entity_name: str, record_ids: Iterable[str]) -> set[str]:
    """Which of these records this store knows as erased (their changes are markers)."""
    found: set[str] = set()
    ids = list(set(record_ids))
    with store._lock:
        for part in _chunks(ids):
            marks = ", ".join("?" for _ in part)
            found.update(
                r[0]
                for r in store.db.conn.execute(
                    f"select distinct record_id from changes where entity = ? "
                    f"and record_id in ({marks}) and patch = ?",
                    [entity_name, *part, MARKER],
                )
            )
    return found


def insert_markers(store: Store, rows: Iterable[tuple[str, int, str, str, str]]) -> None:
    """Markers for dropped changes, from (device, seq, hlc, entity, record_id): the change
    is then known here, and dropped again without a word if it comes back."""
    rows = list(rows)
    with store._lock:
        store.note_written(row[4] for row in rows)
        store.db.conn.executemany(
            "insert into changes(device_id, seq, hlc, entity, record_id, patch, base, author) "
            "values (?, ?, ?, ?, ?, ?, ?, '') on conflict(device_id, seq) do nothing",
            [(*row, MARKER, MARKER) for row in rows],
        )


def pending_adverse_events(store: Store, kol_id: str) -> list[str]:
    """Day zero of each adverse event about this KOL not yet reported to pharmacovigilance
    (erasing it would destroy a report the company owes)."""
    with store._lock:
        return [
            r[0]
            for r in store.db.conn.execute(
                "select ae_pending_since from interactions where kol_id = ? and deleted = 0 "
                "and ae_pending_since is not null order by ae_pending_since",
                [kol_id],
            )
        ]


def pending_events_words(store: Store, kol_id: str, days: list[str]) -> str:
    """Why a KOL with unreported adverse events cannot be erased yet, in one line."""
    rows = list(store.db.query("select name from kols where id = ?", [kol_id]))
    who = f"{printable(rows[0]['name'], 60)} ({kol_id[:8]})" if rows else kol_id
    return (
        f"{who} has {len(days)} adverse event(s) not yet reported to pharmacovigilance "
        f"(day zero {days[0][:10]}): report them first, then erase"
    )


def notes_mentioning(store: Store, terms: list[str]) -> int:
    """Visit notes and KOL profiles that contain these words as a phrase (after an erasure:
    other people's records that still name the erased person)."""
    if not terms:
        return 0
    phrase = '"' + " ".join(terms) + '"'
    if store.server:
        # No full-text tables at head office: the words as a phrase, in any case.
        like = "%" + " ".join(terms) + "%"
        with store._lock:
            row = store.db.conn.execute(
                "select (select count(*) from interactions where notes ilike ?) + "
                "(select count(*) from kols where profile_note ilike ? or name ilike ?)",
                [like, like, like],
            ).fetchone()
        return int(row[0])
    with store._lock:
        conn = store.db.conn
        visits = conn.execute(
            "select count(*) from interactions_fts where interactions_fts match ?", [phrase]
        ).fetchone()[0]
        profiles = conn.execute(
            "select count(*) from kols_fts where kols_fts match ?", [phrase]
        ).fetchone()[0]
    return int(visits) + int(profiles)


def apply_erasure(
    store: Store, kol_id: str, *, erased_at: str, reason: str, erased_by: str, device_id: str
) -> dict[str, int] | None:
    """Record the erasure and remove everything the KOL owns, in the caller's transaction.
    Rows removed per table (and drafts), or None if the KOL was erased here already."""
    if not record_erasure(
        store,
        kol_id,
        erased_at=erased_at,
        reason=reason,
        erased_by=erased_by,
        device_id=device_id,
    ):
        return None
    counts = {
        ENTITIES[name].table: erase_records(store, name, ids)
        for name, ids in records_of_kol(store, kol_id).items()
    }
    counts["drafts"] = erase_drafts(store, kol_id)
    mark_scrub_pending(store)
    return counts


def scrub(store: Store) -> bool:
    """Make removed bytes unreadable in the file itself: the full-text indexes are merged
    (dropping deleted words), secure_delete zeroes freed space, VACUUM rewrites the file without free pages, and a truncating checkpoint empties the
    write-ahead log, which still holds old page images. Needs no open transaction. True
    when it all happened; False when another connection kept the log in use (the pending
    mark stays, and the next writable open tries again).

    On a server, the rows are gone from every table when the erasure commits; VACUUM then
    removes their dead versions from the table files. What the server keeps beyond (its
    write-ahead log, replicas, backups) follows the retention its administrators set."""
    if store.server:
        with store._lock:
            tables = ", ".join(
                [*(e.table for e in ENTITIES.values()), "changes", "conflicts", "drafts"]
            )
            store.db.conn.execute(f"VACUUM {tables}")
            with store.transaction():
                store.db.conn.execute("delete from meta where key = ?", [SCRUB_PENDING_META])
        return True
    with store._lock:
        conn = store.db.conn
        conn.execute("PRAGMA secure_delete = ON")
        with store.transaction():
            optimise_indexes(store)
        conn.execute("VACUUM")
        busy = 0
        if store.path is not None:
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if busy:
            return False
    if store.get_meta(SCRUB_PENDING_META) is not None:
        with store.transaction():
            store.db.conn.execute("delete from meta where key = ?", [SCRUB_PENDING_META])
        if store.path is not None:
            with store._lock:
                store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return True


def try_scrub(store: Store) -> bool:
    """``scrub``, for after an erasure has committed: a busy store is not a failed erasure.
    False leaves the pending mark for the next writable open."""
    try:
        return scrub(store)
    except (StoreError, sqlite3.Error):
        return False


def mark_scrub_pending(store: Store) -> None:
    store.set_meta(SCRUB_PENDING_META, "1")


def scrub_pending(store: Store) -> bool:
    return store.get_meta(SCRUB_PENDING_META) is not None
