"""An MSL's morning, driven with keys: the ranked list, a KOL, a follow-up, the plan."""

from __future__ import annotations

from msl_tui.models import EngagementPlan, FollowUp
from msl_tui.screens.capture import CaptureScreen
from msl_tui.screens.kol_list import KolListScreen
from msl_tui.screens.kol_page import KolPageScreen
from msl_tui.screens.matrix import MatrixScreen
from msl_tui.screens.plan import PlanScreen
from tests.app_helpers import fixed_store, make_app, type_text, wait_for


def list_screen(app) -> KolListScreen:  # type: ignore[no-untyped-def]
    screen = app.screen
    assert isinstance(screen, KolListScreen)
    return screen


async def test_the_unreported_adverse_event_is_ranked_first_with_its_hours_left() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        top = list_screen(app).rows[0]
        assert top.ae_hours_left is not None and 0 < top.ae_hours_left <= 24
        reasons = str(app.screen.query_one("#reasons").render())
        assert "adverse event mention not yet reported" in reasons


async def test_typing_a_filter_narrows_the_list_to_matching_kols() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        everyone = len(list_screen(app).rows)
        await pilot.press("slash")
        await type_text(pilot, "lupus")
        await wait_for(pilot, lambda: len(list_screen(app).rows) < everyone)
        matched = {r.kol_id for r in list_screen(app).rows}
        assert matched == set(store.search_kol_ids("lupus"))
        await pilot.press("enter", "escape")
        await wait_for(pilot, lambda: len(list_screen(app).rows) == everyone)


async def test_segment_filter_and_sort_keys_change_what_is_shown() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        await pilot.press("g")  # first segment: manage closely
        await wait_for(pilot, lambda: list_screen(app).query_state.segment is not None)
        await wait_for(
            pilot, lambda: {r.segment.value for r in list_screen(app).rows} == {"manage closely"}
        )
        await pilot.press("o")  # sort by name: the family name, titles aside
        await wait_for(pilot, lambda: list_screen(app).query_state.sort == "name")

        def families() -> list[str]:
            return [r.name.split()[-1] for r in list_screen(app).rows]

        await wait_for(pilot, lambda: families() == sorted(families()))
        assert families()[0] < families()[-1]


async def test_open_a_kol_tick_a_follow_up_edit_the_plan_and_go_back() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        kol_id = list_screen(app).rows[0].kol_id
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        page = app.screen
        assert isinstance(page, KolPageScreen)
        await wait_for(pilot, lambda: bool(page.followups))
        first = page.followups[0]
        assert not first.done
        await pilot.press("x")
        await wait_for(pilot, lambda: store.get(FollowUp, first.id).done)  # type: ignore[union-attr]

        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen))
        plan_before = store.current_plan(kol_id)
        assert isinstance(plan_before, EngagementPlan) and plan_before.objectives
        await pilot.press("e")
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "Map evidence gaps in elderly patients")
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: (
                store.current_plan(kol_id).objectives[0].description  # type: ignore[union-attr]
                == "Map evidence gaps in elderly patients"
            ),
        )
        history = str(app.screen.query_one("#history").render())
        assert "renamed 'Map evidence gaps in elderly patients'" in history

        # Count it by logged interactions instead: with a target of the visits already
        # linked to it, progress shows it met.
        first = store.current_plan(kol_id).objectives[0]  # type: ignore[union-attr]
        linked = sum(1 for i in store.interactions_for(kol_id) if i.objective_id == first.id)
        assert linked >= 1
        table = app.screen.query_one("#objectives")
        await pilot.press("e", "tab", "ctrl+a", "ctrl+k")
        await type_text(pilot, "interactions")
        await pilot.press("tab", "ctrl+a", "ctrl+k")
        await type_text(pilot, str(linked))
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: str(table.get_row_at(0)[-1]) == f"met · {linked}/{linked} interactions",  # type: ignore[attr-defined]
        )

        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))


async def test_a_bad_objective_value_is_reported_and_kept_as_typed() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen))
        await pilot.press("a")
        await type_text(pilot, "Agree a joint education session")
        target = app.screen.query_one("#obj-target")
        target.value = "0"  # below the minimum of 1
        await pilot.press("ctrl+s")
        await wait_for(
            pilot, lambda: "Target" in str(app.screen.query_one("#obj-error-3").render())
        )
        error = str(app.screen.query_one("#obj-error-3").render())
        assert error == "Target must be between 1 and 10,000"
        assert app.screen.query_one("#obj-description").value == "Agree a joint education session"


async def test_the_matrix_shows_every_kol_once_and_opens_one() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MatrixScreen))
        kols = len(store.list_kols())
        await wait_for(
            pilot,
            lambda: sum(len(ol.options) for ol in app.screen.query("OptionList")) == kols,  # type: ignore[attr-defined]
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))


async def test_help_opens_from_anywhere_and_closes() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))


async def test_opening_the_plan_writes_nothing() -> None:
    store = fixed_store()
    app = make_app(store)

    def changes() -> int:
        return int(store.db.execute("select count(*) from changes").fetchone()[0])

    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        before = changes()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen))
        await pilot.pause(0.5)
        assert changes() == before


async def test_the_cursor_stays_on_the_kol_after_saving_a_visit() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        screen = list_screen(app)
        today = app.now().date()
        # An overdue KOL: a visit now moves them down the ranking.
        overdue = next(n for n, r in enumerate(screen.rows) if r.due_flag(today).startswith("!"))
        for _ in range(overdue):
            await pilot.press("down")
        kol_id = screen.current_kol_id
        rank_before = [r.kol_id for r in screen.rows].index(kol_id)  # type: ignore[arg-type]
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
        await type_text(pilot, "Caught up on the registry.")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen)
        # Contact just made: the KOL drops down the ranking, and the cursor goes with them.
        await wait_for(pilot, lambda: [r.kol_id for r in screen.rows].index(kol_id) != rank_before)  # type: ignore[arg-type]
        assert screen.current_kol_id == kol_id
