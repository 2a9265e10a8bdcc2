"""`msl import` at its edges: a dry run writes nothing at all, a refused bundle is set aside
without overwriting anything (across file systems too), and a store that fails (busy) stops
the batch without treating good bundles as bad."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sync_helpers import add_kol, make_store

from msl_tui.sync.export import export_bundle

MSL = shutil.which("msl", path=str(Path(sys.executable).parent)) or "msl"


def _msl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MSL, *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    src = make_store(tmp_path / "src" / "bob.db", "bob", "laptop-b")
    add_kol(src, "Dr Ines Vale")
    path = export_bundle(src, tmp_path / "inbox", sign=False).path
    src.close()
    assert path is not None
    return path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "ho" / "ho.db"
    make_store(db, "head.office", "ho-1", role="head office").close()
    return db


def test_a_dry_run_without_a_store_says_so_and_creates_nothing(
    tmp_path: Path, bundle: Path
) -> None:
    db = tmp_path / "nowhere" / "ho.db"
    result = _msl("--db", str(db), "import", "--dry-run", str(bundle))
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "no store at" in result.stderr and result.stdout == ""
    assert not db.parent.exists()


def test_a_dry_run_leaves_the_store_byte_for_byte(store: Path, bundle: Path) -> None:
    before = _digest(store)
    result = _msl("--db", str(store), "import", "--dry-run", str(bundle))
    assert result.returncode == 0, result.stderr
    assert "dry run, nothing written" in result.stdout and "KOLs: 1 inserted" in result.stdout
    assert _digest(store) == before
    real = _msl("--db", str(store), "import", str(bundle))
    assert "KOLs: 1 inserted" in real.stdout  # the dry run did not record the bundle


def test_a_refused_bundle_never_replaces_one_already_set_aside(tmp_path: Path, store: Path) -> None:
    aside = tmp_path / "aside"
    aside.mkdir()
    (aside / "bad.mslsync").write_bytes(b"set aside last week")
    bad = tmp_path / "bad.mslsync"
    bad.write_bytes(b"not a zip")
    result = _msl("--db", str(store), "import", str(bad), "--set-aside", str(aside))
    assert result.returncode == 1
    assert (aside / "bad.mslsync").read_bytes() == b"set aside last week"
    assert (aside / "bad-2.mslsync").read_bytes() == b"not a zip"
    assert "not a readable zip" in (aside / "bad-2.mslsync.reason.txt").read_text()
    assert not bad.exists()


@pytest.fixture
def other_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "usb"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a second file system here ({mounted.stderr.strip()})")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def test_a_refused_bundle_is_set_aside_across_file_systems(
    tmp_path: Path, store: Path, other_disk: Path
) -> None:
    assert os.stat(tmp_path).st_dev != os.stat(other_disk).st_dev
    bad = tmp_path / "bad.mslsync"
    bad.write_bytes(b"not a zip")
    aside = other_disk / "refused"
    result = _msl("--db", str(store), "import", str(bad), "--set-aside", str(aside))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (aside / "bad.mslsync").read_bytes() == b"not a zip"
    assert stat.S_IMODE((aside / "bad.mslsync").stat().st_mode) == 0o600
    assert (aside / "bad.mslsync.reason.txt").exists() and not bad.exists()
    assert sorted(p.name for p in aside.iterdir()) == ["bad.mslsync", "bad.mslsync.reason.txt"]


def test_a_busy_store_stops_the_batch_and_sets_no_good_bundle_aside(
    tmp_path: Path, store: Path, bundle: Path
) -> None:
    hold = (
        "import sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "conn.execute('BEGIN IMMEDIATE')\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(store)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        aside = tmp_path / "aside"
        result = _msl(
            "--db", str(store), "import", str(bundle), "--set-aside", str(aside),
            env={"MSL_BUSY_TIMEOUT_MS": "50"},
        )  # fmt: skip
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "busy" in result.stderr
    assert bundle.exists() and not aside.exists()
