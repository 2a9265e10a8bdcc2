"""Personal-data commands about one KOL: `msl kol erase` and `msl kol export`."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from msl_tui.cli import db_option, fail, main, open_store, resolve_db, say
from msl_tui.cli.kol_lookup import choose_kol
from msl_tui.models import Kol
from msl_tui.safe_text import printable
from msl_tui.store import Store
from msl_tui.sync.wire import ERASURE_REASONS

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _find(store: Store, query: str) -> Kol:
    """The KOL a query names: its id (a deleted KOL too), else its name as `msl note` finds
    it."""
    if _UUID.match(query.strip().lower()):
        kol = store.get(Kol, query.strip().lower())
        if kol is None:
            fail(f"no KOL with id {query.strip()} in {store.path or 'the store'}")
        return kol
    return choose_kol(store, query)


def _existing(path: Path) -> None:
    if not (path.exists() or path.is_symlink()):
        fail(f"no store at {path}: nothing to do")


@main.group("kol")
def kol_group() -> None:
    """Personal data of one KOL: erase it everywhere, or export all of it."""


@kol_group.command("erase")
@db_option
@click.argument("query")
@click.option(
    "--reason",
    required=True,
    type=click.Choice(ERASURE_REASONS),
    help="Why (a category, never free text: the record travels and must not name anyone).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
def erase_cmd(db_path: Path | None, query: str, reason: str, yes: bool) -> None:
    """Erase the KOL QUERY names (a name or an id) from this store, and from every store that
    imports this store's next export. It cannot be undone."""
    from msl_tui.services.erasure import ErasureError, erase_kol

    path = resolve_db(db_path)
    _existing(path)
    store = open_store(path, create=False)
    try:
        kol = _find(store, query)
        what = f"{printable(kol.name, 80)} ({kol.id})"
        if not yes:
            if not sys.stdin.isatty():
                fail(f"erasing {what} cannot be undone: add --yes to confirm")
            click.confirm(
                f"Erase {what} here and, with the next export, everywhere? This cannot be undone",
                abort=True,
                err=True,
            )
        try:
            result = erase_kol(store, kol.id, reason)
        except ErasureError as exc:
            fail(str(exc))
    finally:
        store.close()
    for line in result.lines():
        say(line)


@kol_group.command("export")
@db_option
@click.argument("query")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Writes FILE.json and FILE.md (0600).",
)
@click.option("--force", is_flag=True, help="Replace FILE.json and FILE.md if they exist.")
def export_cmd(db_path: Path | None, query: str, out: Path, force: bool) -> None:
    """Everything this store holds about the KOL QUERY names, for a subject-access request:
    profile, plans, visits, follow-ups (deleted ones too), drafts, conflicts and the change
    history with earlier values."""
    from msl_tui.services.subject_access import SubjectAccessError, write_export
    from msl_tui.store import erasure

    path = resolve_db(db_path)
    _existing(path)
    store = open_store(path, create=False, read_only=True)
    try:
        done = erasure.get_erasure(store, query.strip().lower())
        if done is not None:
            fail(
                f"KOL {done['kol_id']} was erased on {done['erased_at']} ({done['reason']}): "
                "this store holds nothing about them but that record"
            )
        kol = _find(store, query)
        try:
            written = write_export(store, kol.id, out, force=force)
        except SubjectAccessError as exc:
            fail(str(exc))
    finally:
        store.close()
    say(written.line())
