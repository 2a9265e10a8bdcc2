"""Home: the KOL list ranked by who needs attention now, with the reasons why."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
from datetime import date
from typing import Any, ClassVar, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Header, Input, Static
from textual.widgets.input import Selection

from msl_tui.messages import DataChanged, ListLoaded
from msl_tui.models import Influence, Segment
from msl_tui.safe_text import printable
from msl_tui.screens.context import UsesAppContext
from msl_tui.services.kol_list import SORT_KEYS, KolRow, ListQuery
from msl_tui.services.segments import stance_word
from msl_tui.widgets.footer import KeyFooter
from msl_tui.widgets.plain_table import PlainTable

# Rows added to the table at a time: a DataTable measures every cell on first render, so
# 50,000 rows would freeze the screen; the next window is added as the cursor nears the end.
T = TypeVar("T")

WINDOW = 150
# Rows drawn after a load: a screenful and a margin, at least FIRST_WINDOW. Each row added
# is measured and drawn, and adding a window more after the first paint was most of a
# filter keystroke's time at 50,000 KOLs; scrolling or moving the cursor near the last
# row adds the next window.
FIRST_WINDOW = 60
SCREEN_MARGIN = 10
FOLLOW_LIMIT = 4 * WINDOW  # how deep the cursor follows its KOL after a reload
# `n` typed at launch waits this long at most for the first rows (then says why it can't).
FIRST_ROWS_WAIT_S = 15.0

EMPTY_STORE = (
    "No KOLs yet. Press a to add one, run `msl import-roster FILE.csv`, "
    "or import a roster bundle from head office."
)
NO_MATCH = "No KOL matches. Esc clears the filters."

COLUMNS = (
    ("#", "rank"),
    ("Name", "name"),
    ("Institution", "institution"),
    ("Influence", "influence"),
    ("Stance", "stance"),
    ("Segment", "segment"),
    ("Last", "last"),
    ("Next due", "due"),
    ("F/U", "followups"),
)


def _cycle(options: list[T], current: T | None) -> T | None:
    """None -> first -> ... -> last -> None."""
    if current is None:
        return options[0] if options else None
    index = options.index(current) + 1 if current in options else 0
    return options[index] if index < len(options) else None


NAME_WIDTH = 24  # as wide as the institution column: "Next due" stays on a 120-column screen


def _cut(text: str, width: int, mark: str = "…") -> str:
    # In terminal cells, not letters: a name in Chinese or Korean letters (two cells each)
    # cut at 24 letters took 48 cells and pushed Segment, Next due and F/U off a 120-column
    # screen (QA). A wide letter that would straddle the edge becomes a space.
    if text.isascii():
        return text if len(text) <= width else text[: width - len(mark)] + mark
    # Without emoji presentation selectors: Rich counts "❤️" (a narrow letter and U+FE0F)
    # two cells, tmux, xterm and VTE one, so such a row ran one cell short there and kept
    # a stale character at its end (QA). Without it, one cell everywhere.
    text = text.replace("\ufe0f", "")
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - len(mark)) + mark


def _due_cell(row: KolRow, today: date) -> str:
    if row.ae_hours_left is not None:
        hours = row.ae_hours_left
        return f"AE {hours:.0f}h left" if hours >= 0 else f"AE ! {-hours:.0f}h late"
    # Overdue reads as text ("! 12d over"), never as colour alone.
    return row.due_flag(today) or row.due_label


def _show(static: Static, content: str | Text) -> None:
    """Static.update lays the whole screen out again (twice when its width changes): the
    content it shows already needs neither. The reasons line was set again, the same,
    after each filter keystroke's repaint (the table's highlight), a layout more."""
    if static.content != content:
        static.update(content)


class StateLine(Static):
    """The filter's state ("6,246 of 50,000 · sort: rank"), as wide as its words.

    A widget whose size a layout changed asks for another layout (its virtual size is
    reactive), so each count of another width laid the whole screen out twice, the
    second time a frame after the keystroke's repaint. That layout already placed
    everything around the line at its new width: the second has nothing to move."""

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)


class FilterField(Input):
    """The list's filter: enter hands the cursor to the list, and editing keys edit, in the
    field's own order of keys.

    Input's enter is a binding, looked up once the key has bubbled to the app; the keys typed
    right after it (`/zof`, enter, `n` and a note, in one burst) reached the field first and
    were typed into the filter ("zofnhi", QA). Here enter moves the cursor to the list at
    once, and keys that reach the field after it are sent again to what has the cursor now.
    """

    _sending_on = False  # keys that reach the field once it lost the cursor are sent on

    async def _on_key(self, event: events.Key) -> None:
        # (Input's own handler runs after this one unless prevent_default() is called.)
        # (The screen's, not has_focus: that one follows the Blur event, queued after these.)
        if self.screen.focused is not self:
            event.stop()
            event.prevent_default()
            if event.key == "ctrl+j":
                # An enter typed ahead, made a line feed by the terminal (see below): sent
                # on as one, the list had no key for it and `/hal h`, enter, enter typed
                # at launch never opened the KOL (QA).
                event = events.Key("enter", "\r")
            # A key bound on this screen (`c`, `o`, `/`...) acts here, in its turn, as the
            # app would on its arrival: sent on, a `c` reached the list after the `/`
            # typed next (a priority key, acting on arrival) had given the filter the
            # cursor again, and was dropped as a letter the filter would take ("/he",
            # enter, "c/x" lost the c; "i/ i" chose an influence twice, QA). Once one key
            # is sent on (a letter for what has the cursor, another screen), every later
            # one is sent on too, so that none overtakes it.
            if not self._sending_on and self.app.screen is self.screen:
                if await self.app._check_bindings(event.key, priority=True):
                    return
                if await self.app._check_bindings(event.key):
                    return
            self._sending_on = True
            self.app.post_message(events.Key(event.key, event.character))
            return
        self._sending_on = False
        # ctrl+j: an enter typed ahead, before msl had the terminal (`msl`, enter, then
        # "/holt", enter at once): the terminal's line discipline made it a line feed,
        # and the filter took "holt" and the list keys after it as one text (QA).
        if event.key in ("enter", "ctrl+j"):
            event.stop()
            event.prevent_default()
            self.screen.set_focus(self.screen.query_one("#kols"))  # at once, not in turn
            self.post_message(self.Submitted(self, self.value))
            return
        if event.key == "escape":
            # The screen's escape is a binding too, run once the key had bubbled up: in a
            # burst the letters typed after it went in first and were erased with the rest
            # ("/abc", escape, "dr" left an empty filter; a second escape then "g" typed
            # "g" into the filter, QA). Here it acts in the order typed.
            event.stop()
            event.prevent_default()
            await self.screen.run_action("clear")
            return
        own = self._bindings.key_to_bindings.get(event.key)
        if own:
            # The field's editing keys (backspace, delete, arrows, ctrl+u...) are bindings
            # too, run only once the key has bubbled to the app: in a burst the letters
            # typed after them went in first ("outc pat", eight backspaces, "reg" left
            # "out"). Run here, they act in the order typed. (Stopped, the key never
            # reaches the bindings; Input's own handler still restarts the cursor's blink.)
            event.stop()
            await self.run_action(own[0].action)


def _filter_field() -> FilterField:
    return FilterField(
        placeholder="/ to filter: name, institution, specialty, tags, notes",
        id="filter",
        select_on_focus=False,  # `/` selects the text itself, in its turn (action_filter)
    )


class _Space(Widget):
    def render(self) -> str:
        return ""  # (a bare Widget draws its own name: "Widget#header-space")


def _space(name: str, **styles: object) -> Widget:
    """Room kept for a widget mounted after the first frame: as big, so nothing moves."""
    space = _Space(id=f"{name}-space")
    for rule, value in styles.items():
        setattr(space.styles, rule, value)
    return space


class KolListScreen(UsesAppContext, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        # `/` and `n` act as they arrive (priority), so the words typed right after them
        # reach the filter or the note in order; in the filter they are letters (see
        # check_action). QA: `/kessler` typed fast opened Sync on its `s`.
        Binding("slash", "filter", "Filter", id="list.filter", priority=True),
        Binding("enter", "open", "Open", id="list.open", show=False),
        Binding("n", "note", "New note", id="list.note", priority=True),
        Binding("a,plus", "add_kol", "Add KOL", id="list.add_kol"),
        Binding("m", "app.matrix", "Matrix", id="list.matrix"),
        Binding("s", "app.sync", "Sync", id="list.sync"),
        Binding("g", "segment", "Segment", id="list.segment"),
        Binding("i", "influence", "Influence", id="list.influence", show=False),
        Binding("t", "territory", "Territory", id="list.territory", show=False),
        Binding("c", "area", "Area", id="list.area", show=False),
        Binding("w", "week", "Due 7d", id="list.week"),
        Binding("o", "sort", "Sort", id="list.sort"),
        Binding("r", "reverse", "Reverse", id="list.reverse", show=False),
        Binding("escape", "clear", "Clear", id="list.clear", show=False),
        # The table draws rows a window at a time: its own ctrl+end stopped at the last row
        # drawn (row ~210 of 50,000). This one draws the rest, then goes to the last KOL.
        Binding("ctrl+end", "last", "Last KOL", id="list.last", show=False, priority=True),
    ]

    def __init__(self, *, rows_first: bool = False) -> None:
        """``rows_first`` (a plain launch): the first frame holds the table, its state and
        reasons lines, with space kept for the header, the filter field and the key bar,
        which are mounted right after it (see ``_mount_the_rest``)."""
        super().__init__()
        self._rows_first = rows_first
        self._whole = asyncio.Event()  # every widget of the screen is mounted
        self._rest_started = False  # _mount_the_rest was called
        self._mounting_rest = False  # _mount_the_rest is at work
        self._rest_forgone = False  # the app quits: the rest is not mounted
        self.query_state = ListQuery()
        self.rows: list[KolRow] = []
        self.shown = 0
        self.generation = 0
        self.applied_generation = 0  # the newest load now on screen
        self.loaded = False  # a first load arrived: an empty list now means an empty store
        self.partial = False  # only the first page is on screen; the whole ranking follows
        self.visible_columns: list[str] = []
        self.total = 0
        self.territories: list[str] = []
        self.areas: list[str] = []
        self._filter_pending = False  # a load for the typed text is queued
        self._frozen_ranking: int | None = None
        self._follow: str | None = None  # a KOL the cursor must land on after the next load
        self._first_rows = asyncio.Event()  # set once a first load is on screen
        self._ranked = asyncio.Event()  # set once a whole ranking (not a first page) is

    @property
    def current_kol_id(self) -> str | None:
        """The highlighted KOL, once the rows answer the filter as typed (see
        ``settle_filter``): what `n`, enter, `b`, `p` and the palette act on."""
        self.settle_filter()
        return self._cursor_kol_id

    @property
    def _cursor_kol_id(self) -> str | None:
        """The KOL of the row under the cursor, as the table is now."""
        table = self.query_one("#kols", DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= self.shown:
            return None
        return self.rows[table.cursor_row].kol_id

    def compose(self) -> ComposeResult:
        later = self._rows_first
        yield _space("header", dock="top", height=1) if later else Header()
        with Horizontal(id="filter-bar"):
            yield _space("filter", width="1fr", height=3) if later else _filter_field()
            yield StateLine("", id="filter-state")
        yield PlainTable(id="kols", cursor_type="row", zebra_stripes=True)
        yield Static("", id="reasons")
        yield _space("footer", dock="bottom", height=1) if later else KeyFooter()

    async def _mount_the_rest(self) -> None:
        """A plain launch's header, filter field and key bar, in the places kept for them.
        Styling and drawing them (and first parsing their classes' CSS) was about a third
        of what the first frame cost beyond a bare table's; keys typed meanwhile are held
        by the app until the store has opened, and that waits for this (``whole``)."""
        if self._rest_forgone:
            return
        self._mounting_rest = True
        try:
            with self.app.batch_update():  # one repaint: no frame with both, nothing shifts
                for name, widget in (("header", Header()), ("filter", _filter_field())):
                    space = self.query_one(f"#{name}-space")
                    await space.parent.mount(widget, before=space)  # type: ignore[union-attr]
                    await space.remove()
                space = self.query_one("#footer-space")
                await self.mount(KeyFooter(), before=space)
                await space.remove()
        finally:
            self._mounting_rest = False
        self.refresh_bindings()  # the key bar draws its keys when told of the bindings
        self._whole.set()

    def _compositor_refresh(self) -> None:
        if self.app._batch_count and self._rows_first and not self._rest_started:
            # The app's start holds its repaints in a batch while this screen is laid
            # out: a frame drawn now is thrown away (App._display), and the regions it
            # drew count as done, so the first frame written showed only what changed
            # after (the kept spaces), the rows a frame later. Drawn whole once it ends.
            self._repaint_required = True
            self.check_idle()
            return
        super()._compositor_refresh()
        # The rest of a plain launch's screen is mounted once the first frame is written.
        # (call_after_refresh ran it before: its callbacks run at the first idle, within
        # the start's batch, and the rows came out with the header, the filter and the
        # key bar, some 30 ms later.)
        if self.is_current:
            self._start_the_rest()

    def _start_the_rest(self) -> None:
        if self._rows_first and not self._rest_started:
            self._rest_started = True
            self.call_next(self._mount_the_rest)

    async def whole(self) -> None:
        """Wait until every widget of the screen is mounted (at once but at a plain launch)."""
        await self._whole.wait()

    def forgo_the_rest(self) -> bool:
        """The app quits: a plain launch's header, filter field and key bar are not mounted
        if that has not begun. True if it has and is not done: the app waits (``whole``)
        before it quits, as a widget torn down half-mounted was Textual's traceback on the
        terminal (MountError, NoMatches 'HeaderTitle'; `q` typed at once, QA)."""
        if self._mounting_rest:
            return True
        self._rest_forgone = True
        return False

    def on_mount(self) -> None:
        if self._rows_first:
            # Mounted after the first frame written (_compositor_refresh); this in case
            # none is (a terminal of no size): keys held at launch wait for the rest.
            self.set_timer(0.5, self._start_the_rest)
        else:
            self._whole.set()
        self._set_columns(self.app.size.width)
        table = self.query_one("#kols", DataTable)
        # At once, not widget.focus() (which waits its turn): meanwhile the screen's
        # auto-focus gave the filter the cursor, so keys typed at launch (`/zof`) went into
        # it, `/` included, and the table then took the cursor from under the next ones (QA).
        self.set_focus(table)
        self.watch(table, "scroll_y", self._scrolled, init=False)
        # A plain launch read the first page while the app loaded: drawn in the first frame.
        early = self.msl_app.kol_list.early_page(WINDOW, self.msl_app.now())
        if early is None:
            self.reload()
            return
        self.generation += 1
        self._apply(ListLoaded(early, self.generation))
        self._rank_after_first_page(self.query_state, self.generation)

    @work(thread=True, exclusive=True, group="kol-list")
    def _rank_after_first_page(self, query: ListQuery, generation: int) -> None:
        service = self.msl_app.kol_list
        try:
            result = service.load(query, self.msl_app.now())
        except BaseException:
            self._no_ranking()
            raise
        self.post_message(ListLoaded(result, generation))
        service.warm_search()

    def _no_ranking(self) -> None:
        # (From a worker.) The ranking failed (a busy store, reported): the keys held at a
        # plain launch wait for it (``ranked``) and must not wait for ever (QA).
        with contextlib.suppress(RuntimeError):  # the app has closed
            self.app.call_from_thread(self._ranked.set)

    def _set_columns(self, width: int) -> None:
        """Narrow terminals drop the columns the reasons line repeats anyway."""
        hidden = set()
        if width < 118:
            hidden.add("institution")
        if width < 96:
            hidden |= {"influence", "stance"}
        visible = [key for _, key in COLUMNS if key not in hidden]
        if visible == self.visible_columns:
            return
        # The cursor stays on its KOL: clearing the columns put it back on the first row,
        # and a resize past 96 or 118 columns lost the MSL's place in the list (QA).
        follow = self._cursor_kol_id if self.visible_columns else None
        self.visible_columns = visible
        table = self.query_one("#kols", DataTable)
        table.clear(columns=True)
        for label, key in COLUMNS:
            if key in visible:
                table.add_column(label, key=key)
        shown, self.shown = self.shown, 0
        while self.shown < shown:
            self._add_window()
        self._move_to(follow, max(FOLLOW_LIMIT, shown))

    def on_resize(self) -> None:
        self._set_columns(self.app.size.width)

    # -- loading (worker thread) ----------------------------------------------------------

    def reload(self) -> None:
        self.generation += 1
        self._load(self.query_state, self.generation)
        self._show_state()

    @work(thread=True, exclusive=True, group="kol-list")
    def _load(self, query: ListQuery, generation: int) -> None:
        service = self.msl_app.kol_list
        now = self.msl_app.now()
        if not service.ready and not self.loaded and query == ListQuery():
            # Launch: the first page from the ranking the store keeps, then the rest.
            page = service.first_page(WINDOW, now)
            if page is not None:
                self.post_message(ListLoaded(page, generation))
        elif not service.ready:
            # A filter typed at launch: what the first page holds of its answer at once
            # (its first rows, marked "filtering…"), the whole answer once ranked.
            early = service.first_answer(query, now)
            if early is not None:
                self.post_message(ListLoaded(early, generation))
        try:
            result = service.load(query, now)
        except BaseException:
            self._no_ranking()
            raise
        self.post_message(ListLoaded(result, generation))
        service.warm_search()  # idle now, while the MSL reads the list

    @on(ListLoaded)
    def _loaded(self, message: ListLoaded) -> None:
        if message.generation != self.generation:
            return  # a newer keystroke already asked again
        with self.app.batch_update():  # one repaint for the table, state and reasons
            self._apply(message)

    def _apply(self, message: ListLoaded) -> None:
        # The cursor follows the KOL, not the row number: re-ranking after a save moves rows.
        follow = self._follow or self._cursor_kol_id
        self._follow = None
        self.rows = message.result.rows
        self.total = message.result.total
        self.loaded = True
        self._first_rows.set()
        self.partial = message.result.partial
        if not self.partial:
            self._ranked.set()
            self.territories = message.result.territories
            self.areas = message.result.areas
        table = self.query_one("#kols", DataTable)
        table.clear()
        # As deep as the MSL had scrolled, the cursor follows its KOL: those rows were
        # drawn once already. (Past FOLLOW_LIMIT it jumped to the top after each saved
        # visit, and the MSL lost their place in the list: QA.)
        depth = max(FOLLOW_LIMIT, self.shown + WINDOW)
        self.shown = 0
        self._add_window(max(FIRST_WINDOW, self.app.size.height + SCREEN_MARGIN))
        self._move_to(follow, depth)
        if not self.partial:
            self.applied_generation = message.generation
        self._show_state()
        self._show_reasons()
        token = self.msl_app.kol_list.ranking_token
        if not self.partial and token is not None and token != self._frozen_ranking:
            # A new whole ranking (50,000 rows and their objects) lives on: spare it from
            # the collector's full passes, which took 100-170 ms at random keystrokes.
            self._frozen_ranking = token
            gc.freeze()

    async def first_rows_shown(self) -> None:
        """Wait until a first load is on screen (a plain launch opens the store then)."""
        await self._first_rows.wait()

    async def ranked(self) -> None:
        """Wait until a whole ranking is on screen (keys held at a plain launch act then)."""
        await self._ranked.wait()

    def on_unmount(self) -> None:
        self._whole.set()  # nothing waits for a screen that is gone
        self._ranked.set()
        gc.unfreeze()  # the ranking goes with the screen; its memory may be reclaimed

    def _move_to(self, kol_id: str | None, depth: int = FOLLOW_LIMIT) -> None:
        if kol_id is None:
            return
        # Only as deep as the cursor may follow (the whole list, 50,000 rows, was searched).
        index = next(
            (n for n, r in enumerate(itertools.islice(self.rows, depth)) if r.kol_id == kol_id),
            None,
        )
        if index is None:
            return  # far down a long list: filling the table that deep costs more than it helps
        while index >= self.shown:
            self._add_window()
        self.query_one("#kols", DataTable).move_cursor(row=index, animate=False)

    def _scrolled(self, scroll_y: float) -> None:
        """The mouse wheel scrolls without moving the cursor: rows follow the view too."""
        table = self.query_one("#kols", DataTable)
        if scroll_y + table.size.height >= self.shown - 5 and self.shown < len(self.rows):
            self._add_window()

    def _add_window(self, size: int = WINDOW) -> None:
        table = self.query_one("#kols", DataTable)
        today = self.msl_app.now().date()
        chunk = self.rows[self.shown : self.shown + size]
        cells = [
            {
                "rank": str(r.rank),
                # Cut so one long name cannot push the due date and follow-ups off the
                # screen; the whole name shows under the table for the highlighted KOL.
                "name": _cut(r.name, NAME_WIDTH),
                "institution": _cut(r.institution, 24, mark=""),
                "influence": r.influence.value,
                "stance": stance_word(r.stance),
                "segment": r.segment.value,
                "last": r.last_contact.isoformat() if r.last_contact else "never",
                "due": _due_cell(r, today),
                "followups": f"{r.open_followups}"
                + (f" ({r.overdue_followups}!)" if r.overdue_followups else ""),
            }
            for r in chunk
        ]
        # Text, never markup: names come from rosters and other people's stores, and a
        # plain Text is also drawn without the markup parse a string cell costs each time.
        table.add_rows([[Text(row[key], end="") for key in self.visible_columns] for row in cells])
        self.shown += len(chunk)

    @on(DataChanged)
    def _data_changed(self) -> None:
        self.reload()

    # -- what the MSL sees under the table ------------------------------------------------

    @on(DataTable.RowHighlighted, "#kols")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self.shown - 5 and self.shown < len(self.rows):
            self._add_window()
        self._show_reasons()

    def _show_reasons(self) -> None:
        reasons = self.query_one("#reasons", Static)
        cursor = self.query_one("#kols", DataTable).cursor_row
        row = self.rows[cursor] if self._cursor_kol_id is not None else None
        if row is None:
            if self.rows:
                _show(reasons, "")
            elif self.total == 0 and self.loaded:
                _show(reasons, EMPTY_STORE)
            else:
                settled = self.loaded and not self._waiting()
                _show(reasons, NO_MATCH if settled and self._filtered() else "")
            return
        why = "; ".join(row.reasons) or "nothing pressing"
        _show(reasons, Text.assemble((row.name, "bold"), f" — {row.segment.value}. Why now: {why}"))

    def _filtered(self) -> bool:
        q = self.query_state
        return bool(
            q.text.strip()
            or q.segment
            or q.influence
            or q.territory
            or q.therapeutic_area
            or q.due_this_week
        )

    def _waiting(self) -> bool:
        """A load asked for is not on screen yet (the first ranking, or a filter's answer)."""
        return self.partial or self.applied_generation != self.generation

    def _show_state(self) -> None:
        q = self.query_state
        if self._waiting() and self._filtered():
            parts = ["filtering…"]
        elif not self.loaded:
            parts = ["loading…"]
        elif self.partial:
            parts = [f"first {len(self.rows):,} of {self.total:,}, ranking…"]
        else:
            parts = [f"{len(self.rows):,} of {self.total:,}"]
        for label, value in (
            ("segment", q.segment.value if q.segment else None),
            ("influence", q.influence.value if q.influence else None),
            ("territory", q.territory),
            ("area", q.therapeutic_area),
        ):
            if value:
                # A territory or area is the store's text: shown as it is, never as markup.
                parts.append(f"{label}: {printable(value, 40)}")
        if q.due_this_week:
            parts.append("due in 7 days")
        sort = "family name" if q.sort == "name" else q.sort
        parts.append(f"sort: {sort}{' ↓' if q.descending else ''}")
        _show(self.query_one("#filter-state", Static), Text(" · ".join(parts)))

    # -- filtering ------------------------------------------------------------------------

    @on(Input.Changed, "#filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        self.query_state = self.query_state.with_(text=event.value)
        if not self._filter_pending:
            # After the messages already queued: the keys of a burst (a paste, fast typing)
            # change the text first, then one load asks for the last of it. No timer: the
            # filter runs on the ranking in memory, and a pause was all of a key's wait.
            self._filter_pending = True
            self.call_later(self._filter_now)
        self.generation += 1  # what is on screen no longer answers the filter
        self._show_state()  # "filtering…" at once, never a stale count

    def _filter_now(self) -> None:
        self._filter_pending = False
        # From the ranking in memory when that is the whole answer (no notes to search):
        # shown with the key that asked, in the same repaint, not a worker's turn later.
        answer = self.msl_app.kol_list.answer_now(self.query_state, self.msl_app.now())
        if answer is None:
            self.reload()
            return
        self.generation += 1  # a worker still filtering an older text is answered already
        with self.app.batch_update():
            self._apply(ListLoaded(answer, self.generation))

    def _set(self, **changes: Any) -> None:
        self.query_state = self.query_state.with_(**changes)
        self.reload()

    def action_filter(self) -> None:
        # At once, not after the keys typed right after `/` (widget.focus() waits its turn).
        field = self.query_one("#filter", Input)
        self.set_focus(field)
        # The text selected now, so the next letter typed replaces it: Input selected it
        # on its Focus event, which in a burst came after the keys typed next ("/he",
        # enter, "c/x" read "hex" where typed slowly it read "x", QA).
        field.selection = Selection(0, len(field.value))

    def action_clear(self) -> None:
        filter_input = self.query_one("#filter", Input)
        if self.focused is filter_input and filter_input.value:
            filter_input.value = ""
            return
        filter_input.value = ""
        self.query_state = ListQuery(sort=self.query_state.sort)
        # At once, not focus() (which waits its turn): the keys typed after escape go to
        # the list, not into the filter (see FilterField).
        self.set_focus(self.query_one("#kols", DataTable))
        self.reload()

    def action_segment(self) -> None:
        self._set(segment=_cycle(list(Segment), self.query_state.segment))

    def action_influence(self) -> None:
        self._set(influence=_cycle(list(Influence), self.query_state.influence))

    def action_territory(self) -> None:
        self._set(territory=_cycle(self.territories, self.query_state.territory))

    def action_area(self) -> None:
        self._set(therapeutic_area=_cycle(self.areas, self.query_state.therapeutic_area))

    def action_week(self) -> None:
        self._set(due_this_week=not self.query_state.due_this_week)

    def action_sort(self) -> None:
        keys = list(SORT_KEYS)
        self._set(sort=keys[(keys.index(self.query_state.sort) + 1) % len(keys)])

    def action_reverse(self) -> None:
        self._set(descending=not self.query_state.descending)

    @on(DataTable.HeaderSelected, "#kols")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key == self.query_state.sort:
            self._set(descending=not self.query_state.descending)
        else:
            self._set(sort=key, descending=False)

    # -- opening ----------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#kols")
    def _selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        kol_id = self.current_kol_id
        if kol_id:
            self.msl_app.open_kol(kol_id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("filter", "note", "last") and self._filter_has_focus():
            return False  # typed into the filter: a letter (or the filter's own key), not ours
        return super().check_action(action, parameters)

    def _filter_has_focus(self) -> bool:
        # The screen's focus, not has_focus: that one follows the Blur event, queued after
        # the keys of a burst. "/he", enter, "/x" lost the x: the second `/` was refused
        # as typed into the filter the list already had the cursor from (QA). (No filter
        # yet in a plain launch's first instant: then the table has the cursor.)
        return isinstance(self.focused, FilterField)

    def action_last(self) -> None:
        if not self.rows:
            return
        self._add_window(size=len(self.rows) - self.shown)
        self.query_one("#kols", DataTable).move_cursor(row=len(self.rows) - 1, animate=False)

    def settle_filter(self) -> None:
        """The rows answer the filter as typed, now, before a key acts on the highlighted
        KOL.

        `/hal h`, enter, `n` (or `b`) in one burst (or held at launch and replayed) opened a note
        for the first row of the list as it was before the filter (Dr Zofia Dunmore, who
        does not even match it): `n` acts on arrival, before the filter's text and its
        answer reach the table through this screen's messages (QA). Waiting for them
        here could not work: `n` may be acting from within the filter field's own turn,
        ahead of the change it announces. So the answer is read at once (from memory,
        or the notes' index for a word of three letters or more)."""
        if not self.loaded or (self._rows_first and not self._ranked.is_set()):
            return  # a plain launch holds the keys until the whole ranking is on screen
        if self._filter_has_focus():
            return  # still typing it: its own keys (backspace...) answer as usual
        field = next(iter(self.query("#filter").results(Input)), None)
        if field is not None and field.value != self.query_state.text:
            self.query_state = self.query_state.with_(text=field.value)
        elif not (self._filtered() and self._waiting()):
            return  # the rows on screen are the answer
        self.generation += 1  # a worker's older answer is not shown over this one
        result = self.msl_app.kol_list.load(self.query_state, self.msl_app.now())
        with self.app.batch_update():
            self._apply(ListLoaded(result, self.generation))

    async def action_note(self) -> None:
        if not self.loaded:
            # Typed at launch, before the first rows: it said "No KOLs yet" on a store of
            # 150, and the words typed after it became list keys (territory, sort,
            # reverse: QA). The first rows come in a moment; the note is for the first KOL.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._first_rows.wait(), FIRST_ROWS_WAIT_S)
        kol_id = self.current_kol_id
        if kol_id:
            # Awaited: the keys typed after `n` wait until the note has the cursor.
            await self.msl_app.open_capture(kol_id)
        elif self.total == 0 and self.loaded:
            self.notify("No KOLs yet: press a to add one, then n writes a note for them.")
        else:
            self.notify("No KOL is highlighted: esc clears the filters.")

    def _open_plan_then(self, action: str) -> None:
        from msl_tui.screens.plan import PlanScreen

        kol_id = self.current_kol_id
        if kol_id is None:
            self.notify("Highlight a KOL first: the plan is theirs.")
            return
        self.app.push_screen(PlanScreen(kol_id, then=action))

    def action_add_activity(self) -> None:
        """The palette's "Add activity": the highlighted KOL's plan, on a new activity."""
        self._open_plan_then("add_activity")

    def action_delete_objective(self) -> None:
        self._open_plan_then("delete_objective")

    def action_add_kol(self) -> None:
        from msl_tui.screens.add_kol import add_kol_from

        def added(kol_id: str) -> None:
            self._follow = kol_id  # the cursor lands on the new KOL
            if self._filtered():
                # A filter could hide the new KOL: clear it so the cursor can land there.
                self.query_one("#filter", Input).value = ""
                self.query_state = ListQuery(sort=self.query_state.sort)

        add_kol_from(self.app, self.msl_app, added)
