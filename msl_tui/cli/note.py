"""`msl note QUERY`: from the shell straight to a visit note for the KOL named."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from msl_tui.cli import _run_app, db_option, fail, main, open_store, resolve_db


@main.command()
@click.argument("query", nargs=-1, required=True)
@db_option
def note(query: tuple[str, ...], db_path: Path | None) -> None:
    """Open a new visit note for the KOL whose name matches QUERY (e.g. `msl note roe`)."""
    text = " ".join(query)
    store = open_store(resolve_db(db_path))
    if store.get_profile() is None:
        fail("this store has no MSL yet: run `msl init --name NAME` first")
    matches = store.find_kols_by_name(text, limit=9)
    if not matches:
        fail(f"no KOL matches {text!r}")
    chosen = matches[0]
    exact = [k for k in matches if k.name.lower() == text.lower()]
    if exact:
        chosen = exact[0]
    elif len(matches) > 1:
        if not sys.stdin.isatty():
            names = "; ".join(k.name for k in matches)
            fail(f"{len(matches)} KOLs match {text!r} ({names}): be more specific")
        for number, kol in enumerate(matches, start=1):
            click.echo(f"  {number}. {kol.name} — {kol.institution}")
        pick = click.prompt("Which one", type=click.IntRange(1, len(matches)), default=1)
        chosen = matches[pick - 1]
    _run_app(store, open_capture_for=chosen.id)
