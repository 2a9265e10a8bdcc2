"""The ``msl`` command's first step. A plain launch (``msl``, ``msl --db FILE``) on a store
that is ready goes straight to the app, its first page shown before the store's whole
opening (services/launch.py); anything else, and any doubt, is the click command in
msl_tui/cli, loaded only then (click and the command tree cost a launch about as much as
drawing the first page)."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from msl_tui.store import Store


def main() -> None:
    path = plain_launch(sys.argv[1:], os.environ)
    if path is not None and sys.stdin.isatty() and sys.stdout.isatty():
        from msl_tui.services.launch import peek

        said: list[str] = []  # housekeeping's lines, told once the app is closed
        opening = peek(path, lambda: _open(path, said))
        if opening is not None:
            _run_app(path, opening, said)
            return
    from msl_tui.cli import main as command

    command()


def plain_launch(args: list[str], environ: os._Environ[str] | dict[str, str]) -> Path | None:
    """The store file a plain launch opens, or None for anything the CLI must read: a
    command, an option other than ``--db``, a server URL or a connection string."""
    if not args:
        value = environ.get("MSL_DB")
        if value is None:
            from msl_tui import locations

            return locations.default_db_path()
    elif len(args) == 2 and args[0] == "--db":
        value = args[1]
    elif len(args) == 1 and args[0].startswith("--db="):
        value = args[0].removeprefix("--db=")
    else:
        return None
    if not value or value.startswith("-") or "://" in value or "=" in value:
        return None  # the CLI explains (or refuses) these
    return Path(value)


def _open(path: Path, said: list[str]) -> Store:
    """The whole opening, in the app's worker once the first page is on screen."""
    from msl_tui.services.launch import housekeeping_lines
    from msl_tui.store import Store

    store = Store.open(path)
    said.extend(housekeeping_lines(store))
    return store


def _run_app(path: Path, opening: object, said: list[str]) -> None:
    from msl_tui.app import MslApp
    from msl_tui.services.launch import StoreOpening

    assert isinstance(opening, StoreOpening)
    app = MslApp(None, opening=opening, settings=opening.settings)
    try:
        app.run()
    except Exception as error:
        _fail(path, error)
    _tell(said)
    if app.open_error is not None:
        _fail(path, app.open_error)


def _tell(lines: list[str]) -> None:
    from msl_tui.safe_text import printable

    for line in lines:
        print(f"msl: {printable(line, 500)}", file=sys.stderr)


def _fail(path: Path, error: BaseException) -> NoReturn:
    """One line and exit 1, as the CLI's boundary says it (MSL_DEBUG=1: the traceback)."""
    if os.environ.get("MSL_DEBUG") or not isinstance(error, Exception):
        raise error
    from msl_tui.cli import explain, fail
    from msl_tui.store.database import describe_sqlite_error

    if isinstance(error, sqlite3.Error):
        fail(describe_sqlite_error(error, path))
    fail(explain(error))
