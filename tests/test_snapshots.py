"""How the main screens look, at the smallest supported terminal and a roomy one.

Update after an intended change with `pytest tests/test_snapshots.py --snapshot-update`,
then look at the report before committing.
"""

from __future__ import annotations

import time

import pytest
from textual.pilot import Pilot

from tests.app_helpers import fixed_store, make_app, wait_for

SIZES = [(80, 24), (120, 40)]


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> None:
    # Times render in local time; pin the zone so every machine draws the same picture.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


async def _list_ready(pilot: Pilot[None]) -> None:
    await wait_for(pilot, lambda: bool(getattr(pilot.app.screen, "rows", None)))
    await pilot.pause(0.2)


def _run(*keys: str, settle: float = 0.4):  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await _list_ready(pilot)
        for key in keys:
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
    "capture": _run("n", *"Isn't it true the data are the best? Patient had a rash.", "tab"),
    "help": _run("question_mark"),
    "add_kol": _run("a"),
    "plan_form": _run("enter", "p", "e"),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen_snapshot(snap_compare, screen: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app = make_app(fixed_store())
    assert snap_compare(app, terminal_size=size, run_before=SCREENS[screen])
