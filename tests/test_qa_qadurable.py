"""QA (qadurable): durability when several processes use one store at once.

Real ``msl`` processes, real signals. No fixed sleeps: every wait is for a condition.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pty_terminal import PtyTerminal

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
import os, signal, sys, time
# SIGHUP as a terminal session has it: a test run started under nohup passes it on
# ignored, and msl rightly leaves an ignored SIGHUP ignored.
signal.signal(signal.SIGHUP, signal.SIG_DFL)
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


def _paused_dry_run(
    tmp_path: Path, bundle: Path, store: Path
) -> tuple[subprocess.Popen[str], Path, Path]:
    """`msl import --dry-run` stopped after its overlay's first write, until ``go`` exists:
    (the process, its TMPDIR, the ``go`` file)."""
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
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc, temp, go


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
    proc, temp, go = _paused_dry_run(tmp_path, bundle, store)
    try:
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


# A process that holds the store's write lock (a long `msl import`, `sqlite3 STORE` with
# `begin immediate`) until it reads a line.
_HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("begin immediate")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("commit")
"""


def _terminal(store: Path) -> PtyTerminal:
    env = {**os.environ, "MSL_DB": str(store), "TERM": "xterm-256color"}
    return PtyTerminal([], env, columns=140, lines=40)


def _draft_notes(store: Path) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(store)
    try:
        return [json_notes for (json_notes,) in conn.execute(
            "select json_extract(payload, '$.notes') from drafts")]  # fmt: skip
    finally:
        conn.close()


def _a_note_in_its_draft(tmp_path: Path, words: str) -> tuple[PtyTerminal, Path]:
    """msl on a new store, a note for its first KOL begun with ``words`` and saved as a
    draft (the pause after typing passed): (the terminal, the store)."""
    store = tmp_path / "msl.db"
    assert _msl("init", "--name", "Ann Lee", "--db", str(store)).returncode == 0
    seeded = _msl("seed-demo", "--db", str(store), "--kols", "5", "--years", "1")
    assert seeded.returncode == 0, seeded.stderr
    term = _terminal(store)
    try:
        term.wait_for("Dr ")
        term.type("n")
        term.wait_for("Unsolicited")
        term.type(words)
        _wait_for(lambda: any(words in (n or "") for n in _draft_notes(store)),
                  "the first words in the draft")  # fmt: skip
    except BaseException:
        term.close()
        raise
    return term, store


@contextlib.contextmanager
def _typing_under_a_held_lock(tmp_path: Path, words: str) -> Iterator[tuple[Any, Any, Path]]:
    """A note being written: its first words saved as a draft, then another process takes
    the store's write lock and ``words`` are typed, which the app cannot save yet ("busy").
    Yields (the terminal, the lock holder, the store); the lock is let go at the end."""
    term, store = _a_note_in_its_draft(tmp_path, "beforelock ")
    holder = None
    try:
        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLD_LOCK, str(store)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        term.type(words)
        term.wait_for(words)
        term.wait_for("busy")  # the app says it could not save the draft yet
        yield term, holder, store
    finally:
        if holder is not None and holder.poll() is None:
            assert holder.stdin is not None
            holder.communicate("\n", timeout=60)
        term.close()


@pytest.mark.xfail(
    strict=True,
    reason="while another process holds the store's write lock the draft lives only in the "
    "app's memory ('kept here and saved as soon as it can be'): kill -9 then loses it. "
    "Needs a fallback draft file beside the store, recovered at the next launch",
)
def test_words_typed_while_another_process_holds_the_lock_survive_kill_9(
    tmp_path: Path,
) -> None:
    with _typing_under_a_held_lock(tmp_path, "underlock") as (term, _holder, store):
        term.proc.kill()  # kill -9, the lock still held
        term.proc.wait()
    notes = _draft_notes(store)
    assert any("underlock" in (n or "") for n in notes), notes


def _blocked_in_sleep(pid: int) -> bool:
    """The process's main thread sleeps in a system call (SQLite's busy handler waiting
    for the lock), rather than waiting for events. x86-64 Linux numbers."""
    try:
        call = Path(f"/proc/{pid}/task/{pid}/syscall").read_text().split()[0]
    except (OSError, IndexError):
        return False
    return call in ("35", "230")  # nanosleep, clock_nanosleep


@pytest.mark.skipif(not Path("/proc/self/syscall").exists(), reason="needs Linux /proc")
def test_sigterm_while_another_process_holds_the_lock_keeps_the_words(
    tmp_path: Path,
) -> None:
    """SIGTERM saves the note being written before msl closes, but waited only the
    draft's 150 ms for a store another process was writing: msl closed (exit 143) and the
    words typed since the last save were gone, without a word said."""
    with _typing_under_a_held_lock(tmp_path, "termwords") as (term, holder, store):
        term.proc.send_signal(signal.SIGTERM)
        # msl either closes at once (the words lost) or waits for the lock: seen asleep in
        # the busy handler on polls spanning more than a draft retry's 150 ms wait, so this
        # is the closing save, not a retry (whose success would hide the bug).
        asleep: list[float] = []

        def closed_or_waiting() -> bool:
            if term.proc.poll() is not None:
                return True
            if not _blocked_in_sleep(term.proc.pid):
                asleep.clear()
                return False
            asleep.append(time.monotonic())
            return asleep[-1] - asleep[0] > 1.0

        _wait_for(closed_or_waiting, "msl closed or waiting for the lock")
        assert holder.stdin is not None
        holder.communicate("\n", timeout=60)
        term.proc.wait(timeout=60)
        assert term.proc.returncode == 128 + signal.SIGTERM
    notes = _draft_notes(store)
    assert any("termwords" in (n or "") for n in notes), notes


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts a small tmpfs (root)")
def test_dry_run_with_full_tmpdir_names_tmpdir_not_the_store(
    tmp_path: Path, bundle_and_store: tuple[Path, Path]
) -> None:
    """A full TMPDIR during `msl import --dry-run` said 'the disk holding b.db is full':
    the MSL frees space on the wrong disk. The overlay's folder is named, and removed."""
    bundle, store = bundle_and_store
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)],
        capture_output=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr!r}")
    try:
        # Fill it, leaving a few blocks: the overlay's first batch does not fit.
        (small / "fill").write_bytes(b"\0" * (64 * 1024 - 3 * 4096))
        temp = small / "t"
        temp.mkdir()
        run = _msl("import", str(bundle), "--dry-run", "--db", str(store),
                   env={**os.environ, "TMPDIR": str(temp)})  # fmt: skip
        assert run.returncode == 1, run
        assert "Traceback" not in run.stderr
        assert "TMPDIR" in run.stderr and str(store) not in run.stderr, run.stderr
        assert list(temp.iterdir()) == []
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_encrypt_refuses_a_store_an_idle_app_has_open(tmp_path: Path) -> None:
    """`msl encrypt` while msl was open on the store (idle, a note being written) went
    ahead: its 'in use' check saw only a reader inside a transaction. The file was
    replaced and the old one wiped under the app, which could then save nothing (what it
    typed since its last draft was lost on quitting), and a visit it saved while the copy
    was made went to the wiped file. Refused now, in one line, nothing changed."""
    from msl_tui.store import cipher

    if not cipher.available():
        pytest.skip("needs SQLCipher")
    term, store = _a_note_in_its_draft(tmp_path, "beforeencrypt ")
    try:
        run = _msl("encrypt", "--db", str(store),
                   env={**os.environ, "MSL_PASSPHRASE": "a long enough passphrase 42"})  # fmt: skip
        assert run.returncode == 1, run
        assert "in use" in run.stderr, run.stderr
        assert not cipher.looks_encrypted(store)
        term.type("afterencrypt")
        _wait_for(lambda: any("afterencrypt" in (n or "") for n in _draft_notes(store)),
                  "the words typed after, saved in the same file")  # fmt: skip
    finally:
        term.close()


def test_dry_run_killed_outright_its_overlay_removed_by_the_next(
    tmp_path: Path, bundle_and_store: tuple[Path, Path]
) -> None:
    """kill -9 during `msl import --dry-run` left TMPDIR/msl-dry-run-XXXX/overlay.db (the
    bundle's changes, visit notes in plain text even when the bundle and the store were
    encrypted) for ever. Nothing can run at kill -9; the next dry run removes it."""
    bundle, store = bundle_and_store
    proc, temp, _go = _paused_dry_run(tmp_path, bundle, store)
    try:
        proc.kill()
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    left = list(temp.glob("msl-dry-run-*/overlay.db"))
    assert left  # what kill -9 leaves
    assert oct(left[0].stat().st_mode & 0o777) == oct(0o600)
    assert oct(left[0].parent.stat().st_mode & 0o777) == oct(0o700)
    again = _msl(
        "import",
        str(bundle),
        "--dry-run",
        "--db",
        str(store),
        env={**os.environ, "TMPDIR": str(temp)},
    )
    assert again.returncode == 0, again.stderr
    assert list(temp.iterdir()) == [], "a killed dry run's overlay stayed in TMPDIR"
