"""The list while its data is on the way: a first page at once, and a filter typed early
says it is filtering (never "0 of 0"), then shows its answer."""

from __future__ import annotations

from textual.widgets import Static

from msl_tui.screens.kol_list import KolListScreen
from msl_tui.services.kol_list import KolListService
from tests.app_helpers import fixed_store, hold_ranking, make_app, type_text, wait_for


def _state(screen: KolListScreen) -> str:
    return str(screen.query_one("#filter-state", Static).render())


async def test_a_filter_typed_before_the_ranking_is_ready_says_so_then_answers() -> None:
    store = fixed_store()
    app = make_app(store)
    gate = hold_ranking(app)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, KolListScreen)
        await pilot.press("slash")
        await type_text(pilot, "lupus")
        await pilot.pause()
        assert "filtering" in _state(screen)
        assert " 0 of 0" not in f" {_state(screen)}"
        gate.set()
        await wait_for(pilot, lambda: not screen._waiting())
        expected = app.kol_list.load(screen.query_state, app.now())
        assert [r.kol_id for r in screen.rows] == [r.kol_id for r in expected.rows]
        assert _state(screen).startswith(f"{len(expected.rows):,} of 40")
    store.close()


async def test_launch_shows_the_kept_first_page_and_then_the_whole_list() -> None:
    store = fixed_store()
    KolListService(store).ranked(make_app(store).now())  # a previous session ranked today
    app = make_app(store)
    gate = hold_ranking(app)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, KolListScreen)
        await wait_for(pilot, lambda: bool(screen.rows))
        assert screen.partial and "ranking" in _state(screen)
        first = [r.kol_id for r in screen.rows]
        gate.set()
        await wait_for(pilot, lambda: not screen.partial)
        assert [r.kol_id for r in screen.rows][: len(first)] == first
    store.close()


async def test_a_territory_chosen_in_the_list_is_shown_as_its_words_not_as_markup() -> None:
    # Was: the state line was a Static given a plain string, so a territory from the store
    # ("[b]North[/b]", a roster's text) was read as markup: bold "North", or an error for
    # "[/]" that is not markup at all.
    store = fixed_store()
    from msl_tui.models import Kol

    store.save(Kol(name="Dr Ada Roe", territory="[b]North[/b] [/]"))
    app = make_app(store)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, KolListScreen)
        await wait_for(pilot, lambda: screen.loaded and not screen._waiting())
        for _ in range(len(screen.territories)):
            await pilot.press("t")
            await pilot.pause()
            if screen.query_state.territory == "[b]North[/b] [/]":
                break
        await wait_for(pilot, lambda: not screen._waiting())
        assert "territory: [b]North[/b] [/]" in _state(screen)
        assert [r.name for r in screen.rows] == ["Dr Ada Roe"]
    store.close()
