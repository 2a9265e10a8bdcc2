"""A checkbox whose box is empty until it is ticked.

Textual's Checkbox always draws an X and only changes its colour, and an X reads as ticked:
the AE panel showed "X forwarded to pharmacovigilance" beside "NOT yet forwarded".
"""

from __future__ import annotations

from textual.widgets import Checkbox


class TickBox(Checkbox):
    BUTTON_INNER = " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "✓" if self.value else " "  # read by the button on each render
        super().watch_value()
