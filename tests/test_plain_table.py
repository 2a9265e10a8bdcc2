"""The KOL list's table draws plain cells itself: exactly what DataTable would draw."""

from __future__ import annotations

import gc

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable
from textual.widgets._data_table import RowRenderables

from msl_tui.screens.kol_list import KolListScreen
from msl_tui.widgets.plain_table import PlainTable
from tests.app_helpers import fixed_store, make_app, wait_for


def _both_ways(table: PlainTable, row: int, column: int, width: int, **flags: bool) -> tuple:
    style = table.rich_style
    table._cell_render_cache.clear()
    theirs = DataTable._render_cell(table, row, column, style, width, **flags)
    table._cell_render_cache.clear()
    ours = PlainTable._render_cell(table, row, column, style, width, **flags)
    return theirs, ours


def _check_every_cell(table: PlainTable) -> int:
    """How many cells took the short way; each one drawn as DataTable draws it."""
    short = 0
    for row in range(min(table.row_count, 45)):
        for column, col in enumerate(table.ordered_columns):
            width = col.get_render_width(table)
            for cursor, hover in ((False, False), (True, False), (False, True), (True, True)):
                theirs, ours = _both_ways(table, row, column, width, cursor=cursor, hover=hover)
                assert ours == theirs, (row, column, cursor, hover)
                table._cell_render_cache.clear()
                style = table.rich_style
                short += table._plain_cell(row, column, style, width, cursor, hover) is not None
    return short


async def test_every_cell_of_the_list_is_drawn_as_datatable_draws_it() -> None:
    app = make_app(fixed_store(kols=120, years=0.3))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, KolListScreen) and app.screen.loaded,
        )
        table = app.screen.query_one("#kols", PlainTable)
        assert _check_every_cell(table) > 100
        app.action_toggle_dark_mode()  # the light theme's styles too
        await pilot.pause()
        assert _check_every_cell(table) > 100


class Odd(App[None]):
    """Cells a roster can hold: wide letters, accents, a name longer than its column,
    styled text, empty text, a tab."""

    def compose(self) -> ComposeResult:
        yield PlainTable(zebra_stripes=True, cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(PlainTable)
        table.add_column("Name", key="name", width=8)
        table.add_column("Where", key="where")
        table.add_rows(
            [
                [Text("李小龙", end=""), Text("Zoë Ångström", end="")],
                [Text("A name far too long", end=""), Text("", end="")],
                [Text("bold", style="bold", end=""), Text("tab\there", end="")],
                [Text("e\u0301", end=""), Text("x\ny", end="")],
            ]
        )


async def test_odd_cells_are_drawn_as_datatable_draws_them() -> None:
    app = Odd()
    async with app.run_test() as pilot:
        await pilot.pause()
        # Wide letters, accents, a combining accent: the short way; the rest DataTable's.
        assert _check_every_cell(app.query_one(PlainTable)) == 3 * 4


class Twins(App[None]):
    """The same odd rows in a PlainTable and a DataTable, added in two batches (the
    second widens some columns), one row with a label and one too few cells."""

    ROWS = (
        [Text("李小龙" * 4, end=""), Text("Zoë Ångström", end=""), Text("3", end="")],
        [Text("A name far too long", end=""), Text("", end=""), Text("12 (3!)", end="")],
        [Text("bold", style="bold", end=""), Text("tab\there", end=""), "[b]markup[/b]"],
        [Text("e\u0301", end=""), Text("x\ny", end="")],
        [Text("wider than the first batch, much wider", end=""), 3.25, None],
    )

    def compose(self) -> ComposeResult:
        yield PlainTable(id="plain")
        yield DataTable(id="theirs")

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            for key in ("name", "where", "f/u"):
                table.add_column(key.title(), key=key)
            table.add_rows(self.ROWS[:2])

    def second_batch(self) -> None:
        for table in self.query(DataTable):
            table.add_rows(self.ROWS[2:])
            table.add_row(Text("labelled", end=""), label="L")


def _widths(table: DataTable) -> list[int]:
    return [column.content_width for column in table.ordered_columns]


async def test_new_rows_are_measured_as_datatable_measures_them() -> None:
    app = Twins()
    async with app.run_test() as pilot:
        await pilot.pause()
        plain, theirs = app.query_one("#plain", DataTable), app.query_one("#theirs", DataTable)
        assert _widths(plain) == _widths(theirs)
        app.second_batch()
        await pilot.pause()
        assert _widths(plain) == _widths(theirs)
        assert _widths(plain)[0] == len("wider than the first batch, much wider")
        assert plain.virtual_size == theirs.virtual_size


async def test_clearing_the_table_leaves_nothing_for_the_cycle_collector() -> None:
    """Each filter keystroke clears the table: what its caches held (drawn lines, cells,
    rows) is freed then, not left for a full collection (40-90 ms every ten keys or so
    at 50,000 KOLs)."""
    app = make_app(fixed_store(kols=120, years=0.3))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, KolListScreen) and app.screen.loaded,
        )
        await pilot.pause()
        table = app.screen.query_one("#kols", PlainTable)
        assert table._cell_render_cache and table._line_cache  # drawn
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            table.clear()
            gc.collect()
            # (Not the drawn lines: Strip.divide keeps a whole strip in its own cache.)
            left = [o for o in gc.garbage if isinstance(o, RowRenderables)]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        assert left == []


class Heights(App[None]):
    """A PlainTable and a DataTable side by side, refilled with as many rows as asked."""

    CSS = "DataTable { height: 12; }"

    def compose(self) -> ComposeResult:
        yield PlainTable(id="plain")
        yield DataTable(id="theirs")

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.add_column("Name", key="name")

    def fill(self, rows: int, width: int = 5) -> None:
        for table in self.query(DataTable):
            table.clear()
            table.add_rows([[Text(f"{n:0{width}}", end="")] for n in range(rows)])


def _scrollbars(table: DataTable) -> tuple:
    bar = table.vertical_scrollbar
    return (
        table.show_vertical_scrollbar,
        table.show_horizontal_scrollbar,
        bar.window_virtual_size if table.show_vertical_scrollbar else None,
        bar.window_size if table.show_vertical_scrollbar else None,
        table.max_scroll_y,
        table.scroll_y,
    )


async def test_the_scrollbars_follow_the_rows_as_datatables_do() -> None:
    app = Heights()
    async with app.run_test(size=(60, 30)) as pilot:
        plain, theirs = app.query_one("#plain", DataTable), app.query_one("#theirs", DataTable)
        for rows, width in ((3, 5), (60, 5), (60, 5), (2, 70), (200, 5), (0, 5), (40, 5)):
            app.fill(rows, width)
            await pilot.pause()
            plain.scroll_end(animate=False, immediate=True)
            theirs.scroll_end(animate=False, immediate=True)
            await pilot.pause()
            assert _scrollbars(plain) == _scrollbars(theirs), (rows, width)
            await pilot.resize_terminal(60 + rows % 7, 30 - rows % 5)
            await pilot.pause()
            assert _scrollbars(plain) == _scrollbars(theirs), ("resized", rows, width)
