"""The head-office view: the field at a glance, four plots, their numbers one key away.

The numbers come from ``services.field_view`` (the reports' own tables), read in a thread
worker; the screen only draws. ``n`` swaps every plot for the table of its numbers.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Header, Static

from msl_tui.services.field_view import Chart, field_view
from msl_tui.widgets.footer import KeyFooter


class HeadOfficeScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "numbers", "Numbers / plots", id="field.numbers"),
        Binding("r", "reload", "Reload", id="field.reload"),
        Binding("escape", "app.pop_screen", "Back", id="field.back"),
    ]
    DEFAULT_CSS = """
    HeadOfficeScreen Grid { grid-size: 2 2; grid-gutter: 0 1; }
    HeadOfficeScreen .chart { border: round $primary; height: 1fr; }
    HeadOfficeScreen #field-status { height: 1; padding: 0 1; }
    """
    KEYS = ("insights", "ae", "coverage", "mix")

    def compose(self) -> ComposeResult:
        from textual_plotext import PlotextPlot

        yield Header()
        yield Static("reading the field...", id="field-status")
        with Grid():
            for key in self.KEYS:
                with (
                    Vertical(classes="chart", id=f"box-{key}"),
                    ContentSwitcher(initial=f"plot-{key}", id=f"switch-{key}"),
                ):
                    yield PlotextPlot(id=f"plot-{key}")
                    yield DataTable(id=f"table-{key}", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Head office: the field at a glance"
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True)
    def _load(self) -> None:
        app = self.app
        charts = field_view(app.store, app.now())  # type: ignore[attr-defined]
        app.call_from_thread(self._show, charts)

    def _show(self, charts: list[Chart]) -> None:
        from textual_plotext import PlotextPlot

        for chart in charts:
            self.query_one(f"#box-{chart.key}").border_title = chart.title
            plot = self.query_one(f"#plot-{chart.key}", PlotextPlot)
            plt = plot.plt
            plt.clear_data()
            plt.clear_figure()
            if not chart.categories:
                plt.title("nothing yet")
            elif chart.kind == "lines":
                for name, values in chart.series.items():
                    plt.plot(list(range(len(chart.categories))), values, label=name)
                plt.xticks(list(range(len(chart.categories))), [c[2:] for c in chart.categories])
            else:
                # plotext takes ``labels`` here; textual-plotext's stub calls it ``label``.
                plt.multiple_bar(  # type: ignore[call-arg]
                    chart.categories, list(chart.series.values()), labels=list(chart.series)
                )
            plot.refresh()
            table = self.query_one(f"#table-{chart.key}", DataTable)
            table.clear(columns=True)
            table.add_columns(*chart.header)
            # Text: an MSL's or a theme's name is shown as it is (a str cell is read as markup).
            table.add_rows([[Text(str(v)) for v in row] for row in chart.rows])
        self.query_one("#field-status", Static).update(
            "n: numbers or plots   r: reload   escape: back"
        )

    def action_numbers(self) -> None:
        for key in self.KEYS:
            switch = self.query_one(f"#switch-{key}", ContentSwitcher)
            showing = switch.current or ""
            switch.current = f"table-{key}" if showing.startswith("plot") else f"plot-{key}"
