"""Typing the list's filter fast (keys arriving together, erasing too): the list ends on
exactly the whole answer for the final text, drawn, counted, and laid out."""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Input

from msl_tui.screens.kol_list import KolListScreen
from msl_tui.services.kol_list import KolListService, ListQuery
from msl_tui.widgets.plain_table import PlainTable
from tests.app_helpers import fixed_store, make_app, type_text, wait_for

ERASE = "\x7f"  # what a terminal sends for backspace


def _names(table: PlainTable) -> list[str]:
    column = table.get_column_index("name")
    return [str(table.get_row_at(row)[column]) for row in range(table.row_count)]


async def test_a_fast_burst_of_keys_ends_on_the_whole_answer_for_the_last_text() -> None:
    store = fixed_store(kols=150, years=0.4)
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, KolListScreen)
        await wait_for(pilot, lambda: app.kol_list.ready and not screen._waiting())
        await pilot.press("slash")
        # Notes and names, narrowing, a word more, erased back, typed again.
        for burst in ("outc", " pat", ERASE * 8 + "reg", ERASE * 3 + "bi", "ol"):
            await type_text(pilot, burst)
        field = screen.query_one("#filter", Input)
        assert field.value == "biol"
        await wait_for(pilot, lambda: not screen._waiting())
        await pilot.pause()

        whole = KolListService(store).load(ListQuery(text="biol"), app.now())
        assert whole.rows and len(whole.rows) < whole.total
        assert [r.kol_id for r in screen.rows] == [r.kol_id for r in whole.rows]
        table = screen.query_one("#kols", PlainTable)
        assert _names(table) == [r.name for r in whole.rows][: table.row_count]
        state = screen.query_one("#filter-state")
        words = f"{len(whole.rows):,} of {whole.total:,} · sort: rank"
        assert str(state.render()) == words
        # Laid out for the count it shows: as wide as its words, the field beside it.
        assert state.size.width == cell_len(words)
        assert field.outer_size.width + state.outer_size.width == 120
    store.close()
