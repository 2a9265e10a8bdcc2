"""The stakeholder matrix: four cells with counts and names, and the mix the phase calls for."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from msl_tui.messages import DataChanged
from msl_tui.models import LifecyclePhase, Segment
from msl_tui.services.matrix import MatrixView, segment_matrix

if TYPE_CHECKING:
    from msl_tui.app import MslApp

# Reach on the vertical axis, interest on the horizontal: the usual stakeholder grid.
LAYOUT = (
    Segment.KEEP_SATISFIED,
    Segment.MANAGE_CLOSELY,
    Segment.MONITOR,
    Segment.KEEP_INFORMED,
)
CELL_LIMIT = 200


class MatrixScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="matrix.back"),
        Binding("l", "phase", "Lifecycle phase", id="matrix.phase"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.phase = LifecyclePhase.LAUNCH
        self.current_kol_id: str | None = None

    @property
    def msl_app(self) -> MslApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="mix")
        with Grid(id="matrix"):
            for segment in LAYOUT:
                with Vertical(classes="cell"):
                    yield Static(segment.value, id=f"title-{segment.name}", classes="cell-title")
                    yield OptionList(id=f"cell-{segment.name}")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Segment matrix"
        self.load()

    @work(thread=True, exclusive=True, group="matrix")
    def load(self) -> None:
        view = segment_matrix(self.msl_app.kol_list, self.phase, self.msl_app.now())
        self.app.call_from_thread(self._render_view, view)

    def _render_view(self, view: MatrixView) -> None:
        mix = " · ".join(
            f"{s.value} {view.actual[s]:.0%} (phase wants {view.target_mix[s]:.0%})"
            for s in Segment
        )
        self.query_one("#mix", Static).update(
            f"Phase: [b]{view.phase.value}[/b] (l changes) — actual vs target mix: {mix}"
        )
        for segment in LAYOUT:
            rows = view.cells[segment]
            self.query_one(f"#title-{segment.name}", Static).update(
                f"[b]{segment.value}[/b] — {len(rows)} KOLs"
            )
            options = self.query_one(f"#cell-{segment.name}", OptionList)
            options.clear_options()
            options.add_options(
                [
                    Option(f"{r.name} ({r.influence.value}, {r.stance.value})", id=r.kol_id)
                    for r in rows[:CELL_LIMIT]
                ]
            )
            if rows:
                options.highlighted = 0
        self.query_one(f"#cell-{Segment.MANAGE_CLOSELY.name}", OptionList).focus()

    def action_phase(self) -> None:
        phases = list(LifecyclePhase)
        self.phase = phases[(phases.index(self.phase) + 1) % len(phases)]
        self.load()

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.current_kol_id = event.option.id

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.msl_app.open_kol(event.option.id)

    @on(DataChanged)
    def _data_changed(self) -> None:
        self.load()
