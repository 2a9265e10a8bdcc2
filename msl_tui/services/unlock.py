"""Opening an encrypted store with the passphrase an MSL types on the app's first screen.

``MSL_PASSPHRASE`` and the OS keyring answer without asking anyone; only when neither does
is the app started on its passphrase screen, holding a ``LockedStore``: where the store is,
whether a keyring can remember the passphrase, and how to open it once typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from msl_tui.store import cipher
from msl_tui.store.urls import ServerUrl

if TYPE_CHECKING:
    from msl_tui.store import Store

Opener = Callable[[str, bool], "Store"]
"""(passphrase, remember it in the keyring) -> the open store; PassphraseError when the
passphrase is wrong (nothing changed), StoreError in words for anything else."""


@dataclass(frozen=True)
class LockedStore:
    """An encrypted store waiting for its passphrase."""

    path: Path
    can_remember: bool
    open: Opener


def needs_passphrase(path: Path | ServerUrl) -> bool:
    """Whether opening ``path`` needs a person to type its passphrase: an encrypted store
    file (SQLCipher installed to read it) whose passphrase neither MSL_PASSPHRASE nor the
    keyring holds."""
    if not isinstance(path, Path) or not path.is_file():
        return False
    if not (cipher.available() and cipher.looks_encrypted(path)):
        return False
    return cipher.known_passphrase(path) is None


def open_encrypted(path: Path, passphrase: str, *, remember: bool) -> Store:
    """The encrypted store at ``path``, opened with ``passphrase``. A wrong one raises
    PassphraseError before anything is written; ``remember`` keeps a right one in the OS
    keyring (StoreError, nothing opened, when the keyring refuses)."""
    from msl_tui.store import Store

    cipher.unlock(path, passphrase)
    if remember:
        cipher.remember(path, passphrase)
    return Store.open(path, create=False)
