"""Every main action in the command palette (ctrl+p), beside its key binding.

One line in ``PALETTE`` per entry. ``action`` is run by the app: a plain name is an app
action (``"home"`` runs ``MslApp.action_home``); ``"screen.x"`` runs ``action_x`` on the
screen the palette was opened from. ``screens`` limits an entry to screens of those class
names (empty: everywhere). Titles are what people type, and an outside check drives the
palette by them, so they are unique and stable.

Textual's own entries (Theme, Quit, Keys, Screenshot) come from its system provider and are
not repeated here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from msl_tui.app import MslApp


@dataclass(frozen=True, slots=True)
class PaletteEntry:
    title: str
    help: str
    action: str
    screens: tuple[str, ...] = ()


PALETTE: tuple[PaletteEntry, ...] = (
    PaletteEntry("KOL list", "The ranked list of who needs attention", "home"),
    PaletteEntry(
        "Segment matrix", "Manage closely / keep satisfied / keep informed / monitor", "matrix"
    ),
    PaletteEntry("New visit note", "Log a visit for the highlighted KOL", "new_note"),
    PaletteEntry("Add KOL", "Add a KOL to your list by hand", "add_kol"),
    PaletteEntry("Add activity", "Add an activity to this KOL's plan", "add_activity"),
    PaletteEntry(
        "Delete objective",
        "Delete an objective from this KOL's plan (asks first)",
        "delete_objective",
    ),
    PaletteEntry("Pre-call brief", "Everything to reread before the next visit", "brief"),
    PaletteEntry(
        "Mark adverse event reported",
        "Record when and to whom a possible adverse event was forwarded",
        "mark_ae_reported",
    ),
    PaletteEntry(
        "Add adverse event follow-up",
        "Information that arrived after an adverse event was reported",
        "ae_followup",
    ),
    PaletteEntry(
        "Amend visit",
        "Correct a submitted visit (text, time, channel); what it said is kept",
        "amend_visit",
    ),
    PaletteEntry("Reopen follow-up", "Open again a follow-up ticked done", "reopen_followup"),
    PaletteEntry("Sync with head office", "Export your log, import a roster or plans", "sync"),
    PaletteEntry(
        "Field at a glance",
        "Head office: insights, adverse events, coverage and segment mix, plotted",
        "field_view",
    ),
    PaletteEntry("Help", "Keys and how msl-tui works", "help"),
    PaletteEntry(
        "Toggle light/dark theme", "Switch between the light and dark theme", "toggle_dark_mode"
    ),
)


def entries_for(screen_name: str) -> list[PaletteEntry]:
    return [e for e in PALETTE if not e.screens or screen_name in e.screens]


class MslCommands(Provider):
    def _entries(self) -> list[PaletteEntry]:
        return entries_for(type(self.screen).__name__)

    async def discover(self) -> Hits:
        app: MslApp = self.app  # type: ignore[assignment]
        for entry in self._entries():
            yield DiscoveryHit(entry.title, partial(app.run_action, entry.action), help=entry.help)

    async def search(self, query: str) -> Hits:
        app: MslApp = self.app  # type: ignore[assignment]
        matcher = self.matcher(query)
        for entry in self._entries():
            score = matcher.match(entry.title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(entry.title),
                    partial(app.run_action, entry.action),
                    help=entry.help,
                )
