"""What a plain launch writes to the terminal first, read from the real `msl` on a pty, and
the cycle collector it holds off while it starts (services/launch.py)."""

from __future__ import annotations

import fcntl
import gc
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from msl_tui.app import MslApp
from msl_tui.screens.kol_list import KolListScreen
from msl_tui.services import launch
from msl_tui.services.launch import hold_collector, peek, release_collector
from msl_tui.settings import Settings
from msl_tui.store import Store
from tests.app_helpers import FIXED_NOW, wait_for
from tests.test_launch_first_page import _cli_seeded, _seeded

MSL = Path(sys.executable).with_name("msl")
KOL_ROW = re.compile(rb"Dr [A-Z][a-z]+ [A-Z]")


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector as the test found it, whatever the test did to it."""
    was = gc.isenabled()
    yield
    launch._held = False
    gc.unfreeze()
    if was:
        gc.enable()
    else:
        gc.disable()


def _launch_output(db: Path, until: bytes, columns: int = 140, lines: int = 40) -> bytes:
    """Everything `msl --db DB` writes on a terminal until ``until`` has been written (then
    `q`)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [str(MSL), "--db", str(db)],
        stdin=follower,
        stdout=follower,
        stderr=follower,  # (Textual draws on stderr)
        env={**env, "TERM": "xterm-256color"},
        start_new_session=True,
    )
    os.close(follower)
    written = b""
    try:
        deadline = time.monotonic() + 60
        while until not in written:
            if time.monotonic() > deadline:
                raise AssertionError(f"msl never wrote {until!r}: {written[-300:]!r}")
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    written += os.read(leader, 65536)
                except OSError:
                    break  # the program closed its terminal
        os.write(leader, b"q")
        # Read on while it quits: a full pty would hold its last write up.
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    os.read(leader, 65536)
                except OSError:
                    break
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    return written


@pytest.mark.e2e
def test_the_first_frame_written_holds_the_ranked_rows(tmp_path: Path) -> None:
    # The app's start holds repaints in a batch; the list's first frame, drawn within it,
    # was thrown away, and the first frame written showed only the room kept for the
    # header, the filter field and the key bar ("Widget#header-space" written in it), the
    # rows some 30 ms later, after the header and the filter had been mounted and drawn.
    db = _cli_seeded(tmp_path / "msl.db", kols=40)
    written = _launch_output(db, until=b"to filter")
    assert b"Widget#" not in written  # the kept room draws nothing
    rows = KOL_ROW.search(written)
    assert rows is not None
    assert rows.start() < written.index(b"to filter")  # the rows came first
    assert rows.start() < written.index(b"Alex Morgan")  # before the header, too


def test_the_launch_holds_the_collector_and_lets_it_go_once(collector: None) -> None:
    gc.enable()
    hold_collector()
    assert not gc.isenabled()
    release_collector()
    assert gc.isenabled()
    gc.disable()  # someone else's choice, later: a second release leaves it
    release_collector()
    assert not gc.isenabled()


def test_a_collector_already_off_is_left_off(collector: None) -> None:
    gc.disable()  # (the import does this for its own span)
    hold_collector()
    release_collector()
    assert not gc.isenabled()


async def test_the_collector_runs_again_once_the_whole_ranking_is_on_screen(
    tmp_path: Path, collector: None
) -> None:
    db = _seeded(tmp_path / "msl.db")
    gc.enable()
    hold_collector()  # as entry.main does before loading the app
    opening = peek(db, lambda: Store.open(db), FIXED_NOW)
    assert opening is not None
    app = MslApp(None, opening=opening, now=lambda: FIXED_NOW, settings=Settings())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, KolListScreen)
        await wait_for(pilot, lambda: app._store is not None and not screen.partial)
        await wait_for(pilot, lambda: gc.isenabled())
        assert not app._holding
    assert app._store is not None
    app._store.close()


async def test_a_store_that_fails_to_open_lets_the_collector_go(
    tmp_path: Path, collector: None
) -> None:
    db = _seeded(tmp_path / "msl.db")
    gc.enable()
    hold_collector()

    def refuse() -> Store:
        raise OSError("disk gone")

    opening = peek(db, refuse, FIXED_NOW)
    assert opening is not None
    app = MslApp(None, opening=opening, now=lambda: FIXED_NOW, settings=Settings())
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.open_error is not None)
    assert gc.isenabled()
