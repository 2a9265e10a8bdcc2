"""What a dry run writes instead of the store, so that it counts what the import would do.

An import merges a bundle batch by batch, and a batch reads what earlier batches of the same
bundle wrote: a visit created on line 10 and amended on line 2,100 is one update, and its
conflicts are counted against the amended record. A dry run writes nothing to the store (it
may hold it read-only, and must not keep its write lock: the app and other imports go on), so
it writes those same things here instead: the bundle's changes, which records got a row, and
each refolded record's open conflicts. Each batch's reads then see the store plus this.

It is a private SQLite file (0600 in a 0700 folder) removed when the dry run ends, also on
Ctrl-C: on disk, not in memory, so a million-change bundle costs the page cache, not RSS.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msl_tui.store.errors import StoreError
from msl_tui.store.written import Written

if TYPE_CHECKING:
    from msl_tui.sync.merge import Change, Folded

# Each change as the store keeps it, with what the merge of its batch wrote of its record
# (on the change, not in a table of records: one index to keep, not two): has_row, the
# record got a row; conflicts, on the last change of a record the merge refolded, its open
# conflicts as [field, other_hlc] pairs (the latest such stands for the record's).
_SCHEMA = """
create table changes (device_id text, seq integer, hlc text, entity text, record_id text,
    patch text, base text, author text, has_row integer, conflicts text);
create index changes_record on changes(entity, record_id);
"""
_IN = 500  # ids per query: under SQLite's bound-parameter limit
_COLUMNS = ("device_id", "seq", "hlc", "entity", "record_id", "patch", "base", "author")
_SELECT = f"select {', '.join(_COLUMNS)}, has_row, conflicts from changes"


class Overlay:
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        # Thrown away at the end: no journal, no syncing.
        self.conn.execute("pragma journal_mode = off")
        self.conn.execute("pragma synchronous = off")
        self.conn.executescript(_SCHEMA)
        # Ids written here: most records of a bundle come once, and are then never looked up.
        self.written = Written()

    def close(self) -> None:
        self.conn.close()

    def read_into(
        self,
        entity: str,
        record_ids: Sequence[str],
        stored: dict[str, list[dict[str, Any]]],
        had_row: set[str],
        open_before: dict[str, set[tuple[str, str]]],
    ) -> None:
        """Add what earlier batches wrote here to what the store holds of these records."""
        ids = self.written.may_hold(record_ids)
        for start in range(0, len(ids), _IN):
            part = ids[start : start + _IN]
            marks = ", ".join("?" * len(part))
            for *values, has_row, conflicts in self.conn.execute(
                f"{_SELECT} where entity = ? and record_id in ({marks}) order by rowid",
                [entity, *part],
            ):
                row = dict(zip(_COLUMNS, values, strict=True))
                record_id = row["record_id"]
                stored.setdefault(record_id, []).append(row)
                if has_row:
                    had_row.add(record_id)
                if conflicts is not None:
                    keys = {(f, h) for f, h in json.loads(conflicts)}
                    if keys:
                        open_before[record_id] = keys
                    else:
                        open_before.pop(record_id, None)

    def write(
        self,
        entity: str,
        fresh: Sequence[Change],
        rows: Iterable[str],
        refolded: Sequence[Folded],
    ) -> None:
        """What the import writes for one batch: its changes, the records given a row, and
        the open conflicts of the records it refolded (exactly their fold's)."""
        self.written.add(c.record_id for c in fresh)
        with_row = set(rows)
        conflicts = {
            f.record_id: json.dumps([[k["field"], k["other_hlc"]] for k in f.conflicts])
            for f in refolded
        }
        last = {c.record_id: c for c in fresh}  # a record's last change in this batch
        with self.conn:
            self.conn.execute("begin")
            self.conn.executemany(
                f"insert into changes values ({', '.join('?' * (len(_COLUMNS) + 2))})",
                (
                    (
                        *c.as_row(),
                        c.record_id in with_row,
                        conflicts.get(c.record_id) if last[c.record_id] is c else None,
                    )
                    for c in fresh
                ),
            )


def _remove_left_behind() -> None:
    """Remove the overlays of dry runs killed outright (kill -9, a crash, power lost): their
    folder stayed in TMPDIR with the bundle's visit notes in plain text, for ever (QA).
    Only folders of ours whose process (the pid in the name) is gone. (A TMPDIR shared with
    another pid namespace could lose a live dry run's overlay: that run then fails, and the
    store, which a dry run never writes, is untouched.)"""
    import shutil

    base = Path(tempfile.gettempdir())
    try:
        entries = list(base.glob("msl-dry-run-*-*"))
    except OSError:
        return
    for folder in entries:
        pid_text = folder.name.removeprefix("msl-dry-run-").partition("-")[0]
        if not pid_text.isdigit():
            continue
        try:
            if folder.lstat().st_uid != os.getuid() or not folder.is_dir():
                continue
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)  # its dry run is over
        except OSError:
            continue  # alive under another user, or not ours to judge


@contextmanager
def private_overlay() -> Iterator[Overlay]:
    """An overlay in a new private folder, removed with it when the block ends."""
    _remove_left_behind()
    prefix = f"msl-dry-run-{os.getpid()}-"
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:  # made 0700
        path = Path(folder) / "overlay.db"
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        overlay = Overlay(path)
        try:
            yield overlay
        except sqlite3.OperationalError as error:
            # The overlay's disk (TMPDIR), not the store's, is the full one: the CLI's line
            # named the store's ("the disk holding msl.db is full"), the wrong place to free (QA).
            if "full" not in str(error):
                raise
            raise StoreError(
                f"the disk holding the temporary folder {folder} (TMPDIR) is full: "
                "nothing was changed; free some space there or set TMPDIR to another folder"
            ) from error
        finally:
            overlay.close()
