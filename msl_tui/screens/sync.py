"""The sync screen: export a bundle, preview then confirm an import, review conflicts.

Exports, previews and imports run in thread workers and report back with messages; the UI
thread only renders. Nothing is imported until the dry run has been shown and confirmed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Header, Input, Label, ProgressBar, Static

from msl_tui import locations
from msl_tui.store import sync_log
from msl_tui.sync import conflict_words
from msl_tui.sync.export import ExportError, export_bundle, pending_export_count
from msl_tui.sync.importer import ImportError_, bundle_total, import_bundle
from msl_tui.sync.merge import MergeError, refresh_conflicts, resolve
from msl_tui.timestamps import now_iso
from msl_tui.widgets.footer import KeyFooter


def _now() -> str:
    return now_iso()


def _short(value: Any, width: int = 36) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class SyncScreen(Screen[None]):
    """Files in and out: head office and other laptops, by e-mail, USB or a shared drive."""

    CSS_PATH = "sync.tcss"
    BINDINGS = [
        Binding("f2", "export", "Export", id="sync.export"),
        Binding("f3", "preview", "Preview import", id="sync.preview"),
        Binding("f4", "confirm", "Confirm import", id="sync.confirm"),
        Binding("k", "resolve('kept')", "Keep current", id="sync.keep"),
        Binding("o", "resolve('other')", "Take other", id="sync.other"),
        Binding("escape", "back", "Back", id="sync.back"),
    ]

    class Finished(Message):
        """A worker's outcome, as lines for the status panel."""

        def __init__(self, lines: list[str], *, error: bool = False, preview: Path | None = None):
            super().__init__()
            self.lines = lines
            self.error = error
            self.preview = preview

    def __init__(self) -> None:
        super().__init__()
        self.previewed: Path | None = None
        # A file is being written or read: another f2/f3/f4 would start a second run that
        # replaces the first one's result on screen.
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="row"):
            yield Label("Export to folder")
            yield Input(str(locations.exports_dir()), id="export-folder")
            yield Button("Export (F2)", id="export-button")
        with Horizontal(classes="row"):
            yield Label("Import file")
            yield Input(placeholder="path to a .mslsync file", id="import-file")
            yield Button("Preview (F3)", id="preview-button")
            yield Button("Confirm (F4)", id="confirm-button", variant="primary", disabled=True)
        yield ProgressBar(id="sync-progress", show_eta=False)
        yield Static("", id="sync-status")
        yield DataTable(id="sync-conflicts", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Sync with head office"
        table = self.query_one(DataTable)
        table.add_columns("#", "record", "field", "kept", "other (lost the merge)")
        pending = pending_export_count(self.app.store)  # type: ignore[attr-defined]
        self._status([f"{pending} changes not yet exported."])
        self.load_conflicts()

    # -- helpers -----------------------------------------------------------------------------

    def _status(self, lines: list[str], *, error: bool = False) -> None:
        status = self.query_one("#sync-status", Static)
        status.update(Text("\n".join(lines)))  # a typed path, a sender's name: never markup
        status.set_class(error, "error")

    def _progress(self, total: int) -> Any:
        bar = self.query_one(ProgressBar)
        self.app.call_from_thread(bar.update, total=max(total, 1), progress=0)

        def advance(n: int) -> None:
            self.app.call_from_thread(bar.advance, n)

        return advance

    # -- export ------------------------------------------------------------------------------

    @on(Button.Pressed, "#export-button")
    @on(Input.Submitted, "#export-folder")
    def action_export(self) -> None:
        if self.busy:
            return
        folder = self.query_one("#export-folder", Input).value.strip()
        if not folder:
            self._status(["Choose a folder to export to."], error=True)
            return
        self._status([f"Exporting to {folder}..."])
        self._start()
        self.run_export(Path(folder).expanduser())

    def _start(self) -> None:
        self.busy = True
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="sync")
    def run_export(self, folder: Path) -> None:
        store = self.app.store  # type: ignore[attr-defined]
        advance = self._progress(pending_export_count(store))
        try:
            result = export_bundle(store, folder, progress=advance)
        except (ExportError, OSError) as exc:
            self.post_message(self.Finished([f"Export failed: {exc}"], error=True))
            return
        if result.path is None and result.exported_before:
            # The export's own wording names a command-line option; here it is the app's.
            line = "Nothing new to export: every change was in your last export."
        else:
            line = result.line()
        self.post_message(self.Finished([line]))

    # -- import ------------------------------------------------------------------------------

    @on(Button.Pressed, "#preview-button")
    @on(Input.Submitted, "#import-file")
    def action_preview(self) -> None:
        if self.busy:
            return
        name = self.query_one("#import-file", Input).value.strip()
        if not name:
            self._status(["Choose a .mslsync file to import."], error=True)
            return
        self.previewed = None
        self.query_one("#confirm-button", Button).disabled = True
        self._status([f"Checking {name}..."])
        self._start()
        self.run_import(Path(name).expanduser(), dry_run=True)

    @on(Button.Pressed, "#confirm-button")
    def action_confirm(self) -> None:
        if self.busy:
            return
        if self.previewed is None:
            self._status(["Preview the file first (F3): nothing is imported unseen."], error=True)
            return
        self.query_one("#confirm-button", Button).disabled = True
        self._start()
        self.run_import(self.previewed, dry_run=False)

    @work(thread=True, exclusive=True, group="sync")
    def run_import(self, path: Path, dry_run: bool) -> None:
        store = self.app.store  # type: ignore[attr-defined]
        # One step per change: an import reads the file once (it read it twice, checking
        # then merging, when this was twice the total; the bar then stopped at 50%).
        advance = self._progress(bundle_total(path))
        try:
            report = import_bundle(store, path, dry_run=dry_run, progress=advance)
        except ImportError_ as exc:
            self.post_message(self.Finished([str(exc)], error=True))
            return
        if not dry_run:
            # The list keeps its ranking and filter answers in memory: without this, the
            # imported KOLs and the words of their notes stayed out of it until a restart.
            self.app.call_from_thread(self._data_changed)
        lines = report.lines()
        if dry_run and not report.already:
            lines.append("Press F4 to import it.")
        self.post_message(
            self.Finished(lines, preview=path if dry_run and not report.already else None)
        )

    def _data_changed(self) -> None:
        # Hosted by the msl app, its views are told; another host has none to tell.
        refresh = getattr(self.app, "refresh_data", None)
        if refresh is not None:
            refresh()

    def on_sync_screen_finished(self, message: Finished) -> None:
        self.busy = False
        self.refresh_bindings()
        self._status(message.lines, error=message.error)
        self.previewed = message.preview
        self.query_one("#confirm-button", Button).disabled = message.preview is None
        self.load_conflicts()

    # -- conflicts ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="conflicts")
    def load_conflicts(self) -> None:
        store = self.app.store  # type: ignore[attr-defined]
        refresh_conflicts(store, now=_now())
        rows = sync_log.list_conflicts(store)
        words = conflict_words.labels(store, rows)
        self.app.call_from_thread(self._show_conflicts, rows, words)

    def _show_conflicts(
        self, rows: list[dict[str, Any]], words: dict[tuple[str, str], str]
    ) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for r in rows:
            cells = (
                str(r["id"]),
                words[(str(r["entity"]), str(r["record_id"]))],
                r["field"],
                _short(r["kept_value"]),
                _short(r["other_value"]),
            )
            # Text: a value from a bundle is shown as it is (DataTable reads a str as markup).
            table.add_row(*(Text(str(c)) for c in cells), key=str(r["id"]))

    def action_resolve(self, choice: str) -> None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            self._status(["No conflicts to resolve."])
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        try:
            line = resolve(self.app.store, int(key or 0), choice, now=_now())  # type: ignore[attr-defined]
        except MergeError as exc:
            self._status([str(exc)], error=True)
            return
        self._status([f"Resolved: {line}"])
        self._data_changed()  # the value kept may change a row of the list
        self.load_conflicts()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Dim keys that would do nothing now (None shows them disabled in the footer).
        if action in ("export", "preview", "confirm") and self.busy:
            return None
        if action == "confirm":
            return self.previewed is not None or None
        if action == "resolve":
            tables = self.query(DataTable)
            return (bool(tables) and tables.first().row_count > 0) or None
        return True

    def action_back(self) -> None:
        self.app.pop_screen()
