"""The first screen of an encrypted store whose passphrase nobody has given yet.

The MSL types the passphrase (hidden) and presses enter; the store opens in a worker (the
key derivation takes a noticeable moment) and the screen is dismissed with it. A wrong
passphrase is one line under the field, and the MSL tries again; nothing on disk changed.
Esc quits. The "remember" box is offered only where an OS keyring can keep the passphrase.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, Header, Input, Static

from msl_tui.safe_text import printable
from msl_tui.services.unlock import LockedStore
from msl_tui.store import Store, StoreError
from msl_tui.store.cipher import PassphraseError
from msl_tui.store.errors import store_trouble_words
from msl_tui.widgets.footer import KeyFooter

WRONG = "That passphrase does not open this store."
EMPTY = "Type the store's passphrase, then press enter."


class PassphraseField(Input):
    """The hidden field: enter sends what was typed before it, and nothing typed after.

    Input's own enter is a binding, looked up once the key has bubbled to the app: the keys
    typed right after it (a burst: the passphrase, enter, `q` to quit) reached the field
    first, and `sekrit-pass-123q` was sent (QA). Here enter is taken in the field's own
    order of keys, and the keys after it are left to the screen and the app. Typed at
    launch, before the app has the terminal, enter arrives as a newline (the terminal
    turns \\r into \\n until then): ctrl+j, which Input ignores, and the passphrase sat
    typed and unsent.
    """

    _sent = False

    async def _on_key(self, event: events.Key) -> None:
        # (Input's own handler runs after this one unless prevent_default() is called.)
        if self._sent:
            # On its way to be opened: not typed into it; the key goes on to the screen
            # and the app (`q` quits).
            event.prevent_default()
            return
        if event.key in ("enter", "ctrl+j"):
            event.stop()
            event.prevent_default()
            if self.value:
                self._sent = True
            self.post_message(self.Submitted(self, self.value))

    def check_consume_key(self, key: str, character: str | None) -> bool:
        # Sent: a letter is no longer the field's, so `q` quits (the app's binding).
        return not self._sent and super().check_consume_key(key, character)

    def reset(self) -> None:
        """The passphrase was refused: the field takes keys again."""
        self._sent = False
        self.value = ""


@dataclass
class Opened(Message):
    """The passphrase was right: the store is open."""

    store: Store


@dataclass
class Refused(Message):
    """The store did not open; ``words`` say why, for the line under the field."""

    words: str


class PassphraseScreen(Screen[Store | None]):
    """Asks for the passphrase of ``locked``; dismissed with the open store, or None (esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Quit", id="passphrase-quit"),
    ]

    DEFAULT_CSS = """
    PassphraseScreen {
        align: center middle;
    }
    #unlock {
        width: 64;
        max-width: 100%;
        height: auto;
        padding: 1 2;
        border: round $primary;
        background: $surface;
    }
    #unlock-where {
        color: $text-muted;
    }
    #passphrase {
        margin: 1 0 0 0;
    }
    #unlock-problem {
        color: $error;
        height: auto;
        padding: 0 1;
    }
    #remember {
        margin: 1 0 0 0;
    }
    #unlock-keys {
        margin: 1 0 0 0;
        color: $text-muted;
    }
    """

    def __init__(self, locked: LockedStore) -> None:
        super().__init__()
        self.locked = locked

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="unlock"):
            yield Static("This store is encrypted: type its passphrase to open it.")
            yield Static(Text(printable(self.locked.path, 120)), id="unlock-where")
            yield PassphraseField(password=True, placeholder="passphrase", id="passphrase")
            yield Static("", id="unlock-problem")
            if self.locked.can_remember:
                yield Checkbox("Remember it in the OS keyring", id="remember")
            yield Static("enter opens the store   esc quits", id="unlock-keys")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).focus()

    @property
    def problem(self) -> str:
        """The line under the field (empty when there is none)."""
        return str(self.query_one("#unlock-problem", Static).render())

    def _say(self, words: str) -> None:
        self.query_one("#unlock-problem", Static).update(Text(words))

    def _remember(self) -> bool:
        boxes = self.query("#remember").results(Checkbox)
        return any(box.value for box in boxes)

    @on(Input.Submitted, "#passphrase")
    def _submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            self._say(EMPTY)
            return
        field = self.query_one("#passphrase", Input)
        field.disabled = True
        self._say("Opening…")
        self._open(event.value, self._remember())

    @work(thread=True, exclusive=True)
    def _open(self, passphrase: str, remember: bool) -> None:
        try:
            store = self.locked.open(passphrase, remember)
        except PassphraseError:
            self.post_message(Refused(WRONG))
        except (StoreError, sqlite3.Error) as exc:
            self.post_message(Refused(store_trouble_words(exc)))
        else:
            self.post_message(Opened(store))

    def on_opened(self, message: Opened) -> None:
        self.dismiss(message.store)

    def on_refused(self, message: Refused) -> None:
        self._say(message.words)
        field = self.query_one("#passphrase", PassphraseField)
        field.reset()
        field.disabled = False
        field.focus()

    def action_leave(self) -> None:
        self.dismiss(None)
