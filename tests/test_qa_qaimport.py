"""QA (qaimport): importing bundles and rosters, as a new user and as a hostile one.

Real `msl` runs in subprocesses, each on its own store in tmp_path."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

MSL = [str(Path(sys.executable).with_name("msl"))]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSL_")}
    env.update(
        MSL_DATA_DIR=str(tmp_path / "data"),
        MSL_SETTINGS=str(tmp_path / "settings.toml"),
        MSL_DEMO_DB=str(tmp_path / "demo.db"),
    )
    return env


def msl(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MSL, *args], capture_output=True, text=True, env=_env(tmp_path), timeout=120
    )


def _head_office(tmp_path: Path) -> Path:
    db = tmp_path / "ho.db"
    done = msl(tmp_path, "init", "--name", "HO", "--head-office", "--db", str(db))
    assert done.returncode == 0, done.stderr
    return db


def _kols(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute("select id, name, city from kols"))


KOL_ID = "11111111-1111-4111-8111-111111111111"


def test_roster_refuses_one_id_on_two_rows(tmp_path: Path) -> None:
    # Both rows were counted "created" while the second silently replaced the first.
    db = _head_office(tmp_path)
    csv = tmp_path / "roster.csv"
    csv.write_text(f"id,name,institution\n{KOL_ID},Dr A,Inst\n{KOL_ID},Dr B,Inst\n")
    done = msl(tmp_path, "import-roster", str(csv), "--db", str(db))
    assert done.returncode != 0
    assert f"{csv}:3: id: the same KOL as line 2" in done.stderr
    assert "nothing imported" in done.stderr
    assert _kols(db) == []


def test_roster_refuses_an_id_and_a_name_that_reach_one_kol(tmp_path: Path) -> None:
    # Row 2 renames the KOL by id, row 3 finds the same KOL by its old name: two
    # "updated", and the rename (Dr D, Paris) was lost without a word.
    db = _head_office(tmp_path)
    first = tmp_path / "first.csv"
    first.write_text(f"id,name,institution\n{KOL_ID},Dr C,Inst\n")
    assert msl(tmp_path, "import-roster", str(first), "--db", str(db)).returncode == 0
    second = tmp_path / "second.csv"
    second.write_text(f"id,name,institution,city\n{KOL_ID},Dr D,Inst,Paris\n,Dr C,Inst,Rome\n")
    done = msl(tmp_path, "import-roster", str(second), "--db", str(db))
    assert done.returncode != 0
    assert f"{second}:3: name, institution: the same KOL as line 2" in done.stderr
    assert _kols(db) == [(KOL_ID, "Dr C", "")]


def test_roster_does_not_bring_an_erased_kol_back(tmp_path: Path) -> None:
    # Rule: personal data. An erased KOL came back under the very id the erasure record
    # names, from an old spreadsheet.
    db = _head_office(tmp_path)
    csv = tmp_path / "roster.csv"
    csv.write_text(f"id,name,institution\n{KOL_ID},Dr C,Inst\n")
    assert msl(tmp_path, "import-roster", str(csv), "--db", str(db)).returncode == 0
    erased = msl(tmp_path, "kol", "erase", KOL_ID, "--db", str(db), "--reason", "request", "--yes")
    assert erased.returncode == 0, erased.stderr
    done = msl(tmp_path, "import-roster", str(csv), "--db", str(db))
    assert done.returncode != 0
    assert f"{csv}:2: id: this KOL was erased" in done.stderr
    assert _kols(db) == []
    # Without the id it is a new KOL, which the user chose to add.
    csv.write_text("name,institution\nDr C,Inst\n")
    assert msl(tmp_path, "import-roster", str(csv), "--db", str(db)).returncode == 0
    assert [k[0] for k in _kols(db)] != [KOL_ID]
