"""One capture screen serves visit after visit: each starts blank, and nothing of the
visit before (its text, its sections, its refusal, its undo history) reaches the next."""

from __future__ import annotations

from textual.widgets import Collapsible, Input, Select, TextArea

from msl_tui.models import Interaction
from msl_tui.screens.capture import CaptureScreen
from msl_tui.screens.kol_list import KolListScreen
from tests.app_helpers import fixed_store, make_app, type_text, wait_for


async def _open(pilot, app) -> CaptureScreen:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen) and bool(app.screen.rows))
    kol_id = app.screen.current_kol_id
    await pilot.press("n")
    await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen) and app.screen.focused)
    screen: CaptureScreen = app.screen
    assert screen.current_kol_id == kol_id and screen.draft is not None
    assert screen.draft.kol_id == kol_id
    return screen


async def test_the_next_visit_starts_blank_on_the_same_screen() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        first = await _open(pilot, app)
        await pilot.press("ctrl+s")  # an empty note: refused on the field
        await pilot.pause(0.1)
        assert str(first.query_one("#form-error").render()).startswith("! Note")
        await type_text(pilot, "Asked about the registry.")
        await pilot.press("f4")
        await type_text(pilot, "Is it safe in dialysis?")
        await pilot.press("f2", "enter", "down", "down", "down", "enter")  # negative feedback
        await pilot.pause(0.1)
        assert first.draft is not None and first.draft.feedback_sentiment
        before = store.count(Interaction)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
        assert store.count(Interaction) == before + 1

        await pilot.press("down")
        second = await _open(pilot, app)
        assert second is first  # kept, not built again
        assert second.query_one("#notes", TextArea).text == ""
        assert second.query_one("#request", Input).value == ""
        assert second.query_one("#insight-text", Input).value == ""
        assert str(second.query_one("#form-error").render()) == ""
        assert all(box.collapsed for box in second.query(Collapsible))
        assert second.query_one("#fb-sentiment", Select).is_blank()
        assert second.draft is not None and not second.draft.has_text()
        await pilot.press("ctrl+z")  # the last visit's note is not in the undo history
        await pilot.pause(0.1)
        assert second.query_one("#notes", TextArea).text == ""


async def test_a_kept_draft_stays_with_its_kol_while_another_visit_is_written() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        first = await _open(pilot, app)
        kol_a = first.current_kol_id
        await type_text(pilot, "Half a thought about biomarkers")
        await pilot.press("f4")
        await type_text(pilot, "A verbatim question")
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "Choice")
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
        await pilot.press("down")
        other = await _open(pilot, app)
        assert other.current_kol_id != kol_a
        assert other.query_one("#notes", TextArea).text == ""
        assert other.query_one("#request", Input).value == ""
        await type_text(pilot, "A note for B")
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "Choice")
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
        await pilot.press("up")
        back = await _open(pilot, app)
        assert back.current_kol_id == kol_a
        assert back.query_one("#notes", TextArea).text == "Half a thought about biomarkers"
        await wait_for(pilot, lambda: bool(back.query("#request")))
        await pilot.pause(0.1)
        assert back.query_one("#request", Input).value == "A verbatim question"
    assert len(store.list_drafts()) == 2
