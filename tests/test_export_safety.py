"""Export: nothing overwritten, nothing lost. An existing file is refused (unless --force),
the "exported up to" mark moves only once the bundle is whole and in place, and a killed
export leaves nothing that looks like a bundle."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sync_helpers import add_kol, make_store

from msl_tui.store import Store
from msl_tui.sync import export
from msl_tui.sync.export import ExportError, export_bundle, pending_export_count

MSL = shutil.which("msl", path=str(Path(sys.executable).parent)) or "msl"


def _msl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MSL, *args], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def _pending(db: Path) -> int:
    store = Store.open(db, read_only=True)
    try:
        return pending_export_count(store)
    finally:
        store.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store" / "ana.db"  # apart, so its -wal and -shm are not in listings
    store = make_store(path, "ana", "laptop-a")
    add_kol(store, "Dr Mira Holt")
    add_kol(store, "Dr Oskar Lind")
    store.close()
    return path


def test_an_existing_file_is_refused_in_one_line_and_kept(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "week.mslsync"
    target.write_bytes(b"last week's bundle")
    result = _msl("--db", str(db), "export", "--out", str(target))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "already exists" in result.stderr
    assert "--force" in result.stderr
    assert target.read_bytes() == b"last week's bundle"
    assert _pending(db) == 2  # nothing was marked as sent


def test_force_replaces_it(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "week.mslsync"
    target.write_bytes(b"last week's bundle")
    result = _msl("--db", str(db), "export", "--out", str(target), "--force")
    assert result.returncode == 0, result.stderr
    assert target.read_bytes().startswith(b"PK") and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert _pending(db) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store", "week.mslsync"]


def test_the_mark_stays_when_the_bundle_cannot_be_put_in_place(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(tmp: Path, final: Path, *, replace: bool = False) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "publish", disk_full)
    store = Store.open(db)
    with pytest.raises(OSError):
        export_bundle(store, tmp_path / "out")
    store.close()
    assert _pending(db) == 2
    assert list((tmp_path / "out").iterdir()) == []  # the temporary file went too


def test_the_mark_stays_when_the_file_appears_meanwhile(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "week.mslsync"
    publish = export.publish

    def someone_else_first(tmp: Path, final: Path, *, replace: bool = False) -> None:
        final.write_bytes(b"theirs")
        publish(tmp, final, replace=replace)

    monkeypatch.setattr(export, "publish", someone_else_first)
    store = Store.open(db)
    with pytest.raises(ExportError, match="already exists"):
        export_bundle(store, target)
    store.close()
    assert target.read_bytes() == b"theirs" and _pending(db) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store", "week.mslsync"]


KILL_AT = {
    # Parts written, no manifest yet: the bundle file is incomplete.
    "while writing": "export._PrivateWriter.commit = lambda self, *a, **k: die()",
    # The bundle is in place but the mark was never written: the next export repeats it.
    "after publishing": (
        "publish = export.publish\n"
        "def publish_then_die(*a, **k):\n"
        "    publish(*a, **k)\n"
        "    die()\n"
        "export.publish = publish_then_die"
    ),
}


@pytest.mark.parametrize("moment", list(KILL_AT))
def test_a_killed_export_loses_nothing_and_leaves_no_bundle_lookalike(
    db: Path, tmp_path: Path, moment: str
) -> None:
    out = tmp_path / "out"
    script = (
        "import os, signal, sys\n"
        "from msl_tui.sync import export\n"
        "def die():\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        f"{KILL_AT[moment]}\n"
        "from msl_tui.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", script, "--db", str(db), "export", "--out", str(out)],
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL
    assert _pending(db) == 2  # the mark did not move
    left = list(out.iterdir())
    bundles = [p for p in left if p.name.endswith(".mslsync")]
    if moment == "while writing":
        assert bundles == []
        assert left and all(p.name.startswith(".") and ".tmp-" in p.name for p in left)
    else:
        assert len(bundles) == 1 and len(left) == 1
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in left)
    # An import of the folder takes bundles only, and the next export sends the changes.
    again = _msl("--db", str(db), "export", "--out", str(tmp_path / "again"))
    assert again.returncode == 0 and "2 changes" in again.stdout


def test_nothing_to_export_says_what_is_true(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    assert _msl("--db", str(db), "init", "--name", "Ana").returncode == 0
    first = _msl("--db", str(db), "export", "--out", str(tmp_path))
    assert first.returncode == 0
    assert "no changes yet" in first.stdout and "since the last export" not in first.stdout
    (tmp_path / "kols.csv").write_text("name\nDr Mira Holt\n", encoding="utf-8")
    assert _msl("--db", str(db), "import-roster", str(tmp_path / "kols.csv")).returncode == 0
    sent = _msl("--db", str(db), "export", "--out", str(tmp_path))
    assert "(msl-log, 1 change: 1 KOL)" in sent.stdout
    after = _msl("--db", str(db), "export", "--out", str(tmp_path))
    assert after.returncode == 0 and "nothing new since the last export" in after.stdout


def test_a_file_where_a_folder_is_expected(db: Path, tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("mine")
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    result = _msl("--db", str(db), "export", "--out", str(tmp_path / "notes"))
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "is not a folder" in result.stderr
    assert (tmp_path / "notes").read_text() == "mine"
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    assert sorted(os.listdir(tmp_path)) == ["notes", "store"]


def test_an_export_sweeps_what_a_killed_export_left_an_hour_ago(tmp_path: Path) -> None:
    """A killed export's hidden temporary file holds personal data: the next export into
    that folder removes it once it is old enough that no running export can own it."""
    import os
    import time as _time

    from msl_tui.locations import sweep_stale_temps

    folder = tmp_path / "out"
    folder.mkdir()
    old = folder / ".msl-ana-msl-log.tmp-0123456789ab"
    fresh = folder / ".msl-ana-msl-log.tmp-ba9876543210"
    other = folder / ".notes.tmp-0123456789ab.txt"
    for f in (old, fresh, other):
        f.write_bytes(b"personal data")
    hour_ago = _time.time() - 7200
    os.utime(old, (hour_ago, hour_ago))
    os.utime(other, (hour_ago, hour_ago))
    assert sweep_stale_temps(folder) == 1
    assert not old.exists() and fresh.exists() and other.exists()
