"""Amend a submitted visit: its text, time or channel corrected, a reason required, what it
said before kept beside the correction."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Header, Input, Label, Select, Static, TextArea

from msl_tui.models import Channel, Interaction
from msl_tui.screens.context import UsesAppContext
from msl_tui.screens.dialogs import Choice, confirm_adverse_event
from msl_tui.services.adverse_events import local_stamp
from msl_tui.services.dates import DateParseError, parse_when
from msl_tui.services.visit import VisitError, amend, new_adverse_event_mentions
from msl_tui.widgets.footer import KeyFooter


class AmendScreen(UsesAppContext, Screen[bool]):
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
    AmendScreen #amend-reason-row, AmendScreen #amend-meta-row {
        height: auto;
        padding: 1 1 0 1;
    }
    AmendScreen #amend-meta-row {
        padding: 0 1;
    }
    AmendScreen #amend-reason-row Label, AmendScreen #amend-meta-row Label {
        width: 8;
    }
    AmendScreen #amend-reason {
        width: 1fr;
    }
    AmendScreen #amend-when {
        width: 22;
    }
    AmendScreen #amend-when.-invalid {
        color: $error;
    }
    AmendScreen #amend-channel {
        width: 24;
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
            "Correct the text, or shift+tab to the time and channel. What it said before is "
            "kept beside the amendment, with your reason.",
            id="amend-help",
        )
        with Horizontal(id="amend-meta-row"):
            yield Label("When")
            yield Input(local_stamp(v.occurred_at), id="amend-when", compact=True)
            yield Label(" Channel")
            yield Select(
                [(c.value, c) for c in Channel],
                value=v.channel,
                id="amend-channel",
                allow_blank=False,
                compact=True,
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

    def _when(self) -> datetime | None:
        """The visit time typed, or None while it is the one recorded (shown as it was, so
        not read again: a date the MSL did not touch never moves)."""
        typed = self.query_one("#amend-when", Input).value
        if typed.strip() == local_stamp(self.visit.occurred_at):
            return None
        app = self.msl_app
        return parse_when(typed, app.now().astimezone(), dayfirst=app.settings.dayfirst)

    def _channel(self) -> Channel | None:
        value = self.query_one("#amend-channel", Select).value
        return value if isinstance(value, Channel) and value != self.visit.channel else None

    def _changed(self) -> bool:
        try:
            moved = self._when() is not None
        except DateParseError:
            moved = True
        return moved or self._channel() is not None or self._text() != self.visit.notes

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "amend-when":
            return
        try:
            when = self._when()
        except DateParseError as exc:
            event.input.add_class("-invalid")
            event.input.tooltip = str(exc)
            return
        event.input.remove_class("-invalid")
        event.input.tooltip = None if when is None else when.strftime("%a %d %b %Y %H:%M")

    def _error(self, message: str) -> None:
        self.query_one("#amend-error", Static).update(Content(message))

    def action_focus_reason(self) -> None:
        self.query_one("#amend-reason", Input).focus()

    def on_input_submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        text = self._text()
        reason = self.query_one("#amend-reason", Input)
        try:
            when = self._when()
        except DateParseError as exc:
            self._error(f"The visit time: {exc}.")
            self.query_one("#amend-when", Input).focus()
            return
        channel = self._channel()
        if text == self.visit.notes and when is None and channel is None:
            self._error("Nothing is changed: correct the text, time or channel, or esc to leave.")
            self.query_one("#amend-text", TextArea).focus()
            return
        if not reason.value.strip():
            self._error("Say why it changes: the reason is kept with what it said before.")
            reason.focus()
            return
        added = (
            new_adverse_event_mentions(self.visit.notes, text)
            if self.visit.adverse_event is None
            else []
        )
        if not added:
            self._save(text, reason.value, adverse_event=False, when=when, channel=channel)
            return

        # The same question a new note asks: an event told in a correction must not sit
        # unreported because it arrived by amendment.
        def answered(answer: str | None) -> None:
            if answer in ("yes", "no"):
                self._save(
                    text, reason.value, adverse_event=answer == "yes", when=when, channel=channel
                )

        self.app.push_screen(confirm_adverse_event(added), answered)

    def _save(
        self,
        text: str,
        reason: str,
        *,
        adverse_event: bool,
        when: datetime | None,
        channel: Channel | None,
    ) -> None:
        try:
            amend(
                self.msl_app.store,
                self.visit.id,
                text,
                reason,
                self.msl_app.now(),
                adverse_event=adverse_event,
                occurred_at=when,
                channel=channel,
            )
        except VisitError as error:
            if error.field == "when":
                self._error(f"The visit time: {error.message}.")
                self.query_one("#amend-when", Input).focus()
                return
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
        if not self._changed():
            self.dismiss(False)
            return

        def answered(answer: str | None) -> None:
            if answer == "discard":
                self.dismiss(False)

        self.app.push_screen(
            Choice(
                "The correction is not saved. Leave without amending?",
                {"d": ("discard", "leave, keep the visit as it was"), "escape": ("stay", "stay")},
            ),
            answered,
        )
