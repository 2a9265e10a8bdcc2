"""`msl note`: the app opened on one visit note, back to the shell once it is saved."""

from __future__ import annotations

from textual.widget import AwaitMount

from msl_tui.app import MslApp


class NoteApp(MslApp):
    """The whole app (esc still leads to the list), but saving the note it opened on ends it.

    ``saved_id`` holds the saved visit's id for the command to report.
    """

    saved_id: str | None = None
    _first_capture = True

    def open_capture(self, kol_id: str, draft_id: str | None = None) -> AwaitMount:
        if not self._first_capture:
            return super().open_capture(kol_id, draft_id)
        from msl_tui.screens.capture import CaptureScreen

        self._first_capture = False

        def closed(saved: str | None) -> None:
            if saved:
                self.saved_id = saved
                self.exit()

        return self.push_screen(CaptureScreen(kol_id, draft_id=draft_id), closed)
