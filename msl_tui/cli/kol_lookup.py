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
    if len(exact) == 1:
        return exact[0]
    if exact:
        # Two people share the name: a note must not go to the wrong one.
        matches = exact
    elif len(matches) == 1:
        return matches[0]
    if not sys.stdin.isatty():
        names = "; ".join(_described(k) for k in matches)
        fail(f"{len(matches)} KOLs match {printable(text)!r} ({names}): be more specific")
    for number, kol in enumerate(matches, start=1):
        click.echo(f"  {number}. {_described(kol)}", err=True)
    # No default: with two of the same name, enter alone must not pick one.
    pick = click.prompt("Which one", type=click.IntRange(1, len(matches)), err=True)
    return matches[pick - 1]


def _described(kol: Kol) -> str:
    """Enough to tell two KOLs of one name apart: institution, city, specialty."""
    where = ", ".join(printable(v, 40) for v in (kol.institution, kol.city, kol.specialty) if v)
    return f"{printable(kol.name, 60)}" + (f" ({where})" if where else "")
