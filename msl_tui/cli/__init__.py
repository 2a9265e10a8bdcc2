"""The ``msl`` command. A thin layer: it parses options and calls the store and services.

Every way out is one line: errors are raised as they are, and the boundary in ``MslGroup``
turns whatever reaches it (store, SQLite, file system, bad text, a model that refuses a
value) into ``msl: error: ...`` and exit status 1, never a traceback. Set MSL_DEBUG=1 to see
the traceback instead.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib
import os
import re
import sqlite3
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from pydantic import ValidationError

from msl_tui import __version__, locations
from msl_tui.safe_text import printable
from msl_tui.store import Store, StoreError
from msl_tui.store.database import describe_sqlite_error
from msl_tui.store.urls import ServerUrl, is_server_url

MAX_ERROR = 300
T = TypeVar("T")


def fail(message: str) -> NoReturn:
    """One line on stderr and a non-zero exit: the way every error leaves."""
    click.echo(f"msl: error: {printable(message, MAX_ERROR)}", err=True)
    sys.exit(1)


def say(text: object, *, err: bool = False, limit: int | None = 500) -> None:
    """One line of output whose words may come from a file or the store: escaped for the
    terminal (a newline in a name cannot forge a line, ESC cannot reach the terminal)."""
    try:
        click.echo(printable(text, limit), err=err)
    except BrokenPipeError:
        # The reader left (`msl import ... | head -1`): the work goes on, unheard. Output
        # from here on goes nowhere rather than failing the command halfway.
        stream = sys.stderr if err else sys.stdout
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def plain_text(option: str, value: str, *, limit: int = 200) -> str:
    """A text argument that can be stored: valid Unicode (no stray bytes from a mistyped
    encoding), no control characters, not too long."""
    if printable(value, None) != value:
        fail(
            f"{option} {printable(value, 60)!r} holds control characters or bytes that are not UTF-8"
        )
    if len(value) > limit:
        fail(f"{option} is longer than {limit} characters")
    return value


def _current_store() -> Path | None:
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    if root is not None and isinstance(root.obj, dict):
        found = root.obj.get("store_path")
        return found if isinstance(found, Path) else None
    return None


def describe_os_error(exc: OSError) -> str:
    """An OSError in words, naming the file it was about."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on the disk: free some space and try again"
    where = printable(exc.filename, 160) if exc.filename is not None else "a file"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"{where} cannot be written (read-only or not permitted)"
    if exc.errno == errno.ENOENT:
        return f"{where} does not exist"
    if exc.errno == errno.ENOTDIR:
        return f"{where} is not a folder"
    if exc.errno == errno.EISDIR:
        return f"{where} is a folder"
    if exc.errno == errno.EEXIST:
        return f"{where} already exists"
    return f"{where}: {exc.strerror or type(exc).__name__}"


def explain(exc: Exception) -> str:
    """Whatever reached the command boundary, as one line in the user's words."""
    if isinstance(exc, StoreError):
        return str(exc)
    if isinstance(exc, sqlite3.Error):
        return describe_sqlite_error(exc, _current_store())
    if isinstance(exc, OSError):
        return describe_os_error(exc)
    if isinstance(exc, UnicodeError):
        return "text that is not valid Unicode (a stray byte or a lone surrogate)"
    if isinstance(exc, ValueError) and type(exc).__module__.startswith("msl_tui."):
        return str(exc)  # our own errors are written as one line for a person already
    if isinstance(exc, ValidationError):
        from msl_tui.models.problems import describe

        return describe(exc)
    return f"unexpected {type(exc).__name__} (run again with MSL_DEBUG=1 to see where)"


# Commands defined in other modules, loaded when asked for: opening the app (no command)
# imports none of them. Each module registers its commands on ``main`` when imported.
LAZY_COMMANDS = {
    "brief": "brief",
    "note": "note",
    "kol": "privacy",
    "encrypt": "privacy",
    "decrypt": "privacy",
    "export": "sync",
    "import": "sync",
    "import-roster": "sync",
    "report": "sync",
    "keys": "sync",
    "conflicts": "sync",
}


def _load_commands(*names: str) -> None:
    for module in sorted({LAZY_COMMANDS[n] for n in names if n in LAZY_COMMANDS}):
        importlib.import_module(f"msl_tui.cli.{module}")


class MslGroup(click.Group):
    """The one error boundary: anything a command raises leaves as one line."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        _load_commands(cmd_name)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        _load_commands(*LAZY_COMMANDS)
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("MSL_DEBUG"):
                raise
            fail(explain(exc))


def open_store(path: Path | ServerUrl, *, create: bool = True, read_only: bool = False) -> Store:
    """The store at ``path``; one line and exit 1 if it cannot be (or is not ours)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        root = ctx.find_root()
        root.ensure_object(dict)
        if isinstance(path, Path):
            root.obj["store_path"] = path
    if create and not read_only and isinstance(path, Path) and not path.exists():
        _make_home_for(path)
    try:
        store = Store.open(path, create=create, read_only=read_only)
    except StoreError as exc:
        fail(str(exc))
    if not read_only:
        _tidy(store)
    return store


def _make_home_for(path: Path) -> None:
    """A fresh machine may not have the user data folder (nor ~/.local/share): the
    default places are ours to create, privately. A folder the user named with --db is
    not: a typo there must not grow a tree of folders."""
    home = locations.data_dir()
    try:
        if path.resolve().parent == home.resolve():
            locations.ensure_private_dir(home)
    except OSError as exc:
        fail(f"cannot create the folder {printable(home, 120)}: {exc.strerror or 'not allowed'}")


def _tidy(store: Store) -> None:
    """Retention at every writable open, the app's start included: old unsent drafts go."""
    for line in _housekeeping(store):
        say(f"msl: {line}", err=True)


def _housekeeping(store: Store) -> list[str]:
    from msl_tui.services.launch import housekeeping_lines

    return housekeeping_lines(store)


class StoreParam(click.ParamType):
    """A store file, or at head office a ``postgresql://`` URL (kept whole: a path would
    fold its ``//``)."""

    name = "path"

    def convert(self, value: Any, param: Any, ctx: Any) -> Path | ServerUrl:
        if isinstance(value, Path | ServerUrl):
            return value
        if is_server_url(value):
            return ServerUrl(value)
        if _OTHER_URL.match(str(value)) or _LIBPQ_KEYWORDS.search(str(value)):
            # Never echoed: such a string may carry a password.
            fail(
                "--db looks like a connection string msl does not read: give a "
                "postgresql://USER@HOST/DATABASE URL (the password from ~/.pgpass or "
                "PGPASSWORD), or a store file"
            )
        return Path(value)


# Other URL schemes (postgresql+psycopg://, mysql://...) and libpq's "host=... password=..."
# strings: taken as file names they would make a file named after the password.
_OTHER_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_LIBPQ_KEYWORDS = re.compile(r"(^|\s)(host|hostaddr|port|dbname|user|password|sslmode)\s*=")


def db_option(func: Any) -> Any:
    return click.option(
        "--db",
        "db_path",
        # Checked by the store, which explains a bad path in one line.
        type=StoreParam(),
        envvar="MSL_DB",
        default=None,
        help="Store file, or a postgresql:// URL at head office (default: the user data "
        "folder; env MSL_DB).",
    )(func)


def resolve_db(db_path: Path | ServerUrl | None) -> Path | ServerUrl:
    """A command's own --db, else the one given before the command, else the default."""
    if db_path is None:
        ctx = click.get_current_context(silent=True)
        root = ctx.find_root() if ctx else None
        if root is not None and root.obj:
            db_path = root.obj.get("db_path")
    return db_path or locations.default_db_path()


def store_file(path: Path | ServerUrl, what: str) -> Path:
    """The store's file, for what only a file has (encryption by SQLCipher): a server store
    is protected by its server."""
    if isinstance(path, ServerUrl):
        fail(f"{what} is for a store file: {path} is a PostgreSQL store, protected by its server")
    return path


def slug(name: str) -> str:
    """The MSL id a name gives: ASCII letters and digits joined by dots ("Zoë Ångström" ->
    "zoe.angstrom"). A name with no Latin letters (李小龙) gets a stable id from its own
    characters instead of colliding with every other such name."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", ".", ascii_name.lower()).strip(".")
    if len(re.sub(r"[^A-Za-z0-9]", "", name)) * 2 >= len(re.sub(r"\s", "", name)) and base:
        return base[:60]
    digest = hashlib.sha256(name.strip().encode()).hexdigest()[:8]
    return f"{base[:50]}.{digest}".strip(".") if base else f"msl.{digest}"


@click.group(
    cls=MslGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="msl")
@db_option
@click.pass_context
def main(ctx: click.Context, db_path: Path | None) -> None:
    """msl-tui: KOL priorities, engagement plans and visit notes for Medical Science Liaisons.

    Run with no command to open the app on your store (created on first run).
    """
    ctx.ensure_object(dict)
    ctx.obj["db_path"] = db_path
    from msl_tui.store import cipher

    cipher.set_prompt(_ask_passphrase)  # an encrypted store asks on the terminal
    if ctx.invoked_subcommand is None:
        path = resolve_db(db_path)
        from msl_tui.services.unlock import needs_passphrase

        if needs_passphrase(path):
            _run_locked_app(store_file(path, "the passphrase screen"))
            return
        if isinstance(path, Path):
            cipher.prefetch_key(path)  # an encrypted store's key derives while Textual loads
            import msl_tui.app  # noqa: F401
        new = _not_there(path)
        store = open_store(path)
        if store.get_profile() is None:
            try:
                if not sys.stdin.isatty():
                    fail("this store has no MSL yet: run `msl init --name NAME` first")
                name = click.prompt("Welcome to msl-tui. Your name (as head office knows you)")
                _set_profile(store, name.strip(), "")
            except BaseException:
                # No answer (no terminal, ctrl+c, a name refused): the store just made
                # for it goes, with the folders made on its way. A typo in MSL_DB left
                # them behind: a folder named `~` in the working one (QA).
                _forget(store, new)
                raise
        _run_app(store)


def _not_there(path: Path | ServerUrl) -> list[Path]:
    """What a first run at ``path`` would make: the file and its missing folders."""
    if not isinstance(path, Path) or path.exists() or path.is_symlink():
        return []
    made = [path]
    folder = path.absolute().parent
    while not folder.exists():
        made.append(folder)
        folder = folder.parent
    return made


def _forget(store: Store, made: list[Path]) -> None:
    """Remove what a first run made (``_not_there``), the store's WAL files included."""
    if not made:
        return
    store.close()
    with contextlib.suppress(OSError):
        for suffix in ("-wal", "-shm", ""):
            made[0].with_name(made[0].name + suffix).unlink(missing_ok=True)
        for folder in made[1:]:
            folder.rmdir()  # only if empty: never anything else


def _ask_passphrase(path: Path) -> str | None:
    from msl_tui.cli.privacy import ask_passphrase  # only an encrypted store needs it

    return ask_passphrase(path)


def _check_profile_text(name: str, territory: str) -> None:
    if not name:
        fail("--name must not be empty")
    plain_text("--name", name)
    plain_text("--territory", territory)


def _set_profile(store: Store, name: str, territory: str, *, head_office: bool = False) -> None:
    from msl_tui.models import MslProfile

    _check_profile_text(name, territory)
    store.set_profile(
        MslProfile(
            msl_id=slug(name),
            name=name,
            territory=territory,
            role="head office" if head_office else "msl",
            device_id=store.device_id,
        )
    )


def _run_app(store: Store | None, **kwargs: Any) -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        if store is not None:
            store.close()
        fail("the app needs a terminal (input or output is redirected): see `msl --help`")
    from msl_tui.app import MslApp  # Textual loads only when a screen is needed.

    app = MslApp(store, **kwargs)
    app.run()
    if app.open_error is not None:
        # The store proved damaged (or would not open): one line, exit status 1.
        raise app.open_error
    if app.return_code:  # stopped by SIGTERM or SIGHUP (its draft saved): 128 + signal
        raise SystemExit(app.return_code)


def _run_locked_app(path: Path) -> None:
    """The app on an encrypted store nobody has given the passphrase of: it starts on the
    passphrase screen, which opens the store through ``opened`` (in a worker thread)."""
    from msl_tui.services.unlock import LockedStore, open_encrypted
    from msl_tui.store import cipher

    ctx = click.get_current_context()
    ctx.find_root().obj["store_path"] = path
    said: list[str] = []  # housekeeping's lines, told once the app has given the terminal back

    def opened(passphrase: str, remember: bool) -> Store:
        store = open_encrypted(path, passphrase, remember=remember)
        if store.get_profile() is None:
            store.close()
            raise StoreError("This store has no MSL yet: quit, and run `msl init --name NAME`.")
        said.extend(_housekeeping(store))
        return store

    _run_app(None, locked=LockedStore(path, cipher.keyring_usable(), opened))
    for line in said:
        say(f"msl: {line}", err=True)


@main.command()
@click.option("--name", required=True, help="Your name, as head office knows you.")
@click.option("--territory", default="", help="Your territory.")
@click.option("--force", is_flag=True, help="Give an existing store to another MSL.")
@click.option("--encrypt", is_flag=True, help="Create the store encrypted (SQLCipher).")
@click.option(
    "--remember", is_flag=True, help="With --encrypt: keep the passphrase in the OS keyring."
)
@click.option(
    "--head-office",
    is_flag=True,
    help="This store is head office's: it opens on the field view and merges many MSLs.",
)
@db_option
def init(
    name: str,
    territory: str,
    force: bool,
    encrypt: bool,
    remember: bool,
    head_office: bool,
    db_path: Path | None,
) -> None:
    """Create the store (if needed) and record who the MSL is, without opening the app."""
    _check_profile_text(name.strip(), territory.strip())  # before a store is created
    path = resolve_db(db_path)
    if remember and not encrypt:
        fail("--remember goes with --encrypt")
    passphrase = ""
    if encrypt:
        path = store_file(path, "--encrypt")
        if (path.exists() or path.is_symlink()) and path.stat().st_size > 0:
            fail(f"{path} exists already: `msl encrypt` encrypts an existing store")
        from msl_tui.cli.privacy import encryption_ready

        passphrase = encryption_ready(path, remember=remember)  # before anything is made
    store = open_store(path)
    try:
        current = store.get_profile()
        if current is not None and current.msl_id != slug(name.strip()) and not force:
            fail(
                f"this store belongs to {printable(current.name, 60)} "
                f"({printable(current.msl_id, 60)}); its bundles carry that name. To hand it "
                "to someone else, run again with --force"
            )
        _set_profile(store, name.strip(), territory.strip(), head_office=head_office)
    finally:
        store.close()
    if encrypt:
        from msl_tui.cli.privacy import encrypt_store

        encrypt_store(store_file(path, "--encrypt"), passphrase, remember=remember)
    say(
        f"store {store.where} belongs to {name.strip()} (device {store.device_id})"
        + (", head office" if head_office else "")
        + (", encrypted" if encrypt else "")
    )


@main.command()
@db_option
def upgrade(db_path: Path | ServerUrl | None) -> None:
    """Bring the store up to this msl-tui's schema (any command that writes does so first):
    for a machine without the app, such as head office's server."""
    path = resolve_db(db_path)
    try:
        behind = Store.pending_migrations(path)
    except StoreError as exc:
        fail(str(exc))
    store = open_store(path, create=False)  # applies them, one process at a time
    where = printable(store.where, 120)
    store.close()
    if behind:
        say(f"{where}: upgraded ({behind} step{'s' if behind != 1 else ''})")
    else:
        say(f"{where}: already up to date, nothing to do")


@main.command()
def demo() -> None:
    """Open the app on the demo store (built on first use, in its own file)."""
    from msl_tui.demo import seed_demo

    path = locations.demo_db_path()
    fresh = not path.exists()
    store = open_store(path)
    if fresh or store.get_profile() is None:
        click.echo("Building the demo territory (first use only)...", err=True)
        seed_demo(store)
    _run_app(store)


def _seed_new_file(path: Path, fill: Callable[[Store], T]) -> T:
    """A new store filled under a temporary name beside ``path`` without a journal or disk
    syncs (``Store.unjournaled``), then synced and given its name: a run killed halfway
    leaves no store at ``path``, only a temporary file (removed here, or by the next
    housekeeping if the process was killed)."""
    _make_home_for(path)
    tmp = locations.private_temp_path(path)
    try:
        try:
            store = Store.open(tmp)
        except StoreError as exc:
            # Named as the user gave it: the hidden temporary name means nothing to them.
            fail(str(exc).replace(str(tmp), str(path)))
        try:
            with store.unjournaled():
                result = fill(store)
        finally:
            store.close()
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        try:
            locations.publish(tmp, path)
        except FileExistsError:
            fail(f"{path} appeared while the demo was written: seed an empty store")
    finally:
        for name in (tmp, *(Path(f"{tmp}{suffix}") for suffix in ("-journal", "-wal", "-shm"))):
            # On a read-only file system even a missing name is EROFS: that must not replace
            # the error being reported with a second one about the temporary file.
            with contextlib.suppress(OSError):
                name.unlink(missing_ok=True)
    return result


@main.command("seed-demo")
@db_option
@click.option(
    "--kols", default=150, show_default=True, type=click.IntRange(1, 200_000), help="How many KOLs."
)
@click.option(
    "--years",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0.1, 20),
    help="Years of interaction history.",
)
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same data).")
def seed_demo_cmd(db_path: Path | None, kols: int, years: float, seed: int) -> None:
    """Write a deterministic demo territory into a store, without starting the UI."""
    from msl_tui.demo import DemoSummary, seed_demo

    path = resolve_db(db_path)
    started = time.perf_counter()

    def fill(store: Store) -> DemoSummary:
        # On stderr and only on a terminal: the summary on stdout stays one clean block,
        # and a script's stderr holds only errors.
        with click.progressbar(
            length=kols,
            label="KOLs",
            file=sys.stderr,
            show_pos=True,
            show_eta=True,
            hidden=not sys.stderr.isatty(),
        ) as bar:
            return seed_demo(store, kols=kols, years=years, seed=seed, progress=bar.update)

    if isinstance(path, Path) and not path.exists() and not path.is_symlink():
        summary = _seed_new_file(path, fill)
    else:
        store = open_store(path)
        try:
            # The check and the writing in one transaction (the write lock taken first):
            # two runs on one empty store both saw it empty, then both wrote, mixing two
            # territories in it. The second now waits, then finds records and refuses.
            with store.transaction():
                if store.count_all() > 0:
                    fail(f"{path} already holds records: seed an empty store")
                summary = fill(store)
        finally:
            store.close()
    elapsed = time.perf_counter() - started
    say(f"wrote {path} in {elapsed:.1f} s:")
    for line in summary.lines():
        say(f"  {line}")
