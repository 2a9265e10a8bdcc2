"""The stakeholder matrix: influence up, interest across; four cells with counts and names,
the mix the product lifecycle phase calls for, and why the highlighted KOL sits where they do."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from msl_tui.messages import DataChanged
from msl_tui.models import Influence, LifecyclePhase, Segment
from msl_tui.screens.context import UsesAppContext
from msl_tui.services.kol_list import KolRow
from msl_tui.services.matrix import MatrixView, segment_matrix
from msl_tui.services.segments import lifecycle_words, stance_word, why_cell
from msl_tui.widgets.footer import KeyFooter

# Influence (reach) up the vertical axis, interest (stance) across: the usual stakeholder
# grid, high reach on top, high interest on the right.
LAYOUT = (
    Segment.KEEP_SATISFIED,
    Segment.MANAGE_CLOSELY,
    Segment.MONITOR,
    Segment.KEEP_INFORMED,
)
CELL_LIMIT = 200
AXIS_CORNER = "interest →"  # help's word: critics care a lot too, so not "advocacy"
AXIS_X = ("low: neutral or unknown", "high: advocate or critic")
AXIS_Y = (
    "influence ↑\nhigh:\nglobal,\nnational,\nregional\nif growing",
    "low:\nregional,\nlocal",
)


def kol_label(row: KolRow) -> Text:
    """Name and the three things that place a KOL: influence, stance, and a growing stage
    (the one that lifts a regional voice)."""
    growing = row.influence is Influence.REGIONAL and row.stage is not None
    stage = f", {row.stage.value}" if growing and row.stage else ""
    return Text(f"{row.name} ({row.influence.value}, {stance_word(row.stance)}{stage})")


class MatrixScreen(UsesAppContext, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="matrix.back"),
        Binding("l", "phase", "Lifecycle phase", id="matrix.phase"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.phase = LifecyclePhase.LAUNCH
        self.current_kol_id: str | None = None
        self.rows_by_id: dict[str, KolRow] = {}
        self._first_render = True  # start in "manage closely"; later loads keep the focus

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="mix")
        with Grid(id="matrix"):
            yield Static(AXIS_CORNER, classes="axis-corner")
            for text in AXIS_X:
                yield Static(text, classes="axis-x")
            for position, segment in enumerate(LAYOUT):
                if position % 2 == 0:
                    yield Static(AXIS_Y[position // 2], classes="axis-y")
                with Vertical(classes="cell"):
                    yield Static(segment.value, id=f"title-{segment.name}", classes="cell-title")
                    yield OptionList(id=f"cell-{segment.name}")
        yield Static("", id="why")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = "Segment matrix"
        self.load()

    @work(thread=True, exclusive=True, group="matrix")
    def load(self) -> None:
        view = segment_matrix(self.msl_app.kol_list, self.phase, self.msl_app.now())
        self.app.call_from_thread(self._render_view, view)

    def _render_view(self, view: MatrixView) -> None:
        mix = " · ".join(
            f"{s.value} {view.actual[s]:.0%}/{view.target_mix[s]:.0%}" for s in Segment
        )
        self.query_one("#mix", Static).update(
            f"[b]{lifecycle_words(view.phase)}[/b] (l changes) · share of KOLs now/target: {mix}"
        )
        self.rows_by_id = {r.kol_id: r for rows in view.cells.values() for r in rows}
        for segment in LAYOUT:
            rows = view.cells[segment]
            self.query_one(f"#title-{segment.name}", Static).update(
                f"[b]{segment.value}[/b] — {len(rows)} KOLs"
            )
            options = self.query_one(f"#cell-{segment.name}", OptionList)
            options.clear_options()
            options.add_options([Option(kol_label(r), id=r.kol_id) for r in rows[:CELL_LIMIT]])
            if rows:
                options.highlighted = 0
        if self._first_render:
            self._first_render = False
            self.query_one(f"#cell-{Segment.MANAGE_CLOSELY.name}", OptionList).focus()
        self._show_why()

    def action_add_kol(self) -> None:
        """The palette's "Add KOL" works here too."""
        from msl_tui.screens.add_kol import add_kol_from

        add_kol_from(self.app, self.msl_app)

    def action_phase(self) -> None:
        phases = list(LifecyclePhase)
        self.phase = phases[(phases.index(self.phase) + 1) % len(phases)]
        self.load()

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.has_focus:
            self.current_kol_id = event.option.id
            self._show_why()

    def on_descendant_focus(self) -> None:
        # Moving to another cell: the why line follows that cell's highlighted KOL.
        focused = self.focused
        if isinstance(focused, OptionList) and focused.highlighted is not None:
            self.current_kol_id = focused.get_option_at_index(focused.highlighted).id
            self._show_why()

    def _show_why(self) -> None:
        row = self.rows_by_id.get(self.current_kol_id or "")
        why = self.query_one("#why", Static)
        if row is None:
            why.update("Highlight a KOL to see why they sit in their cell.")
            return
        why.update(
            Text.assemble(
                ("Why this cell: ", "bold"),
                (row.name, "bold"),
                " — ",
                why_cell(row.influence, row.stance, row.stage),
            )
        )

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.msl_app.open_kol(event.option.id)

    @on(DataChanged)
    def _data_changed(self) -> None:
        self.load()
