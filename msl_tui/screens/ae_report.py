"""Dialogs that close the adverse-event loop: the hand-off to pharmacovigilance, and later
follow-up information."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from msl_tui.models import Interaction
from msl_tui.screens.context import UsesAppContext
from msl_tui.services.adverse_events import (
    AEReportError,
    AEReportForm,
    add_followup_info,
    local_stamp,
    mark_reported,
    report_from_form,
    report_status,
    unmark_reported,
)

DIALOG_CSS = """
    align: center middle;
    & > #ae-dialog {
        width: 78;
        max-width: 96%;
        height: auto;
        border: thick $warning;
        background: $surface;
        padding: 0 1;
    }
    .ae-head {
        padding: 0 0 1 0;
    }
    .ae-row {
        height: auto;
    }
    .ae-row Label {
        width: 22;
    }
    .ae-row Input {
        width: 1fr;
    }
    .ae-error {
        color: $error;
        padding: 0 0 0 22;
        height: auto;
        display: none;
    }
    .ae-hint, .ae-keys {
        color: $text-muted;
        padding: 1 0 0 0;
    }
    #ae-preview {
        padding: 1 0 0 0;
    }
"""

# (field name the service reports, widget id, label the MSL reads)
FIELDS = (
    ("to", "ae-to", "To whom / case ref"),
    ("reported", "ae-when", "Reported when"),
    ("note", "ae-note", "Note (optional)"),
    ("day zero", "ae-day-zero", "Day zero"),
)


def visit_heading(kol_name: str, visit: Interaction) -> Content:
    event = visit.adverse_event.event if visit.adverse_event else ""
    return Content.from_markup(
        "[b]$name[/b] · visit $when · $event",
        name=kol_name,
        when=local_stamp(visit.occurred_at),
        event=event or "event not described",
    )


class AEReportDialog(UsesAppContext, ModalScreen[bool]):
    """When and to whom the event went; day zero defaults to the visit and can be changed."""

    DEFAULT_CSS = "AEReportDialog {" + DIALOG_CSS + "}"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="ae_report.cancel"),
        Binding("ctrl+s", "save", "Save", id="ae_report.save"),
        Binding("ctrl+r", "unmark", "Not reported after all", id="ae_report.unmark"),
    ]

    def __init__(self, kol_name: str, visit: Interaction) -> None:
        super().__init__()
        assert visit.adverse_event is not None
        self.kol_name = kol_name
        self.visit = visit
        event = visit.adverse_event
        self.correcting = event.reported_at is not None
        # Correcting a report starts from what was recorded.
        self.initial = {
            "ae-to": event.reference,
            "ae-when": local_stamp(event.reported_at) if event.reported_at else "now",
            "ae-note": "",
            "ae-day-zero": local_stamp(event.day_zero),
        }

    def compose(self) -> ComposeResult:
        title = (
            "Correct the adverse event report" if self.correcting else "Mark adverse event reported"
        )
        with Vertical(id="ae-dialog"):
            yield Static(Content.from_markup("[b]$t[/b]", t=title))
            yield Static(visit_heading(self.kol_name, self.visit), classes="ae-head")
            for _, widget_id, label in FIELDS:
                with Horizontal(classes="ae-row"):
                    yield Label(label)
                    yield Input(self.initial[widget_id], id=widget_id, compact=True)
                yield Static("", id=f"{widget_id}-error", classes="ae-error")
            yield Static("", id="ae-preview")
            yield Static(
                "Times as you say them: now, today 14:30, yesterday 9am, 21/11 10:00. Day zero is "
                "when the company first heard of it: the visit, unless someone knew earlier.",
                classes="ae-hint",
            )
            keys = "enter or ctrl+s saves · tab next field · esc cancels"
            if self.correcting:
                keys += " · ctrl+r: not reported after all"
            yield Static(keys, classes="ae-keys")

    def on_mount(self) -> None:
        self.query_one("#ae-to", Input).focus()
        self._preview()

    def _form(self) -> AEReportForm:
        value = {wid: self.query_one(f"#{wid}", Input).value for _, wid, _ in FIELDS}
        return AEReportForm(
            reported_at=value["ae-when"],
            reported_to=value["ae-to"],
            note=value["ae-note"],
            day_zero=value["ae-day-zero"],
        )

    def _show_error(self, error: AEReportError | None) -> None:
        for field, wid, _ in FIELDS:
            text = error.message if error is not None and error.field == field else ""
            line = self.query_one(f"#{wid}-error", Static)
            line.update(Content(text))
            line.display = bool(text)

    @on(Input.Changed)
    def _preview(self) -> None:
        """What will be recorded, in words, as it is typed; mistakes are only shown on save,
        except for times that cannot be read."""
        assert self.visit.adverse_event is not None
        form = self._form()
        preview = self.query_one("#ae-preview", Static)
        try:
            event = report_from_form(
                self.visit.adverse_event,
                AEReportForm(form.reported_at, form.reported_to or "-", "", form.day_zero),
                self.msl_app.now(),
                dayfirst=self.msl_app.settings.dayfirst,
            )
        except AEReportError as error:
            preview.update(Content(""))
            self._show_error(error if error.field != "to" else None)
            return
        self._show_error(None)
        event = event.model_copy(update={"reference": " ".join(form.reported_to.split())})
        preview.update(Content("Will read: " + report_status(event, self.msl_app.now())))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        try:
            mark_reported(
                self.msl_app.store,
                self.visit.id,
                self._form(),
                self.msl_app.now(),
                dayfirst=self.msl_app.settings.dayfirst,
            )
        except AEReportError as error:
            self._show_error(error)
            for field, wid, _ in FIELDS:
                if field == error.field:
                    self.query_one(f"#{wid}", Input).focus()
            return
        self.dismiss(True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.correcting if action == "unmark" else True

    def action_unmark(self) -> None:
        """Marked on the wrong visit, or too soon: the event waits to be reported again."""
        unmark_reported(self.msl_app.store, self.visit.id)
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class AEFollowUpDialog(UsesAppContext, ModalScreen[bool]):
    """Information that arrived after the hand-off, added to the visit with its date."""

    DEFAULT_CSS = "AEFollowUpDialog {" + DIALOG_CSS + "}"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="ae_followup.cancel"),
    ]

    def __init__(self, kol_name: str, visit: Interaction) -> None:
        super().__init__()
        self.kol_name = kol_name
        self.visit = visit

    def compose(self) -> ComposeResult:
        assert self.visit.adverse_event is not None
        status = report_status(self.visit.adverse_event, self.msl_app.now())
        with Vertical(id="ae-dialog"):
            yield Static(Content.from_markup("[b]Add adverse event follow-up[/b]"))
            yield Static(visit_heading(self.kol_name, self.visit))
            yield Static(Content(status), classes="ae-head")
            with Horizontal(classes="ae-row"):
                yield Label("What arrived")
                yield Input(id="ae-followup", compact=True, placeholder="e.g. patient recovered")
            yield Static("", id="ae-followup-error", classes="ae-error")
            yield Static(
                "It is added under the visit's note with today's date; the earlier text is kept.",
                classes="ae-hint",
            )
            yield Static("enter saves · esc cancels", classes="ae-keys")

    def on_mount(self) -> None:
        self.query_one("#ae-followup", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            add_followup_info(self.msl_app.store, self.visit.id, event.value, self.msl_app.now())
        except AEReportError as error:
            line = self.query_one("#ae-followup-error", Static)
            line.update(Content(error.message))
            line.display = True
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
