"""The store's own connection class behaves as the sqlite-utils ``Database`` it stands in
for, call for call; the migration names it checks at open are the migrations' own."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from msl_tui.store import schema_names
from msl_tui.store.connection import Connection
from msl_tui.store.migrations import SCHEMA_VERSION, migrations

Db = Any  # either class: the point is that both answer alike


def _both(tmp_path: Path) -> list[tuple[str, Db]]:
    made = []
    for name, kind in (("ours", Connection), ("sqlite-utils", Database)):
        conn = sqlite3.connect(tmp_path / f"{name}.db", check_same_thread=False)
        conn.execute("create table t (id integer primary key, v text unique)")
        made.append((name, kind(conn)))
    return made


def _outcome(db: Db, step: Callable[[Db], Any]) -> tuple[str, Any, list[Any], bool]:
    try:
        result: Any = step(db)
        if result is not None and not isinstance(result, sqlite3.Cursor):
            result = ["cursor" if isinstance(r, sqlite3.Cursor) else r for r in result]
        else:
            result = None
        error = ""
    except Exception as exc:  # the kind and words of the error are compared too
        result, error = None, f"{type(exc).__name__}: {exc}"
    rows = db.conn.execute("select id, v from t order by id").fetchall()
    return error, result, rows, db.conn.in_transaction


def _atomic_then_fail(db: Db) -> None:
    with db.atomic():
        db.execute("insert into t (v) values ('kept?')")
        raise RuntimeError("stop")


def _nested(db: Db) -> None:
    with db.atomic():
        db.execute("insert into t (v) values ('outer')")
        try:
            with db.atomic():
                db.execute("insert into t (v) values ('inner')")
                db.execute("insert into t (v) values ('outer')")  # unique: fails
        except sqlite3.IntegrityError:
            pass


STEPS: dict[str, Callable[[Db], Any]] = {
    "a write commits": lambda db: db.execute("insert into t (v) values (?)", ["a"]),
    "named parameters": lambda db: db.execute("insert into t (v) values (:v)", {"v": "b"}),
    "a failed write leaves nothing open": lambda db: [
        db.execute("insert into t (v) values ('x')"),
        db.execute("insert into t (v) values ('x')"),
    ],
    "rows as dicts": lambda db: [
        db.execute("insert into t (v) values ('q')"),
        *db.query("select id, v, v from t"),
    ],
    "a query that is a write": lambda db: db.query("delete from t"),
    "a query that is a transaction word": lambda db: db.query("  -- note\n begin"),
    "a pragma as a query": lambda db: db.query("pragma table_info(t)"),
    "a pragma that returns nothing": lambda db: db.query("pragma user_version = 3"),
    "insert returning": lambda db: db.query("insert into t (v) values ('r') returning id, v"),
    "a failing query": lambda db: db.query("select nope from t"),
    "atomic undone by an error": _atomic_then_fail,
    "a savepoint undone inside a transaction": _nested,
    "execute inside atomic": lambda db: [
        db.execute("insert into t (v) values ('c')"),
        db.execute("begin"),
        db.execute("insert into t (v) values ('d')"),
        db.execute("rollback"),
    ],
}


@pytest.mark.parametrize("step", list(STEPS))
def test_each_call_behaves_as_sqlite_utils(tmp_path: Path, step: str) -> None:
    (_, ours), (_, theirs) = _both(tmp_path)
    assert _outcome(ours, STEPS[step]) == _outcome(theirs, STEPS[step])


def test_the_names_checked_at_open_are_the_migrations() -> None:
    assert migrations.name == schema_names.MIGRATION_SET
    assert tuple(m.name for m in migrations._migrations) == schema_names.MIGRATION_NAMES
    assert schema_names.SCHEMA_VERSION == SCHEMA_VERSION


def test_opening_a_store_that_is_up_to_date_does_not_load_sqlite_utils(tmp_path: Path) -> None:
    import subprocess

    path = tmp_path / "s.db"
    code = (
        "import sys\n"
        "from msl_tui.store import Store\n"
        f"Store.open({str(path)!r}).close()\n"  # created: the migrations run
        "assert 'sqlite_utils' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    code = (
        "import sys\n"
        "from msl_tui.store import Store\n"
        f"s = Store.open({str(path)!r}); s.get_profile(); s.list_drafts(); s.close()\n"
        "assert 'sqlite_utils' not in sys.modules, 'loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
