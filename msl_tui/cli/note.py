"""`msl note QUERY`: from the shell straight to a visit note for the KOL named."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from msl_tui.cli import db_option, fail, main, open_store, resolve_db
from msl_tui.models import Kol
from msl_tui.safe_text import printable


@main.command()
@click.argument("query", nargs=-1, required=True)
@db_option
def note(query: tuple[str, ...], db_path: Path | None) -> None:
    """Open a new visit note for the KOL whose name matches QUERY (e.g. `msl note roe`)."""
    text = " ".join(query)
    path = resolve_db(db_path)
    store = open_store(path)
    if store.get_profile() is None:
        fail(f"the store {path} has no MSL yet: run `msl init --name NAME` first")
    matches = store.find_kols_by_name(text, limit=9)
    if not matches:
        if store.count(Kol) == 0:
            fail(
                f"the store {path} has no KOLs yet: run `msl import-roster FILE.csv`, "
                "or open `msl` and press a to add one"
            )
        fail(
            f"no KOL name in {path} matches '{printable(text, 60)}' "
            f"(searched {store.count(Kol):,} KOLs)"
        )
    chosen = matches[0]
    exact = [k for k in matches if k.name.lower() == text.lower()]
    if exact:
        chosen = exact[0]
    elif len(matches) > 1:
        if not sys.stdin.isatty():
            names = "; ".join(printable(k.name, 60) for k in matches)
            fail(
                f"{len(matches)} KOLs in {path} match '{printable(text, 60)}' ({names}): "
                "be more specific"
            )
        for number, kol in enumerate(matches, start=1):
            click.echo(f"  {number}. {printable(kol.name)} — {printable(kol.institution)}")
        pick = click.prompt("Which one", type=click.IntRange(1, len(matches)), default=1)
        chosen = matches[pick - 1]
    from msl_tui.note_app import NoteApp  # Textual loads only when a screen is needed.

    app = NoteApp(store, open_capture_for=chosen.id)
    app.run()
    if app.saved_id:
        click.echo(f"Visit saved for {printable(chosen.name)}.")
