"""What a screen needs from the app, as a small typed interface.

Screens read the store through services, the settings and the clock, and ask the app to move
to another screen; they never need the app class itself, which imports the screens (that
was an import cycle). ``MslApp`` is checked against this interface where it is defined.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from textual.app import App

    from msl_tui.services.kol_list import KolListService
    from msl_tui.settings import Settings
    from msl_tui.store import Store


class AppContext(Protocol):
    settings: Settings

    @property
    def store(self) -> Store: ...

    # The ranked list every screen's changes re-rank (kept by the app for its lifetime).
    kol_list: KolListService

    def now(self) -> datetime: ...

    def refresh_data(self) -> None:
        """Something was written: the views re-read and re-rank."""

    def open_kol(self, kol_id: str) -> None: ...

    def open_plan(self, kol_id: str) -> None: ...

    def open_capture(self, kol_id: str, draft_id: str | None = None) -> Awaitable[Any]:
        """Awaiting it waits until the note has the cursor (keys typed after stay in order)."""

    # The visit actions every screen offers on the highlighted visit (keys and palette).
    def action_mark_ae_reported(self) -> None: ...

    def action_amend_visit(self) -> None: ...

    def action_ae_followup(self) -> None: ...


class _HasApp(Protocol):
    @property
    def app(self) -> App[object]: ...


class UsesAppContext:
    """Mixed into a screen: ``msl_app`` is its app seen through ``AppContext`` (Textual's
    ``self.app`` is typed as any ``App``)."""

    @property
    def msl_app(self: _HasApp) -> AppContext:
        return cast("AppContext", self.app)
