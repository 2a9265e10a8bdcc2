"""Choose one of a few things (which visit, which follow-up) with the arrow keys and enter."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class Pick(ModalScreen[str | None]):
    """Dismisses with the chosen option's id, or None on escape."""

    DEFAULT_CSS = """
    Pick {
        align: center middle;
    }
    Pick > #pick {
        width: 76;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    Pick #pick-title {
        padding: 0 0 1 0;
    }
    Pick OptionList {
        height: auto;
        max-height: 14;
    }
    Pick #pick-keys {
        color: $text-muted;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="pick.cancel"),
    ]

    def __init__(self, title: str, options: list[tuple[str, str]]) -> None:
        """``options`` are (id, label) pairs; labels are shown as plain text."""
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(id="pick"):
            yield Static(Content(self.title_text), id="pick-title")
            yield OptionList(
                *(Option(Content(label), id=option_id) for option_id, label in self.options),
                id="pick-options",
            )
            yield Static("enter chooses · esc cancels", id="pick-keys")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
