"""Every main action in the command palette (ctrl+p), beside its key binding."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from msl_tui.app import MslApp

# (title, help, app action) — the same actions the footer keys run.
PALETTE_ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("KOL list", "The ranked list of who needs attention", "home"),
    ("Segment matrix", "Manage closely / keep satisfied / keep informed / monitor", "matrix"),
    ("New visit note", "Log a visit for the highlighted KOL", "new_note"),
    ("Add KOL", "Add a KOL to your list by hand", "screen.add_kol"),
    ("Add activity", "Add an activity to the highlighted KOL's plan", "screen.add_activity"),
    (
        "Delete objective",
        "Delete an objective from the plan (asks first)",
        "screen.delete_objective",
    ),
    ("Sync with head office", "Export your log, import a roster or plans", "sync"),
    ("Help", "Keys and how msl-tui works", "help"),
    ("Toggle light/dark theme", "Switch between the light and dark theme", "toggle_dark_mode"),
    ("Quit", "Leave msl-tui (nothing typed is lost)", "quit"),
)


class MslCommands(Provider):
    async def discover(self) -> Hits:
        app: MslApp = self.app  # type: ignore[assignment]
        for title, help_text, action in PALETTE_ACTIONS:
            yield DiscoveryHit(title, partial(app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        app: MslApp = self.app  # type: ignore[assignment]
        matcher = self.matcher(query)
        for title, help_text, action in PALETTE_ACTIONS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(title), partial(app.run_action, action), help=help_text
                )
