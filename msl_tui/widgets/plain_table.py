"""A DataTable that draws a plain one-line text cell without Rich's layout machinery.

Each filter keystroke on the KOL list replaces the rows, so every visible cell (about 300:
40 rows of 8 columns) is drawn anew, and DataTable draws each through Rich (Styled, Padding,
wrapping, cropping): most of a keystroke's time on the UI thread. A cell holding an
unstyled single-line ``Text`` that fits its column comes out of that as four segments in one
style (padding, the text, the fill, padding), so those are built directly here. Any other
cell (the header, styled or too-long text) goes through DataTable's own drawing.
New rows are measured the same way: a plain cell's width is its text's cell count.
tests/test_plain_table.py compares the two for every cell drawn and every width measured.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._types import SegmentLines
from textual.cache import LRUCache
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


class PlainTable(DataTable[Text]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._styles: dict[tuple[Style, Style, Style], Style] = {}
        self._scrollbars_for: tuple[object, ...] | None = None

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        # ScrollView compares the virtual size a layout passes with its own, which the
        # table sets itself: they never match, so every layout of the screen (the typed
        # letter's, the state line's) set the scrollbars again and repainted them a frame
        # later, one more repaint after each filter keystroke's. Nothing they depend on
        # changed since they were last set: they are right as they are.
        styles = self.styles
        depends = (
            size,
            container_size,
            self.virtual_size,
            styles.gutter,
            styles.overflow_x,
            styles.overflow_y,
            styles.scrollbar_gutter,
            styles.scrollbar_size_vertical,
            styles.scrollbar_size_horizontal,
        )
        if depends == self._scrollbars_for and size == self._size:
            return self._container_size != container_size  # as ScrollView answers
        changed = super()._size_updated(size, virtual_size, container_size, layout)
        self._scrollbars_for = depends
        return changed

    def notify_style_update(self) -> None:
        self._scrollbars_for = None  # a new stylesheet or theme: set them again
        super().notify_style_update()

    def _update_dimensions(self, new_rows: Any) -> None:
        # DataTable measures new rows' widths at idle, but its drawn cells and lines are
        # cached under a count that only a change of data bumps. The list draws once right
        # after a load (one batch, one repaint), before that idle: those lines, cut to the
        # headers' widths ("Dr A", "unknow", "neve"), stayed on screen for good (QA). A
        # measure that changes a width drops them.
        widths = [column.content_width for column in self.ordered_columns]
        super()._update_dimensions(self._measure_plain(new_rows))
        if widths != [column.content_width for column in self.ordered_columns]:
            self._update_count += 1
            self._clear_caches()
            self.refresh()

    def _clear_caches(self) -> None:
        # An LRUCache keeps its entries in a ring of lists pointing at each other, so a
        # ring cleared whole is garbage only the cycle collector frees: each filter
        # keystroke left ~4,000 objects (drawn lines, cells, rows) there, and the full
        # collections they brought on every ten keys or so took 40-90 ms at 50,000 KOLs.
        # Emptied link by link first, they are freed at once, a little at each keystroke.
        for cache in (
            self._row_render_cache,
            self._cell_render_cache,
            self._row_renderable_cache,
            self._line_cache,
            self._offset_cache,
            self._ordered_row_cache,
        ):
            _unlink(cache)
        super()._clear_caches()

    def _measure_plain(self, new_rows: Iterable[RowKey]) -> list[RowKey]:
        """Widen the columns for the new rows whose cells are all one-line text; return
        the other rows, for DataTable to measure. DataTable measures each cell through
        Rich (console options, a Measurement): 60 rows of 9 cells took 5 ms of each filter
        keystroke. One-line text measures as its cell count, styled or not."""
        columns = self.ordered_columns
        widths = [column.content_width for column in columns]
        rest = []
        for row_key in new_rows:
            if row_key not in self._row_locations:
                continue  # removed since (DataTable skips it too)
            row = self.rows.get(row_key)
            data = self._data.get(row_key)
            if row is None or data is None or row.label is not None or row.auto_height:
                rest.append(row_key)
                continue
            cells = [_one_line_width(data.get(column.key)) for column in columns]
            if any(width is None for width in cells):
                rest.append(row_key)
                continue
            widths = [max(old, new or 0) for old, new in zip(widths, cells, strict=True)]
        for column, width in zip(columns, widths, strict=True):
            column.content_width = width
        return rest

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        lines = self._plain_cell(row_index, column_index, base_style, width, cursor, hover)
        if lines is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        return lines

    def _plain_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> SegmentLines | None:
        """The cell as DataTable would draw it, or None when it is not a plain one."""
        if row_index < 0 or column_index < 0:
            return None  # the header and row labels: DataTable's own way
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return None
        # The same key as DataTable's cache: a cell drawn either way is drawn once.
        cache_key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached
        row = self.rows.get(row_key)
        if row is None or row.height != 1:
            return None
        cells = self._get_row_renderables(row_index).cells
        if column_index >= len(cells):
            return None
        cell = cells[column_index]
        if not _plain(cell):
            return None
        assert isinstance(cell, Text)
        pad = self.cell_padding
        text = cell.plain
        fill = width - 2 * pad - cell_len(text)
        if fill < 0:
            return None  # cropped: DataTable's own way
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            row_index < self.fixed_rows or column_index < self.fixed_columns,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        # DataTable adds the cell's place (meta, for the mouse) to the base style first; no
        # other style here carries meta, so adding it last gives an equal style, and the
        # rest is the same for every cell of a row kind (plain, zebra, cursor, hover).
        layers = (base_style, component_style, post_style)
        combined = self._styles.get(layers)
        if combined is None:
            if len(self._styles) > 64:
                self._styles.clear()
            combined = self._styles[layers] = base_style + component_style + post_style
        style = combined + Style.from_meta({"row": row_index, "column": column_index})
        padding = Segment(" " * pad, style)
        line = [padding, Segment(text, style)]
        if fill:
            line.append(Segment(" " * fill, style))
        line.append(padding)
        lines = [line]
        self._cell_render_cache[cache_key] = lines
        return lines


def _plain(cell: object) -> bool:
    """Unstyled, one line, printable: drawn by Rich as the text itself."""
    return (
        type(cell) is Text
        and not cell.spans
        and not cell.style
        and cell.end == ""
        and cell.justify is None
        and cell.overflow is None
        and cell.no_wrap is None
        and cell.plain.isprintable()
        and bool(cell.plain)
    )


def _unlink(cache: LRUCache[Any, Any]) -> None:
    """Empty each entry of the cache's ring (see ``_clear_caches``)."""
    for link in cache._cache.values():
        link.clear()


def _one_line_width(cell: object) -> int | None:
    """The width Rich measures for a cell of one-line text (None: anything else). A
    missing cell is drawn empty."""
    if cell is None:
        return 0
    if type(cell) is not Text:
        return None
    text = cell.plain
    if text and not text.isprintable():
        return None  # line breaks, tabs: Rich's own measure
    return cell_len(text)
