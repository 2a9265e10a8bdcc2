"""Opening the store file safely: checks first, so a file that is not ours is never touched.

A path is opened as a store only if it is one already (an SQLite database with msl-tui's
migrations), or if it is empty: missing, or a zero-byte file. Anything else, another
program's database included, is refused before a byte changes; the checks read it through a
read-only connection. Commands that only read open the store read-only as well, so they
cannot switch its journal mode or add tables.

``MSL_BUSY_TIMEOUT_MS`` sets how long a writer waits for another one to finish (5 s).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from msl_tui.locations import ensure_private_dir
from msl_tui.safe_text import printable
from msl_tui.store import cipher
from msl_tui.store.connection import Connection
from msl_tui.store.errors import StoreBusyError, StoreError
from msl_tui.store.file_head import read_head, remember
from msl_tui.store.schema_names import MIGRATION_NAMES, MIGRATION_SET, SCHEMA_VERSION

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
MAX_BUSY_TIMEOUT_MS = 600_000


# How long the launch's peek waits for a lock before leaving the store to the usual opening.
PEEK_BUSY_MS = 100


def busy_timeout_ms() -> int:
    """How long to wait for another writer: MSL_BUSY_TIMEOUT_MS, else 5 s."""
    raw = os.environ.get("MSL_BUSY_TIMEOUT_MS", "").strip()
    try:
        value = int(raw)
    except ValueError:
        return BUSY_TIMEOUT_MS
    return value if 0 <= value <= MAX_BUSY_TIMEOUT_MS else BUSY_TIMEOUT_MS


def describe_sqlite_error(exc: sqlite3.Error, path: Path | str | None) -> str:
    """One line a person can act on, for an SQLite error met while using the store at path."""
    where = printable(path if path is not None else "the store", 160)
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return str(StoreBusyError(Path(where) if path is not None else None))
    if "is full" in text:
        return f"the disk holding {where} is full: nothing was changed; free some space"
    if "readonly" in text or "read-only" in text:
        return f"{where} is read-only: nothing was changed"
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return f"{where} is damaged or not an msl-tui store"
    if "unable to open" in text:
        return f"{where} cannot be opened: check that its folder exists and can be read"
    if "i/o error" in text:
        if path is not None and _disk_full(Path(path)):
            return f"the disk holding {where} is full: nothing was changed; free some space"
        return f"{where} could not be read or written (a disk error): nothing was changed"
    return f"{where} could not be used (the database reported a {type(exc).__name__})"


def _disk_full(path: Path) -> bool:
    """SQLite reports a full disk as an I/O error when it cannot even grow its shared-memory
    file; the free space tells the two apart."""
    try:
        info = os.statvfs(path.absolute().parent)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < 1 << 20


def _check_existing_file(path: Path) -> bool:
    """Refuse what cannot be a store; True if the file is an SQLite database, False if it
    is empty (and may become one)."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a store file: pass a file path with --db")
    if not path.is_file():
        raise StoreError(f"{path} is not a regular file: pass a store file with --db")
    try:
        head = read_head(path)  # (never open() and close(): see store/file_head.py)
    except PermissionError as exc:
        raise StoreError(f"{path} cannot be read: check its permissions") from exc
    except OSError as exc:
        raise StoreError(f"{path} cannot be read ({exc.strerror})") from exc
    if head and head != SQLITE_MAGIC:
        if cipher.looks_encrypted(path):
            return True  # an encrypted store, or a foreign file: the passphrase tells
        raise StoreError(f"{path} is not an msl-tui store (not an SQLite database)")
    return bool(head)


def _connect(path: Path, *, read_only: bool, peek: bool = False) -> sqlite3.Connection:
    """The one place a store's file is opened: SQLCipher for an encrypted store (a wrapped
    connection that raises sqlite3's errors), the standard sqlite3 for every other.
    The read-only URI quotes the path's bytes: a name that is not UTF-8 (a store msl
    created there itself) could not be put in it as text, and never opened again (QA).
    ``peek`` (launch's look before the whole opening, read-only): a lock is waited for
    only briefly, and never read past (see peek_current)."""
    timeout = PEEK_BUSY_MS if peek else busy_timeout_ms()
    if cipher.looks_encrypted(path):
        return cipher.connect(path, read_only=read_only, timeout_ms=timeout)
    if not read_only:
        conn = sqlite3.connect(str(path), timeout=timeout / 1000, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {timeout}")
        return conn
    uri = f"file:{quote(os.fsencode(path.absolute()))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=timeout / 1000, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {timeout}")
        conn.execute("select count(*) from sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn.close()
        wal = path.with_name(path.name + "-wal")
        if peek or (wal.exists() and wal.stat().st_size > 0):
            raise  # the peek: a store merely locked is not read as immutable
    # A WAL store on read-only media (or a full disk) cannot get its shared-memory file.
    # With no write-ahead log beside it, no writer is at work and nothing is pending, so
    # the file alone is the whole store: read it as immutable.
    conn = sqlite3.connect(f"{uri}&immutable=1", uri=True, check_same_thread=False)
    conn.execute("select count(*) from sqlite_master").fetchone()
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations the store lacks (sqlite-utils is loaded for them only)."""
    from sqlite_utils import Database

    from msl_tui.store.migrations import migrations

    migrations.apply(Database(conn))


def _pending_migrations(path: Path, *, peek: bool = False) -> int:
    """Read-only: check the database at ``path`` is an msl-tui store this program can use,
    and return how many of its migrations it still lacks."""
    try:
        conn = _connect(path, read_only=True, peek=peek)
    except sqlite3.Error as exc:
        raise StoreError(describe_sqlite_error(exc, path)) from exc
    try:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
        applied: list[str] = []
        if {"_sqlite_migrations", "meta"} <= tables:
            applied = [
                r[0]
                for r in conn.execute(
                    "select name from _sqlite_migrations where migration_set = ?",
                    [MIGRATION_SET],
                )
            ]
    except sqlite3.Error as exc:
        raise StoreError(describe_sqlite_error(exc, path)) from exc
    finally:
        conn.close()
    if not applied:
        raise StoreError(
            f"{path} is not an msl-tui store (an SQLite database of another program): "
            "choose another --db"
        )
    known = MIGRATION_NAMES
    unknown = [name for name in applied if name not in known]
    if unknown:
        raise StoreError(
            f"{path} was written by a newer msl-tui (schema has {unknown[0]}, this program "
            f"knows {SCHEMA_VERSION} migrations): upgrade msl-tui"
        )
    return len(set(known) - set(applied))


def pending_migrations(path: Path) -> int:
    """How many migrations the existing store at ``path`` lacks, read without writing
    (``msl upgrade`` says what it will do, or that there is nothing to do)."""
    if not (path.exists() or path.is_symlink()):
        raise StoreError(f"no store at {path}: check --db")
    if not _check_existing_file(path):
        raise StoreError(f"{path} is empty: there is no store in it yet")
    return _pending_migrations(path)


PAGE_SIZE = 8192  # bytes, for a store made from now on


def _apply_pragmas(conn: sqlite3.Connection) -> None:
    # WAL lets the UI read while a worker writes; FULL fsyncs each commit so a note that was
    # saved survives a power cut (measured cost is small at a person's typing rate).
    conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms()}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def _create_file(path: Path) -> None:
    if not path.parent.exists():
        if path.parent != Path(path.parent.anchor) and path.parent.parent.exists():
            try:
                ensure_private_dir(path.parent)
            except OSError as exc:
                raise StoreError(f"cannot create folder {path.parent} ({exc.strerror})") from exc
        else:
            raise StoreError(
                f"folder {path.parent} does not exist: create it or choose another --db"
            )
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.fchmod(fd, 0o600)
        os.close(fd)
    except PermissionError as exc:
        raise StoreError(f"cannot create {path}: the location is read-only") from exc
    except OSError as exc:
        raise StoreError(f"cannot create {path}: {exc.strerror}") from exc


def _initialise(path: Path, *, made_file: bool) -> Connection:
    """Turn an empty file into a store. The schema goes in as one transaction before WAL is
    switched on, so a crash leaves either a zero-byte file or a whole store."""
    try:
        conn = _connect(path, read_only=False)
    except sqlite3.Error as exc:
        if made_file:
            path.unlink(missing_ok=True)
        raise StoreError(describe_sqlite_error(exc, path)) from exc
    db = Connection(conn)
    try:
        if isinstance(conn, sqlite3.Connection):  # SQLCipher keeps its own page size
            # Set before the first table, so only a new store takes it; an existing store
            # keeps the size it was made with (SQLite reads any). A visit row is about
            # 500 bytes: 8 KiB pages hold them with less slack, and a 1,001,000-change
            # import wrote a smaller store faster (bench_sync.py, figures in the commit).
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("BEGIN IMMEDIATE")
        _migrate(conn)
        conn.execute("COMMIT")
        _apply_pragmas(conn)
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.rollback()
        conn.close()
        if made_file:
            path.unlink(missing_ok=True)
        raise StoreError(describe_sqlite_error(exc, path)) from exc
    return db


def _open_read_only(path: Path, *, peek: bool = False) -> Connection:
    try:
        conn = _connect(path, read_only=True, peek=peek)
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        raise StoreError(describe_sqlite_error(exc, path)) from exc
    return Connection(conn)


def _open_read_write(path: Path, *, migrate: bool) -> Connection:
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        raise StoreError(f"{path} is read-only: msl-tui needs to write its store there")
    try:
        conn = _connect(path, read_only=False)
    except sqlite3.Error as exc:
        raise StoreError(describe_sqlite_error(exc, path)) from exc
    db = Connection(conn)
    try:
        _apply_pragmas(conn)
        if migrate:
            # One upgrader at a time, as _initialise does: two commands opening an older
            # store at once both saw the same migrations pending, and the second failed on
            # the first's tables ("table kol_situation already exists", shown as "could not
            # be used"). Under the write lock the second waits, then finds nothing to apply.
            conn.execute("BEGIN IMMEDIATE")
            _migrate(conn)
            if conn.in_transaction:
                conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.rollback()
        conn.close()
        raise StoreError(describe_sqlite_error(exc, path)) from exc
    return db


def open_database(path: Path | str, *, create: bool = True, read_only: bool = False) -> Connection:
    """Open (and if needed create and migrate) the store at ``path``.

    Raises StoreError with one line for: a folder that does not exist (when not creating),
    a file that is not an msl-tui store, a newer schema, a read-only location, a busy store.
    ``read_only`` opens an existing store through a read-only connection (never created).
    """
    if str(path) == ":memory:":
        db = Connection(sqlite3.connect(":memory:", check_same_thread=False))
        _apply_pragmas(db.conn)
        _migrate(db.conn)
        return db
    path = Path(path)
    exists = path.exists() or path.is_symlink()
    is_database = _check_existing_file(path) if exists else False
    if not is_database:
        if read_only or not create:
            if exists:
                raise StoreError(f"{path} is empty: there is no store in it yet")
            raise StoreError(f"no store at {path}: run `msl` once to create it, or check --db")
        if exists and (not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK)):
            raise StoreError(f"{path} is read-only: msl-tui needs to write its store there")
        if not exists:
            _create_file(path)
        else:
            os.chmod(path, 0o600)  # an empty file the user made is about to hold notes
        db = _initialise(path, made_file=not exists)
        remember(path, SQLITE_MAGIC)  # written now: a second opening must not read it again
        return db
    pending = _pending_migrations(path)
    if read_only:
        if pending:
            # Upgrading is a write, and a read-only command writes nothing at all.
            raise StoreError(
                f"{path} was written by an older msl-tui: run `msl upgrade --db {path}` "
                "once, then try again"
            )
        return _open_read_only(path)
    return _open_read_write(path, migrate=bool(pending))


def peek_current(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to the store at ``path`` if it is one this program opens as
    it is: a plain (unencrypted) SQLite store with every migration applied, in a place it
    may write. Else None, and the usual ``open_database`` says what is wrong or upgrades it.

    Launch reads its first page through this while the whole opening waits: nothing in it
    needs the models, sqlite-utils or the migrations."""
    try:
        if not path.is_file() or not _check_existing_file(path) or cipher.looks_encrypted(path):
            return None
        if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
            return None
        # A store locked even for readers (another program's exclusive lock) is not
        # waited for here: the usual opening waits the busy timeout and says it is busy.
        # The peek waited it too, twice, before handing over (21 s to that one line on the
        # fast path, 10.5 s on the CLI's; QA).
        if _pending_migrations(path, peek=True):
            return None
        conn = _open_read_only(path, peek=True).conn
        conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms()}")  # the first page's reads
        return conn
    except (StoreError, sqlite3.Error, OSError, UnicodeError):
        # UnicodeError: a path with bytes that are not UTF-8 cannot be put in the read-only
        # URI; it was a traceback here, and the CLI says it in one line (QA).
        return None
