"""Imports side by side: several ``msl import`` processes on one server store at once.

Each import still goes in whole or not at all, as one transaction, and the store ends
exactly as if the bundles had been imported one after another. How (see ``store/pg.py``):

- A bundle of up to ``MERGE_BUDGET`` changes (an encrypted one judged by its size) is
  imported as a *merge*: it shares the store with other merges and locks each record
  before it reads it, so merges over different records run at once and two merges of one
  record take turns (a record is the fold of all its changes: the second must see the
  first's). The ledger entry is locked the same way. Merges wait as long as it takes.
- A larger bundle takes the store alone, as every other write does: record locks live in
  the server's shared lock table (about 6,400 by default), and a full export's million
  records would not fit.
- A merge the server stopped to break a deadlock (two bundles whose parts came in
  different orders) rolled back whole; it is run again, up to ``ATTEMPTS`` times.

On SQLite there is one writer at a time, and this is ``import_bundle`` as it is.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from msl_tui.store.store import Store
from msl_tui.sync.importer import ImportError_, ImportReport, Progress, bundle_total, import_bundle

MERGE_BUDGET = 1000
ATTEMPTS = 5
# An encrypted bundle's manifest cannot be read before the import decrypts it: its size
# stands in for its count, taking a change to be at least this many bytes (compressed
# change lines are 40 to 150 bytes), so a large bundle is never taken for a small one.
MIN_BYTES_PER_CHANGE = 40


def declared_changes(path: Path) -> int:
    """How many changes the bundle holds, or an upper bound for an encrypted one."""
    from msl_tui.sync import crypto

    try:
        if crypto.is_encrypted(path):
            return max(1, path.stat().st_size // MIN_BYTES_PER_CHANGE)
    except OSError:
        return 0
    return bundle_total(path)


def _retryable(exc: ImportError_) -> bool:
    from msl_tui.store.pg import StoreRetry

    return isinstance(exc.__cause__, StoreRetry)


def import_one(
    store: Store,
    path: Path,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """``import_bundle``, merging beside other importers where the store allows it."""
    if not store.server or dry_run:
        return import_bundle(store, path, dry_run=dry_run, now=now, progress=progress)
    beside = 0 < declared_changes(path) <= MERGE_BUDGET
    for attempt in range(1, ATTEMPTS + 1):
        try:
            if beside:
                with store.merging():
                    return import_bundle(store, path, now=now, progress=progress)
            return import_bundle(store, path, now=now, progress=progress)
        except ImportError_ as exc:
            if attempt == ATTEMPTS or not _retryable(exc):
                raise
    raise AssertionError("unreachable")
