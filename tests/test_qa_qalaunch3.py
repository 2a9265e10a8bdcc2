"""QA of the plain launch in a real terminal (a pty): what a signal from outside does to a
visit note being written. SIGTERM (logout, shutdown, `kill`) and SIGHUP (the terminal
window closed) ended msl at once, and the note's last words, on screen but inside the
draft's pause, were never saved."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.pty_terminal import MSL, PtyTerminal

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

WORDS = "QAwords typed just before the window closed"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("qalaunch3") / "field.db"
    subprocess.run(
        [str(MSL), "seed-demo", "--db", str(path), "--kols", "30", "--years", "0.5"],
        check=True,
        capture_output=True,
    )
    return path


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSL_")}
    env.update(
        TERM="xterm-256color",
        MSL_DATA_DIR=str(tmp_path / "data"),
        MSL_SETTINGS=str(tmp_path / "settings.toml"),
    )
    return env


def _drafted(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT payload FROM drafts")]


@pytest.mark.e2e
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_keeps_the_words_on_screen(
    store: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    db = tmp_path / "field.db"
    db.write_bytes(store.read_bytes())
    term = PtyTerminal(["--db", str(db)], _env(tmp_path))
    try:
        term.wait_for("30 of 30")  # the whole ranking, then a note for its first KOL
        term.type("n")
        term.wait_for("Save & submit")
        term.out = b""
        term.type(WORDS)
        term.wait_for(WORDS[-12:])  # on screen
        term.proc.send_signal(signum)  # at once: within the draft's pause
        assert term.proc.wait(timeout=20) == 128 + signum
    finally:
        term.close()
    assert any(WORDS in payload for payload in _drafted(db))


# -- a filter typed, enter, then a key on the highlighted KOL, in one burst ----------------


@contextlib.asynccontextmanager
async def _list_on_a_copy(store_path: Path, tmp_path: Path) -> AsyncIterator[tuple[Any, Any]]:
    """The app on a copy of the store, its list ranked and settled: (app, pilot)."""
    from msl_tui.app import MslApp
    from msl_tui.screens.kol_list import KolListScreen
    from msl_tui.store import Store
    from tests.app_helpers import wait_for

    db = tmp_path / "copy.db"
    db.write_bytes(store_path.read_bytes())
    store = Store.open(db)
    app = MslApp(store)
    try:
        async with app.run_test(size=(120, 35)) as pilot:
            screen = app.screen
            assert isinstance(screen, KolListScreen)
            await wait_for(pilot, lambda: bool(screen.rows) and not screen._waiting())
            yield app, pilot
    finally:
        store.close()


def _post(app: Any, keys: list[str]) -> None:
    """Posted at once, as a terminal delivers a burst (Pilot's press waits after each)."""
    from textual import events

    chars = {"slash": "/", "enter": "\r", "space": " ", "ctrl+j": "\n"}
    for key in keys:
        app.post_message(events.Key(key, chars.get(key, key if len(key) == 1 else None)))


async def _burst_then(
    store_path: Path, tmp_path: Path, last: str, enter: str = "enter"
) -> tuple[object, str, str]:
    """`/TEXT`, enter and ``last`` pressed in one go, where TEXT is chosen so its answer's
    first row is not the list's first row: (the KOL shown, the answer's first, the screen)."""
    from msl_tui.services.kol_list import ListQuery
    from tests.app_helpers import wait_for

    async with _list_on_a_copy(store_path, tmp_path) as (app, pilot):
        list_screen = app.screen
        ranked = app.kol_list.load(ListQuery())
        first = ranked.rows[0]
        # A KOL further down, found by its whole name, that does not match the first's.
        other = next(r for r in ranked.rows[3:] if r.name.split()[-1] not in first.name)
        text = other.name.split()[-1].lower()
        answer = app.kol_list.load(ListQuery(text=text)).rows[0]
        assert answer.kol_id != first.kol_id
        _post(app, ["slash", *text, enter, last])
        await wait_for(pilot, lambda: app.screen is not list_screen)
        await pilot.pause()
        shown = getattr(app.screen, "current_kol_id", None)
        kind = type(app.screen).__name__
    return shown, answer.kol_id, kind


@pytest.mark.parametrize(
    ("last", "screen"),
    [("n", "CaptureScreen"), ("enter", "KolPageScreen"), ("b", "BriefScreen")],
)
async def test_a_key_after_a_filter_burst_acts_on_the_filters_answer(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, last: str, screen: str
) -> None:
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    shown, expected, kind = await _burst_then(store, tmp_path, last)
    assert kind == screen
    assert shown == expected  # not the list's first KOL from before the filter


async def test_down_after_a_filter_burst_moves_in_the_filters_answer(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`/TEXT`, enter, down: the cursor on the answer's second KOL (it moved in the rows
    from before the filter, and was put back on the first when the answer came)."""
    from msl_tui.services.kol_list import ListQuery
    from tests.app_helpers import wait_for

    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    async with _list_on_a_copy(store, tmp_path) as (app, pilot):
        ranked = app.kol_list.load(ListQuery()).rows
        # A text of three letters or more (its answer needs the notes, not at once) that
        # keeps at least two KOLs, not led by the list's first.
        text, answer = next(
            (t, a)
            for t in (r.name.split()[-1].lower() for r in ranked[3:])
            if len(t) >= 3
            for a in [app.kol_list.load(ListQuery(text=t)).rows]
            if len(a) >= 2 and a[0].kol_id != ranked[0].kol_id
        )
        _post(app, ["slash", *text, "enter", "down"])
        screen = app.screen
        await wait_for(pilot, lambda: screen.query_state.text == text and not screen._waiting())
        await pilot.pause()
        assert screen.current_kol_id == answer[1].kol_id


async def test_two_enters_typed_ahead_open_the_filters_first_kol(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Typed before msl had the terminal (`msl`, then `/TEXT`, enter, enter at once), each
    enter arrives as a line feed (ctrl+j). The filter took the first; the second, sent on
    from the field to the list as ctrl+j, was no key there: the KOL never opened."""
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    shown, expected, kind = await _burst_then(store, tmp_path, "ctrl+j", enter="ctrl+j")
    assert kind == "KolPageScreen"
    assert shown == expected


@pytest.mark.xfail(
    strict=True,
    reason=(
        "`n` is a priority binding, acting on arrival; a `down` typed just before it is "
        "still on its way through the table to the app's bindings, so the note opens for "
        "the KOL above the one moved to (main too). Waiting inside the action deadlocks "
        "(the down's binding runs in the app's own queue); deferring priority keys while "
        "earlier ones are in flight (App.on_event) fixed this but broke 12 capture, "
        "add-KOL and KOL-page tests: needs a careful design."
    ),
)
async def test_down_then_n_in_one_burst_writes_for_the_kol_moved_to(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.app_helpers import wait_for

    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    async with _list_on_a_copy(store, tmp_path) as (app, pilot):
        second = app.screen.rows[1].kol_id
        _post(app, ["down", "n"])
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CaptureScreen")
        assert app.screen.current_kol_id == second
