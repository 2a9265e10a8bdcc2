"""A plain launch's first frame holds the ranked rows; the header, the filter field and the
key bar are mounted right after it, in room kept for them. Once they are, the screen is the
one a usual start shows, and keys typed in the first instant act as they would then."""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path

import pytest

from msl_tui.app import MslApp
from msl_tui.screens.kol_list import KolListScreen
from msl_tui.services.launch import peek
from msl_tui.settings import Settings
from msl_tui.store import Store
from tests.app_helpers import FIXED_NOW, keys_acted, wait_for
from tests.test_launch_first_page import _seeded

SIZE = (140, 40)


def _launch(db: Path, store_gate: threading.Event) -> MslApp:
    def open_store() -> Store:
        assert store_gate.wait(20)
        return Store.open(db)

    opening = peek(db, open_store, FIXED_NOW)
    assert opening is not None
    return MslApp(None, opening=opening, now=lambda: FIXED_NOW, settings=Settings())


def _hold_the_rest(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """The header, filter field and key bar wait until the event is set."""
    gate = asyncio.Event()
    mount_the_rest = KolListScreen._mount_the_rest

    def held(self: KolListScreen) -> None:
        async def later() -> None:  # a task: the screen's messages go on meanwhile
            await gate.wait()
            await mount_the_rest(self)

        self.run_worker(later())

    monkeypatch.setattr(KolListScreen, "_mount_the_rest", held)
    return gate


def _tree(app: MslApp) -> list[tuple[str, str | None]]:
    return [(type(w).__name__, w.id) for w in app.screen.walk_children()]


def _picture(app: MslApp) -> str:
    return re.sub(r"terminal-\d+", "terminal", app.export_screenshot())


async def test_the_first_frame_has_the_rows_and_room_for_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _seeded(tmp_path / "msl.db")
    rest = _hold_the_rest(monkeypatch)
    store_gate = threading.Event()
    app = _launch(db, store_gate)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, KolListScreen) and screen.rows
        await pilot.pause()
        assert not screen.query("Header") and not screen.query("#filter")
        spaces = {name: screen.query_one(f"#{name}-space").region for name in ("header", "filter")}
        footer_space = screen.query_one("#footer-space").region
        table = screen.query_one("#kols").region
        rest.set()
        await wait_for(pilot, lambda: bool(screen.query("KeyFooter")))
        await pilot.pause()
        assert screen.query_one("Header").region == spaces["header"]
        assert screen.query_one("#filter").region == spaces["filter"]
        assert screen.query_one("KeyFooter").region == footer_space
        assert screen.query_one("#kols").region == table  # the rows did not move
        assert not screen.query("#header-space, #filter-space, #footer-space")
        store_gate.set()
        await wait_for(pilot, lambda: app._store is not None)
    app.store.close()


async def test_once_whole_the_screen_is_the_usual_start_s(tmp_path: Path) -> None:
    db = _seeded(tmp_path / "msl.db")
    store = Store.open(db)
    usual = MslApp(store, now=lambda: FIXED_NOW, settings=Settings())
    async with usual.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: usual.kol_list.ready)
        await pilot.pause()
        expected = (_tree(usual), _picture(usual))
    store.close()
    gate = threading.Event()
    gate.set()
    app = _launch(db, gate)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app._store is not None and app.kol_list.ready)
        await pilot.pause()
        assert (_tree(app), _picture(app)) == expected
    app.store.close()


# Each typed before the header, filter field and key bar are there and the store open.
BURSTS = [
    ("slash", "d", "r"),  # the filter, typed into
    ("slash", "d", "r", "enter", "down"),  # filtered, then the list
    ("down", "down", "down", "up"),  # the cursor
    ("down", "enter"),  # the second KOL's page
    ("q",),  # quits
    ("o", "r"),  # sorted, reversed
]


def _state(app: MslApp, list_screen: KolListScreen) -> tuple[object, ...]:
    focused = app.focused.id if app.focused is not None else None
    table = list_screen.query_one("#kols")
    return (
        type(app.screen).__name__,
        list_screen.query_state,
        getattr(table, "cursor_row", None),
        focused,
        app.return_code,
        app._exit,
    )


@pytest.mark.parametrize("keys", BURSTS)
@pytest.mark.parametrize("store_first", [False, True], ids=["rest-first", "store-first"])
async def test_keys_typed_in_the_first_instant_act_as_after_the_whole_mount(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: tuple[str, ...], store_first: bool
) -> None:
    db = _seeded(tmp_path / "msl.db")
    store = Store.open(db)
    usual = MslApp(store, now=lambda: FIXED_NOW, settings=Settings())
    async with usual.run_test(size=SIZE) as pilot:
        screen = usual.screen
        assert isinstance(screen, KolListScreen)
        await wait_for(pilot, lambda: usual.kol_list.ready and not screen._waiting())
        await pilot.press(*keys)
        await keys_acted(pilot, usual, screen)
        expected = _state(usual, screen)
    store.close()

    rest = _hold_the_rest(monkeypatch)
    gate = threading.Event()
    app = _launch(db, gate)
    async with app.run_test(size=SIZE) as pilot:
        first = app.screen
        assert isinstance(first, KolListScreen) and first.rows
        await pilot.press(*keys)  # held: no filter field yet, no store
        assert first.query_state.text == "" and app.screen is first
        if keys == ("q",):  # (QA qaframe) quitting first quits at once, not held
            assert app.return_code == 0 and not app._held_keys
            rest.set()
            gate.set()
        elif store_first:
            gate.set()  # the store opens before the rest is mounted: the keys still wait
            await wait_for(pilot, lambda: app._opening_started)
            await asyncio.sleep(0.2)
            assert app._store is None and app._held_keys
            rest.set()
        else:
            rest.set()
            await wait_for(pilot, lambda: bool(first.query("KeyFooter")))
            gate.set()
        await wait_for(pilot, lambda: app._exit or app._store is not None)
        await keys_acted(pilot, app, first)
        assert _state(app, first) == expected
    if app._store is not None:
        app.store.close()
