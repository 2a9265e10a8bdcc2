"""Help, written in msl_tui/help.md and shipped with the package."""

from __future__ import annotations

from importlib.resources import files
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown


def help_text() -> str:
    return files("msl_tui").joinpath("help.md").read_text(encoding="utf-8")


class HelpScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "app.pop_screen", "Close help", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="help"):
            yield Markdown(help_text())
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Help"
        self.query_one("#help", VerticalScroll).focus()
