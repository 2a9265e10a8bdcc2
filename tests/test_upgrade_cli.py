"""`msl upgrade`: a store brought up to this msl-tui's schema without opening the app (a
head-office server, a script), saying what it did; the read-only commands point to it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlite_utils import Database

from msl_tui.store import Store
from msl_tui.store.migrations import migrations
from tests.test_cli import assert_one_line_error, msl

NAMES = [m.name for m in migrations._migrations]


def _older_store(path: Path) -> None:
    old = Database(path)
    migrations.apply(old, stop_before=NAMES[-1])
    old.close()


def _applied(path: Path) -> list[str]:
    db = Database(path)
    try:
        return [r["name"] for r in db.query("select name from _sqlite_migrations")]
    finally:
        db.close()


def test_an_older_store_is_upgraded_once_and_then_has_nothing_to_do(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _older_store(path)
    refused = msl("report", "--db", str(path), "--out", str(tmp_path / "reports"))
    assert_one_line_error(refused, "older msl-tui", "msl upgrade")

    first = msl("upgrade", "--db", str(path))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"{path}: upgraded (1 step)"
    assert _applied(path) == NAMES

    again = msl("upgrade", "--db", str(path))
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"{path}: already up to date, nothing to do"
    assert msl("report", "--db", str(path), "--out", str(tmp_path / "reports")).returncode == 0


def test_no_store_there_is_one_line_and_nothing_is_made(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    result = msl("upgrade", "--db", str(path))
    assert_one_line_error(result, "no store at")
    assert not path.exists()


def test_a_store_of_a_newer_msl_tui_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    Store.open(path).close()
    db = Database(path)
    db.execute(
        "insert into _sqlite_migrations(migration_set, name, applied_at) "
        "values ('msl_tui', 'm999_from_the_future', 'x')"
    )
    db.conn.commit()
    db.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert_one_line_error(msl("upgrade", "--db", str(path)), "newer msl-tui")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_an_empty_postgresql_database_is_set_up_then_up_to_date(pg_url: str) -> None:
    assert Store.pending_migrations(pg_url) > 0
    first = msl("upgrade", "--db", pg_url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("steps)")
    assert Store.pending_migrations(pg_url) == 0
    again = msl("upgrade", "--db", pg_url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith("already up to date, nothing to do")
