"""Schema upgrades: from empty, from every earlier version, and refusal of newer ones."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from msl_tui.store import SCHEMA_VERSION, Store, StoreError
from msl_tui.store.migrations import migrations

NAMES = [m.name for m in migrations._migrations]


def _tables(db: Database) -> set[str]:
    return set(db.table_names())


def test_from_empty_every_migration_applies_once(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "msl.db")
    applied = [r["name"] for r in store.db.query("select name from _sqlite_migrations")]
    assert applied == NAMES
    assert len(applied) == SCHEMA_VERSION
    assert {"kols", "plans", "interactions", "followups", "changes", "drafts"} <= _tables(store.db)


@pytest.mark.parametrize("stop_before", NAMES[1:] or [None])
def test_from_each_earlier_version(tmp_path: Path, stop_before: str | None) -> None:
    path = tmp_path / "old.db"
    old = Database(path)
    if stop_before is not None:
        migrations.apply(old, stop_before=stop_before)
    old.close()
    fresh = Store.open(tmp_path / "fresh.db")
    upgraded = Store.open(path)
    assert _tables(upgraded.db) == _tables(fresh.db)
    applied = [r["name"] for r in upgraded.db.query("select name from _sqlite_migrations")]
    assert applied == NAMES


def test_reopening_applies_nothing_new(tmp_path: Path) -> None:
    Store.open(tmp_path / "msl.db").close()
    again = Store.open(tmp_path / "msl.db")
    assert again.db.execute("select count(*) from _sqlite_migrations").fetchone()[0] == len(NAMES)


def test_a_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "insert into _sqlite_migrations(migration_set, name, applied_at) "
        "values ('msl_tui', 'm999_from_the_future', 'x')"
    )
    conn.commit()
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(StoreError, match="newer msl-tui"):
        Store.open(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
