"""`msl note QUERY`: from the shell straight to a visit note for the KOL named."""

from __future__ import annotations

from pathlib import Path

import click

from msl_tui.cli import db_option, fail, main, open_store, resolve_db
from msl_tui.cli.kol_lookup import choose_kol
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
    chosen = choose_kol(store, text)  # two KOLs of one name are never picked silently
    from msl_tui.note_app import NoteApp  # Textual loads only when a screen is needed.

    app = NoteApp(store, open_capture_for=chosen.id)
    app.run()
    if app.saved_id:
        click.echo(f"Visit saved for {printable(chosen.name)}.")
