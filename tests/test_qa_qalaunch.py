"""QA of the plain launch's fast path (msl_tui/entry.py): the line between the read-only peek
that draws the first page and the store's whole opening in a worker."""

from __future__ import annotations

import os
import pty
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input

from msl_tui import entry
from msl_tui.app import MslApp
from msl_tui.demo import seed_demo
from msl_tui.models import MslProfile
from msl_tui.services.launch import peek
from msl_tui.store import Store
from msl_tui.store.database import peek_current

MSL = Path(sys.executable).with_name("msl")


def _make_store(path: Path, name: str = "Alex Morgan", kols: int = 12) -> Path:
    store = Store.open(path)
    store.set_profile(
        MslProfile(msl_id="alex.morgan", name=name, territory="North", device_id=store.device_id)
    )
    seed_demo(store, kols=kols, years=0.5, seed=3)
    store.close()
    return path


def _opening(path: Path, gate: threading.Event | None = None) -> tuple[object, list[str]]:
    """What ``msl --db PATH`` builds on a terminal: the peek, and the whole opening it runs
    in the app's worker (held at ``gate`` until the test lets it go on)."""
    said: list[str] = []
    seen = entry.identity(path)
    assert seen is not None

    def open_store() -> Store:
        if gate is not None:
            gate.wait(30)
        return entry._open(path, said, seen)

    opening = peek(path, open_store)
    assert opening is not None, "a ready store takes the fast path"
    return opening, said


async def _until(pilot: object, done: object, tries: int = 400) -> None:
    for _ in range(tries):
        if done():  # type: ignore[operator]
            return
        await pilot.pause(0.025)  # type: ignore[attr-defined]
    raise AssertionError("the app did not get there")


def _on_a_terminal(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``msl ARGS`` with its input and output a terminal (the fast path's condition), its
    errors read from a pipe."""
    leader, follower = pty.openpty()
    try:
        return subprocess.run(
            [str(MSL), *args],
            stdin=follower,
            stdout=follower,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)


def _quit_once_drawn(args: list[str], env: dict[str, str]) -> tuple[int, bytes]:
    """``msl ARGS`` on a terminal (Textual draws on stderr): once it has drawn the MSL's
    name, `q`. Its exit status and everything it wrote."""
    import fcntl
    import select
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    drawn = b""
    try:
        try:
            run = subprocess.Popen(
                [str(MSL), *args], stdin=follower, stdout=follower, stderr=follower, env=env
            )
        finally:
            # Only the program holds the terminal now: its exit ends the reads below at
            # once (held here too, each run waited out the 5 s read timeout).
            os.close(follower)
        while b"Alex Morgan" not in drawn and select.select([leader], [], [], 60)[0]:
            drawn += os.read(leader, 65536)
        os.write(leader, b"q")
        while select.select([leader], [], [], 5)[0]:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk and run.poll() is not None:
                break
            drawn += chunk
            if run.poll() is not None and not select.select([leader], [], [], 0.2)[0]:
                break
        return run.wait(timeout=60), drawn
    finally:
        os.close(leader)


def test_a_store_path_that_is_not_utf8_opens_without_a_traceback(tmp_path: Path) -> None:
    # The peek quoted the path into an SQLite URI and met the stray byte: a traceback on
    # the fast path where the CLI path says one line. (QA qastore: the URI now quotes the
    # path's bytes, so the store, which msl itself creates at such a path, opens.)
    store = _make_store(tmp_path / "ok.db")
    odd = os.fsdecode(bytes(tmp_path) + b"/bad\xffname.db")
    shutil.copy(store, odd)
    env = dict(os.environ)
    for args, extra in ((["--db", odd], {}), ([f"--db={odd}"], {}), ([], {"MSL_DB": odd})):
        code, drawn = _quit_once_drawn(args, {**env, **extra})
        assert b"Traceback" not in drawn and b"Unicode" not in drawn
        assert code == 0
        assert b"Alex Morgan" in drawn


async def test_a_store_removed_between_the_peek_and_the_opening_is_not_made_anew(
    tmp_path: Path,
) -> None:
    # Store.open created an empty store in its place: the app went on without an MSL,
    # its header still naming the one whose rows it first showed, and `n` or a new KOL
    # went into a store nobody had named.
    path = _make_store(tmp_path / "msl.db")
    gate = threading.Event()
    opening, _said = _opening(path, gate)
    app = MslApp(None, opening=opening, settings=opening.settings)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        gate.set()
        await _until(pilot, lambda: app.open_error is not None or app._store is not None)
    assert app._store is None
    assert app.open_error is not None
    assert "removed" in str(app.open_error)
    assert not path.exists(), "no store is made where the MSL's store was"


async def test_a_store_replaced_by_another_msls_between_the_peek_and_the_opening(
    tmp_path: Path,
) -> None:
    # The first rows and the header came from one MSL's store; the keys held meanwhile
    # (`n`: a note for the top KOL shown) would have acted on another MSL's store.
    path = _make_store(tmp_path / "msl.db")
    other = _make_store(tmp_path / "other.db", name="Robin Other", kols=3)
    gate = threading.Event()
    opening, _said = _opening(path, gate)
    app = MslApp(None, opening=opening, settings=opening.settings)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.sub_title == "Alex Morgan"
        await pilot.press("n")
        os.replace(other, path)
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        gate.set()
        await _until(pilot, lambda: app.open_error is not None or app._store is not None)
        await pilot.pause()
        assert app._store is None
        assert "replaced" in str(app.open_error)
        assert type(app.screen).__name__ != "CaptureScreen"


async def test_text_pasted_while_the_store_opens_reaches_the_filter(tmp_path: Path) -> None:
    # Keys typed in that moment were held and replayed; a paste was not: it reached the
    # list (the filter not yet focused by the held `/`) and the pasted name was lost.
    path = _make_store(tmp_path / "msl.db")
    gate = threading.Event()
    opening, _said = _opening(path, gate)
    app = MslApp(None, opening=opening, settings=opening.settings)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash")
        app.post_message(events.Paste("zof"))
        await pilot.press("i", "a")
        await pilot.pause()
        gate.set()
        await _until(pilot, lambda: app.screen.query_one("#filter", Input).value == "zofia")
        assert app.screen.query_one("#filter", Input).value == "zofia"


def _with_a_draft(path: Path) -> str:
    """An unsent visit note left in the store (a crash): the app offers it back at start."""
    store = Store.open(path)
    kol_id = str(store.db.conn.execute("select kol_id from kol_situation limit 1").fetchone()[0])
    store.save_draft(f"visit:{kol_id}", kol_id, {"kol_id": kol_id, "notes": "Draft words"})
    store.close()
    return kol_id


def _app_on_a_store_with_a_draft(tmp_path: Path) -> tuple[MslApp, threading.Event]:
    """A plain launch's app on a store holding an unsent note; the store opens on ``gate``."""
    path = _make_store(tmp_path / "msl.db")
    _with_a_draft(path)
    gate = threading.Event()
    opening, _said = _opening(path, gate)
    return MslApp(None, opening=opening, settings=opening.settings), gate  # type: ignore[arg-type]


async def test_keys_typed_at_the_first_page_do_not_answer_the_draft_question(
    tmp_path: Path,
) -> None:
    app, gate = _app_on_a_store_with_a_draft(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash", "y", "a", "r")  # a filter, typed at the list on screen
        gate.set()
        await _until(pilot, lambda: app._store is not None)
        for _ in range(20):
            await pilot.pause(0.025)
        capture = app._capture_screen
        if capture is not None:
            typed = [a.text for a in capture.query("TextArea")]  # type: ignore[attr-defined]
            assert not any("ar" in t.replace("Draft words", "") for t in typed)
        assert type(app.screen).__name__ != "CaptureScreen"
        filters = app.screen.query("#filter")
        assert filters and filters.first(Input).value == "yar"
        # The waiting note is told instead, in words that say how to reach it.
        told = [str(n.message) for n in app._notifications]
        assert any("unsent visit note" in m and "press n" in m for m in told), told


def _lock_for_readers_too(path: Path) -> sqlite3.Connection:
    """Another program holding the store in exclusive locking mode: readers wait too."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("pragma locking_mode = exclusive")
    conn.execute("begin exclusive")
    conn.execute("update meta set value = value where key = 'profile'")
    return conn


def test_the_peek_does_not_wait_out_a_lock_the_whole_opening_will_wait_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The peek waited the whole busy timeout for a locked store (twice), then the CLI path
    # waited it again before saying "busy": 21 s to that line where the CLI took 10.5 s.
    path = _make_store(tmp_path / "msl.db")
    monkeypatch.setenv("MSL_BUSY_TIMEOUT_MS", "600000")  # ten minutes: a wait shows as a hang
    locker = _lock_for_readers_too(path)
    answer: list[object] = []
    try:
        peeking = threading.Thread(target=lambda: answer.append(peek_current(path)), daemon=True)
        peeking.start()
        peeking.join(120)  # a guard against the ten minutes, not a measure
        assert not peeking.is_alive(), "the peek waited for the lock"
        assert answer == [None]  # the usual opening waits, and says the store is busy
    finally:
        locker.close()


def test_a_store_locked_even_for_readers_says_busy_once_as_the_cli_does(tmp_path: Path) -> None:
    path = _make_store(tmp_path / "msl.db")
    locker = _lock_for_readers_too(path)
    try:
        env = {**os.environ, "MSL_BUSY_TIMEOUT_MS": "300"}
        fast = _on_a_terminal(["--db", str(path)], env)
        cli = _on_a_terminal(["--db", str(path), "--db", str(path)], env)  # the CLI's own path
    finally:
        locker.close()
    assert fast.returncode == cli.returncode == 1
    assert fast.stderr == cli.stderr
    assert fast.stderr.count("\n") == 1 and "busy" in fast.stderr


@pytest.mark.parametrize("kind", ["folder", "not a database", "another program's database"])
def test_a_store_that_is_not_ready_says_what_the_cli_says(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "msl.db"
    if kind == "folder":
        path.mkdir()
    elif kind == "not a database":
        path.write_bytes(b"KOL notes, but not a store\n" * 10)
    else:
        with sqlite3.connect(path) as other:
            other.execute("create table t (x)")
        other.close()
    env = dict(os.environ)
    fast = _on_a_terminal(["--db", str(path)], env)
    cli = _on_a_terminal(["--db", str(path), "--db", str(path)], env)
    assert fast.returncode == cli.returncode == 1
    assert fast.stderr == cli.stderr
    assert fast.stderr.startswith("msl: error: ") and fast.stderr.count("\n") == 1


async def test_with_no_keys_typed_the_fast_path_still_asks_about_the_unsent_note(
    tmp_path: Path,
) -> None:
    app, gate = _app_on_a_store_with_a_draft(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        gate.set()
        await _until(pilot, lambda: app._store is not None)
        # (Its question once composed: a screen pushed is current before its widgets mount.)
        await _until(
            pilot,
            lambda: type(app.screen).__name__ == "Choice" and app.screen.query("#question"),
        )
        assert "unsent visit note" in str(app.screen.query_one("#question").render())
