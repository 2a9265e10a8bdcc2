"""The Textual application shell: it owns the store handle and the screen stack."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header

from msl_tui.store import Store


class MslApp(App[None]):
    TITLE = "msl-tui"
    BINDINGS = [Binding("q", "quit", "Quit", id="quit")]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        profile = store.get_profile()
        self.sub_title = profile.name if profile else ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="kols", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Name", "Institution", "Influence", "Stance")
        for kol in self.store.list_kols():
            table.add_row(
                kol.name, kol.institution, kol.influence.value, kol.stance.value, key=kol.id
            )
