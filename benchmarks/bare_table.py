"""The floor for launch: a bare Textual app with one DataTable, filled straight from sqlite3.

    python benchmarks/bare_table.py STORE.db

Shows the first 150 KOLs by name (no ranking, no workers, no services). bench_launch.py
starts it in tmux, alternating with `msl --db STORE.db`.
"""

from __future__ import annotations

import sqlite3
import sys

from textual.app import App, ComposeResult
from textual.widgets import DataTable


class BareTable(App[None]):
    def __init__(self, db: str) -> None:
        super().__init__()
        self.db = db

    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        conn = sqlite3.connect(self.db)
        rows = conn.execute(
            "select name, institution from kols where deleted = 0 order by name limit 150"
        ).fetchall()
        conn.close()
        table = self.query_one(DataTable)
        table.add_columns("Name", "Institution")
        table.add_rows(rows)


if __name__ == "__main__":
    BareTable(sys.argv[1]).run()
