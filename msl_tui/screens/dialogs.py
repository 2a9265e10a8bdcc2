"""Small modal questions, answered with one key. Every dialog draws centred over its screen."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from msl_tui.services.language import check_text, neutral_rewording

T = TypeVar("T")


class Dialog(ModalScreen[T]):
    """A modal drawn in the middle of the screen, never over the top-left of the work."""

    DEFAULT_CSS = """
    Dialog {
        align: center middle;
    }
    """


class Choice(Dialog[str]):
    """A question with one-key answers: ``choices`` maps key -> (answer, label).

    The question is plain text (it may quote a KOL's name or a note), never markup.
    """

    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, question: str, choices: dict[str, tuple[str, str]]) -> None:
        super().__init__()
        self.question = question
        self.choices = choices
        for key, (answer, label) in choices.items():
            self._bindings.bind(key, f"answer('{answer}')", label, show=False)

    def compose(self) -> ComposeResult:
        keys = "   ".join(f"[b]{key}[/b] {label}" for key, (_, label) in self.choices.items())
        with Vertical(id="dialog"):
            yield Static(Text(self.question), id="question")
            yield Static(keys, id="keys")

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)


def confirm_leave() -> Choice:
    return Choice(
        "This visit has unsaved text. Leave it?",
        {
            "k": ("keep", "keep as draft"),
            "d": ("discard", "discard it"),
            "escape": ("stay", "stay here"),
        },
    )


def confirm_discard(what: str) -> Choice:
    """Before esc throws away a form's typed text; ``what`` names it, e.g. "the new KOL"."""
    return Choice(
        f"What you typed for {what} is not saved. Discard it?",
        {"d": ("discard", "discard it"), "escape": ("stay", "stay here")},
    )


def confirm_adverse_event(phrases: list[str]) -> Choice:
    quoted = ", ".join(f"“{p}”" for p in phrases[:3])
    return Choice(
        f"The note may mention a possible adverse event ({quoted}).\n"
        "Adverse events must reach pharmacovigilance within 24 hours. Is it one?",
        {
            "y": ("yes", "yes, record it"),
            "n": ("no", "no, not an adverse event"),
            "escape": ("later", "back to the note"),
        },
    )


def restore_draft(kol_name: str, saved_at: str) -> Choice:
    return Choice(
        f"An unsent visit note for {kol_name} (saved {saved_at}) is waiting. Open it?",
        {"y": ("open", "open it"), "escape": ("later", "later")},
    )


def confirm_delete(what: str) -> Choice:
    """``what`` names the thing, e.g. "objective 'Map evidence gaps'"."""
    return Choice(
        f"Delete {what}? The plan history keeps a record of it.",
        {"y": ("delete", "yes, delete it"), "escape": ("keep", "keep it")},
    )


class PromptEditor(Dialog[tuple[str, str] | None]):
    """Write or reword one of the MSL's own prompts; leading wording is pointed out as typed.

    A question the language check flags is never handed back: enter swaps in a neutral
    rewording for the MSL to accept (enter again) or edit. Dismisses with (purpose, text);
    an empty text on an existing prompt means delete it.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt_editor.cancel"),
    ]

    def __init__(self, purposes: list[str], purpose: str = "", text: str = "") -> None:
        super().__init__()
        self.purposes = purposes
        self.initial_purpose = purpose or purposes[0]
        self.initial_text = text
        self._replaced = ""  # the leading text last swapped for a rewording
        self._offered = ""  # that rewording

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Your own neutral question (enter saves, esc cancels)", id="question")
            yield Select(
                [(p, p) for p in self.purposes],
                value=self.initial_purpose,
                allow_blank=False,
                id="prompt-purpose",
            )
            yield Input(self.initial_text, id="prompt-text", placeholder="How do you ...?")
            yield Static("", id="prompt-hints")

    def on_mount(self) -> None:
        self.query_one("#prompt-text", Input).focus()
        self._hint(self.initial_text)

    @on(Input.Changed, "#prompt-text")
    def _changed(self, event: Input.Changed) -> None:
        self._hint(event.value)

    def _hint(self, text: str) -> None:
        # The note about a swapped-in rewording stays until the MSL changes the text.
        replaced = self._replaced if text == self._offered else ""
        hints = check_text(text)
        lines = [f"{h.kind}: “{escape(h.phrase)}” {escape(h.message)}" for h in hints[:2]]
        if hints:
            lines.append(f"enter puts in a neutral wording: {escape(neutral_rewording(text))}")
        if replaced:
            lines.append(
                f"You wrote “{escape(replaced)}”: it leads or sells, so it is not saved as it "
                "is. The box now holds a neutral wording: enter saves it, or edit it first."
            )
        self.query_one("#prompt-hints", Static).update("\n".join(lines))

    @on(Input.Submitted, "#prompt-text")
    def _submitted(self, event: Input.Submitted) -> None:
        text = " ".join(event.value.split())
        if check_text(text):
            # Never hand back a leading question: offer the rewording to accept or edit.
            self._replaced, self._offered = text, neutral_rewording(text)
            event.input.value = self._offered
            event.input.cursor_position = len(self._offered)
            self._hint(self._offered)
            return
        purpose = str(self.query_one("#prompt-purpose", Select).value)
        self.dismiss((purpose, text))

    def action_cancel(self) -> None:
        self.dismiss(None)
