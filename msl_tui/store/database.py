"""Opening the store file safely: checks first, so a bad file is never touched."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from msl_tui.locations import ensure_private_dir
from msl_tui.store.errors import StoreError
from msl_tui.store.migrations import SCHEMA_VERSION, migrations

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


def _check_existing_file(path: Path) -> None:
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a store file: pass a file path with --db")
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except PermissionError as exc:
        raise StoreError(f"{path} cannot be read: check its permissions") from exc
    if head and head != SQLITE_MAGIC:
        raise StoreError(f"{path} is not an msl-tui store (not an SQLite database)")


def _check_schema(db: Database, path: Path) -> None:
    table = db["_sqlite_migrations"]
    if not table.exists():
        return
    known = {m.name for m in migrations._migrations}
    applied = [
        r["name"]
        for r in db.query(
            "select name from _sqlite_migrations where migration_set = ?", [migrations.name]
        )
    ]
    unknown = [name for name in applied if name not in known]
    if unknown:
        raise StoreError(
            f"{path} was written by a newer msl-tui (schema has {unknown[0]}, this program "
            f"knows {SCHEMA_VERSION} migrations): upgrade msl-tui"
        )


def _apply_pragmas(conn: sqlite3.Connection) -> None:
    # WAL lets the UI read while a worker writes; FULL fsyncs each commit so a note that was
    # saved survives a power cut (measured cost is small at a person's typing rate).
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def open_database(path: Path | str, *, create: bool = True) -> Database:
    """Open (and if needed create and migrate) the store at ``path``.

    Raises StoreError with one line for: a folder that does not exist (when not creating),
    a file that is not a database, a newer schema, a read-only location.
    """
    if str(path) == ":memory:":
        db = Database(sqlite3.connect(":memory:", check_same_thread=False))
        _apply_pragmas(db.conn)
        migrations.apply(db)
        return db
    path = Path(path)
    exists = path.exists()
    if exists:
        _check_existing_file(path)
    elif not create:
        raise StoreError(f"no store at {path}: run `msl` once to create it, or check --db")
    elif not path.parent.exists():
        if path.parent != Path(path.parent.anchor) and path.parent.parent.exists():
            ensure_private_dir(path.parent)
        else:
            raise StoreError(
                f"folder {path.parent} does not exist: create it or choose another --db"
            )
    if not exists:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
        except PermissionError as exc:
            raise StoreError(f"cannot create {path}: the location is read-only") from exc
        except OSError as exc:
            raise StoreError(f"cannot create {path}: {exc.strerror}") from exc
    elif not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        raise StoreError(f"{path} is read-only: msl-tui needs to write its store there")
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False)
        db = Database(conn)
        _check_schema(db, path)
        _apply_pragmas(conn)
        migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        if not exists:
            path.unlink(missing_ok=True)
        raise StoreError(f"{path} is not a usable msl-tui store ({exc})") from exc
    except StoreError:
        conn.close()
        raise
    return db
