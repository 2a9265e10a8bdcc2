"""QA (qadurable): durability when several processes use one store at once.

Real ``msl`` processes, real signals. No fixed sleeps: every wait is for a condition.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

MSL = str(Path(sys.executable).with_name("msl"))


def _msl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MSL, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def _wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture()
def bundle_and_store(tmp_path: Path) -> tuple[Path, Path]:
    source, target, bundle = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "a.mslsync"
    assert _msl("init", "--name", "Ann Lee", "--db", str(source)).returncode == 0
    seeded = _msl("seed-demo", "--db", str(source), "--kols", "5", "--years", "1")
    assert seeded.returncode == 0, seeded.stderr
    out = _msl("export", "--full", "--db", str(source), "--out", str(bundle))
    assert out.returncode == 0, out.stderr
    assert _msl("init", "--name", "Bob Ray", "--db", str(target)).returncode == 0
    return bundle, target


# The dry run, paused inside its first write to the overlay (a file appears, the test
# signals, the pause ends): the overlay exists on disk when the signal arrives.
_PAUSED_DRY_RUN = """
import os, sys, time
from pathlib import Path
from msl_tui.sync import overlay
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
original = overlay.Overlay.write
def write(self, *args, **kwargs):
    original(self, *args, **kwargs)
    if not ready.exists():
        ready.touch()
        while not go.exists():
            time.sleep(0.01)
overlay.Overlay.write = write
sys.argv = ["msl", *sys.argv[3:]]
from msl_tui.entry import main
main()
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_dry_run_stopped_by_signal_leaves_no_overlay(
    tmp_path: Path, bundle_and_store: tuple[Path, Path], signum: int
) -> None:
    """`kill` (SIGTERM) or a closed terminal (SIGHUP) during `msl import --dry-run` left
    TMPDIR/msl-dry-run-XXXX/overlay.db behind (0600 in a 0700 folder): the bundle's
    changes, visit notes about named KOLs, in plain text for ever. Ctrl-C removed it;
    these signals killed the process before its `finally` ran. The same held for the
    plaintext scratch folder an encrypted export or import makes beside the store."""
    bundle, store = bundle_and_store
    temp = tmp_path / "tmp"
    temp.mkdir()
    ready, go = tmp_path / "ready", tmp_path / "go"
    env = {**os.environ, "TMPDIR": str(temp)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _PAUSED_DRY_RUN, str(ready), str(go),
         "import", str(bundle), "--dry-run", "--db", str(store)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for(lambda: ready.exists() or proc.poll() is not None, "the overlay's first write")
        assert proc.poll() is None, proc.communicate()
        assert list(temp.glob("msl-dry-run-*/overlay.db"))  # it is there now
        proc.send_signal(signum)
        go.touch()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    assert "Traceback" not in err, err
    assert list(temp.iterdir()) == [], "the dry run's overlay was left in TMPDIR"
    # The store itself is untouched and still opens.
    real = _msl("import", str(bundle), "--db", str(store))
    assert real.returncode == 0, real.stderr
