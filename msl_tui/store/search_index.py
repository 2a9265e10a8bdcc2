"""Full-text indexing of a big write a batch at a time, or once at its end.

The FTS tables (``kols_fts``, ``interactions_fts``) follow their tables through triggers.
Row by row, the insert trigger more than doubles the cost of writing an interaction (measured:
50,000 rows in 5.0 s against 2.1 s). For a big import, ``Deferred`` drops the insert triggers
inside the import's transaction and indexes each batch's new rows with one statement right
after the batch is written, which gives the index exactly the entries the triggers would have
made: new rows get rowids above the table's largest one, and rows a later batch updates were
indexed already, so the update and delete triggers (kept) find their entries. The triggers
come back before the transaction commits; a rollback brings them back by itself.

Into tables that were empty when the write began (``whole=True``: a first full import) every
trigger is dropped and each index is rebuilt once from its table at the end ('rebuild'):
one pass that makes one set of segments, where a batch at a time makes hundreds that FTS5
then merges again and again (101,000 visits: 1.6 s of indexing against 0.4 s). The table
is then the index's only source, so whatever the write did to its rows (updates, erasures)
the index ends exactly as the triggers would have left it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

# Above this rowid SQLite may pick rowids at random: new rows would not be "above the largest".
_SAFE_ROWID = 2**62
_TRIGGERS = ("ai", "ad", "au")  # sqlite-utils' insert, delete and update triggers


class Deferred:
    """Insert triggers of these tables set aside for one transaction (see the module); with
    ``whole``, every trigger, and each index rebuilt by ``restore``."""

    def __init__(
        self, conn: sqlite3.Connection, tables: Iterable[str], *, whole: bool = False
    ) -> None:
        self.conn = conn
        self.whole = whole
        self.triggers: dict[str, list[str]] = {}  # table -> its dropped triggers' SQL
        self.inserts: dict[str, str] = {}  # table -> the statement indexing new rows
        for table in tables:
            names = [f"{table}_{kind}" for kind in (_TRIGGERS if whole else _TRIGGERS[:1])]
            found = [
                row[0]
                for row in conn.execute(
                    "select sql from sqlite_master where type = 'trigger' and tbl_name = ? "
                    f"and name in ({', '.join('?' for _ in names)}) order by name",
                    [table, *names],
                )
            ]
            columns = [r[1] for r in conn.execute(f'pragma table_info("{table}_fts")')]
            if not found or not columns:
                continue
            if not whole:
                top = conn.execute(f"select coalesce(max(rowid), 0) from {table}").fetchone()[0]
                if top >= _SAFE_ROWID:
                    continue
                quoted = ", ".join(f'"{c}"' for c in columns)
                self.inserts[table] = (
                    f'insert into "{table}_fts" (rowid, {quoted}) '
                    f"select rowid, {quoted} from {table} where rowid > ?"
                )
            self.triggers[table] = found
            for name in names:
                conn.execute(f'drop trigger if exists "{name}"')

    def top(self, table: str) -> int | None:
        """The table's largest rowid before a write, when its indexing is per batch."""
        if table not in self.inserts:
            return None
        return int(self.conn.execute(f"select coalesce(max(rowid), 0) from {table}").fetchone()[0])

    def index_new(self, table: str, top: int) -> None:
        """Index the rows written since ``top`` was read."""
        self.conn.execute(self.inserts[table], [top])

    def restore(self) -> None:
        """The triggers back (and, with ``whole``, each index rebuilt from its table)."""
        for table, triggers in self.triggers.items():
            if self.whole:
                self.conn.execute(f'insert into "{table}_fts"("{table}_fts") values (\'rebuild\')')
            for sql in triggers:
                self.conn.execute(sql)
        self.triggers.clear()
        self.inserts.clear()
