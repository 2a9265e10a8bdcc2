"""The key bar, rebuilt only when what it shows changes.

Textual's Footer rebuilds its keys (a widget each) whenever a screen's bindings change,
which they do on every focus move: opening capture rebuilt it three or four times, though
the keys on show stayed the same, and that was a third of the time the screen took to open.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


def shown_keys(screen: Screen[object]) -> tuple[Hashable, ...]:
    """What the bar draws for ``screen``: each shown key, its words and whether it works."""
    keys = [
        (binding.key, binding.action, binding.description, enabled, tooltip, binding.group)
        for _node, binding, enabled, tooltip in screen.active_bindings.values()
        if binding.show
    ]
    return (*keys, screen.app.COMMAND_PALETTE_BINDING in screen.active_bindings)


class KeyFooter(Footer):
    """A Footer that skips a rebuild when the keys on show are those it already shows."""

    _drawn: tuple[Hashable, ...] | None = None

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._drawn = shown_keys(self.screen)
        yield from super().compose()

    def bindings_changed(self, screen: Screen[object]) -> None:
        # A screen covered by a full screen (the list under capture) is told its bindings
        # changed as it goes under and as it comes back; a key it shows depends on the
        # screen on top (brief), so its bar was rebuilt twice a visit, the first time
        # while capture was opening. It is told again as it comes back, and the bar is
        # brought up to date then if it needs to be. (Under a dialog it still shows.)
        top = screen.app.screen
        if screen is not top and not top.is_modal:
            return
        if self._drawn is not None and screen is self.screen and shown_keys(screen) == self._drawn:
            return
        super().bindings_changed(screen)
