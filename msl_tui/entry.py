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
        from msl_tui.services.launch import hold_collector, peek, release_collector

        hold_collector()  # until the whole ranking is on screen (MslApp._replay_held)

        said: list[str] = []  # housekeeping's lines, told once the app is closed
        # The file the first page is read from, before the peek opens it: the whole opening
        # must open that same file (see _open).
        seen = identity(path)
        peeked: list[str] = []  # the device id the first page was read under
        opening = peek(path, lambda: _open(path, said, seen, peeked)) if seen is not None else None
        if opening is not None:
            peeked.append(opening.device_id)
            _run_app(path, opening, said)
            return
        release_collector()
    from msl_tui.cli import main as command

    _stop_signals_unwind()
    command()


def _stop_signals_unwind() -> None:
    """SIGTERM (`kill`, a logout) and SIGHUP (the terminal closed) end a command as Ctrl-C
    does: by an exception, so its `finally` blocks run. Killed outright, `msl import
    --dry-run` left its overlay (the bundle's visit notes, in plain text) in TMPDIR, and an
    encrypted export or import its plaintext scratch folder beside the store (QA).
    A transaction in progress rolls back as on Ctrl-C. The app, when a command opens one,
    installs its own handlers (they save the draft) and restores the default after."""
    import signal

    def unwind(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:  # an ignored SIGHUP (nohup) stays so
            signal.signal(signum, unwind)


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


def identity(path: Path) -> tuple[int, int] | None:
    """Which file ``path`` names now (device, inode), or None if it names none."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_dev, status.st_ino


def _open(
    path: Path, said: list[str], seen: tuple[int, int], peeked: list[str] | None = None
) -> Store:
    """The whole opening, in the app's worker once the first page is on screen.

    Only the store the first page was read from: if the file was removed, moved or
    replaced since the peek (QA), ``Store.open`` made an empty store in its place, or
    opened another MSL's, and the keys typed meanwhile would have acted on it while the
    screen showed the first. It is refused in one line instead; nothing is created.
    ``peeked``: the device id the first page was read under. A file written over in place
    (``cp other.db msl.db``) keeps its device and inode: another MSL's KOLs came up under
    the first one's name (QA), so the profile must be the one peeked at as well."""
    from msl_tui.services.launch import housekeeping_lines
    from msl_tui.store import Store
    from msl_tui.store.errors import StoreError

    changed = StoreError(
        f"{path} was removed, moved or replaced while msl was opening it: "
        "nothing was written; run msl again"
    )
    if identity(path) != seen:
        raise changed
    store = Store.open(path, create=False)
    try:
        profile = store.get_profile()
        if identity(path) != seen or profile is None or profile.role != "msl":
            raise changed
        if peeked and profile.device_id != peeked[0]:
            raise changed
        said.extend(housekeeping_lines(store))
    except BaseException:
        store.close()
        raise
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
    if app.return_code:  # stopped by SIGTERM or SIGHUP (its draft saved): 128 + signal
        raise SystemExit(app.return_code)


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
