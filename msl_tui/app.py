"""The Textual application shell: it owns the store handle, the clock and the screen stack.

App-wide key bindings live here; each screen declares its own. Screens reach data only
through services (msl_tui/services), never through SQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from weakref import WeakKeyDictionary

from textual import events, work
from textual.app import App, ScreenStackError
from textual.binding import Binding, BindingType
from textual.dom import DOMNode, NoScreen
from textual.widget import AwaitMount
from textual.worker import WorkerFailed

from msl_tui.commands import MslCommands
from msl_tui.messages import DataChanged
from msl_tui.screens.kol_actions import KolActions
from msl_tui.services.kol_list import KolListService
from msl_tui.services.launch import StoreOpening, release_collector
from msl_tui.services.unlock import LockedStore
from msl_tui.settings import Settings, load_settings
from msl_tui.store.errors import StoreError, store_trouble_words

if TYPE_CHECKING:
    from msl_tui.screens.capture import CaptureScreen
    from msl_tui.screens.context import AppContext
    from msl_tui.screens.kol_list import KolListScreen
    from msl_tui.store import Store

# App-wide actions with nothing to act on before an encrypted store is opened.
NEEDS_STORE = frozenset({"help", "brief", "field_view", "command_palette"})


class MslApp(KolActions, App[None]):
    TITLE = "msl-tui"
    # Absolute, so subclasses elsewhere (tests, benchmarks) find the same stylesheet.
    CSS_PATH = Path(__file__).parent / "app.tcss"
    COMMANDS: ClassVar = App.COMMANDS | {MslCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help", id="help"),
        Binding("b", "brief", "Brief", id="brief"),  # on the KOL list (see kol_actions)
        Binding("f", "field_view", "Field", id="field", show=False),
        Binding("ctrl+t", "toggle_dark_mode", "Theme", id="theme", show=False),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    kol_list: KolListService

    def __init__(
        self,
        store: Store | None,
        *,
        locked: LockedStore | None = None,
        opening: StoreOpening | None = None,
        now: Callable[[], datetime] | None = None,
        settings: Settings | None = None,
        open_capture_for: str | None = None,
    ) -> None:
        """``store``: the open store; or None with ``locked``, an encrypted store the app
        asks the passphrase of first (the KOL list follows once it opens); or None with
        ``opening``, a store shown from its first page and opened once that is on screen."""
        super().__init__()
        if store is None and locked is None and opening is None:
            raise ValueError("MslApp needs a store, or a locked one to open")
        self._store = store
        self._locked = locked
        self._opening = opening
        self._opening_started = False
        self._held_keys: list[events.Key | events.Paste] = []  # typed while the store opens
        # Held until the list has its whole ranking, not only until the store opens (QA:
        # ctrl+end replayed on the first page went to its 150th KOL, not the last one).
        self._holding = opening is not None
        # The opening failed, or the store proved damaged: the CLI says why.
        self.open_error: BaseException | None = None
        self._now = now or (lambda: datetime.now(UTC))
        self.settings = settings or load_settings()
        self._open_capture_for = open_capture_for
        self._capture_screen: CaptureScreen | None = None
        self._first_screen: KolListScreen | None = None  # a plain launch's list
        # Where each key from the terminal was sent (see on_event and _on_key).
        self._key_sent_to: WeakKeyDictionary[events.Key, DOMNode] = WeakKeyDictionary()
        self._key_tries: WeakKeyDictionary[events.Key, int] = WeakKeyDictionary()
        if store is not None:
            self._take(store)
        elif opening is not None:
            self.kol_list = KolListService(None, self.settings.weights, early=opening.reader)
            self.kol_list.on_store_wanted = self._store_wanted
            self.set_reactive(MslApp.sub_title, opening.title)

    def _take(self, store: Store) -> None:
        self._store = store
        if self._opening is not None:
            self.kol_list.attach(store)  # the list's workers waiting for it go on
            return  # the header already names the MSL (StoreOpening.title)
        self.kol_list = KolListService(store, self.settings.weights)
        profile = store.get_profile()
        # Set without telling watchers: after the passphrase, the only Header watching is the
        # passphrase screen's, on its way out; its queued title update could run after its
        # children were gone (Textual's NoMatches on quitting as the list appears). The list's
        # Header reads the title when it mounts.
        self.set_reactive(MslApp.sub_title, profile.name if profile else "")

    @property
    def store(self) -> Store:
        if self._store is None:
            raise StoreError("the store is not open yet")
        return self._store

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Until the passphrase opens the store there is nothing to act on: no palette, no
        # help, no brief (moving focus, the theme and quitting still work).
        if self._store is None and action in NEEDS_STORE:
            return False
        return super().check_action(action, parameters)

    def _store_trouble(self, error: BaseException) -> bool:
        """A store that is busy (another msl importing), full or read-only must not close
        the app under the MSL's fingers: the write that failed was rolled back and the text
        on screen is still there. Say so; the MSL tries again."""
        if not isinstance(error, StoreError | sqlite3.OperationalError):
            return False
        self.notify(
            f"{store_trouble_words(error)} Nothing was lost: try again in a moment.",
            severity="error",
            timeout=8,
            markup=False,
        )
        return True

    async def _dispatch_action(self, namespace: Any, action_name: str, params: Any) -> bool:
        # Every key and palette action passes here: the one place a write they start can
        # fail without taking the app down. (A handler that raised would stop its widget's
        # message loop, so the error is caught before it leaves the action.)
        try:
            # A key on the KOL list right after a filter typed in the same burst (`down`
            # after `/kess`, enter) moved the cursor in the rows from before the filter,
            # and was lost when the answer replaced them (QA): the answer comes first.
            settle = getattr(self.screen, "settle_filter", None)
            if settle is not None:
                settle()
            return await super()._dispatch_action(namespace, action_name, params)
        except (StoreError, sqlite3.OperationalError) as error:
            self._store_trouble(error)
            return True

    def _handle_exception(self, error: Exception) -> None:
        # A worker (list ranking, KOL page loading) that met a busy store: report, carry on.
        if isinstance(error, WorkerFailed) and self._store_trouble(error.error):
            return
        # (Exactly DatabaseError: SQLite's word for a corrupt file; an IntegrityError is a
        # bug, and stays one.)
        if isinstance(error, WorkerFailed) and type(error.error) is sqlite3.DatabaseError:
            # A damaged store ("database disk image is malformed"): Textual's traceback,
            # its locals showing KOL names and rows, and exit status 0 (QA). On the KOL
            # list (a launch's ranking; nothing typed there but a filter) the app closes
            # with the CLI's one line (open_error), exit status 1; over it, a note or a
            # form may hold typed text: the damage is said, and the screen stays.
            from msl_tui.screens.kol_list import KolListScreen

            if self._store is None or isinstance(self.screen, KolListScreen):
                self._not_opened(error.error)
            else:
                self.notify(
                    "The store is damaged (its file is corrupt): what is on screen is kept; "
                    "copy any text not yet saved before you quit.",
                    severity="error",
                    timeout=30,
                    markup=False,
                )
            return
        super()._handle_exception(error)

    def now(self) -> datetime:
        return self._now()

    # -- a fast typist's burst -------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if self._holding:
            if isinstance(event, events.Key) and (
                event.key == "ctrl+q" or (event.key == "q" and not self._held_keys)
            ):
                # Quitting before anything else was typed quits now: held, it waited for
                # the store and the whole ranking (20,000 KOLs: over a second; QA).
                self.exit()
                return
            if isinstance(event, events.Key | events.Paste):
                # Typed while the store opens, a moment after the first page shows: each
                # key acts once it is open, in order (`n` writes a note for the first KOL).
                # A paste too, in its place among the keys: sent on at once it reached the
                # list before a held `/` had put the cursor in the filter, and was lost (QA).
                self._held_keys.append(event)
                return
            if isinstance(event, events.MouseDown | events.MouseUp | events.Click):
                return  # a row clicked in that moment would open a page the store must fill
        if isinstance(event, events.Key) and not event.is_forwarded:
            # (A key arriving as the app closes finds no screen: Textual's traceback.)
            with contextlib.suppress(ScreenStackError):
                self._key_sent_to[event] = self.focused or self.screen
        await super().on_event(event)

    async def _on_key(self, event: events.Key) -> None:
        # A terminal delivers a key and the words typed right after it together, and
        # Textual sends each key to what has the cursor when it arrives. The keys that
        # open a screen act as they arrive (priority bindings that wait for the new
        # screen), but a dialog's answer (`y` to the unsent-note question) does not: the
        # next keys went to the dialog, came back here unused once it had closed, and were
        # lost (QA). Such a key goes again, to what has the cursor now. (Only then: a
        # key sent again can arrive after one typed later.)
        sent_to = self._key_sent_to.pop(event, None)
        if sent_to is None or sent_to is self.focused:
            return
        try:
            elsewhere = sent_to.screen is not self.screen  # a screen since closed or covered
        except NoScreen:  # its widget is gone
            elsewhere = True
        # Or this screen itself, before any of its widgets had the cursor.
        early = sent_to is self.screen and self.focused is not None
        tries = self._key_tries.pop(event, 0)
        if (elsewhere or early) and tries < 5:
            event.prevent_default()  # App._on_key, called after this one, skips it
            again = events.Key(event.key, event.character)
            self._key_tries[again] = tries + 1
            self.post_message(again)

    def on_mount(self) -> None:
        self._catch_stop_signals()
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        if self._store is None and self._locked is not None:
            from msl_tui.screens.passphrase import PassphraseScreen

            self.push_screen(PassphraseScreen(self._locked), self._unlocked)
        elif self._store is None and self._opening is not None:
            self._start_opening()
        else:
            self._start()

    # -- stopped from outside: the words on screen are kept ------------------------------

    def _catch_stop_signals(self) -> None:
        # SIGTERM (a logout, a shutdown, `kill`) and SIGHUP (the terminal window closed)
        # ended the process at once: a note's last words, on screen but inside the draft's
        # 0.15 s pause, were lost (QA). Now the draft is saved, then the app closes as on
        # `q`. (Not under Pilot: its app shares the test runner's process.)
        if self.is_headless:
            return
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, self._stopped_from_outside, signum)

    def _stopped_from_outside(self, signum: int) -> None:
        self._save_drafts_before_closing()
        self.exit(return_code=128 + signum)

    def _save_drafts_before_closing(self) -> None:
        """Every visit note being written is saved as a draft now, pause or no pause,
        waiting for a busy store (see CaptureScreen.save_draft_now's ``last_chance``)."""
        screens = [self._capture_screen, *self.screen_stack]
        for screen in dict.fromkeys(s for s in screens if s is not None):
            save = getattr(screen, "save_draft_now", None)
            if save is not None and screen.is_mounted:
                with contextlib.suppress(Exception):  # one failing must not stop the next
                    save(last_chance=True)

    # -- a plain launch: the first page, then the store (services/launch.py) -------------

    def _start_opening(self) -> None:
        from msl_tui.screens.kol_list import KolListScreen

        screen = self._first_screen = KolListScreen(rows_first=True)
        self.push_screen(screen)
        # The collector is let go once the whole ranking is on screen; an opening that
        # waits (a store busy with an import) must not keep it off for long.
        self.set_timer(3.0, release_collector)

        async def after_first_rows() -> None:
            await screen.first_rows_shown()
            self.call_after_refresh(self._open_store)  # after the frame that shows them

        self.run_worker(after_first_rows(), group="opening")

    def _store_wanted(self) -> None:
        # From the list's worker, or from the screen's mount (the page read ahead was empty).
        if threading.current_thread() is threading.main_thread():
            self._open_store()
        else:
            self.call_from_thread(self._open_store)

    def _open_store(self) -> None:
        if self._opening is None or self._opening_started:
            return
        self._opening_started = True
        self._open_in_worker(self._opening)

    @work(thread=True, group="opening")
    def _open_in_worker(self, opening: StoreOpening) -> None:
        try:
            store = opening.open()
        except Exception as error:  # any: the CLI words it once the app has closed
            self.call_from_thread(self._not_opened, error)
            return
        # (Awaited: the list may still be mounting its header, filter field and key bar.)
        self.call_from_thread(self._opened, store)  # type: ignore[arg-type]  # -> None reads as Never

    async def _opened(self, store: Store) -> None:
        if self._first_screen is not None:
            # Keys held meanwhile act on the whole screen (its filter field, its key bar).
            await self._first_screen.whole()
        self._take(store)
        self.refresh_bindings()  # help, brief and the palette act now: the key bar shows them
        if self._first_screen is not None:
            # Keys held meanwhile act on the whole ranking, as on a start with all there:
            # on the first page alone, ctrl+end / end stopped at its last row (QA).
            await self._first_screen.ranked()
            # And once the table holding it is laid out: `pagedown` replayed at once paged
            # by the rows of the table before its reload, one KOL off (QA).
            self.call_after_refresh(self._replay_held)
            return
        self._replay_held()

    def _replay_held(self) -> None:
        release_collector()  # the launch is over (entry.main held it)
        held, self._held_keys = self._held_keys, []
        self._holding = False  # (keys typed from now on come after the held ones)
        # Keys typed at the first page were typed at the list: a question about an unsent
        # note raised now would take them as its answer ('y' of '/yar' opened the note and
        # typed 'ar' into it; QA). Then the note is told, not asked, and asked at the next
        # start as usual; it is also what `n` on its KOL opens.
        self.offer_saved_drafts(ask=not held)
        for key in held:
            if isinstance(key, events.Paste):
                self.post_message(events.Paste(key.text))
            else:
                self.post_message(events.Key(key.key, key.character))

    def _not_opened(self, error: BaseException) -> None:
        release_collector()
        self.open_error = error
        self.kol_list.not_opened(error)
        self.exit(return_code=1)

    def exit(self, *args: Any, **kwargs: Any) -> None:
        screen = self._first_screen
        if screen is not None and screen.forgo_the_rest():
            # A plain launch's header, filter field and key bar are being mounted (`q`
            # typed at once, an opening refused at once): quit once they are, a few
            # milliseconds (see KolListScreen.forgo_the_rest).
            async def once_whole() -> None:
                await screen.whole()
                self.exit(*args, **kwargs)

            self.run_worker(once_whole(), group="quit")
            return
        if self._store is None and self._opening is not None:
            # A worker waiting for the store must not hold the app's exit up.
            self.kol_list.not_opened(StoreError("msl closed before the store opened"))
        super().exit(*args, **kwargs)

    def _unlocked(self, store: Store | None) -> None:
        if store is None:
            self.exit()
            return
        self._take(store)
        self._start()

    def _start(self) -> None:
        """The KOL list, then a saved draft offered back (or the note asked for)."""
        from msl_tui.screens.kol_list import KolListScreen

        self.push_screen(KolListScreen())
        profile = self.store.get_profile()
        if profile is not None and profile.role == "head office" and not self._open_capture_for:
            self.action_field_view()  # head office starts on the field at a glance
        if self._open_capture_for:
            self.open_capture(self._open_capture_for)
        else:
            self.offer_saved_drafts()

    def offer_saved_drafts(self, *, ask: bool = True) -> None:
        """A note left unsent (a crash, a kill, a flat battery) is offered back first
        (``ask=False``: told in a notice that takes no keys)."""
        if not self.store.list_drafts():
            return  # the usual start: capture's modules stay unloaded until needed
        from msl_tui.screens.dialogs import restore_draft
        from msl_tui.services.visit import saved_drafts

        drafts = saved_drafts(self.store)
        if not drafts:
            return
        first = drafts[0]
        saved_at = first.updated_at.replace("T", " ").rstrip("Z")[:16] + " UTC"
        if not ask:
            from msl_tui.safe_text import printable

            name = printable(first.kol_name, 80)
            self.notify(
                f"An unsent visit note for {name} (saved {saved_at}) is waiting: "
                f"press n on {name} to finish it.",
                title="Unsent visit note",
                timeout=60,
                markup=False,
            )
            return

        def answered(answer: str | None) -> None:
            if answer == "open":
                self.open_capture(first.draft.kol_id)

        self.push_screen(restore_draft(first.kol_name, saved_at), answered)

    # -- navigation, shared by screens and the command palette --------------------------

    def open_kol(self, kol_id: str) -> None:
        from msl_tui.screens.kol_page import KolPageScreen

        self.push_screen(KolPageScreen(kol_id))

    def open_plan(self, kol_id: str) -> None:
        from msl_tui.screens.plan import PlanScreen

        self.push_screen(PlanScreen(kol_id))

    def open_capture(self, kol_id: str, draft_id: str | None = None) -> AwaitMount:
        """One capture screen is kept (installed) and started afresh for each visit:
        building its ~100 widgets again took most of the time capture took to open.
        Awaiting the result waits until its note has the cursor."""
        from msl_tui.screens.capture import CaptureScreen

        kept = self._capture_screen
        if kept is None:
            kept = self._capture_screen = CaptureScreen(kol_id, draft_id=draft_id)
            self.install_screen(kept, "capture")
        elif any(kept in stack for stack in self._screen_stacks.values()):
            # Already open beneath (a visit started from the palette over a visit):
            # a screen of its own, so the one beneath keeps its note.
            return self.push_screen(CaptureScreen(kol_id, draft_id=draft_id))
        else:
            kept.reopen(kol_id)
        return self.push_screen(kept)

    def open_sync(self) -> None:
        from msl_tui.screens.sync import SyncScreen

        self.push_screen(SyncScreen())

    def refresh_data(self) -> None:
        """Data changed under the views (a save, an import): rank again and redraw."""
        self.kol_list.invalidate()
        for screen in self.screen_stack:
            screen.post_message(DataChanged())

    def action_home(self) -> None:
        from msl_tui.screens.kol_list import KolListScreen

        while len(self.screen_stack) > 2 and not isinstance(self.screen, KolListScreen):
            self.pop_screen()

    def action_matrix(self) -> None:
        from msl_tui.screens.matrix import MatrixScreen

        self.push_screen(MatrixScreen())

    def action_field_view(self) -> None:
        from msl_tui.screens.head_office import HeadOfficeScreen

        if not isinstance(self.screen, HeadOfficeScreen):
            self.push_screen(HeadOfficeScreen())

    def action_sync(self) -> None:
        self.open_sync()

    def action_new_note(self) -> None:
        kol_id = getattr(self.screen, "current_kol_id", None)
        if kol_id:
            self.open_capture(kol_id)
        else:
            self.notify("Highlight a KOL first", severity="warning")

    def action_help(self) -> None:
        from msl_tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_dark_mode(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"


if TYPE_CHECKING:

    def _is_a_context(app: MslApp) -> AppContext:
        return app  # mypy checks the app gives screens everything their context promises
