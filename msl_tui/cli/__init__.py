"""The ``msl`` command. A thin layer: it parses options and calls the store and services."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

import click

from msl_tui import __version__, locations
from msl_tui.store import Store, StoreError


def fail(message: str) -> None:
    """One line on stderr and a non-zero exit: the way every error leaves."""
    click.echo(f"msl: error: {message}", err=True)
    sys.exit(1)


def open_store(path: Path, *, create: bool = True) -> Store:
    try:
        return Store.open(path, create=create)
    except StoreError as exc:
        fail(str(exc))
        raise  # unreachable: keeps type checkers content


def db_option(func: Any) -> Any:
    return click.option(
        "--db",
        "db_path",
        # Checked by the store, which explains a bad path in one line.
        type=click.Path(path_type=Path),
        envvar="MSL_DB",
        default=None,
        help="Store file (default: the user data folder; env MSL_DB).",
    )(func)


def resolve_db(db_path: Path | None) -> Path:
    """A command's own --db, else the one given before the command, else the default."""
    if db_path is None:
        ctx = click.get_current_context(silent=True)
        root = ctx.find_root() if ctx else None
        if root is not None and root.obj:
            db_path = root.obj.get("db_path")
    return db_path or locations.default_db_path()


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or "msl"


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="msl")
@db_option
@click.pass_context
def main(ctx: click.Context, db_path: Path | None) -> None:
    """msl-tui: KOL priorities, engagement plans and visit notes for Medical Science Liaisons.

    Run with no command to open the app on your store (created on first run).
    """
    ctx.ensure_object(dict)
    ctx.obj["db_path"] = db_path
    if ctx.invoked_subcommand is None:
        store = open_store(resolve_db(db_path))
        if store.get_profile() is None:
            if not sys.stdin.isatty():
                fail("this store has no MSL yet: run `msl init --name NAME` first")
            name = click.prompt("Welcome to msl-tui. Your name (as head office knows you)")
            _set_profile(store, name.strip(), "")
        _run_app(store)


def _set_profile(store: Store, name: str, territory: str) -> None:
    from msl_tui.models import MslProfile

    if not name:
        fail("--name must not be empty")
    store.set_profile(
        MslProfile(msl_id=slug(name), name=name, territory=territory, device_id=store.device_id)
    )


def _run_app(store: Store, **kwargs: Any) -> None:
    from msl_tui.app import MslApp  # Textual loads only when a screen is needed.

    MslApp(store, **kwargs).run()


@main.command()
@click.option("--name", required=True, help="Your name, as head office knows you.")
@click.option("--territory", default="", help="Your territory.")
@db_option
def init(name: str, territory: str, db_path: Path | None) -> None:
    """Create the store (if needed) and record who the MSL is, without opening the app."""
    store = open_store(resolve_db(db_path))
    _set_profile(store, name.strip(), territory)
    click.echo(f"store {store.path} belongs to {name} (device {store.device_id})")


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
    from msl_tui.demo import seed_demo

    path = resolve_db(db_path)
    store = open_store(path)
    if store.count_all() > 0:
        fail(f"{path} already holds records: seed an empty store")
    started = time.perf_counter()
    summary = seed_demo(store, kols=kols, years=years, seed=seed)
    elapsed = time.perf_counter() - started
    store.close()
    click.echo(f"wrote {path} in {elapsed:.1f} s:")
    for line in summary.lines():
        click.echo(f"  {line}")


from msl_tui.cli import brief as _brief  # noqa: E402,F401  (registers msl brief)
from msl_tui.cli import note as _note  # noqa: E402,F401  (registers msl note)
from msl_tui.cli import sync as _sync  # noqa: E402,F401
