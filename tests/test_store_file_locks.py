"""This process's SQLite locks on a store survive a second opening of it (store/file_head.py).

Reading the file's header with open() and close() while one of our connections had it open
dropped that connection's locks (POSIX locks are per process and file). Another process's
last close then deleted the write-ahead log this process was writing into: a save that
reported success was gone (an unsent note lost; found by the e2e draft test under load)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from msl_tui.store import Store, cipher
from msl_tui.store.database import peek_current

PASSPHRASE = "correct horse battery staple"


LOOK = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
    "c.execute('select count(*) from sqlite_master').fetchone(); c.close()"
)
OPEN_THE_STORE = (
    "import sys, pathlib; from msl_tui.store import Store; "
    "Store.open(pathlib.Path(sys.argv[1])).close()"
)


def _another_process_looks(db: Path, code: str = LOOK) -> None:
    """What `msl kols` or a second app does: open a connection, read, close it."""
    subprocess.run(
        [sys.executable, "-c", code, str(db)],
        check=True,
        env={**os.environ, "MSL_PASSPHRASE": PASSPHRASE},
    )


def _seen_elsewhere(db: Path, key: str) -> str | None:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("select value from meta where key = ?", [key]).fetchone()
    finally:
        conn.close()
    return None if row is None else str(row[0])


def test_a_save_after_the_launch_s_two_openings_reaches_the_file(tmp_path: Path) -> None:
    db = tmp_path / "msl.db"
    Store.open(db).close()
    first_page = peek_current(db)  # the launch's read-only look, open while the store opens
    assert first_page is not None
    store = Store.open(db)
    try:
        store.set_meta("note", "before")
        _another_process_looks(db)
        assert Path(f"{db}-wal").exists(), "another process took this one's log away"
        store.set_meta("note", "typed after")
        assert _seen_elsewhere(db, "note") == "typed after"
    finally:
        store.close()
        first_page.close()


def test_two_stores_open_on_one_file_keep_their_locks(tmp_path: Path) -> None:
    db = tmp_path / "msl.db"
    app_store = Store.open(db)  # a new store, then a second opening of it (a command)
    second = Store.open(db)
    try:
        _another_process_looks(db)
        app_store.set_meta("draft", "kept")
        assert _seen_elsewhere(db, "draft") == "kept"
    finally:
        second.close()
        app_store.close()


def test_an_encrypted_store_opened_twice_keeps_its_locks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not cipher.available():
        pytest.skip("SQLCipher is not installed")
    monkeypatch.setenv("MSL_PASSPHRASE", PASSPHRASE)
    db = tmp_path / "enc.db"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("msl")), "--db", str(db), "init", "--name", "QA",
         "--encrypt"],
        capture_output=True, text=True, env={**os.environ, "MSL_PASSPHRASE": PASSPHRASE},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert cipher.looks_encrypted(db)
    first = Store.open(db)
    second = Store.open(db)  # its key is worked out from the file's salt, read again
    try:
        first.set_meta("note", "one")
        second.close()
        _another_process_looks(db, OPEN_THE_STORE)
        assert Path(f"{db}-wal").exists(), "another process took this one's log away"
        first.set_meta("note", "two")
    finally:
        first.close()
    reopened = Store.open(db)
    try:
        assert reopened.get_meta("note") == "two"
    finally:
        reopened.close()
