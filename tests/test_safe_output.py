"""What msl prints from a file or the store cannot drive the terminal or forge a line: control
characters are escaped (a newline shows as \\x0a, ESC as \\x1b), long text is cut, and every
error leaves as one line, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sync_helpers import add_kol, make_store

from msl_tui.sync.export import export_bundle

MSL = shutil.which("msl", path=str(Path(sys.executable).parent)) or "msl"
FORGED = "msl: error: forged"
EVIL = f"x\n{FORGED}\x1b]0;owned\x07\x1b[2J\u202e"


def _msl(*args: str | bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MSL, *args],
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=120,
        stdin=subprocess.DEVNULL,
        env=os.environ,
    )


def _assert_tame(result: subprocess.CompletedProcess[str], *, max_err_lines: int = 1) -> None:
    """Nothing drives the terminal, no line was forged, no traceback."""
    both = result.stdout + result.stderr
    for ch in ("\x1b", "\x07", "\u202e", "\r"):
        assert ch not in both, f"{ch!r} reached the terminal: {both!r}"
    lines = both.splitlines()
    assert not any(line.startswith(FORGED) for line in lines), both
    assert "Traceback" not in both
    assert len(result.stderr.splitlines()) <= max_err_lines, result.stderr


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    src = make_store(tmp_path / "src.db", "bob", "laptop-b")
    add_kol(src, "Dr Ines Vale")
    path = export_bundle(src, tmp_path / "inbox", sign=False).path
    src.close()
    assert path is not None
    return path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "ho.db"
    make_store(db, "head.office", "ho-1", role="head office").close()
    return db


def test_a_bundle_file_name_cannot_forge_a_line(tmp_path: Path, store: Path, bundle: Path) -> None:
    evil = bundle.with_name(f"{EVIL}.mslsync")
    bundle.rename(evil)
    result = _msl("--db", str(store), "import", str(evil))
    assert result.returncode == 0, result.stderr
    _assert_tame(result)
    assert "\\x0amsl: error: forged" in result.stdout


def test_a_refused_bundle_with_a_forged_name_stays_one_line(tmp_path: Path, store: Path) -> None:
    evil = tmp_path / f"{EVIL}.mslsync"
    evil.write_bytes(b"not a zip")
    result = _msl("--db", str(store), "import", str(evil))
    assert result.returncode == 1
    _assert_tame(result)


def test_a_source_name_inside_the_bundle_cannot_reach_the_terminal(
    tmp_path: Path, store: Path, bundle: Path
) -> None:
    with zipfile.ZipFile(bundle) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    manifest = json.loads(members["manifest.json"])
    manifest["source"]["msl_id"] = EVIL
    members["manifest.json"] = json.dumps(manifest).encode()
    forged = tmp_path / "forged.mslsync"
    with zipfile.ZipFile(forged, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    result = _msl("--db", str(store), "import", str(forged))
    _assert_tame(result)  # refused (a name is plain text) or shown escaped: never raw


def test_stored_conflict_values_are_escaped(store: Path) -> None:
    # A store written before names were checked may still hold anything.
    conn = sqlite3.connect(store)
    conn.execute(
        "insert into conflicts(entity, record_id, field, kept_value, kept_hlc, other_value, "
        "other_hlc, detected_at, resolved_at, resolution) values (?,?,?,?,?,?,?,?,?,?)",
        ["kol", "0" * 36, EVIL, json.dumps(EVIL), "h1", json.dumps(EVIL * 50), "h2",
         "2026-11-23T09:00:00Z", "2026-11-23T09:00:00Z", "kept"],
    )  # fmt: skip
    conn.commit()
    conn.close()
    result = _msl("--db", str(store), "conflicts", "--all")
    assert result.returncode == 0, result.stderr
    _assert_tame(result)
    [line] = result.stdout.splitlines()
    assert len(line) < 600  # a huge value is cut


def test_an_error_quoting_a_path_is_one_line_and_capped(tmp_path: Path) -> None:
    db = tmp_path / EVIL / ("long" * 200) / "msl.db"
    result = _msl("--db", str(db), "report", "--out", str(tmp_path / "r"))
    assert result.returncode == 1
    _assert_tame(result)
    assert len(result.stderr) < 400


def test_a_name_that_is_not_utf8_is_refused_before_a_store_exists(tmp_path: Path) -> None:
    db = tmp_path / "msl.db"
    result = _msl("--db", str(db), "init", "--name", b"Ana \xff\xfe Ruiz")
    assert result.returncode == 1
    _assert_tame(result)
    assert "--name" in result.stderr and not db.exists()


def test_a_pinned_key_name_must_be_plain_text(store: Path) -> None:
    result = _msl("--db", str(store), "keys", "--trust", EVIL, "ab" * 32)
    assert result.returncode == 1
    _assert_tame(result)
    shown = _msl("--db", str(store), "keys")
    assert "trusted" not in shown.stdout


def test_roster_columns_are_escaped_and_counted_in_words(tmp_path: Path, store: Path) -> None:
    sheet = tmp_path / "kols.csv"
    sheet.write_text(f'name,"{EVIL}"\nDr Mira Holt,1\n', encoding="utf-8")
    result = _msl("--db", str(store), "import-roster", str(sheet))
    assert result.returncode == 0, result.stderr
    _assert_tame(result)
    assert "1 KOL created" in result.stdout
    sheet.write_text("name,influence\nDr Oskar Lind,galactic\n", encoding="utf-8")
    refused = _msl("--db", str(store), "import-roster", str(sheet))
    assert refused.returncode == 1
    _assert_tame(refused, max_err_lines=2)
    assert "1 row rejected" in refused.stderr
