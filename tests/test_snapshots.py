"""How the main screens look, at the smallest supported terminal and a roomy one.

Update after an intended change with `pytest tests/test_snapshots.py --snapshot-update`,
then look at the report before committing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from msl_tui.app import MslApp
from msl_tui.services.unlock import LockedStore
from msl_tui.settings import Settings
from msl_tui.store import Store
from msl_tui.store.cipher import PassphraseError
from tests.app_helpers import FIXED_NOW, fixed_store, make_app, wait_for

SIZES = [(80, 24), (120, 40)]


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> None:
    # Times render in local time; pin the zone so every machine draws the same picture.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


async def _list_ready(pilot: Pilot[None]) -> None:
    await wait_for(pilot, lambda: bool(getattr(pilot.app.screen, "rows", None)))
    await pilot.pause(0.2)


def _run(*keys: str, settle: float = 0.4, text: str = "", then: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """Press ``keys``; then ``text`` goes into the focused text area at once (key by key it
    took half a minute on a busy machine, for the same picture), then ``then`` is pressed."""

    async def run_before(pilot: Pilot[None]) -> None:
        await _list_ready(pilot)
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.15)
        if text:
            field = pilot.app.focused
            if isinstance(field, Input):
                field.insert_text_at_cursor(text)
            else:
                assert isinstance(field, TextArea), field
                field.insert(text)
            await pilot.pause(0.15)
        for key in then:
            await pilot.press(key)
            await pilot.pause(0.15)
        await pilot.pause(settle)
        # A blinking cursor would make the picture depend on timing.
        for widget in pilot.app.screen.query("Input, TextArea"):
            widget.cursor_blink = False  # type: ignore[attr-defined]
        # Scrolling is animated; on a busy machine it may still be moving.
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.1)

    return run_before


SCREENS = {
    "kol_list": _run(),
    "matrix": _run("m"),
    "kol_page": _run("enter"),
    "plan": _run("enter", "p"),
    # Tab moves focus to the prompts: a focused note's cursor line renders by timing.
    "capture": _run(
        "n", text="Isn't it true the data are the best? Patient had a rash.", then=("tab",)
    ),
    "help": _run("question_mark"),
    "add_kol": _run("a"),
    "plan_form": _run("enter", "p", "e"),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen_snapshot(snap_compare, screen: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app = make_app(fixed_store())
    assert snap_compare(app, terminal_size=size, run_before=SCREENS[screen])


def _locked_app() -> MslApp:
    """The app on an encrypted store before its passphrase: a fixed path, and an opener
    that refuses every passphrase (the picture must not depend on SQLCipher)."""

    def refuse(passphrase: str, remember: bool) -> Store:
        raise PassphraseError("wrong passphrase")

    locked = LockedStore(Path("/home/ana/.local/share/msl-tui/msl.db"), True, refuse)
    return MslApp(None, locked=locked, now=lambda: FIXED_NOW, settings=Settings())


def _passphrase(*keys: str):  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press(*keys)
        if keys:
            await wait_for(pilot, lambda: bool(getattr(pilot.app.screen, "problem", "")))
        for widget in pilot.app.screen.query("Input"):
            widget.cursor_blink = False  # type: ignore[attr-defined]
        await pilot.pause(0.1)

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("state", ["asked", "wrong"])
def test_passphrase_snapshot(snap_compare, state: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    keys = ("t", "r", "y", "enter") if state == "wrong" else ()
    assert snap_compare(_locked_app(), terminal_size=size, run_before=_passphrase(*keys))
