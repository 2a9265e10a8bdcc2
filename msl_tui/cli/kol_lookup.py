"""Finding the KOL a shell command names: `msl brief roe` (the rules `msl note` follows)."""

from __future__ import annotations

import sys

import click

from msl_tui.cli import fail
from msl_tui.models import Kol
from msl_tui.safe_text import printable
from msl_tui.store import Store


def choose_kol(store: Store, text: str) -> Kol:
    """The KOL whose name matches ``text``: an exact name wins; several matches are offered
    as a numbered choice on a terminal and refused (with the names) otherwise."""
    matches = store.find_kols_by_name(text, limit=9)
    if not matches:
        fail(f"no KOL in {store.path or 'the store'} matches {printable(text)!r}")
    exact = [k for k in matches if k.name.lower() == text.lower()]
    if exact:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    if not sys.stdin.isatty():
        names = "; ".join(printable(k.name, 60) for k in matches)
        fail(f"{len(matches)} KOLs match {printable(text)!r} ({names}): be more specific")
    for number, kol in enumerate(matches, start=1):
        click.echo(f"  {number}. {printable(kol.name)} — {printable(kol.institution)}", err=True)
    pick = click.prompt("Which one", type=click.IntRange(1, len(matches)), default=1, err=True)
    return matches[pick - 1]
