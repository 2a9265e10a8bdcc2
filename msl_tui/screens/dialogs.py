"""Small modal questions, answered with one key."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class Choice(ModalScreen[str]):
    """A question with one-key answers: ``choices`` maps key -> (answer, label)."""

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
            yield Static(self.question, id="question")
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
