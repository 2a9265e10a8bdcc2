"""The local store: typed functions over SQLite. No SQL lives outside this package.

Every row of a synced record is written by ``write_records``, from a validated model (local
saves, merges, conflict resolutions and imports alike), except a bulk load of new records
(``bulk_load``: demo data, benchmarks), whose rows are built from canonical fields by
``store/bulk.py`` and checked against ``write_records``' rows by tests/test_bulk_rows.py. A local save
(``save``) stamps the change with the hybrid logical clock, appends it to the change log and
writes the row in one transaction. Writers take the lock first (BEGIN IMMEDIATE), so a busy
store makes them wait the busy timeout, then fail with one line, never halfway through.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from msl_tui.clock import MAX_COUNTER, HybridLogicalClock, Stamp
from msl_tui.models import (
    EngagementPlan,
    FollowUp,
    Interaction,
    Kol,
    MslProfile,
    SyncedRecord,
)
from msl_tui.store import situation
from msl_tui.store.bulk import RowMaker
from msl_tui.store.codec import (
    ENTITIES,
    ENTITY_BY_MODEL,
    Entity,
    decode_stamps,
    dump_fields,
    encode_json,
    from_row,
    record_row,
    row_columns,
    whole_record_stamps,
)
from msl_tui.store.connection import Connection as Database  # sqlite-utils' call names
from msl_tui.store.database import open_database
from msl_tui.store.errors import StoreBusyError, StoreError
from msl_tui.store.search_index import Deferred
from msl_tui.store.urls import ServerUrl, is_server_url
from msl_tui.store.written import Written
from msl_tui.timestamps import now_iso

if TYPE_CHECKING:
    from msl_tui.store.pg import PgDatabase

R = TypeVar("R", bound=SyncedRecord)
# The tables with a full-text index kept by triggers (migrations: enable_fts).
SEARCHED_TABLES = ("kols", "interactions")
BIG_WRITE_CACHE_KIB = -65536  # 64 MiB (a negative cache_size counts KiB)
# The index a merge reads each batch's stored changes by (sync_log.changes_for_records): kept
# through a big write, or each batch would read the whole change log.
MERGE_READS = frozenset({"idx_changes_entity_record_id"})
BULK_ROWS = 200  # from this many rows, a server store is written through COPY
BULK_CACHE_KIB = 256 * 1024  # SQLite page cache while bulk_insert runs (default: 2 MB)
BULK_BATCH = 20_000  # records per executemany in a bulk load
# A bulk load's stamps step the counter, borrowing a millisecond every 10,000 records:
# a million records run 100 ms ahead of the wall clock, which the clock then takes in.
MAX_BULK_SKEW_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class RowStamp:
    """A row's sync bookkeeping: who wrote its latest change, when, and each field's stamp."""

    device: str
    hlc: str
    updated_at: str
    field_stamps: dict[str, Any] | str  # or its JSON, encoded already
    # The record's canonical fields when the caller holds them already (an import checked
    # them against the record), so the row is not dumped twice.
    fields: dict[str, Any] | None = None


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Store:
    """One MSL's (or head office's) database. Thread-safe: one lock guards the connection.

    The database is an SQLite file, or at head office a PostgreSQL server (``pg``): then
    ``db`` is a ``PgDatabase``, which offers the calls used here with the same meaning, and
    ``server`` is true. The few statements that differ between the two ask ``server``.
    """

    def __init__(
        self, db: Database | PgDatabase, path: Path | None = None, *, read_only: bool = False
    ) -> None:
        # PgDatabase offers the part of sqlite-utils' Database this package uses (query,
        # execute, conn.execute/executemany, atomic, close): typed as one for the checker.
        self.db = cast(Database, db)
        self.server = not isinstance(db, Database)
        self.path = path
        self.read_only = read_only
        self._lock = threading.RLock()
        self._merging = False
        self._settled = False
        # KOLs whose kept situation the open transaction must refresh before it commits.
        self._touched: set[str] | None = None
        # Set inside ``big_write``: the FTS index is written a batch at a time.
        self._search: Deferred | None = None
        # Set inside a ``big_write`` into an empty store: the record ids written since.
        self._written: Written | None = None
        device = self.get_meta("device_id")
        if device is None and not read_only:
            # Minted once per store: it names this machine's changes in every export. Two
            # processes opening a new server store at once keep the first one's.
            with self._lock, self.db.atomic():
                self.db.execute(
                    "insert into meta(key, value) values ('device_id', ?) "
                    "on conflict(key) do nothing",
                    [f"dev-{uuid.uuid4().hex[:12]}"],
                )
            device = self.get_meta("device_id")
        if device is None:
            device = f"dev-{uuid.uuid4().hex[:12]}"
        last = self.get_meta("hlc_last")
        self.device_id = device
        self.clock = HybridLogicalClock(self.device_id, Stamp.parse(last) if last else None)

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: Path | str | ServerUrl, *, create: bool = True, read_only: bool = False
    ) -> Store:
        """``read_only``: an existing store through a read-only connection (never written).

        A ``postgresql://`` URL opens a head-office store on a PostgreSQL server.
        """
        if isinstance(path, ServerUrl) or is_server_url(path):
            from msl_tui.store.database import busy_timeout_ms
            from msl_tui.store.pg import open_pg

            url = path.url if isinstance(path, ServerUrl) else str(path)
            return cls(
                open_pg(url, read_only=read_only, busy_ms=busy_timeout_ms()), read_only=read_only
            )
        db = open_database(path, create=create, read_only=read_only)
        return cls(db, None if str(path) == ":memory:" else Path(path), read_only=read_only)

    @staticmethod
    def pending_migrations(path: Path | str | ServerUrl) -> int:
        """How many migrations the existing store at ``path`` lacks (nothing written)."""
        if isinstance(path, ServerUrl) or is_server_url(path):
            from msl_tui.store.pg import pending_migrations

            return pending_migrations(path.url if isinstance(path, ServerUrl) else str(path))
        from msl_tui.store.database import pending_migrations as pending_in_file

        return pending_in_file(Path(path))

    @classmethod
    def memory(cls) -> Store:
        return cls.open(":memory:")

    def close(self) -> None:
        with self._lock:
            self.db.close()

    @property
    def where(self) -> str:
        """The store's name in messages (a server URL without its password)."""
        if self.server:
            return str(getattr(self.db, "where", "the store"))
        return str(self.path) if self.path else "the store"

    @contextmanager
    def merging(self) -> Iterator[None]:
        """Write transactions begun inside are merges of incoming changes: on PostgreSQL they
        share the store with other merges and lock each record they merge (see
        ``store/pg.py``); SQLite has one writer at a time anyway."""
        previous, self._merging = self._merging, True
        try:
            yield
        finally:
            self._merging = previous

    @contextmanager
    def settled(self) -> Iterator[None]:
        """Read transactions begun inside see no write half done: on PostgreSQL they wait
        for merges in flight (see ``PgDatabase._settle``), so an incremental export cannot
        skip a change that commits later under a lower rowid. SQLite has one writer: its
        snapshots are settled already."""
        previous, self._settled = self._settled, True
        try:
            yield
        finally:
            self._settled = previous

    @contextmanager
    def transaction(self, *, write: bool = True, wait: bool = True) -> Iterator[None]:
        """Group writes: all of them land, or none do.

        The outermost level takes the write lock up front (BEGIN IMMEDIATE): a writer that
        started reading first could not upgrade later without failing midway. ``write=False``
        gives a consistent read snapshot and works on a read-only store. Nested levels are
        savepoints. ``wait=False`` (a cache's write, on SQLite): a store busy with another
        writer is StoreBusyError at once, not after the busy timeout.
        """
        if self.server:
            from msl_tui.store.pg import record_key

            pg = cast("PgDatabase", self.db)
            with self._lock:
                outermost = not pg.in_transaction
                with pg.transaction(write=write, merge=self._merging, settled=self._settled):
                    if not outermost:
                        yield
                        return
                    # As on SQLite: the touched KOLs' situation is refreshed once, before
                    # the commit, not once per batch written (an import writes hundreds).
                    self._touched = set()
                    try:
                        yield
                        if self._touched and write:
                            # Merges beside this one may touch these KOLs too: each waits
                            # for the other's commit and then computes from its rows (else
                            # both would write a KOL's situation, and one be run again).
                            pg.lock_keys(record_key("kol_situation", k) for k in self._touched)
                            situation.refresh(pg, self._touched)
                    finally:
                        self._touched = None
            return
        with self._lock:
            conn = self.db.conn
            if conn.in_transaction:
                with self.db.atomic():
                    yield
                return
            waits = conn.execute("PRAGMA busy_timeout").fetchone()[0] if not wait else None
            try:
                if not wait:
                    conn.execute("PRAGMA busy_timeout = 0")
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.OperationalError as exc:
                if _busy(exc):
                    raise StoreBusyError(self.path) from None
                raise
            finally:
                if waits is not None:
                    conn.execute(f"PRAGMA busy_timeout = {int(waits)}")
            self._touched = set()
            try:
                yield
                if self._touched and write:
                    situation.refresh(conn, self._touched)
            except BaseException:
                self._touched = None
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                self._touched = None
                try:
                    conn.execute("COMMIT")
                except sqlite3.OperationalError as exc:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    if _busy(exc):
                        raise StoreBusyError(self.path) from None
                    raise

    @contextmanager
    def big_write(self) -> Iterator[None]:
        """Inside an open write transaction, for a big write (an import of thousands of
        changes): the full-text index takes each ``write_records`` batch's new rows in one
        statement, not one trigger call per row (see ``store/search_index.py``), and the
        page cache is 64 MiB instead of 2 (rows keyed by random ids touch pages all over
        their indexes; a small cache writes them to the WAL again and again before the
        commit).

        Into an empty store (a first full import), what can be is built once at the end
        instead: the secondary indexes (as ``bulk_insert`` does) but the one the merge reads
        a record's changes by, the full-text indexes, and every KOL's kept situation (one
        pass over the tables, not a query per 500 KOLs touched). On a server, see
        ``PgDatabase.bulk``."""
        if self.server:
            with cast("PgDatabase", self.db).bulk():
                yield
            return
        if self._search is not None:
            yield
            return
            yield
            return
        with self._lock:
            conn = self.db.conn
            if not conn.in_transaction:
                raise StoreError("big_write needs an open write transaction")
            cache = conn.execute("pragma cache_size").fetchone()[0]
            conn.execute(f"pragma cache_size = {BIG_WRITE_CACHE_KIB}")
            empty = self._no_records()
            self._search = Deferred(conn, SEARCHED_TABLES, whole=empty)
            self._written = Written() if empty else None
            indexes = self._defer_indexes(keep=MERGE_READS) if empty else []
            done = False
            try:
                yield
                done = True
            finally:
                search, self._search = self._search, None
                self._written = None
                # After a rollback the dropped triggers and indexes are back already.
                if conn.in_transaction:
                    # The usual cache first: each index's sort takes as much memory again
                    # as the cache allows (1,000,000 visits peaked at 220 MiB, not 160).
                    conn.execute(f"pragma cache_size = {int(cache)}")
                    for index_sql in indexes:
                        conn.execute(index_sql)
                    search.restore()
                    if done and empty and self._touched is not None:
                        # Every KOL in the store came with this write and was touched by it:
                        # the whole table at once is the same as the touched ones.
                        self._touched.clear()
                        situation.refresh(conn, None)
                conn.execute(f"pragma cache_size = {int(cache)}")

    def _no_records(self) -> bool:
        """No record, change or conflict stored yet (cheaper than counting them)."""
        tables = [e.table for e in ENTITIES.values()] + ["changes", "conflicts"]
        return not any(
            self.db.conn.execute(f"select 1 from {table} limit 1").fetchone() for table in tables
        )

    # -- meta and profile ------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            rows = list(self.db.query("select value from meta where key = ?", [key]))
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        # The clock's high-water mark only moves forward: merges running at once (on a
        # server) each write theirs, and the latest stamp must be the one that stays.
        keep = "case when meta.value > excluded.value then meta.value else excluded.value end"
        with self._lock, self.db.atomic():
            self.db.execute(
                "insert into meta(key, value) values (?, ?) "
                "on conflict(key) do update set value = "
                + (keep if key == "hlc_last" else "excluded.value"),
                [key, value],
            )

    def get_profile(self) -> MslProfile | None:
        raw = self.get_meta("profile")
        return MslProfile.model_validate_json(raw) if raw else None

    def set_profile(self, profile: MslProfile) -> None:
        with self.transaction():
            self.set_meta("profile", profile.model_dump_json())
            self.set_meta("device_id", profile.device_id)
        self.device_id = profile.device_id
        self.clock = HybridLogicalClock(self.device_id, self.clock.last)

    @property
    def author(self) -> str:
        profile = self.get_profile()
        return profile.msl_id if profile else ""

    # -- the write path --------------------------------------------------------------------

    def touch_kols(self, kol_ids: Iterable[str]) -> None:
        """These KOLs' records changed: refresh their kept situation in this transaction
        (once, just before it commits), or now if no ``transaction()`` is open."""
        with self._lock:
            if self._touched is not None:
                self._touched.update(kol_ids)
            else:
                situation.refresh(self.db.conn, kol_ids)

    def _owners(self, entity: Entity, ids: Sequence[str]) -> set[str]:
        """The KOLs whose rows these are now (a write may move a record to another KOL)."""
        if entity.name == "kol":
            return set(ids)
        owners: set[str] = set()
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            owners.update(
                r[0]
                for r in self.db.conn.execute(
                    f"select kol_id from {entity.table} "
                    f"where id in ({', '.join('?' for _ in part)})",
                    list(part),
                )
            )
        return owners

    def _write_many(
        self,
        entity: Entity,
        columns: list[str],
        rows: list[list[Any]],
        tail: str,
        *,
        insert_only: bool,
    ) -> set[str]:
        """Many rows into a server, the same rows another way in: rows of new records
        straight through COPY; the rest through a staging table and one upsert. Returns
        the KOLs the stored rows belonged to (the ones the rows name are added by the
        caller). One statement may change a row once only: the last row of each id wins,
        as it does one statement after another."""
        pg = cast("PgDatabase", self.db)
        key = columns.index("id")
        unique = {row[key]: row for row in rows}
        stored: dict[str, str] = {}
        ids = [] if insert_only else pg.maybe_held(entity.name, entity.table, list(unique))
        if ids:
            owner = "id" if entity.name == "kol" else "kol_id"
            stored = {
                r[0]: r[1]
                for r in pg.execute(
                    f"select id, {owner} from {entity.table} where id = any(?)", [ids]
                )
            }
        new = [row for id_, row in unique.items() if id_ not in stored]
        old = [row for id_, row in unique.items() if id_ in stored]
        if new:
            # A merge locked these records, and no other writer runs beside it: nobody can
            # take one of these ids before this transaction ends.
            pg.copy_rows(entity.table, columns, new)
        if old:
            pg.insert_rows(entity.table, columns, old, tail)
        return set(stored.values())

    def _next_seq(self) -> int:
        rows = list(
            self.db.query(
                "select coalesce(max(seq), 0) + 1 as n from changes where device_id = ?",
                [self.device_id],
            )
        )
        return int(rows[0]["n"])

    def _current_row(self, entity: Entity, record_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query(f"select * from {entity.table} where id = ?", [record_id]))
        return rows[0] if rows else None

    def write_records(
        self,
        entity: Entity,
        items: Iterable[tuple[SyncedRecord, RowStamp]],
        *,
        insert_only: bool = False,
    ) -> int:
        """The one way a record's row is written, whoever writes it (a local save, a bulk
        write, a merge, a conflict resolution, an import): the row is built from the
        validated model's canonical form. The caller holds the transaction."""
        columns = row_columns(entity)
        items = list(items)
        rows = [
            record_row(
                entity,
                record,
                device=meta.device,
                hlc=meta.hlc,
                updated_at=meta.updated_at,
                field_stamps=meta.field_stamps,
                fields=meta.fields,
            )
            for record, meta in items
        ]
        if not rows:
            return 0
        sql = (
            f"insert into {entity.table} ({', '.join(columns)}) "
            f"values ({', '.join('?' for _ in columns)})"
        )
        tail = ""
        if not insert_only:
            assignments = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "id")
            tail = f" on conflict(id) do update set {assignments}"
        with self._lock:
            ids = [record.id for record, _ in items]
            self.note_written(ids)
            if self.server and len(rows) >= BULK_ROWS:
                touched = self._write_many(entity, columns, rows, tail, insert_only=insert_only)
            else:
                # Both the KOL a record belonged to and the one it belongs to now.
                touched = set() if insert_only else self._owners(entity, ids)
                top = self._search.top(entity.table) if self._search else None
                self.db.conn.executemany(sql + tail, rows)
                if top is not None:
                    cast(Deferred, self._search).index_new(entity.table, top)
            touched |= (
                set(ids)
                if entity.name == "kol"
                else {getattr(record, "kol_id", "") for record, _ in items}
            )
            self.touch_kols(touched - {""})
        return len(rows)

    def note_written(self, record_ids: Iterable[str]) -> None:
        """Every statement that writes a record's row, change or conflict tells it here
        (inside a ``big_write`` into an empty store: see ``store/written.py``)."""
        if self._written is not None:
            self._written.add(record_ids)

    def may_hold(self, record_ids: Sequence[str]) -> list[str]:
        """Of these records, the ones the store may hold a row, change or conflict of: all
        of them, except inside a big write that began with the store empty."""
        if self._written is None:
            return list(record_ids)
        return self._written.may_hold(record_ids)

    def save(self, record: R) -> R:
        """Write a record (insert or update); returns it with its new sync stamps."""
        entity = ENTITY_BY_MODEL[type(record)]
        # Validated again here: a model built with model_construct or mutated in place
        # must not reach the store unchecked.
        record = type(record).model_validate(record.model_dump())
        with self.transaction():
            return self._write(entity, record)  # type: ignore[return-value]

    def _write(self, entity: Entity, record: SyncedRecord) -> SyncedRecord:
        fields = dump_fields(record)
        current = self._current_row(entity, record.id)
        stamps: dict[str, Any] = {}
        if current is None:
            patch = fields
        else:
            stamps = decode_stamps(entity, current["field_stamps"], current["hlc"])
            old = dump_fields(from_row(entity, current))
            patch = {k: v for k, v in fields.items() if old.get(k) != v}
            if not patch:
                return record
        stamp = str(self.clock.tick())
        base = {field: stamps[field] for field in patch if field in stamps}
        stamps.update({field: stamp for field in patch})
        self.note_written([record.id])
        self.db.execute(
            "insert into changes(device_id, seq, hlc, entity, record_id, patch, base, author) "
            "values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                self.device_id,
                self._next_seq(),
                stamp,
                entity.name,
                record.id,
                encode_json(patch),
                encode_json(base),
                self.author,
            ],
        )
        self.write_records(entity, [(record, RowStamp(self.device_id, stamp, now_iso(), stamps))])
        self.set_meta("hlc_last", stamp)
        return record.evolve(hlc=stamp, device_id=self.device_id)

    def bulk_insert(self, records: Iterable[SyncedRecord], *, batch: int = 5000) -> int:
        """Insert new records fast (demo data, first imports): same change log, fewer reads.

        The caller's records must not exist yet. Runs in one transaction.
        """
        if not self.server:
            return self.bulk_load(
                (ENTITY_BY_MODEL[type(r)].name, r.id, dump_fields(r)) for r in records
            )
        return self._bulk_insert_server(records, batch=batch)

    def bulk_load(
        self, records: Iterable[tuple[str, str, dict[str, Any]]], *, batch: int = BULK_BATCH
    ) -> int:
        """``bulk_insert`` for records given as (entity name, id, fields), the fields being
        exactly what ``dump_fields`` gives for the validated model (the demo generator
        makes them so without building models): the rows are built from them directly and
        each record's change is one encode of its fields. Into an empty store, secondary
        indexes, full-text indexes and kept situations are built once, at the end."""
        if self.server:
            return self._bulk_insert_server(
                ENTITIES[name].model.model_validate({**fields, "id": record_id})
                for name, record_id, fields in records
            )
        conn = self.db.conn
        makers: dict[str, RowMaker] = {}
        rows: dict[str, list[list[Any]]] = {}
        changes: list[tuple[Any, ...]] = []
        count = 0
        in_flight: Future[None] | None = None

        def write(batch: dict[str, list[list[Any]]], logged: list[tuple[Any, ...]]) -> None:
            self.note_written(row[4] for row in logged)
            for name, entity_rows in batch.items():
                if entity_rows:
                    conn.executemany(makers[name].sql, entity_rows)
            conn.executemany(
                "insert into changes(device_id, seq, hlc, entity, record_id, patch, base, "
                "author) values (?, ?, ?, ?, ?, ?, ?, ?)",
                logged,
            )

        def flush() -> None:
            # A helper thread writes this batch while the next is made here: SQLite lets go
            # of the GIL while it inserts. One batch in flight at most, and nothing else
            # uses the connection meanwhile.
            nonlocal in_flight, rows, changes
            if in_flight is not None:
                in_flight.result()
            in_flight = writer.submit(write, rows, changes)
            rows = {name: [] for name in rows}
            changes = []

        with (
            self.transaction(),
            self._bulk_cache(),
            # Shut down (its batch finished) before the transaction commits or rolls back.
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-load") as writer,
        ):
            seq = self._next_seq()  # inside the lock: another writer cannot take it first
            author = self.author
            device = self.device_id
            # Into an empty store (a demo, a first load) the full-text indexes are built once
            # at the end instead of row by row: the same index, several times faster.
            empty = self.count_all() == 0
            deferred = self._defer_fts() if empty else []
            indexes = self._defer_indexes() if empty else []
            touched: set[str] = set()
            now = now_iso()
            # One clock reading for the lot, then one counter step per record (as ticking
            # within one millisecond does): stamps unique and increasing, without a clock
            # call per record. The clock is moved past the last one at the end.
            first = self.clock.tick()
            wall_ms, counter = first.wall_ms, first.counter
            for name, record_id, fields in records:
                maker = makers.get(name)
                if maker is None:
                    maker = makers[name] = RowMaker(ENTITIES[name])
                    rows[name] = []
                stamp = f"{wall_ms:013d}-{counter:04d}-{device}"
                rows[name].append(maker.row(record_id, fields, device, stamp, now))
                changes.append(
                    (device, seq, stamp, name, record_id, encode_json(fields), "{}", author)
                )
                if not empty:
                    touched.add(record_id if name == "kol" else fields.get("kol_id") or "")
                seq += 1
                count += 1
                counter += 1
                if counter > MAX_COUNTER:
                    wall_ms, counter = wall_ms + 1, 0
                if len(changes) >= batch:
                    flush()
            flush()
            cast(Future, in_flight).result()
            if count:
                # The last stamp given out: the counter has stepped once past it.
                last = (wall_ms, counter - 1) if counter else (wall_ms - 1, MAX_COUNTER)
                self.clock.observe(Stamp(*last, device), max_skew_ms=MAX_BULK_SKEW_MS)
            for index_sql in indexes:
                conn.execute(index_sql)
            for table, trigger_sql in deferred:
                conn.execute(f"insert into {table}_fts({table}_fts) values ('rebuild')")
                conn.execute(trigger_sql)
            if empty and self._touched is not None:
                # Every KOL is new: one pass over the tables, not one query per 500 KOLs.
                self._touched.clear()
                situation.refresh(conn, None)
            else:
                self.touch_kols(touched - {""})
            self.set_meta("hlc_last", str(self.clock.last))
        return count

    def _bulk_insert_server(self, records: Iterable[SyncedRecord], *, batch: int = 5000) -> int:
        """``bulk_insert`` into a server store: the rows through ``write_records``."""
        count = 0
        pending: dict[str, tuple[list[tuple[SyncedRecord, RowStamp]], list[list[Any]]]] = {}
        author = self.author

        def flush() -> None:
            for name, (items, changes) in pending.items():
                if not items:
                    continue
                self.write_records(ENTITIES[name], items, insert_only=True)
                self.db.conn.executemany(
                    "insert into changes(device_id, seq, hlc, entity, record_id, patch, base, "
                    "author) values (?, ?, ?, ?, ?, ?, ?, ?)",
                    changes,
                )
                items.clear()
                changes.clear()

        with self.transaction():
            seq = self._next_seq()  # inside the lock: another writer cannot take it first
            now = now_iso()
            for record in records:
                entity = ENTITY_BY_MODEL[type(record)]
                fields = dump_fields(record)
                stamp = str(self.clock.tick())
                items, changes = pending.setdefault(entity.name, ([], []))
                items.append(
                    (
                        record,
                        RowStamp(
                            self.device_id,
                            stamp,
                            now,
                            whole_record_stamps(entity, fields, stamp),  # as bulk.py writes
                            fields,
                        ),
                    )
                )
                changes.append(
                    [
                        self.device_id,
                        seq,
                        stamp,
                        entity.name,
                        record.id,
                        encode_json(fields),
                        "{}",
                        author,
                    ]
                )
                seq += 1
                count += 1
                if count % batch == 0:
                    flush()
            flush()
            self.set_meta("hlc_last", str(self.clock.last))
        return count

    @contextmanager
    def unjournaled(self) -> Iterator[None]:
        """Only for filling a store file that nothing else uses or can see yet (a new store
        built under a temporary name, given its real name once whole): no journal on disk
        and no waiting for the disk at commit, so the rows are written once instead of
        twice (WAL, then the checkpoint) and never synced. A crash meanwhile leaves a broken
        temporary file, which is thrown away, never a store. The store's own journal and
        sync settings are back afterwards (the caller syncs the file before renaming it)."""
        if self.server:
            yield
            return
        conn = self.db.conn
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = conn.execute("PRAGMA synchronous").fetchone()[0]
        # MEMORY, not OFF: a rollback still works (the journal of a new file is tiny).
        conn.execute("PRAGMA journal_mode = MEMORY")
        conn.execute("PRAGMA synchronous = OFF")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA synchronous = {int(synchronous)}")
            conn.execute(f"PRAGMA journal_mode = {journal}")

    @contextmanager
    def _bulk_cache(self) -> Iterator[None]:
        """A bigger page cache while a bulk load runs: each record lands at a random place
        in its table's id index, and with the default 2 MB cache most of those pages would
        be written out and read back many times over. Back to the default afterwards."""
        conn = self.db.conn
        previous = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA cache_size = {int(previous)}")

    def _defer_indexes(self, keep: frozenset[str] = frozenset()) -> list[str]:
        """Drop the record tables' and change log's secondary indexes for this transaction
        (but those named in ``keep``); returns the statements to run again before it
        commits. Built once from sorted keys, an index costs far less than a million random
        insertions into it. Unique indexes stay: they check what is inserted. Partial
        indexes stay too: they hold few rows (pending AEs, visits linked to an objective),
        and building one afterwards reads the whole table again (2 GB at 1,000,000 visits)."""
        tables = [e.table for e in ENTITIES.values()] + ["changes"]
        found = list(
            self.db.conn.execute(
                "select name, sql from sqlite_master where type = 'index' and sql is not null "
                "and sql not like 'create unique%' and sql not like '% where %' "
                f"and tbl_name in ({', '.join('?' * len(tables))})",
                tables,
            )
        )
        found = [(name, sql) for name, sql in found if name not in keep]
        for name, _sql in found:
            self.db.conn.execute(f'drop index "{name}"')
        return [sql for _name, sql in found]

    def _defer_fts(self) -> list[tuple[str, str]]:
        """Drop the full-text insert triggers for this transaction; returns what
        ``bulk_insert`` rebuilds and re-creates before it commits."""
        found = list(
            self.db.conn.execute(
                "select tbl_name, name, sql from sqlite_master where type = 'trigger' "
                "and name in ('kols_ai', 'interactions_ai')"
            )
        )
        for _table, name, _sql in found:
            self.db.conn.execute(f'drop trigger "{name}"')
        return [(table, sql) for table, _name, sql in found]

    # -- reading records -------------------------------------------------------------------

    def get(self, model: type[R], record_id: str) -> R | None:
        entity = ENTITY_BY_MODEL[model]
        with self._lock:
            row = self._current_row(entity, record_id)
        return None if row is None else from_row(entity, row)  # type: ignore[return-value]

    def _select(
        self, model: type[R], where: str, params: Sequence[Any], order: str = ""
    ) -> list[R]:
        entity = ENTITY_BY_MODEL[model]
        sql = f"select * from {entity.table} where deleted = 0 and ({where})"
        if order:
            sql += f" order by {order}"
        with self._lock:
            rows = list(self.db.query(sql, list(params)))
        return [from_row(entity, r) for r in rows]  # type: ignore[misc]

    def get_kol(self, kol_id: str) -> Kol | None:
        return self.get(Kol, kol_id)

    def list_kols(self) -> list[Kol]:
        return self._select(Kol, "1 = 1", [], "name")

    def count(self, model: type[SyncedRecord]) -> int:
        entity = ENTITY_BY_MODEL[model]
        with self._lock:
            rows = list(self.db.query(f"select count(*) n from {entity.table} where deleted = 0"))
        return int(rows[0]["n"])

    def count_all(self) -> int:
        """Records of every synced kind, deleted ones included."""
        return sum(self.count(e.model) for e in ENTITIES.values())

    def current_plan(self, kol_id: str) -> EngagementPlan | None:
        plans = self._select(
            EngagementPlan, "kol_id = ? and status != 'closed'", [kol_id], "period_start desc"
        )
        return plans[0] if plans else None

    def plans_for(self, kol_id: str) -> list[EngagementPlan]:
        return self._select(EngagementPlan, "kol_id = ?", [kol_id], "period_start desc")

    def interactions_for(self, kol_id: str, limit: int = 200) -> list[Interaction]:
        return self._select(
            Interaction, "kol_id = ?", [kol_id], f"occurred_at desc limit {int(limit)}"
        )

    def followups_for(self, kol_id: str, *, open_only: bool = False) -> list[FollowUp]:
        where = "kol_id = ? and done = 0" if open_only else "kol_id = ?"
        return self._select(FollowUp, where, [kol_id], "done, coalesce(due, '9999'), action")

    def objective_contacts(self, objective_ids: Sequence[str]) -> dict[str, int]:
        """How many logged interactions are linked to each objective."""
        if not objective_ids:
            return {}
        if len(objective_ids) > 500:
            # For the whole list, one pass over the objective index beats a huge IN list.
            wanted = set(objective_ids)
            with self._lock:
                rows = self.db.query(
                    "select objective_id, count(*) n from interactions "
                    "where objective_id is not null and deleted = 0 group by objective_id"
                )
                return {r["objective_id"]: int(r["n"]) for r in rows if r["objective_id"] in wanted}
        marks = ", ".join("?" for _ in objective_ids)
        with self._lock:
            rows = self.db.query(
                f"select objective_id, count(*) n from interactions where deleted = 0 "
                f"and objective_id in ({marks}) group by objective_id",
                list(objective_ids),
            )
            return {r["objective_id"]: int(r["n"]) for r in rows}

    def delete(self, model: type[R], record_id: str) -> None:
        """Deletes are tombstones: the record stays, marked, so the delete can travel."""
        record = self.get(model, record_id)
        if record is None:
            raise StoreError(f"no {ENTITY_BY_MODEL[model].name} with id {record_id}")
        self.save(record.evolve(deleted=True))

    # -- the KOL list ----------------------------------------------------------------------

    def kol_overview(
        self, today: date, kol_ids: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """One row per live KOL with what ranking needs: last contact, follow-ups, AEs, plan.

        Five narrow queries merged here: each walks one index once, which on a million
        interactions is several times faster than one query of correlated subqueries.
        """
        where, params = "deleted = 0", []
        if kol_ids is not None:
            if not kol_ids:
                return []
            where += f" and id in ({', '.join('?' for _ in kol_ids)})"
            params = list(kol_ids)
        with self._lock:
            rows = [
                {
                    **r,
                    "last_contact": None,
                    "open_followups": 0,
                    "overdue_followups": 0,
                    "oldest_due": None,
                    "ae_pending_since": None,
                    "plan_id": None,
                    "cadence_days": None,
                    "lifecycle_phase": None,
                    "objectives": None,
                }
                for r in self.db.query(
                    "select id, name, institution, specialty, influence, stance, stage, "
                    "territory, therapeutic_areas, tags, preferred_channels "
                    f"from kols where {where}",
                    params,
                )
            ]
            by_id = {r["id"]: r for r in rows}
            for r in self.db.query(
                "select k.id, (select i.occurred_at from interactions i "
                "where i.kol_id = k.id and i.deleted = 0 "
                "order by i.occurred_at desc limit 1) as last_contact "
                f"from kols k where k.{where.replace(' and id', ' and k.id')}",
                params,
            ):
                by_id[r["id"]]["last_contact"] = r["last_contact"]
            for r in self.db.query(
                "select kol_id, count(*) as open_followups, "
                "count(case when due < ? then 1 end) as overdue_followups, "
                "min(due) as oldest_due "
                "from followups where done = 0 and deleted = 0 group by kol_id",
                [today.isoformat()],
            ):
                if r["kol_id"] in by_id:
                    by_id[r["kol_id"]].update(
                        open_followups=r["open_followups"],
                        overdue_followups=r["overdue_followups"] or 0,
                        oldest_due=r["oldest_due"],
                    )
            for r in self.db.query(
                "select kol_id, min(ae_pending_since) as since "
                f"from interactions {self._indexed_by('idx_interactions_ae_pending')} "
                "where ae_pending_since is not null and deleted = 0 group by kol_id"
            ):
                if r["kol_id"] in by_id:
                    by_id[r["kol_id"]]["ae_pending_since"] = r["since"]
            # The current plan: the latest-starting one that is not closed.
            for r in self.db.query(
                "select id, kol_id, cadence_days, lifecycle_phase, objectives from plans "
                "where deleted = 0 and status != 'closed' order by period_start, id"
            ):
                if r["kol_id"] in by_id:
                    by_id[r["kol_id"]].update(
                        plan_id=r["id"],
                        cadence_days=r["cadence_days"],
                        lifecycle_phase=r["lifecycle_phase"],
                        objectives=r["objectives"],
                    )
        return rows

    def _indexed_by(self, index: str) -> str:
        # SQLite's planner needs telling on a million rows; PostgreSQL's has no such clause.
        return "" if self.server else f"indexed by {index}"

    def _search_server(self, terms: list[str], limit: int, *, names_only: bool) -> list[str]:
        """Head office on a server has no FTS tables: every word must appear in the name
        (or, for the list filter, in the profile fields, or in one of the KOL's notes)."""
        columns = ["name"]
        if not names_only:
            columns += ["institution", "specialty", "tags", "profile_note"]
        where, params = [], []
        for term in terms:
            pattern = f"%{term}%"
            where.append("(" + " or ".join(f"{c} ilike ?" for c in columns) + ")")
            params += [pattern] * len(columns)
        with self._lock:
            rows = self.db.query(
                f"select id from kols where deleted = 0 and {' and '.join(where)} "
                "order by name limit ?",
                [*params, limit],
            )
            ids = [r["id"] for r in rows]
            if not names_only:
                seen = set(ids)
                notes = " and ".join("notes ilike ?" for _ in terms)
                for r in self.db.query(
                    f"select distinct kol_id from interactions where deleted = 0 and {notes} "
                    "limit ?",
                    [*(f"%{t}%" for t in terms), limit],
                ):
                    if r["kol_id"] not in seen:
                        seen.add(r["kol_id"])
                        ids.append(r["kol_id"])
        return ids

    def search_kol_ids(self, query: str, *, limit: int = 5000) -> list[str]:
        """KOL ids whose name, institution, specialty, tags, profile or notes match.

        Each word becomes a prefix term, so typing is matched as it goes; the notes index
        is asked only for the prefix form, which stays fast on a million notes.
        """
        terms = fts_terms(query)
        if not terms:
            return []
        if self.server:
            return self._search_server(terms, limit, names_only=False)
        match = " ".join(f'"{t}"*' for t in terms)
        with self._lock:
            kol_rows = self.db.query(
                "select k.id from kols_fts f join kols k on k.rowid = f.rowid "
                "where kols_fts match ? and k.deleted = 0 limit ?",
                [match, limit],
            )
            ids = [r["id"] for r in kol_rows]
            seen = set(ids)
            note_rows = self.db.query(
                "select distinct i.kol_id from interactions_fts f "
                "join interactions i on i.rowid = f.rowid "
                "where interactions_fts match ? and i.deleted = 0 limit ?",
                [match, limit],
            )
            for r in note_rows:
                if r["kol_id"] not in seen:
                    seen.add(r["kol_id"])
                    ids.append(r["kol_id"])
        return ids

    def search_note_kol_ids(self, query: str, *, limit: int | None = None) -> list[str]:
        """KOL ids with a visit note matching every word of ``query`` (by prefix); all of
        them unless ``limit`` is given. (The list merges these into its answer: capped at
        5,000, a notes word most KOLs' visits hold showed 5,000 of them, any 5,000 (QA).)"""
        terms = fts_terms(query)
        if not terms:
            return []
        if self.server:
            # A server has no FTS tables: the FTS5 query was a syntax error there, and the
            # KOL list's filter (which asks this for notes words) failed on every word.
            # Every word in one note, as ``_search_server`` matches notes.
            notes = " and ".join("notes ilike ?" for _ in terms)
            with self._lock:
                found = self.db.query(
                    f"select distinct kol_id from interactions where deleted = 0 and {notes} "
                    "limit ?",
                    [*(f"%{t}%" for t in terms), limit],
                )
                return [r["kol_id"] for r in found]
        match = " ".join(f'"{t}"*' for t in terms)
        with self._lock:
            rows = self.db.conn.execute(
                "select distinct i.kol_id from interactions_fts f "
                "join interactions i on i.rowid = f.rowid "
                "where interactions_fts match ? and i.deleted = 0 limit ?",
                [match, -1 if limit is None else limit],  # SQLite: -1 is no limit
            )
            return [r[0] for r in rows]

    def find_kols_by_name(self, query: str, limit: int = 10) -> list[Kol]:
        """Candidates for ``msl note QUERY``: name words by prefix, best match first."""
        terms = fts_terms(query)
        if not terms:
            return []
        if self.server:
            ids = self._search_server(terms, limit, names_only=True)
            return [k for k in (self.get_kol(i) for i in ids) if k is not None]
        match = "name : (" + " ".join(f'"{t}"*' for t in terms) + ")"
        with self._lock:
            rows = list(
                self.db.query(
                    "select k.* from kols_fts f join kols k on k.rowid = f.rowid "
                    "where kols_fts match ? and k.deleted = 0 order by rank limit ?",
                    [match, limit],
                )
            )
        return [from_row(ENTITIES["kol"], r) for r in rows]  # type: ignore[misc]

    # -- drafts (local, unsynced) ----------------------------------------------------------

    def save_draft(
        self, draft_id: str, kol_id: str, payload: dict[str, Any], *, wait_ms: int | None = None
    ) -> None:
        """Keep unsent text. ``wait_ms`` bounds the wait for another writer (a screen saving
        while the MSL types must not freeze for the whole busy timeout): past it,
        StoreBusyError, and the caller keeps the text and tries again."""
        if self.server:
            pg = cast("PgDatabase", self.db)
            with self._lock:
                previous_ms, pg.busy_ms = pg.busy_ms, wait_ms if wait_ms is not None else pg.busy_ms
                try:
                    with self.transaction():
                        self.db.execute(
                            "insert into drafts(id, kol_id, payload, updated_at) "
                            "values (?, ?, ?, ?) on conflict(id) do update set "
                            "payload = excluded.payload, updated_at = excluded.updated_at",
                            [draft_id, kol_id, json.dumps(payload), now_iso()],
                        )
                finally:
                    pg.busy_ms = previous_ms
            return
        with self._lock:
            previous = None
            if wait_ms is not None:
                previous = self.db.conn.execute("PRAGMA busy_timeout").fetchone()[0]
                self.db.conn.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
            try:
                with self.transaction():
                    self.db.execute(
                        "insert into drafts(id, kol_id, payload, updated_at) values (?, ?, ?, ?) "
                        "on conflict(id) do update set payload = excluded.payload, "
                        "updated_at = excluded.updated_at",
                        [draft_id, kol_id, json.dumps(payload), now_iso()],
                    )
            finally:
                if previous is not None:
                    self.db.conn.execute(f"PRAGMA busy_timeout = {int(previous)}")

    def load_draft(self, draft_id: str) -> dict[str, Any] | None:
        with self._lock:
            rows = list(self.db.query("select payload from drafts where id = ?", [draft_id]))
        return json.loads(rows[0]["payload"]) if rows else None

    def list_drafts(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = list(self.db.query("select * from drafts order by updated_at desc"))
        return [{**r, "payload": json.loads(r["payload"])} for r in rows]

    def delete_draft(self, draft_id: str) -> None:
        with self.transaction():
            self.db.execute("delete from drafts where id = ?", [draft_id])


def fts_terms(query: str, limit: int | None = 8) -> list[str]:
    """Split typed text into FTS-safe words (quotes and operators dropped)."""
    cleaned = "".join(ch if ch.isalnum() else " " for ch in query)
    return [w for w in cleaned.split() if w][:limit]
