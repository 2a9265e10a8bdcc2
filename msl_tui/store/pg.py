"""Head office on PostgreSQL: a connection that offers the store what SQLite's does.

``Store`` and ``sync_log`` speak through ``db.query`` / ``db.execute`` / ``db.conn.execute`` /
``executemany`` with ``?`` placeholders; ``PgDatabase`` offers the same calls over psycopg 3,
so the merge, the ledger, conflicts, tombstones and erasures run the very same code on
both engines.
What differs is kept here: placeholder translation, transactions and their locks, streaming
big reads through a server-side cursor, and errors turned into one line a person can act on.

Locking (see ``transaction``). SQLite has one writer at a time; PostgreSQL keeps that rule
for every ordinary write with an exclusive advisory lock on the store, taken at BEGIN. A
*merge* (an import of a bundle small enough to lock record by record) takes that lock in
shared mode instead, so several imports run at once, and locks each record it merges
(``lock_keys``) before reading it: a record is the fold of all its changes, so two merges
touching one record take turns, and the second sees the first's changes. Records are locked
per batch in key order; the server detects the rare deadlock (two bundles whose parts come
in different orders) and the import is retried from the start. Just before it commits, a
merge also locks the kept situation of each KOL it touched (keys of their own, in key
order, see ``Store.transaction``): two merges touching one KOL compute its situation one
after the other, the second from the first's committed rows. A merge so holds at most two
locks per change it carries. An export that moves its mark reads a *settled* snapshot
(``_settle``), taken while no write is in flight.

psycopg is imported only here, and only when a PostgreSQL store is opened: the laptop
install does not need it.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from msl_tui.safe_text import printable
from msl_tui.store.errors import StoreBusyError, StoreError
from msl_tui.store.pg_bulk import CopyLane, Written
from msl_tui.store.urls import redact

INSTALL_HINT = 'a PostgreSQL store needs psycopg: pip install "msl-tui[headoffice]"'

# Advisory lock keys. The two-integer form and the bigint form never collide (PostgreSQL
# keeps them apart), so the store-wide lock cannot meet a record's hash.
_STORE_LOCK = (0x4D534C, 1)  # "MSL", the store's write lock
_MIGRATION_LOCK = (0x4D534C, 2)
# COPYs that may wait behind the one running (about two batches of changes and records).
COPY_DEPTH = 4
# The statement that writes changes one by one, and its columns (``_note_written``).
_INSERT_CHANGES = re.compile(r"\s*insert\s+into\s+changes\s*\(([^)]*)\)", re.IGNORECASE)


class StoreRetry(StoreBusyError):
    """Two merges waited on each other (a deadlock the server broke), or raced for one key:
    nothing of this transaction was kept, and running it again settles it."""

    def __init__(self, where: str) -> None:
        StoreError.__init__(
            self, f"{where} is busy (two imports met on the same records): try again"
        )


class _Busy(StoreBusyError):
    def __init__(self, where: str) -> None:
        StoreError.__init__(
            self, f"{where} is busy (another msl is writing to it): try again in a moment"
        )


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """SQLite's ``?`` placeholders as psycopg's ``%s``; a literal ``%`` doubled. Quoted text
    is left alone (a ``?`` inside a string literal is not a placeholder)."""
    out: list[str] = []
    quote = ""
    for ch in sql:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            out.append("%s")
            continue
        out.append("%%" if ch == "%" else ch)
    return "".join(out)


def record_key(entity: str, record_id: str) -> int:
    """A record's advisory-lock key: 64 bits of its hash, as PostgreSQL's signed bigint."""
    digest = hashlib.blake2b(f"{entity}\x00{record_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_SQLSTATE_WORDS = {
    "53100": "the disk holding the PostgreSQL store is full: nothing was changed",
    "53200": "the PostgreSQL server ran out of lock space (max_locks_per_transaction): "
    "run fewer imports at once",
    "25006": "{where} is open read-only: nothing was changed",
    "42501": "the database user may not do this on {where} (permission denied)",
    "3D000": "{where}: no such database (create it first: createdb NAME)",
    "28P01": "{where}: the server refused the password",
    "28000": "{where}: the server refused this user",
}


def describe(exc: BaseException, where: str) -> StoreError:
    """A psycopg error as a StoreError with one line in the user's words."""
    import psycopg

    state = getattr(exc, "sqlstate", None) or ""
    if state in ("40P01", "40001", "23505"):
        return StoreRetry(where)
    if state == "55P03":
        return _Busy(where)
    if state in _SQLSTATE_WORDS:
        return StoreError(_SQLSTATE_WORDS[state].format(where=where))
    if isinstance(exc, psycopg.OperationalError):
        text = str(exc).lower()
        if "password" in text:
            return StoreError(f"{where}: the server refused the password")
        if "does not exist" in text and "database" in text:
            return StoreError(f"{where}: no such database (create it first: createdb NAME)")
        if "role" in text and "does not exist" in text:
            return StoreError(f"{where}: the server has no such user")
        if "translate host name" in text or "name or service not known" in text:
            return StoreError(f"{where}: unknown host")
        # Before "timeout": a refused `options=-c statement_timeout=x` read as a server
        # that did not answer in time (QA).
        bad_setting = re.search(r'invalid value for parameter "([\w.]+)"', str(exc))
        if bad_setting:
            return StoreError(
                f"{where}: the server refused the setting {bad_setting.group(1)} "
                "given in the address (options=...)"
            )
        if "does not support ssl" in text:
            return StoreError(
                f"{where}: the server does not accept SSL, which the address requires (sslmode)"
            )
        if "timeout" in text:
            return StoreError(f"{where}: the server did not answer in time")
        if "refused" in text or "no such file" in text or "could not connect" in text:
            return StoreError(f"{where}: no PostgreSQL server answers there (is it running?)")
        if "closed" in text or "terminat" in text or "lost" in text:
            return StoreError(f"{where}: the connection to the server was lost")
        return StoreError(f"{where}: the server could not be reached")
    code = f" {state}" if state else ""
    return StoreError(f"{where} could not be used (the server reported {type(exc).__name__}{code})")


class PgDatabase:
    """The subset of sqlite-utils' ``Database`` the store uses, over one psycopg connection.

    ``conn`` is the object itself, so ``db.conn.execute`` reads as it does on SQLite.
    """

    def __init__(self, conn: Any, where: str, *, read_only: bool, busy_ms: int) -> None:
        self._raw = conn
        # COPYs running on a helper thread (``copy_rows``), and what they raised.
        self._lane = CopyLane(self._copy_on_lane, COPY_DEPTH)
        # Inside ``bulk``, with the store held alone: what this transaction wrote.
        self._written: Written | None = None
        self._last_held: tuple[Any, list[str]] = (None, [])
        self.where = where
        self.read_only = read_only
        self.busy_ms = busy_ms
        self.merging = False  # the current transaction is a shared merge
        self._savepoints = itertools.count(1)
        self._cursors = itertools.count(1)

    @property
    def conn(self) -> PgDatabase:
        return self

    @property
    def _conn(self) -> Any:
        """The connection, once the COPYs running behind have finished (their error raised
        here, inside the transaction it belongs to)."""
        self._lane.drain()
        error, self._lane.error = self._lane.error, None
        if error is not None:
            raise self._fail(error) from error
        return self._raw

    def _discard(self) -> None:
        """Skip the COPYs still waiting, wait for the one running, drop their error (the
        transaction is being undone)."""
        self._lane.cancelled = True
        self._lane.drain()
        self._lane.cancelled = False
        self._lane.error = None

    @property
    def in_transaction(self) -> bool:
        from psycopg import pq

        return bool(self._conn.info.transaction_status != pq.TransactionStatus.IDLE)

    # -- statements ----------------------------------------------------------------------

    def _fail(self, exc: BaseException) -> StoreError:
        import psycopg

        if isinstance(exc, psycopg.Error):
            if getattr(exc, "sqlstate", None) == "23505" and not self.merging:
                # Only merges side by side can race for one key; elsewhere it is a fault.
                return StoreError(f"{self.where}: a record was written twice (unique key)")
            return describe(exc, self.where)
        raise exc

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        if self._written is not None:
            self._note_written(sql, [params or ()])
        try:
            return self._conn.execute(translate(sql), list(params or ()))
        except Exception as exc:
            raise self._fail(exc) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        rows = list(rows)
        if not rows:
            return None
        if self._written is not None:
            self._note_written(sql, rows)
        try:
            cursor = self._conn.cursor()
            cursor.executemany(translate(sql), rows)
            return cursor
        except Exception as exc:
            raise self._fail(exc) from exc

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """New rows straight into ``table`` through COPY: the fastest way in, for rows whose
        keys the caller knows are free (a taken key fails the COPY whole, as an INSERT
        would).

        Inside a transaction the COPY is queued for a helper thread (``CopyLane``) and this
        returns at once, unless ``COPY_DEPTH`` COPYs wait already: the server stores the
        last batches while the import checks the next (an import spends most of its time
        in Python, the server most of its own in COPY). The next use of the connection
        waits for them all and raises their error; a later ``copy_rows`` raises it too, so
        a failed import stops early. The transaction still holds all of it or none.
        """
        sql = f"copy {table} ({', '.join(columns)}) from stdin"
        rows = list(rows)
        if self._written is not None and table == "changes":
            self._note_written(f"insert into changes ({', '.join(columns)})", rows)
        if self._lane.error is not None:
            self._conn  # noqa: B018  (raises the error of a COPY behind, stops the import early)
        if not self._lane.busy and not self.in_transaction:
            try:
                self._copy(self._raw, sql, rows)
            except Exception as exc:
                raise self._fail(exc) from exc
            return
        # In a transaction (COPYs behind run only inside one): the lane runs it in turn.
        self._lane.submit(sql, rows)

    def _copy_on_lane(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._copy(self._raw, sql, rows)

    @staticmethod
    def _copy(conn: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with conn.cursor().copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    # -- a big write that holds the store alone --------------------------------------------

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Inside a write transaction that holds the store alone (not a merge beside other
        merges), for a big import: changes written are noted (``Written``), so the merge's
        reads of records and changes this store provably did not hold are skipped
        (``maybe_held``, ``maybe_held_seqs``), and the COPYs stream behind without a wait."""
        if self.merging or self._written is not None or not self.in_transaction:
            yield
            return
        self._written = Written()
        try:
            yield
        finally:
            self._written, self._last_held = None, (None, [])

    def _note_written(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Every change written inside ``bulk`` goes into the filter, whichever way it comes
        in; an insert into changes whose columns cannot be read ends the skipping."""
        written = self._written
        match = _INSERT_CHANGES.match(sql)
        if written is None or match is None:
            return
        columns = [c.strip() for c in match[1].split(",")]
        try:
            at = [columns.index(c) for c in ("entity", "record_id", "device_id", "seq")]
        except ValueError:
            self._written = None
            return
        written.add(rows, (at[0], at[1], at[2], at[3]))
        self._last_held = (None, [])

    def maybe_held(self, entity: str, table: str, ids: Sequence[str]) -> list[str]:
        """The ids among ``ids`` of records this store may hold: all of them, but inside
        ``bulk`` for a table that held no row and no change when the big write began (a
        first import), only those this transaction wrote changes of (or, rarely, that the
        filter cannot tell apart from one)."""
        written = self._written
        if written is None or not ids:
            return list(ids)
        # A merge asks three times of one batch's records (changes, rows, conflicts).
        asked = (entity, tuple(ids))
        if self._last_held[0] == asked:
            return list(self._last_held[1])
        if not self._was_empty(
            f"table {table}",
            f"select exists(select 1 from {table}) or exists(select 1 from changes where "
            "entity = ?) or exists(select 1 from conflicts where entity = ?)",
            [entity, entity],
        ):
            return list(ids)
        held = written.maybe_records(entity, ids)
        self._last_held = (asked, held)
        return list(held)

    def maybe_held_seqs(self, device: str, seqs: Sequence[int]) -> list[int]:
        """``maybe_held`` for one device's changes by sequence number."""
        written = self._written
        if written is None or not seqs:
            return list(seqs)
        if not self._was_empty(
            f"device {device}", "select exists(select 1 from changes where device_id = ?)", [device]
        ):
            return list(seqs)
        return written.maybe_seqs(device, seqs)

    def _was_empty(self, what: str, sql: str, params: list[Any]) -> bool:
        """Whether the store held nothing of ``what``, asked once inside ``bulk``. Asked
        later than the write began it may find this transaction's own changes, and then
        says no: the merge reads as before."""
        written = self._written
        assert written is not None
        if what not in written.empty:
            row = self._conn.execute(translate(sql), params).fetchone()
            written.empty[what] = not row[0]
        return written.empty[what]

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], tail: str = ""
    ) -> None:
        """``insert into table (columns) values ... tail`` for many rows at once: COPY into a
        private staging table, then one INSERT ... SELECT (row-by-row statements cost a
        round trip each). ``tail`` is an ON CONFLICT clause; the rows must have distinct
        keys, as one INSERT can change a row only once."""
        names = ", ".join(columns)
        stage = f"_stage_{table}"
        if self._written is not None and table == "changes":
            self._note_written(f"insert into changes ({names})", rows)
        try:
            self._conn.execute(
                f"create temp table if not exists {stage} as "
                f"select {names} from {table} with no data"
            )
            self._conn.execute(f"truncate {stage}")
            with self._conn.cursor().copy(f"copy {stage} ({names}) from stdin") as copy:
                for row in rows:
                    copy.write_row(row)
            self._conn.execute(
                f"insert into {table} ({names}) select {names} from {stage} {translate(tail)}"
            )
        except Exception as exc:
            raise self._fail(exc) from exc

    def query(self, sql: str, params: Sequence[Any] | None = None) -> Iterator[dict[str, Any]]:
        from psycopg.rows import dict_row

        try:
            cursor = self._conn.cursor(row_factory=dict_row)
            cursor.execute(translate(sql), list(params or ()))
            rows = cursor.fetchall() if cursor.description else []
        except Exception as exc:
            raise self._fail(exc) from exc
        yield from rows

    def stream(self, sql: str, params: Sequence[Any] | None = None) -> Iterator[dict[str, Any]]:
        """A big read, fetched in slices through a server-side cursor (a million rows are
        never held here at once). Outside a transaction the cursor is WITH HOLD: the server
        keeps the result of one snapshot, and no transaction stays open if the reader stops
        halfway."""
        from psycopg.rows import dict_row

        hold = not self.in_transaction
        try:
            cursor = self._conn.cursor(
                name=f"msl_stream_{next(self._cursors)}", row_factory=dict_row, withhold=hold
            )
            cursor.execute(translate(sql), list(params or ()))
        except Exception as exc:
            raise self._fail(exc) from exc
        try:
            while True:
                try:
                    rows = cursor.fetchmany(5000)
                except Exception as exc:
                    raise self._fail(exc) from exc
                if not rows:
                    break
                yield from rows
        finally:
            if not cursor.closed and (hold or self.in_transaction):
                # If the transaction is failing already, its end closes the cursor.
                with suppress(Exception):
                    cursor.close()

    # -- transactions --------------------------------------------------------------------

    @contextmanager
    def transaction(
        self, *, write: bool = True, merge: bool = False, settled: bool = False
    ) -> Iterator[None]:
        """One transaction; nested calls are savepoints.

        ``write``: take the store's write lock, exclusive (one writer, as on SQLite) or,
        for a ``merge``, shared with other merges (each then locks the records it merges).
        An ordinary write waits for the store lock the busy timeout, like SQLite's; a
        merge waits as long as it takes. ``write=False``: a
        read-only snapshot (REPEATABLE READ), as consistent as SQLite's read transaction;
        ``settled``: taken while no writer is at work (see ``_settle``).
        """
        if self.in_transaction:
            with self.atomic():
                yield
            return
        if write and self.read_only:
            raise StoreError(f"{self.where} is open read-only: nothing was changed")
        try:
            if write:
                self._conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
                # A merge is a batch job: it waits for the store and for other merges'
                # records as long as they take (deadlocks are the server's to detect). A
                # person's write waits the busy timeout, as on SQLite.
                wait = 0 if merge else int(self.busy_ms)
                self._conn.execute(f"SET LOCAL lock_timeout = {wait}")
                lock = "pg_advisory_xact_lock_shared" if merge else "pg_advisory_xact_lock"
                self._conn.execute(f"SELECT {lock}(%s, %s)", _STORE_LOCK)
            elif settled:
                self._settle()
            else:
                self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        except Exception as exc:
            self._end("ROLLBACK")
            raise self._fail(exc) from exc
        self.merging = write and merge
        try:
            yield
        except BaseException:
            self._end("ROLLBACK")
            raise
        else:
            try:
                self._conn.execute("COMMIT")
            except Exception as exc:
                self._end("ROLLBACK")
                raise self._fail(exc) from exc
        finally:
            self.merging = False

    def _settle(self) -> None:
        """Begin a read snapshot at a moment when no write is in flight.

        The change log's rowid comes from a sequence, and transactions commit in any order:
        a snapshot taken while a merge is at work can show rowid 105 and not yet 104. An
        export that moves its "exported up to" mark must not skip 104, so it reads from a
        settled snapshot: the store lock, taken exclusively for a moment (waiting at most
        the busy timeout for merges in flight), so every rowid up to the highest one seen
        is committed for good.
        """
        self._conn.execute(f"SET lock_timeout = {int(self.busy_ms)}")
        self._conn.execute("SELECT pg_advisory_lock(%s, %s)", _STORE_LOCK)
        try:
            self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            self._conn.execute("SELECT 1")  # the snapshot is taken here
        finally:
            self._conn.execute("SELECT pg_advisory_unlock(%s, %s)", _STORE_LOCK)

    def _end(self, statement: str) -> None:
        self._discard()
        if self.in_transaction:
            # If the connection is gone, the server rolls back on its own.
            with suppress(Exception):
                self._conn.execute(statement)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A savepoint inside a transaction, or a short transaction of its own."""
        if not self.in_transaction:
            with self.transaction(write=not self.read_only):
                yield
            return
        name = f"msl_sp_{next(self._savepoints)}"
        self.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            if self.in_transaction:
                self.execute(f"ROLLBACK TO SAVEPOINT {name}")
            raise
        self.execute(f"RELEASE SAVEPOINT {name}")

    def lock_keys(self, keys: Iterable[int]) -> None:
        """Inside a merge, lock these record keys until the transaction ends (in key order,
        so merges that lock alike cannot wait on each other in a circle)."""
        if not self.merging:
            return
        ordered = sorted(set(keys))
        if ordered:
            self.execute(
                "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(?::bigint[]) AS k", [ordered]
            )

    def close(self) -> None:
        self._lane.close()
        with suppress(Exception):
            self._raw.close()


# libpq's words for an option it refuses before it tries to connect (an address that names
# a server fine but asks for something it cannot give).
_BAD_VALUE = re.compile(r'invalid (\w+) value: "([^"]*)"')
_BAD_INTEGER = re.compile(r'invalid integer value "([^"]*)" for connection option "(\w+)"')
# psycopg reads connect_timeout itself before libpq sees the address.
_BAD_TIMEOUT = re.compile(r"bad value for (connect_timeout): '([^']*)'")
_BAD_PORT = re.compile(r'invalid port number: "([^"]*)"')
_UNKNOWN = re.compile(r'invalid (?:URI query parameter|connection option): "?([^"\s]*)"?')
_CHOICES = {
    "sslmode": "disable, allow, prefer, require, verify-ca, verify-full",
    "gssencmode": "disable, prefer, require",
    "channel_binding": "disable, prefer, require",
    "target_session_attrs": "any, read-write, read-only, primary, standby, prefer-standby",
}


def bad_option(message: str, url: str) -> str | None:
    """The address's wrong option in one line (``sslmode "bogus" is not a value it takes``),
    or None if libpq's message is about something else. The URL's password is never shown,
    nor the value of an option named like one."""

    def shown(name: str, value: str) -> str:
        secret = urlsplit_password(url)
        if "pass" in name.lower() or (secret and secret in value):
            return "(hidden)"
        return f'"{printable(value, 40)}"'

    if match := _BAD_VALUE.search(message):
        name, value = match[1], match[2]
        choices = f" (one of {_CHOICES[name]})" if name in _CHOICES else ""
        return f"the option {name}={shown(name, value)} is not a value it takes{choices}"
    if match := _BAD_INTEGER.search(message):
        value, name = match[1], match[2]
        return f"the option {name}={shown(name, value)} is not a whole number"
    if match := _BAD_TIMEOUT.search(message):
        return f"the option {match[1]}={shown(match[1], match[2])} is not a whole number"
    if match := _BAD_PORT.search(message):
        return f"the port {shown('port', match[1])} is not a port number (1 to 65535)"
    if "servname not supported" in message.lower():
        return "the port is not a port number (1 to 65535)"
    if match := _UNKNOWN.search(message):
        return f"PostgreSQL has no option {shown(match[1], match[1])}"
    return None


def urlsplit_password(url: str) -> str:
    """The password in the URL (to keep it out of messages), or ''."""
    netloc = url.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0]
    userinfo = netloc.rpartition("@")[0]
    return userinfo.partition(":")[2] if ":" in userinfo else ""


def _defaults(url: str) -> dict[str, Any]:
    """msl's connection defaults for what the address leaves unsaid: a keyword argument
    would replace the address's own value, so a wrong one (connect_timeout=abc) would go
    unread instead of being named."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        given = conninfo_to_dict(url)
    except ProgrammingError:  # libpq's parse error is reported by connect() itself, in words
        given = {}
    return {} if "connect_timeout" in given else {"connect_timeout": 10}


def _connect(url: str, where: str) -> Any:
    try:
        import psycopg
    except ImportError:
        raise StoreError(INSTALL_HINT) from None
    try:
        return psycopg.connect(url, autocommit=True, application_name="msl", **_defaults(url))
    except psycopg.Error as exc:
        # An option libpq refuses is the address's fault, not the server's: say which.
        wrong = bad_option(str(exc), url)
        if wrong is not None:
            raise StoreError(f"{where}: wrong address, {wrong}") from None
        if isinstance(exc, psycopg.ProgrammingError):
            # libpq could not parse it: a typo in the URL.
            raise StoreError(f"{where} is not a usable PostgreSQL address") from None
        raise describe(exc, where) from None
    except ValueError:
        raise StoreError(f"{where} is not a usable PostgreSQL address") from None


def holds_store(url: str) -> bool:
    """Whether the database holds an msl-tui store already (StoreError if it cannot be
    reached). Reads only."""
    from msl_tui.store.pg_migrations import TABLE

    where = redact(url)
    db = PgDatabase(_connect(url, where), where, read_only=True, busy_ms=0)
    try:
        rows = list(db.query("select to_regclass(?) is not null as found", [TABLE]))
        return bool(rows and rows[0]["found"])
    finally:
        db.close()


def open_pg(url: str, *, read_only: bool = False, busy_ms: int = 5000) -> PgDatabase:
    """Connect, check that the database is an msl-tui store (or empty), and migrate it."""
    from msl_tui.store import pg_migrations

    where = redact(url)
    conn = _connect(url, where)
    db = PgDatabase(conn, where, read_only=read_only, busy_ms=busy_ms)
    try:
        encoding = next(db.query("SHOW server_encoding"))["server_encoding"]
        if str(encoding).upper() not in ("UTF8", "UTF-8"):
            raise StoreError(f"{where} uses the {encoding} encoding: msl-tui needs a UTF8 database")
        pg_migrations.migrate(db, read_only=read_only, lock=_MIGRATION_LOCK)
        if read_only:
            db.execute("SET default_transaction_read_only = on")
    except BaseException:
        db.close()
        raise
    return db


def pending_migrations(url: str) -> int:
    """How many migrations the database at ``url`` lacks, read without writing."""
    from msl_tui.store import pg_migrations

    db = PgDatabase(_connect(url, redact(url)), redact(url), read_only=True, busy_ms=5000)
    try:
        return len(pg_migrations.pending(db))
    finally:
        db.close()
