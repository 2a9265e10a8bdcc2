"""A plain launch: the KOL list's first page on screen before the store's whole opening.

Opening the store loads the models that build its records (pydantic), checks migrations and
tidies old drafts: most of a launch's own time. A store already current is shown first from
a read-only look at it (``StoreOpening``); the app opens it for real once the first rows are
on screen. Anything unusual (no store yet, an older schema, an encrypted or read-only file,
no MSL yet, head office) is not peeked at: the usual opening runs and says what it must.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from msl_tui.safe_text import printable
from msl_tui.settings import Settings, SettingsError, load_settings
from msl_tui.store.database import peek_current
from msl_tui.store.situation import FirstPageReader

if TYPE_CHECKING:
    from msl_tui.store import Store


# The list screen's first window (screens/kol_list.py WINDOW): the page read ahead.
FIRST_PAGE_ROWS = 150


@dataclass(frozen=True)
class StoreOpening:
    """A store the app shows before opening it: ``reader`` gives the first page (being
    read already), ``title`` the MSL's name for the header, ``settings`` the app's, and
    ``open`` (run in a worker once the page is on screen) the whole store."""

    path: Path
    reader: FirstPageReader
    title: str
    settings: Settings
    open: Callable[[], Store]
    # The device id of the profile the first page was read under: the whole opening
    # must find the same one (entry._open).
    device_id: str = ""


def peek(
    path: Path, open_store: Callable[[], Store], now: datetime | None = None
) -> StoreOpening | None:
    """The opening of the store at ``path`` if it can be shown before it opens, else None.
    Its first page starts being read at once, for the day of ``now``."""
    try:
        settings = load_settings()
    except SettingsError:
        return None  # the usual opening names the settings' problem
    conn = peek_current(path)
    if conn is None:
        return None
    reader = FirstPageReader(conn)
    try:
        raw = reader.meta("profile")
        profile = json.loads(raw) if raw else None
    except (ValueError, sqlite3.Error):  # any doubt: the usual opening says what is wrong
        profile = None
    if not isinstance(profile, dict) or profile.get("role", "msl") != "msl":
        reader.close()  # no MSL yet (asked on the terminal), or head office (the field view)
        return None
    name = profile.get("name")
    # The header's name, shown before the model checks it: escaped all the same.
    title = printable(name, None) if isinstance(name, str) else ""
    day = (now or datetime.now(UTC)).date().isoformat()
    reader.read_ahead(day, settings.weights.key(), FIRST_PAGE_ROWS)
    device = profile.get("device_id")
    device_id = device if isinstance(device, str) else ""
    return StoreOpening(path, reader, title, settings, open_store, device_id)


# The cycle collector is held off from the command's start until the whole ranking is on
# screen: a launch makes some 400,000 objects (Textual, the modules, the first page) and
# nearly none of them become garbage, yet the collector walked them all about 130 times,
# once fully (14 ms), ~26 ms of a 300-KOL launch. Once released, what the launch made is
# frozen out of the collector's passes (the list freezes each new whole ranking too).
_held = False


def hold_collector() -> None:
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release_collector() -> None:
    """End the launch's hold (safe to call again, or when nothing was held)."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()


def housekeeping_lines(store: Store) -> list[str]:
    """Retention at every writable open, the app's start included: old unsent drafts go.
    The lines say what went (the CLI prints them)."""
    from msl_tui.services.retention import housekeeping

    try:
        days = load_settings().drafts_days
    except SettingsError:
        return []  # nothing is removed on a guess; the app names the settings' problem
    return housekeeping(store, days)
