"""Opening capture: the kept screen shows the right styles and lists for each visit, and
its visit time is whole and usable on a narrow terminal."""

from __future__ import annotations

from textual.widgets import Input, OptionList, Select, TextArea

from msl_tui.screens.capture import CaptureScreen
from msl_tui.screens.kol_list import KolListScreen
from tests.app_helpers import fixed_store, make_app, wait_for


async def _open(pilot, app) -> CaptureScreen:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen) and bool(app.screen.rows))
    await pilot.press("n")
    await wait_for(
        pilot, lambda: isinstance(app.screen, CaptureScreen) and app.screen.focused is not None
    )
    await pilot.pause(0.1)
    screen: CaptureScreen = app.screen
    return screen


async def _leave(pilot, app) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("escape")  # nothing typed: no question, back to the list
    await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))


async def test_at_60_columns_the_whole_visit_time_shows_and_can_be_edited() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(60, 24)) as pilot:
        screen = await _open(pilot, app)
        when = screen.query_one("#when", Input)
        assert len(when.value) == len("2026-01-02 09:30")  # a date and a time
        shown = when.render_line(0).text
        assert when.value in shown
        assert when.region.right <= 60
        for field in ("#channel", "#duration", "#objective"):
            assert screen.query_one(field).region.right <= 60, field
        screen.set_focus(when)
        await pilot.press("end", *["backspace"] * 5, *"14:45")
        await pilot.pause(0.3)
        assert when.value.endswith(" 14:45")
        assert when.value in when.render_line(0).text
        assert screen.draft is not None and screen.draft.when == when.value
        assert not when.has_class("-invalid")
        await pilot.press("f5", *"Asked about dosing.")
        await pilot.pause(0.1)
        assert screen.query_one("#notes", TextArea).text == "Asked about dosing."


async def test_the_visit_time_keeps_its_line_when_the_terminal_narrows_while_away() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot, app)
        when = screen.query_one("#when", Input)
        assert when.region.y == screen.query_one("#channel").region.y  # side by side
        await _leave(pilot, app)
        await pilot.resize_terminal(60, 24)
        await pilot.pause(0.1)
        again = await _open(pilot, app)
        assert again is screen
        assert when.value in when.render_line(0).text
        assert screen.query_one("#channel").region.y == when.region.y + 1
        assert screen.query_one("#duration").region.right <= 60


async def test_a_theme_switched_while_capture_was_away_shows_when_it_opens_again() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot, app)
        notes = screen.query_one("#notes", TextArea)
        before = (screen.styles.background, notes.styles.background)
        await _leave(pilot, app)
        await pilot.press("ctrl+t")
        await pilot.pause(0.2)
        listed = app.screen.styles.background
        again = await _open(pilot, app)
        assert again is screen
        assert screen.styles.background == listed
        assert (screen.styles.background, notes.styles.background) != before


async def test_each_visit_starts_at_the_first_question_with_the_kols_own_objectives() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot, app)
        options = screen.query_one("#prompts", OptionList)
        assert options.highlighted == 0
        await pilot.press("ctrl+l", "ctrl+l")
        assert options.highlighted == 2
        await _leave(pilot, app)
        seen = []
        for _ in range(6):  # KOLs with and without a plan: each shows only its own
            await pilot.press("down")
            again = await _open(pilot, app)
            assert options.highlighted == 0
            assert options.option_count == len(again.prompts)
            plan = app.store.current_plan(again.current_kol_id)
            offered = {o.id for o in plan.objectives} if plan else set()
            objective = again.query_one("#objective", Select)
            for value in offered:  # each is one of the choices (an unknown one raises)
                objective.value = value
            assert offered == again.objective_ids
            seen.append(frozenset(offered))
            await _leave(pilot, app)
        assert len(set(seen)) > 1  # the list did change between KOLs
