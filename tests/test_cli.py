"""The `msl` command for real: help, version, setup, and one-line errors that touch nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from msl_tui import __version__
from msl_tui.store import Store

MSL = shutil.which("msl", path=str(Path(sys.executable).parent)) or "msl"


def msl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MSL, *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("msl: error:")
    for word in words:
        assert word in lines[0]


def test_version() -> None:
    result = msl("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_help_lists_every_command() -> None:
    from msl_tui.cli import main

    result = msl("--help")
    assert result.returncode == 0
    for name in main.commands:
        assert name in result.stdout


def test_init_then_seed_demo_prints_what_it_wrote(tmp_path: Path) -> None:
    db = tmp_path / "msl.db"
    assert msl("--db", str(db), "init", "--name", "Ana Ruiz").returncode == 0
    result = msl("seed-demo", "--db", str(db), "--kols", "12", "--years", "0.5")
    assert result.returncode == 0, result.stderr
    assert "12 KOLs" in result.stdout
    store = Store.open(db)
    assert store.get_profile().name == "Ana Ruiz"  # type: ignore[union-attr]
    assert len(store.list_kols()) == 12


def test_msl_db_environment_variable_is_honoured(tmp_path: Path) -> None:
    db = tmp_path / "env.db"
    assert msl("init", "--name", "Ana", env={"MSL_DB": str(db)}).returncode == 0
    assert db.exists()


def test_seed_demo_refuses_a_store_with_records(tmp_path: Path) -> None:
    db = tmp_path / "msl.db"
    msl("seed-demo", "--db", str(db), "--kols", "3", "--years", "0.2")
    before = digest(db)
    assert_one_line_error(msl("seed-demo", "--db", str(db), "--kols", "3"), "already holds")
    assert digest(db) == before


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("dear diary")
    assert_one_line_error(msl("--db", str(bad)), str(bad), "not an msl-tui store")
    assert bad.read_text() == "dear diary"


def test_a_store_from_a_newer_msl(tmp_path: Path) -> None:
    db = tmp_path / "newer.db"
    Store.open(db).close()
    conn = sqlite3.connect(db)
    conn.execute(
        "insert into _sqlite_migrations(migration_set, name, applied_at) "
        "values ('msl_tui', 'm999_future', 'x')"
    )
    conn.commit()
    conn.close()
    before = digest(db)
    assert_one_line_error(msl("--db", str(db)), "newer msl-tui")
    assert digest(db) == before


def test_an_unknown_folder(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "msl.db"
    assert_one_line_error(msl("--db", str(missing)), "does not exist")
    assert not (tmp_path / "no").exists()


def test_a_folder_given_as_the_store(tmp_path: Path) -> None:
    assert_one_line_error(msl("--db", str(tmp_path)), "is a folder")


def test_a_read_only_location(tmp_path: Path) -> None:
    # /proc refuses new files even to root, so this holds on CI machines that run as root.
    target = Path("/proc/msl-tui-test.db")
    if not Path("/proc").is_dir():
        pytest.skip("no /proc on this system to stand for a read-only location")
    assert_one_line_error(msl("--db", str(target)), "cannot create")


def test_no_profile_and_no_terminal_says_what_to_do(tmp_path: Path) -> None:
    assert_one_line_error(msl("--db", str(tmp_path / "new.db")), "msl init")


def test_note_with_no_matching_kol(tmp_path: Path) -> None:
    db = tmp_path / "msl.db"
    msl("seed-demo", "--db", str(db), "--kols", "5", "--years", "0.2")
    assert_one_line_error(msl("note", "--db", str(db), "zzzz"), f"no KOL name in {db} matches")


def test_note_on_a_store_without_kols_says_how_to_start(tmp_path: Path) -> None:
    db = tmp_path / "msl.db"
    msl("init", "--db", str(db), "--name", "Alex Morgan")
    assert_one_line_error(msl("note", "--db", str(db), "roe"), f"the store {db} has no KOLs yet")


def test_a_fresh_machine_gets_its_data_folder_made_privately(tmp_path: Path) -> None:
    """The quick start on a machine with no ~/.local/share at all: the default store's
    folder is created, 0700, and the store is 0600 (a --db folder that is missing is not)."""
    import os
    import stat
    import subprocess
    import sys

    home = tmp_path / "fresh-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MSL_", "XDG_"))}
    env["HOME"] = str(home)
    msl = str(Path(sys.executable).with_name("msl"))
    made = subprocess.run(
        [msl, "seed-demo", "--kols", "3", "--years", "0.1"], env=env, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    store = next(home.rglob("msl.db"))
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700
    typo = subprocess.run(
        [msl, "--db", str(tmp_path / "no" / "such" / "x.db"), "init", "--name", "Ana"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert typo.returncode == 1 and "does not exist" in typo.stderr


def test_every_command_from_another_module_is_loaded_when_asked_for() -> None:
    # `msl` alone imports no command module; `msl NAME` must still find NAME.
    import click

    from msl_tui.cli import LAZY_COMMANDS, main

    ctx = click.Context(main)
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        assert command is not None and command.callback is not None
        module = command.callback.__module__
        if module != "msl_tui.cli":
            assert module == f"msl_tui.cli.{LAZY_COMMANDS.get(name)}", name
