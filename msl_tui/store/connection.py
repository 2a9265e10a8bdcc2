"""The store's SQLite connection: the few calls the store makes, without sqlite-utils.

Importing sqlite-utils (and the date parser it loads) was about a third of what msl-tui
added to Textual's own start. The store uses five things of its ``Database``: ``conn``,
``execute``, ``query``, ``atomic`` and ``close``. ``Connection`` gives them with the same
meaning, so an open store never loads sqlite-utils; creating or upgrading one does, for the
migrations, or something else of sqlite-utils asked for by name (``__getattr__``).
tests/test_store_connection.py holds the two to the same behaviour.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

Params = Sequence[Any] | dict[str, Any] | None

# Statements that return no rows: ``query`` refuses them before running anything.
_NOT_QUERIES = frozenset(
    {"ATTACH", "BEGIN", "COMMIT", "DETACH", "END", "RELEASE", "ROLLBACK", "SAVEPOINT", "VACUUM"}
)
# Statements that begin or end a transaction themselves: ``execute`` leaves them be.
_TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "END", "RELEASE", "ROLLBACK", "SAVEPOINT"})
NOT_A_QUERY = (
    "query() can only be used with SQL that returns rows - use execute() for other statements"
)


def first_keyword(sql: str) -> str:
    """The statement's first word, upper case, past blanks, semicolons, a byte order mark
    and comments ("" when there is none)."""
    i, end = 0, len(sql)
    while i < end:
        if sql[i].isspace() or sql[i] in ";\ufeff":
            i += 1
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            if newline < 0:
                return ""
            i = newline + 1
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            if close < 0:
                return ""
            i = close + 2
        else:
            break
    j = i
    while j < end and (sql[j].isalpha() or sql[j] == "_"):
        j += 1
    return sql[i:j].upper()


class Connection:
    """One SQLite connection (standard or SQLCipher's wrapped one) and the store's calls."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Params = None) -> sqlite3.Cursor:
        """Run one statement. A write outside a transaction is committed at once; inside
        one it joins it. A failed statement leaves no transaction of its own open."""
        conn = self.conn
        was_open = conn.in_transaction
        try:
            cursor = conn.execute(sql) if params is None else conn.execute(sql, params)
        except Exception:
            if not was_open and conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if (
            not was_open
            and conn.in_transaction
            and cursor.description is None
            and first_keyword(sql) not in _TRANSACTION_CONTROL
        ):
            conn.execute("COMMIT")  # the driver opened a transaction for this write alone
        return cursor

    def query(self, sql: str, params: Params = None) -> Iterator[dict[str, Any]]:
        """Rows as dicts. Only for statements that return rows (ValueError otherwise, with
        nothing changed): the statement runs under a savepoint, undone if it returns none."""
        keyword = first_keyword(sql)
        if keyword in _NOT_QUERIES:
            raise ValueError(NOT_A_QUERY)
        args: tuple[Any, ...] = () if params is None else (params,)
        conn = self.conn
        if keyword == "PRAGMA":
            # Some pragmas refuse to run in a transaction: none is opened for one.
            if conn.in_transaction:
                cursor = conn.execute(sql, *args)
            else:
                level = conn.isolation_level
                conn.isolation_level = None
                try:
                    cursor = conn.execute(sql, *args)
                finally:
                    conn.isolation_level = level
            if cursor.description is None:
                raise ValueError(NOT_A_QUERY)
            return _dicts(cursor, cursor)
        conn.execute('SAVEPOINT "msl_query"')
        released = False
        try:
            cursor = conn.execute(sql, *args)
            if cursor.description is None:
                raise ValueError(NOT_A_QUERY)
            try:
                conn.execute('RELEASE "msl_query"')
                released = True
            except sqlite3.OperationalError:
                # A write returning rows (INSERT ... RETURNING) still running: fetch its
                # rows so it completes, then release.
                rows = cursor.fetchall()
                conn.execute('RELEASE "msl_query"')
                released = True
                return _dicts(cursor, iter(rows))
            return _dicts(cursor, cursor)
        finally:
            if not released and conn.in_transaction:
                conn.execute('ROLLBACK TO "msl_query"')
                conn.execute('RELEASE "msl_query"')

    @contextmanager
    def atomic(self) -> Iterator[Connection]:
        """A transaction; nested, a savepoint. An error undoes it and goes on."""
        conn = self.conn
        if conn.in_transaction:
            import secrets  # here, not when a store opens (launch does not need it)

            name = f"msl_{secrets.token_hex(16)}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield self
            except BaseException:
                # An error such as RAISE(ROLLBACK) may have ended the whole transaction.
                if conn.in_transaction:
                    conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            conn.execute(f"RELEASE SAVEPOINT {name}")
            return
        conn.execute("BEGIN")
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise

    def __getattr__(self, name: str) -> Any:
        """Anything else sqlite-utils' ``Database`` offers (tests look at tables with it):
        from one made over this connection, the first time it is asked for."""
        if name.startswith("__"):
            raise AttributeError(name)
        full = self.__dict__.get("_full")
        if full is None:
            from sqlite_utils import Database

            full = self.__dict__["_full"] = Database(self.conn)
        return getattr(full, name)

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()


def _dicts(cursor: sqlite3.Cursor, rows: Iterator[Any]) -> Iterator[dict[str, Any]]:
    keys = _unique_keys(d[0] for d in cursor.description)
    return (dict(zip(keys, row, strict=True)) for row in rows)


def _unique_keys(names: Iterator[str]) -> list[str]:
    """Column names as dict keys: a repeated name takes the first free suffix (_2, _3...)
    that no other column has, instead of hiding a value."""
    given = list(names)
    if len(set(given)) == len(given):
        return given
    taken, keys = set(given), []
    seen: set[str] = set()
    for name in given:
        key, n = name, 2
        if name in seen:
            while key in seen or key in taken:
                key, n = f"{name}_{n}", n + 1
        seen.add(key)
        keys.append(key)
    return keys
