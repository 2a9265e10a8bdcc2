"""The list draws a screenful after each load and adds rows as the view nears the last."""

from __future__ import annotations

import gc

from textual.widgets import DataTable

from msl_tui.screens.kol_list import FIRST_WINDOW, WINDOW, KolListScreen
from tests.app_helpers import fixed_store, make_app, wait_for


async def test_rows_follow_the_mouse_wheel_and_the_cursor() -> None:
    app = make_app(fixed_store(kols=400, years=0.2))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, KolListScreen)
                and app.screen.loaded
                and not app.screen.partial
            ),
        )
        screen = app.screen
        assert isinstance(screen, KolListScreen)
        table = screen.query_one("#kols", DataTable)
        assert table.row_count == FIRST_WINDOW < len(screen.rows)
        # The wheel scrolls the view, not the cursor: rows are added all the same (a window
        # or more: the view may still be near the end once the first window lands).
        # (Once the table has laid out its scrollbar: until then Textual refuses to scroll.)
        await wait_for(pilot, lambda: table.show_vertical_scrollbar)
        table.scroll_end(animate=False)
        await wait_for(pilot, lambda: table.row_count >= FIRST_WINDOW + WINDOW)
        # So does the cursor, walking down past the last row drawn.
        drawn = table.row_count
        assert drawn < len(screen.rows)
        table.move_cursor(row=drawn - 1)
        await wait_for(pilot, lambda: table.row_count > drawn)
        # Each row drawn is the ranked row at its place.
        last = table.row_count - 1
        assert str(table.get_row_at(last)[0]) == str(screen.rows[last].rank)


async def test_the_ranking_is_spared_from_full_collections_while_the_list_lives() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, KolListScreen)
                and app.screen.loaded
                and not app.screen.partial
            ),
        )
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0  # given back when the list goes
