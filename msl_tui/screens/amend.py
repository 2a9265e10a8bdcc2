"""Amend a submitted visit: the text is corrected, a reason is required, the earlier text stays."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Header, Input, Label, Static, TextArea

from msl_tui.models import Interaction
from msl_tui.screens.dialogs import Choice, confirm_adverse_event
from msl_tui.services.adverse_events import local_stamp
from msl_tui.services.visit import VisitError, amend, new_adverse_event_mentions
from msl_tui.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from msl_tui.app import MslApp


class AmendScreen(Screen[bool]):
    DEFAULT_CSS = """
    AmendScreen #amend-head, AmendScreen #amend-help {
        padding: 0 1;
    }
    AmendScreen #amend-help {
        color: $text-muted;
    }
    AmendScreen #amend-text {
        height: 1fr;
        min-height: 5;
    }
    AmendScreen #amend-reason-row {
        height: auto;
        padding: 1 1 0 1;
    }
    AmendScreen #amend-reason-row Label {
        width: 8;
    }
    AmendScreen #amend-reason {
        width: 1fr;
    }
    AmendScreen #amend-error {
        color: $error;
        padding: 0 1 0 10;
        height: auto;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save amendment", id="amend.save"),
        Binding("escape", "leave", "Cancel", id="amend.cancel"),
        # priority: TextArea uses f6 itself (select line), and the reason would overwrite it.
        Binding("f6", "focus_reason", "Reason", id="amend.reason", priority=True),
    ]

    def __init__(self, kol_name: str, visit: Interaction) -> None:
        super().__init__()
        self.kol_name = kol_name
        self.visit = visit

    @property
    def msl_app(self) -> MslApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        v = self.visit
        yield Header()
        yield Static(
            Content.from_markup(
                "[b]Amend the visit of $when[/b] · $channel, $minutes min · $name",
                when=local_stamp(v.occurred_at),
                channel=v.channel.value,
                minutes=str(v.duration_min),
                name=self.kol_name,
            ),
            id="amend-head",
        )
        yield Static(
            "Correct the text. The earlier text is kept beside the amendment, with your reason.",
            id="amend-help",
        )
        yield TextArea(v.notes, id="amend-text", soft_wrap=True)
        with Horizontal(id="amend-reason-row"):
            yield Label("Reason")
            yield Input(
                id="amend-reason", compact=True, placeholder="why it changes, e.g. wrong dose typed"
            )
        yield Static("", id="amend-error")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = self.kol_name
        self.query_one("#amend-text", TextArea).focus()

    def _text(self) -> str:
        return self.query_one("#amend-text", TextArea).text

    def _error(self, message: str) -> None:
        self.query_one("#amend-error", Static).update(Content(message))

    def action_focus_reason(self) -> None:
        self.query_one("#amend-reason", Input).focus()

    def on_input_submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        text = self._text()
        reason = self.query_one("#amend-reason", Input)
        if text == self.visit.notes:
            self._error("The text is unchanged: correct it first, or esc to leave.")
            self.query_one("#amend-text", TextArea).focus()
            return
        if not reason.value.strip():
            self._error("Say why it changes: the reason is kept with the earlier text.")
            reason.focus()
            return
        added = (
            new_adverse_event_mentions(self.visit.notes, text)
            if self.visit.adverse_event is None
            else []
        )
        if not added:
            self._save(text, reason.value, adverse_event=False)
            return

        # The same question a new note asks: an event told in a correction must not sit
        # unreported because it arrived by amendment.
        def answered(answer: str | None) -> None:
            if answer in ("yes", "no"):
                self._save(text, reason.value, adverse_event=answer == "yes")

        self.app.push_screen(confirm_adverse_event(added), answered)

    def _save(self, text: str, reason: str, *, adverse_event: bool) -> None:
        try:
            amend(
                self.msl_app.store,
                self.visit.id,
                text,
                reason,
                self.msl_app.now(),
                adverse_event=adverse_event,
            )
        except VisitError as error:
            # The reason is checked above; what is left is a note past the size a record holds.
            self._error(error.message if error.field == "reason" else "The text is too long.")
            return
        if adverse_event:
            self.notify(
                "Adverse event recorded: report it to pharmacovigilance within 24 hours "
                "of the visit (r on the KOL page).",
                severity="warning",
                timeout=8,
            )
        self.dismiss(True)

    def action_leave(self) -> None:
        if self._text() == self.visit.notes:
            self.dismiss(False)
            return

        def answered(answer: str | None) -> None:
            if answer == "discard":
                self.dismiss(False)

        self.app.push_screen(
            Choice(
                "The corrected text is not saved. Leave without amending?",
                {"d": ("discard", "leave, keep the visit as it was"), "escape": ("stay", "stay")},
            ),
            answered,
        )
