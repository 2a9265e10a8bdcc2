"""How the adverse-event question looks over the capture screen, small and roomy.

The modal holds the focus, so no text cursor blinks in the picture. Update after an
intended change with `--snapshot-update`, then look at the report before committing.
"""

from __future__ import annotations

import time

import pytest
from textual.pilot import Pilot

from tests.app_helpers import fixed_store, make_app, type_text, wait_for


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


async def _ae_question(pilot: Pilot[None]) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
    await pilot.press("n")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "CaptureScreen")
    await type_text(pilot, "Her patient was hospitalised after the second dose.")
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "Choice")
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.3)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_adverse_event_question(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(fixed_store()), terminal_size=size, run_before=_ae_question)


async def _prompt_reworded(pilot: Pilot[None]) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
    await pilot.press("n")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "CaptureScreen")
    await pilot.press("f8")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "PromptEditor")
    await type_text(pilot, "Don't you think our drug works better?")
    await pilot.press("enter")
    await pilot.pause(0.3)
    for widget in app.screen.query("Input"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_leading_own_prompt_is_reworded(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(fixed_store()), terminal_size=size, run_before=_prompt_reworded)
