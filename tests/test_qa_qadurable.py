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


class _Terminal:
    """msl on a real pseudo-terminal: what it drew is read back as it comes."""

    def __init__(self, store: Path) -> None:
        import pty

        self.master, slave = pty.openpty()
        env = {**os.environ, "MSL_DB": str(store), "TERM": "xterm-256color",
               "COLUMNS": "140", "LINES": "40"}  # fmt: skip
        self.proc = subprocess.Popen(
            [MSL], stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.seen = b""

    def _read(self) -> None:
        import select

        while select.select([self.master], [], [], 0.05)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.seen += chunk

    def wait_for(self, text: str) -> None:
        start = len(self.seen)

        def drawn() -> bool:
            self._read()
            return text.encode() in self.seen[max(0, start - 200) :]

        _wait_for(drawn, f"{text!r} on screen")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def _draft_notes(store: Path) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(store)
    try:
        return [json_notes for (json_notes,) in conn.execute(
            "select json_extract(payload, '$.notes') from drafts")]  # fmt: skip
    finally:
        conn.close()


@pytest.mark.xfail(
    strict=True,
    reason="while another process holds the store's write lock the draft lives only in the "
    "app's memory ('kept here and saved as soon as it can be'): kill -9 then loses it. "
    "Needs a fallback draft file beside the store, recovered at the next launch",
)
def test_words_typed_while_another_process_holds_the_lock_survive_kill_9(
    tmp_path: Path,
) -> None:
    store = tmp_path / "msl.db"
    assert _msl("init", "--name", "Ann Lee", "--db", str(store)).returncode == 0
    seeded = _msl("seed-demo", "--db", str(store), "--kols", "5", "--years", "1")
    assert seeded.returncode == 0, seeded.stderr
    term = _Terminal(store)
    holder = None
    try:
        term.wait_for("Dr ")
        term.type("n")
        term.wait_for("Unsolicited")
        term.type("beforelock ")
        # The draft's pause passes and the draft is saved: it is in the store.
        _wait_for(lambda: any("beforelock" in (n or "") for n in _draft_notes(store)),
                  "the first words in the draft")  # fmt: skip
        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLD_LOCK, str(store)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        term.type("underlock")
        term.wait_for("underlock")
        term.wait_for("busy")  # the app says it could not save the draft yet
        term.proc.kill()  # kill -9, the lock still held
        term.proc.wait()
    finally:
        if holder is not None and holder.poll() is None:
            assert holder.stdin is not None
            holder.communicate("\n", timeout=60)
        term.close()
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
    store = tmp_path / "msl.db"
    assert _msl("init", "--name", "Ann Lee", "--db", str(store)).returncode == 0
    seeded = _msl("seed-demo", "--db", str(store), "--kols", "5", "--years", "1")
    assert seeded.returncode == 0, seeded.stderr
    term = _Terminal(store)
    holder = None
    try:
        term.wait_for("Dr ")
        term.type("n")
        term.wait_for("Unsolicited")
        term.type("beforelock ")
        _wait_for(lambda: any("beforelock" in (n or "") for n in _draft_notes(store)),
                  "the first words in the draft")  # fmt: skip
        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLD_LOCK, str(store)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        term.type("termwords")
        term.wait_for("termwords")
        term.wait_for("busy")
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
    finally:
        if holder is not None and holder.poll() is None:
            holder.kill()
        term.close()
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
    store = tmp_path / "msl.db"
    assert _msl("init", "--name", "Ann Lee", "--db", str(store)).returncode == 0
    seeded = _msl("seed-demo", "--db", str(store), "--kols", "5", "--years", "1")
    assert seeded.returncode == 0, seeded.stderr
    term = _Terminal(store)
    try:
        term.wait_for("Dr ")
        term.type("n")
        term.wait_for("Unsolicited")
        term.type("beforeencrypt ")
        _wait_for(lambda: any("beforeencrypt" in (n or "") for n in _draft_notes(store)),
                  "the first words in the draft")  # fmt: skip
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
    again = _msl("import", str(bundle), "--dry-run", "--db", str(store), env=env)
    assert again.returncode == 0, again.stderr
    assert list(temp.iterdir()) == [], "a killed dry run's overlay stayed in TMPDIR"
