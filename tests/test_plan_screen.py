"""The engagement plan edited with keys: objectives and activities added, edited and deleted,
saves that never duplicate, errors in plain words beside the field."""

from __future__ import annotations

import time
from datetime import date

import pytest
from textual.pilot import Pilot

from msl_tui.models import EngagementPlan
from msl_tui.screens.dialogs import Choice
from msl_tui.screens.kol_page import KolPageScreen
from msl_tui.screens.plan import PlanScreen
from msl_tui.store import Store
from tests.app_helpers import fixed_store, make_app, run_command, type_text, wait_for


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")  # due dates are read on the local clock
    time.tzset()


async def open_plan(pilot: Pilot[None]) -> PlanScreen:
    app = pilot.app
    await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
    await pilot.press("p")
    await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen))
    assert isinstance(app.screen, PlanScreen)
    return app.screen


def plan_of(store: Store, screen: PlanScreen) -> EngagementPlan:
    plan = store.current_plan(screen.current_kol_id)
    assert plan is not None
    return plan


def shown(screen: PlanScreen, widget_id: str) -> str:
    return str(screen.query_one(widget_id).render())


async def test_add_an_objective_with_a_plain_word_error_then_save_twice_once() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_plan(pilot)
        before = len(plan_of(store, screen).objectives)
        await pilot.press("a")
        await type_text(pilot, "Agree a joint education session")
        await pilot.press("tab", "tab")
        await type_text(pilot, "six")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Target" in shown(screen, "#obj-error-3"))
        assert shown(screen, "#obj-error-3") == "Target must be a whole number, e.g. 6"
        assert screen.query_one("#obj-target").value == "six"  # type: ignore[attr-defined]
        assert len(plan_of(store, screen).objectives) == before
        await pilot.press("ctrl+a", "ctrl+k", "6", "tab")
        await type_text(pilot, "next fri")
        await pilot.press("ctrl+s", "ctrl+s")
        await wait_for(pilot, lambda: len(plan_of(store, screen).objectives) == before + 1)
        await pilot.pause(0.2)
        added = plan_of(store, screen).objectives[-1]
        assert (added.description, added.target, added.due) == (
            "Agree a joint education session",
            6,
            date(2026, 11, 27),  # the Friday after Monday 23 November
        )
        assert len(plan_of(store, screen).objectives) == before + 1
        assert screen.form is None


async def test_edit_save_save_never_duplicates_the_objective() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plan(pilot)
        before = plan_of(store, screen).objectives
        await pilot.press("e", "ctrl+a", "ctrl+k")
        await type_text(pilot, "Map evidence gaps")
        await pilot.press("ctrl+s", "ctrl+s")
        await wait_for(
            pilot, lambda: plan_of(store, screen).objectives[0].description == "Map evidence gaps"
        )
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        after = plan_of(store, screen).objectives
        assert [o.id for o in after] == [o.id for o in before]
        history = shown(screen, "#history")
        assert f"objective '{before[0].description[:39]}" in history
        assert "renamed 'Map evidence gaps'" in history


async def test_delete_an_objective_asks_first_and_history_keeps_it() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plan(pilot)
        doomed = plan_of(store, screen).objectives[0]
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, Choice))
        await pilot.press("escape")  # keep it
        await wait_for(pilot, lambda: app.screen is screen)
        assert plan_of(store, screen).objectives[0].id == doomed.id
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, Choice))
        await pilot.press("y")
        await wait_for(
            pilot, lambda: doomed.id not in {o.id for o in plan_of(store, screen).objectives}
        )
        await wait_for(pilot, lambda: "deleted" in shown(screen, "#history"))
        assert f"objective '{doomed.description[:39]}" in shown(screen, "#history")


async def test_activities_are_added_edited_and_deleted_from_their_own_table() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_plan(pilot)
        before = len(plan_of(store, screen).activities)
        await pilot.press("tab")  # to the activities table
        assert app.focused is not None and app.focused.id == "activities"
        await pilot.press("a")
        await type_text(pilot, "Spring advisory board")
        await pilot.press("tab")
        await type_text(pilot, "by fri")
        await pilot.press("ctrl+s", "ctrl+s")
        await wait_for(pilot, lambda: len(plan_of(store, screen).activities) == before + 1)
        added = plan_of(store, screen).activities[-1]
        assert (added.description, added.due) == ("Spring advisory board", date(2026, 11, 27))
        # The cursor is on the row just saved: edit it, then delete it.
        await pilot.press("e", "end")
        await type_text(pilot, " (virtual)")
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: (
                plan_of(store, screen).activities[-1].description
                == "Spring advisory board (virtual)"
            ),
        )
        assert len(plan_of(store, screen).activities) == before + 1
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, Choice))
        await pilot.press("y")
        await wait_for(pilot, lambda: len(plan_of(store, screen).activities) == before)
        await wait_for(
            pilot, lambda: "activity 'Spring advisory board" in shown(screen, "#history")
        )


async def test_the_palette_actions_add_an_activity_and_delete_an_objective() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plan(pilot)
        await app.run_action("screen.add_activity")
        await pilot.pause(0.1)
        assert screen.form == "activity"
        assert app.focused is not None and app.focused.id == "act-description"
        await pilot.press("escape")
        assert screen.form is None and isinstance(app.screen, PlanScreen)
        await app.run_action("screen.delete_objective")
        await wait_for(pilot, lambda: isinstance(app.screen, Choice))


async def test_cadence_errors_are_plain_words_and_history_reads_as_a_sentence() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plan(pilot)
        old = plan_of(store, screen).cadence_days
        screen.query_one("#cadence").focus()
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "x")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Cadence" in shown(screen, "#cadence-error"))
        assert shown(screen, "#cadence-error") == "Cadence must be a whole number, e.g. 30"
        await pilot.press("backspace")
        await type_text(pilot, "45")
        await pilot.press("enter")
        await wait_for(pilot, lambda: plan_of(store, screen).cadence_days == 45)
        await wait_for(pilot, lambda: f"cadence {old} → 45 days" in shown(screen, "#history"))
        assert "cadence_days" not in shown(screen, "#history")


async def test_add_activity_from_the_list_palette_opens_the_plan_on_the_form() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        kol_id = app.screen.rows[0].kol_id  # type: ignore[attr-defined]
        await run_command(pilot, "Add activity")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen))
        screen = app.screen
        assert isinstance(screen, PlanScreen) and screen.current_kol_id == kol_id
        await wait_for(pilot, lambda: screen.form == "activity")
        before = len(plan_of(store, screen).activities)
        await type_text(pilot, "Regional education evening")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(plan_of(store, screen).activities) == before + 1)


async def test_delete_objective_from_the_palette_asks_first() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plan(pilot)
        await run_command(pilot, "Delete objective")
        await wait_for(pilot, lambda: isinstance(app.screen, Choice))
        question = str(app.screen.query_one("#question").render())
        assert question.startswith("Delete objective '")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)


async def test_esc_on_a_form_with_typed_text_asks_before_throwing_it_away() -> None:
    # QA 10: esc in the objective/activity forms discarded typed text without a word.
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_plan(pilot)
        before = len(plan_of(store, screen).objectives)
        await pilot.press("a")
        await type_text(pilot, "Something important typed")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, Choice))
        assert "not saved" in str(app.screen.query_one("#question").render())
        await pilot.press("escape")  # stay
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.form == "objective"
        assert screen.query_one("#obj-description").value == "Something important typed"  # type: ignore[attr-defined]
        await pilot.press("escape", "d")  # ask again, then discard
        await wait_for(pilot, lambda: app.screen is screen and screen.form is None)
        assert len(plan_of(store, screen).objectives) == before
        await pilot.press("a", "escape")  # nothing typed: closes without asking
        await wait_for(pilot, lambda: screen.form is None)
        assert app.screen is screen
