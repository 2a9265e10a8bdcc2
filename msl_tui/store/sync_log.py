"""All SQL the sync layer needs: the change log, entity rows it rebuilds, conflicts, ledger.

Functions take a Store and hold its lock; none of them commits, so the caller decides the
transaction (an import applies one bundle in one transaction).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from msl_tui.store.codec import ENTITIES, Entity, decode_stamps
from msl_tui.store.store import BULK_ROWS, Store

if TYPE_CHECKING:
    from msl_tui.store.pg import PgDatabase

CHANGE_COLUMNS = "rowid, device_id, seq, hlc, entity, record_id, patch, base, author"
_IN_BATCH = 500  # stays under SQLite's bound-parameter limit


def _chunks(items: Sequence[Any], size: int = _IN_BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _in_parts(store: Store, column: str, values: Sequence[Any]) -> Iterator[tuple[str, list[Any]]]:
    """``column IN (...)`` over ``values``, as the engine likes it: SQLite in slices under
    its bound-parameter limit; PostgreSQL as one array parameter (``= any``), which it
    hashes or looks up by index, where a long IN list of parameters is compared row by row."""
    if store.server:
        if values:
            yield f"{column} = any(?)", list(values)
        return
    for part in _chunks(values):
        yield f"{column} in ({', '.join('?' for _ in part)})", list(part)


def _stream(store: Store, sql: str, params: Sequence[Any]) -> Iterator[dict[str, Any]]:
    """Rows of a big read, one at a time: SQLite's cursor is lazy already; a server's is
    read in slices through a server-side cursor."""
    if store.server:
        yield from cast("PgDatabase", store.db).stream(sql, params)
        return
    cursor = store.db.conn.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    for values in cursor:
        yield dict(zip(names, values, strict=True))


def _params(store: Store, part: list[Any]) -> list[Any]:
    """The parameters of an ``_in_parts`` clause: the values, or the one array."""
    return [part] if store.server else part


def _maybe_held(store: Store, entity: str, record_ids: Sequence[str]) -> list[str]:
    """The records to look up: on a server inside a big write, those it may hold (see
    ``PgDatabase.maybe_held``); elsewhere all of them."""
    if store.server:
        table = ENTITIES[entity].table if entity in ENTITIES else entity
        return cast("PgDatabase", store.db).maybe_held(entity, table, record_ids)
    return list(record_ids)


# -- locks for merges running side by side (a server store) ------------------------------


def lock_records(store: Store, entity: str, record_ids: Iterable[str]) -> None:
    """Inside a merge on a server, make other merges wait for these records until this
    transaction ends: a record is the fold of all its changes, so two merges must not
    interleave on one. SQLite has one writer at a time: nothing to do."""
    if store.server:
        from msl_tui.store.pg import record_key

        db = cast("PgDatabase", store.db)
        db.lock_keys(record_key(entity, r) for r in record_ids)


def _lock_bundle(store: Store, bundle_id: str) -> None:
    # Two merges of one bundle at once: the second waits, then finds it in the ledger.
    lock_records(store, "bundle", [bundle_id])


# -- the change log ----------------------------------------------------------------------


def max_change_rowid(store: Store) -> int:
    with store._lock:
        rows = list(store.db.query("select coalesce(max(rowid), 0) n from changes"))
    return int(rows[0]["n"])


def iter_changes(
    store: Store,
    entity: str,
    *,
    after_rowid: int = 0,
    upto_rowid: int | None = None,
    record_ids: Iterable[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """One table's changes in log order, streamed (a cursor, not a list). Erased changes
    (payload-free markers) never leave the store."""
    sql = f"select {CHANGE_COLUMNS} from changes where entity = ? and rowid > ? and patch != '{{}}'"
    params: list[Any] = [entity, after_rowid]
    if upto_rowid is not None:
        sql += " and rowid <= ?"
        params.append(upto_rowid)
    sql += " order by rowid"
    wanted = set(record_ids) if record_ids is not None else None
    with store._lock:
        for row in _stream(store, sql, params):
            if wanted is None or row["record_id"] in wanted:
                yield row


WIRE_COLUMNS = "device_id, seq, hlc, record_id, patch, base, author"


def iter_change_values(
    store: Store,
    entity: str,
    *,
    after_rowid: int = 0,
    upto_rowid: int,
    record_ids: Iterable[str] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """``iter_changes`` for an export: the same rows, as tuples in ``WIRE_COLUMNS`` order
    (a million dicts would cost an export more than writing its lines)."""
    sql = (
        f"select {WIRE_COLUMNS} from changes where entity = ? and rowid > ? and rowid <= ? "
        "and patch != '{}' order by rowid"
    )
    params = [entity, after_rowid, upto_rowid]
    wanted = set(record_ids) if record_ids is not None else None
    with store._lock:
        if store.server:
            rows: Iterable[tuple[Any, ...]] = (
                tuple(row.values()) for row in _stream(store, sql, params)
            )
        else:
            rows = store.db.conn.execute(sql, params)
        for row in rows:
            if wanted is None or row[3] in wanted:
                yield row


def count_changes(store: Store, entity: str, after_rowid: int, upto_rowid: int) -> int:
    with store._lock:
        rows = list(
            store.db.query(
                "select count(*) n from changes where entity = ? and rowid > ? and rowid <= ? "
                "and patch != '{}'",
                [entity, after_rowid, upto_rowid],
            )
        )
    return int(rows[0]["n"])


def changes_by_key(store: Store, device: str, seqs: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Stored changes of one device with these sequence numbers (a primary-key range scan)."""
    if store.server:
        seqs = cast("PgDatabase", store.db).maybe_held_seqs(device, seqs)
    if not seqs:
        return {}
    wanted = set(seqs)
    with store._lock:
        rows = store.db.conn.execute(
            f"select {CHANGE_COLUMNS} from changes where device_id = ? and seq between ? and ?",
            [device, min(seqs), max(seqs)],
        )
        names = [d[0] for d in rows.description]
        found = {}
        for values in rows:
            row = dict(zip(names, values, strict=True))
            if row["seq"] in wanted:
                found[row["seq"]] = row
    return found


def changes_for_records(
    store: Store, entity: str, record_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    with store._lock:
        for clause, part in _in_parts(store, "record_id", _maybe_held(store, entity, record_ids)):
            cursor = store.db.conn.execute(
                f"select {CHANGE_COLUMNS} from changes where entity = ? and {clause}",
                [entity, *_params(store, part)],
            )
            names = [d[0] for d in cursor.description]
            for values in cursor:
                row = dict(zip(names, values, strict=True))
                found.setdefault(row["record_id"], []).append(row)
    return found


def insert_changes(store: Store, rows: Sequence[Sequence[Any]]) -> None:
    """Rows of (device_id, seq, hlc, entity, record_id, patch, base, author)."""
    with store._lock:
        store.note_written(row[4] for row in rows)
        if store.server and len(rows) >= BULK_ROWS:
            # Straight in: a merge inserts only changes it checked are not stored yet.
            cast("PgDatabase", store.db).copy_rows(
                "changes",
                ["device_id", "seq", "hlc", "entity", "record_id", "patch", "base", "author"],
                rows,
            )
            return
        store.db.conn.executemany(
            "insert into changes(device_id, seq, hlc, entity, record_id, patch, base, author) "
            "values (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def next_seq(store: Store) -> int:
    with store._lock:
        rows = list(
            store.db.query(
                "select coalesce(max(seq), 0) + 1 n from changes where device_id = ?",
                [store.device_id],
            )
        )
    return int(rows[0]["n"])


def record_ids_for_msl(store: Store, msl_id: str) -> dict[str, set[str]]:
    """What a roster for one MSL holds: KOLs they plan for or have met, their plans, follow-ups."""
    with store._lock:
        kol_ids = {
            r["kol_id"]
            for r in store.db.query(
                "select kol_id from plans where owner_msl = ? and deleted = 0 "
                "union select kol_id from interactions where msl_id = ? and deleted = 0",
                [msl_id, msl_id],
            )
        }
        ids: dict[str, set[str]] = {"kol": kol_ids, "plan": set(), "followup": set()}
        for clause, part in _in_parts(store, "kol_id", sorted(kol_ids)):
            for entity, table in (("plan", "plans"), ("followup", "followups")):
                ids[entity].update(
                    r["id"]
                    for r in store.db.query(
                        f"select id from {table} where {clause}", _params(store, part)
                    )
                )
    return ids


# -- entity rows -------------------------------------------------------------------------


def existing_ids(store: Store, entity: Entity, record_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    with store._lock:
        for clause, part in _in_parts(store, "id", _maybe_held(store, entity.name, record_ids)):
            found.update(
                r[0]
                for r in store.db.conn.execute(
                    f"select id from {entity.table} where {clause}", _params(store, part)
                )
            )
    return found


def iter_rows(store: Store, entity: Entity, *, live_only: bool = True) -> Iterator[dict[str, Any]]:
    sql = f"select * from {entity.table}"
    if live_only:
        sql += " where deleted = 0"
    with store._lock:
        yield from _stream(store, sql + " order by id", [])


def field_stamps(store: Store, entity: Entity, record_id: str) -> dict[str, Any] | None:
    with store._lock:
        rows = list(
            store.db.query(
                f"select field_stamps, hlc from {entity.table} where id = ?", [record_id]
            )
        )
    return decode_stamps(entity, rows[0]["field_stamps"], rows[0]["hlc"]) if rows else None


# -- conflicts ---------------------------------------------------------------------------


def open_conflict_keys(
    store: Store, entity: str, record_ids: Sequence[str]
) -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    with store._lock:
        for clause, part in _in_parts(store, "record_id", _maybe_held(store, entity, record_ids)):
            for r in store.db.conn.execute(
                f"select record_id, field, other_hlc from conflicts where entity = ? "
                f"and resolved_at is null and {clause}",
                [entity, *_params(store, part)],
            ):
                found.setdefault(r[0], set()).add((r[1], r[2]))
    return found


def save_conflicts(
    store: Store, entity: str, record_id: str, conflicts: Sequence[dict[str, Any]], now: str
) -> None:
    """Make the open conflicts of a record exactly ``conflicts``: new ones are added, ones no
    longer open are marked resolved (kept, as history), current ones get the current winner."""
    with store._lock:
        store.note_written([record_id])
        keep = {(c["field"], c["other_hlc"]) for c in conflicts}
        for r in list(
            store.db.conn.execute(
                "select id, field, other_hlc from conflicts where entity = ? and record_id = ? "
                "and resolved_at is null",
                [entity, record_id],
            )
        ):
            if (r[1], r[2]) not in keep:
                store.db.conn.execute(
                    "update conflicts set resolved_at = ?, resolution = 'superseded' where id = ?",
                    [now, r[0]],
                )
        for c in conflicts:
            store.db.conn.execute(
                "insert into conflicts(entity, record_id, field, kept_value, kept_hlc, "
                "other_value, other_hlc, detected_at) values (?, ?, ?, ?, ?, ?, ?, ?) "
                "on conflict(entity, record_id, field, other_hlc) do update set "
                "kept_value = excluded.kept_value, kept_hlc = excluded.kept_hlc, "
                "resolved_at = null, resolution = null",
                [
                    entity,
                    record_id,
                    c["field"],
                    json.dumps(c["kept_value"]),
                    c["kept_hlc"],
                    json.dumps(c["other_value"]),
                    c["other_hlc"],
                    now,
                ],
            )


def list_conflicts(store: Store, *, open_only: bool = True) -> list[dict[str, Any]]:
    sql = "select * from conflicts"
    if open_only:
        sql += " where resolved_at is null"
    with store._lock:
        rows = list(store.db.query(sql + " order by detected_at, id"))
    for r in rows:
        r["kept_value"] = json.loads(r["kept_value"]) if r["kept_value"] else None
        r["other_value"] = json.loads(r["other_value"]) if r["other_value"] else None
    return rows


# What a person needs to know which record a conflict is about: its KOL's name and the
# record's own detail (a visit's date, a plan's start, a follow-up's action).
_LABEL_SQL = {
    "kol": "select t.id, t.name, t.institution from kols t",
    "interaction": "select t.id, k.name, t.occurred_at from interactions t "
    "left join kols k on k.id = t.kol_id",
    "plan": "select t.id, k.name, t.period_start from plans t left join kols k on k.id = t.kol_id",
    "followup": "select t.id, k.name, t.action from followups t "
    "left join kols k on k.id = t.kol_id",
}


def record_labels(
    store: Store, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """For each (entity, record id) found: (the KOL's name, the record's detail)."""
    by_entity: dict[str, list[str]] = {}
    for entity, record_id in set(keys):
        if entity in _LABEL_SQL:
            by_entity.setdefault(entity, []).append(record_id)
    found: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    with store._lock:
        for entity, ids in by_entity.items():
            for clause, part in _in_parts(store, "t.id", sorted(ids)):
                for r in store.db.conn.execute(
                    f"{_LABEL_SQL[entity]} where {clause}", _params(store, part)
                ):
                    found[(entity, r[0])] = (r[1], r[2])
    return found


def get_conflict(store: Store, conflict_id: int) -> dict[str, Any] | None:
    rows = [r for r in list_conflicts(store, open_only=False) if r["id"] == conflict_id]
    return rows[0] if rows else None


def mark_resolved(store: Store, conflict_id: int, resolution: str, now: str) -> None:
    with store._lock:
        store.db.conn.execute(
            "update conflicts set resolved_at = ?, resolution = ? where id = ?",
            [now, resolution, conflict_id],
        )


def records_with_open_conflicts(store: Store) -> list[tuple[str, str]]:
    with store._lock:
        return [
            (r["entity"], r["record_id"])
            for r in store.db.query(
                "select distinct entity, record_id from conflicts where resolved_at is null"
            )
        ]


# -- the ledger of imported bundles -----------------------------------------------------


def ledger_entry(store: Store, bundle_id: str) -> dict[str, Any] | None:
    _lock_bundle(store, bundle_id)
    with store._lock:
        rows = list(
            store.db.query("select * from imported_bundles where bundle_id = ?", [bundle_id])
        )
    return rows[0] if rows else None


def record_bundle(
    store: Store,
    bundle_id: str,
    file: str,
    kind: str,
    source: str,
    at: str,
    changes: int,
    manifest_sha256: str,
) -> None:
    with store._lock:
        store.db.conn.execute(
            "insert into imported_bundles(bundle_id, file, kind, source, imported_at, changes, "
            "manifest_sha256) values (?, ?, ?, ?, ?, ?, ?)",
            [bundle_id, file, kind, source, at, changes, manifest_sha256],
        )


def all_entities() -> list[Entity]:
    return list(ENTITIES.values())


def integrity_check(store: Store) -> str:
    """SQLite's own verdict on the file ("ok" when sound); a server keeps its own."""
    if store.server:
        return "ok"
    with store._lock:
        rows = store.db.conn.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(r[0]) for r in rows)
