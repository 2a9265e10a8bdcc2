"""Capture is labelled and exact: labels on the top fields, values on one line, the visit
time fixed when capture opens (and kept by a restored draft), drafts saved within 0.2 s,
and `msl note` back at the shell once the note is saved."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from textual.widgets import Select

from msl_tui.app import MslApp
from msl_tui.models import Channel
from msl_tui.note_app import NoteApp
from msl_tui.screens.capture import DRAFT_DEBOUNCE_S, CaptureScreen
from msl_tui.screens.dialogs import Choice, PromptEditor
from msl_tui.screens.kol_list import KolListScreen
from msl_tui.services.visit import draft_id_for
from msl_tui.settings import Settings
from tests.app_helpers import FIXED_NOW, fixed_store, make_app, type_text, wait_for


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")  # visit times are written on the local clock
    time.tzset()


async def _open_capture(pilot, app) -> str:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
    kol_id: str = app.screen.rows[0].kol_id
    await pilot.press("n")
    await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
    return kol_id


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_top_field_has_a_label_on_screen(size: tuple[int, int]) -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=size) as pilot:
        await _open_capture(pilot, app)
        await pilot.pause(0.1)
        labels = {str(label.render()): label for label in app.screen.query("#visit-meta Label")}
        assert set(labels) == {"When", "Channel", "Minutes", "Objective"}
        width = size[0]
        for text, label in labels.items():
            region = label.region
            assert region.width >= len(text) and region.right <= width, text
        for field_id, least in (("when", 12), ("channel", 18), ("duration", 4), ("objective", 20)):
            region = app.screen.query_one(f"#{field_id}").region
            assert region.width >= least and region.right <= width, field_id


async def test_a_long_channel_reads_on_one_line() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_capture(pilot, app)
        channel = app.screen.query_one("#channel", Select)
        channel.value = Channel.LUNCH_AND_LEARN.value
        await pilot.pause(0.1)
        shown = channel.query_one("SelectCurrent #label")
        assert shown.region.height == 1
        assert str(shown.render()) == "lunch-and-learn"


async def test_the_visit_time_is_when_capture_opened_not_when_saved() -> None:
    store = fixed_store()
    clock = [FIXED_NOW]
    app = MslApp(store, now=lambda: clock[0], settings=Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        kol_id = await _open_capture(pilot, app)
        assert app.screen.query_one("#when").value == "2026-11-23 09:00"  # type: ignore[attr-defined]
        clock[0] = FIXED_NOW + timedelta(minutes=40)  # the note takes a while to write
        await type_text(pilot, "Her patient was hospitalised after the second dose.")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, Choice))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
    saved = store.interactions_for(kol_id, limit=1)[0]
    assert saved.occurred_at == FIXED_NOW
    assert saved.adverse_event is not None and saved.adverse_event.day_zero == FIXED_NOW


async def test_a_restored_draft_keeps_its_visit_time() -> None:
    store = fixed_store()
    kol = store.list_kols()[3]
    store.save_draft(
        draft_id_for(kol.id),
        kol.id,
        {
            "kol_id": kol.id,
            "when": "2 hours ago",
            "opened_at": "2026-11-22T16:30:00Z",
            "notes": "Left unsent on the train. A patient was hospitalised.",
        },
    )
    app = make_app(store)  # a day later
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, Choice))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
        when = app.screen.query_one("#when")
        assert when.value == "2 hours ago"  # type: ignore[attr-defined]
        await pilot.pause(0.1)
        assert str(when.tooltip).startswith("Sun 22 Nov 2026 14:30")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, Choice))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, CaptureScreen))
    saved = store.interactions_for(kol.id, limit=1)[0]
    visit_time = FIXED_NOW - timedelta(hours=18, minutes=30)  # Sun 22 Nov 14:30 UTC
    assert saved.occurred_at == visit_time
    assert saved.adverse_event is not None and saved.adverse_event.day_zero == visit_time


async def test_the_draft_is_saved_within_a_fifth_of_a_second_of_the_last_key() -> None:
    assert DRAFT_DEBOUNCE_S <= 0.2
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        kol_id = await _open_capture(pilot, app)
        await type_text(pilot, "Last words before the crash")

        def saved_notes() -> str | None:
            payload = store.load_draft(draft_id_for(kol_id))
            return payload["notes"] if payload else None

        await wait_for(pilot, lambda: saved_notes() == "Last words before the crash", timeout=2)


async def test_msl_note_returns_to_the_shell_once_saved() -> None:
    store = fixed_store()
    kol = store.list_kols()[5]
    app = NoteApp(store, now=lambda: FIXED_NOW, settings=Settings(), open_capture_for=kol.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
        await type_text(pilot, "Quick call about the registry.")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.saved_id is not None)
        await wait_for(pilot, lambda: not app.is_running)
    assert store.interactions_for(kol.id, limit=1)[0].id == app.saved_id


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_own_prompt_dialog_draws_centred(size: tuple[int, int]) -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=size) as pilot:
        await _open_capture(pilot, app)
        await pilot.press("f8")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptEditor))
        await pilot.pause(0.1)
        box = app.screen.query_one("#dialog").region
        width, height = size
        assert abs(box.x - (width - box.right)) <= 1
        assert abs(box.y - (height - box.bottom)) <= 1
