"""Retention: personal data kept no longer than needed.

Unsent drafts (visit notes typed but never submitted) live only on this laptop and never
sync; after ``[retention] drafts_days`` (default 30) since they were last saved, they are
removed when a writable store is opened (the app's start, any command that writes). The
check is a read; the write lock is taken only when there is something to remove. An
erasure whose clean-up of the file could not finish (the store was busy) is finished here.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from msl_tui.locations import sweep_stale_temps
from msl_tui.plurals import plural
from msl_tui.store import erasure, retention
from msl_tui.store.errors import StoreError
from msl_tui.store.store import Store
from msl_tui.timestamps import iso, utcnow

DEFAULT_DRAFT_DAYS = 30


def purge_old_drafts(store: Store, days: int, *, now: datetime | None = None) -> int:
    cutoff = iso((now or utcnow()) - timedelta(days=days))
    if retention.count_drafts_before(store, cutoff) == 0:
        return 0
    with store.transaction():
        removed = retention.delete_drafts_before(store, cutoff)
    if removed:
        erasure.mark_scrub_pending(store)  # the draft text leaves the file as well
    return removed


def housekeeping(store: Store, draft_days: int, *, now: datetime | None = None) -> list[str]:
    """What opening a writable store does for privacy; lines to tell the user (none when
    nothing happened). Never fails the caller: a busy store is tidied next time."""
    said: list[str] = []
    try:
        removed = purge_old_drafts(store, draft_days, now=now)
        if removed:
            said.append(
                f"removed {plural(removed, 'unsent draft')} older than {draft_days} days "
                "(settings: [retention] drafts_days)"
            )
        if erasure.scrub_pending(store):
            erasure.try_scrub(store)
    except (StoreError, sqlite3.Error):
        pass
    if isinstance(store.path, Path):
        # A killed import, export or conversion left plaintext beside the store.
        swept = sweep_stale_temps(store.path.absolute().parent)
        if swept:
            said.append(f"removed {plural(swept, 'leftover temporary file')} beside the store")
    return said
