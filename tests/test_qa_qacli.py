"""QA (qacli): the data paths changed on the day of the speed work, driven through `msl`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

MSL = str(Path(sys.executable).parent / "msl")


def msl(*args: str, db: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MSL_DB": str(db)}
    done = subprocess.run(
        [MSL, "--db", str(db), *args], capture_output=True, text=True, env=env, timeout=300
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_changes_stored_by_an_older_msl_tui_are_known_again_not_different(tmp_path: Path) -> None:
    """Head office received a laptop's visits under an older msl-tui, whose adverse event had
    no ``followups`` yet: its change log holds the patch in that older form. After the
    upgrade the same changes arrive again (a full export; a relay): they are the same
    changes, so the bundle goes in with them counted unchanged, not refused as "already
    received with different content" (the refusal meant for a copied store file)."""
    laptop, office = tmp_path / "laptop.db", tmp_path / "office.db"
    msl("seed-demo", "--kols", "5", db=laptop)
    first, second = tmp_path / "first.mslsync", tmp_path / "second.mslsync"
    msl("export", "--full", "--no-sign", "--out", str(first), db=laptop)
    msl("import", str(first), db=office)
    # What an msl-tui before AE follow-ups stored for these changes.
    with sqlite3.connect(office) as conn:
        aged = conn.execute(
            "update changes set patch = json_remove(patch, '$.adverse_event.followups') "
            "where entity = 'interaction' and json_extract(patch, '$.adverse_event') is not null"
        ).rowcount
    conn.close()
    assert aged > 0
    msl("export", "--full", "--no-sign", "--out", str(second), db=laptop)
    done = msl("import", str(second), db=office, check=False)
    assert done.returncode == 0, done.stderr
    assert "different content" not in done.stderr
    assert "0 inserted, 0 updated" in done.stdout


def _older_store(path: Path, applied: int = 4) -> None:
    """A store as an msl-tui of ``applied`` migrations left it (before m005 and m006)."""
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    from msl_tui.store.migrations import migrations

    older = Migrations(migrations.name)
    older._migrations = list(migrations._migrations[:applied])
    conn = sqlite3.connect(path)
    older.apply(Database(conn))
    conn.close()
    os.chmod(path, 0o600)


def test_commands_opening_an_older_store_at_once_all_upgrade_it_or_wait(tmp_path: Path) -> None:
    """Two commands that open an older store at the same moment (the app and an import, two
    exports) both see its migrations pending: one upgrades it, the other waits for it and
    finds nothing left to do, instead of failing on the tables just made ("could not be
    used (the database reported a OperationalError)": table kol_situation already exists)."""
    for round_ in range(6):
        store = tmp_path / f"older{round_}.db"
        _older_store(store)
        runs = [
            subprocess.Popen(
                [
                    MSL,
                    "--db",
                    str(store),
                    "export",
                    "--full",
                    "--no-sign",
                    "--out",
                    str(tmp_path / f"r{round_}-{n}.mslsync"),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(3)
        ]
        for run in runs:
            _out, err = run.communicate(timeout=120)
            assert run.returncode == 0, err
            assert "could not be used" not in err
        with sqlite3.connect(store) as conn:
            names = [r[0] for r in conn.execute("select name from _sqlite_migrations")]
            assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        conn.close()
        assert len(names) == len(set(names)) == 6


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_seed_demo_that_cannot_create_its_file_names_the_file_asked_for(tmp_path: Path) -> None:
    """seed-demo builds under a hidden temporary name: when that cannot be created, the one
    error line names the store the user asked for, not ``.qa.tmp-1a2b3c4d5e6f``."""
    target = Path("/proc/qa-seed.db")  # a folder where no file can be made, even by root
    done = msl("seed-demo", "--kols", "5", db=target, check=False)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert ".tmp-" not in done.stderr
    assert str(target) in done.stderr


def test_a_change_held_with_other_words_is_still_refused_as_reused(tmp_path: Path) -> None:
    """The older-form tolerance above does not hide a reused (device, seq): a stored change
    whose notes say something else still makes the same change arriving again refused."""
    laptop, office = tmp_path / "laptop.db", tmp_path / "office.db"
    msl("seed-demo", "--kols", "5", db=laptop)
    first, second = tmp_path / "first.mslsync", tmp_path / "second.mslsync"
    msl("export", "--full", "--no-sign", "--out", str(first), db=laptop)
    msl("import", str(first), db=office)
    with sqlite3.connect(office) as conn:
        changed = conn.execute(
            "update changes set patch = json_set(patch, '$.notes', 'other words') "
            "where rowid = (select min(rowid) from changes where entity = 'interaction')"
        ).rowcount
    conn.close()
    assert changed == 1
    msl("export", "--full", "--no-sign", "--out", str(second), db=laptop)
    done = msl("import", str(second), db=office, check=False)
    assert done.returncode == 1
    assert "already received with different content" in done.stderr
