"""A filter typed while the whole ranking is on its way: the first page's share of its
answer at once (its first rows, marked as filtering), then the whole answer."""

from __future__ import annotations

from textual.widgets import Static

from msl_tui.screens.kol_list import KolListScreen
from msl_tui.services.kol_list import KolListService, ListQuery
from tests.app_helpers import fixed_store, hold_ranking, make_app, wait_for


def _state(screen: KolListScreen) -> str:
    return str(screen.query_one("#filter-state", Static).render())


async def test_a_filter_typed_at_launch_shows_the_first_rows_of_its_answer_then_all() -> None:
    store = fixed_store(kols=400, years=0.2)
    KolListService(store).ranked(make_app(store).now())  # a previous session ranked today
    app = make_app(store)
    gate = hold_ranking(app)  # until the filter has been typed
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, KolListScreen)
        await wait_for(pilot, lambda: bool(screen.rows))
        await pilot.press("slash", "d")
        await wait_for(pilot, lambda: screen.query_state.text == "d" and screen.partial)
        await wait_for(pilot, lambda: all(" d" in r.words for r in screen.rows))
        early = [r.kol_id for r in screen.rows]
        assert early and "filtering" in _state(screen)
        gate.set()
        await wait_for(pilot, lambda: not screen._waiting())
        whole = app.kol_list.load(screen.query_state, app.now())
        assert len(whole.rows) > len(early)
        assert [r.kol_id for r in whole.rows][: len(early)] == early
        assert [r.kol_id for r in screen.rows] == [r.kol_id for r in whole.rows]
    store.close()


def test_the_first_answer_is_the_start_of_the_whole_answer_for_every_filter() -> None:
    store = fixed_store(kols=400, years=0.2)
    now = make_app(store).now()
    KolListService(store).ranked(now)
    service = KolListService(store)
    assert service.first_page(150, now) is not None
    queries = [
        ListQuery(text=t) for t in ("d", "dr", "ca", "card", "zz", "onc", "a b", "ü", "")
    ] + [
        ListQuery(due_this_week=True),
        ListQuery(text="d", due_this_week=True),
    ]
    for query in queries:
        early = service.first_answer(query, now)
        assert early is not None and early.partial
        whole = KolListService(store).load(query, now)
        assert [r.kol_id for r in whole.rows][: len(early.rows)] == [
            r.kol_id for r in early.rows
        ], query
        # Everything the first page held of the answer: nothing missing from it.
        top = {r.kol_id for r in service.first_page(150, now).rows}  # type: ignore[union-attr]
        assert {r.kol_id for r in whole.rows if r.kol_id in top} == {
            r.kol_id for r in early.rows
        }, query
    assert service.first_answer(ListQuery(text="d", sort="name"), now) is None
    store.close()
