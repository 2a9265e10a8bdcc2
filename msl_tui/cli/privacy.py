"""Personal-data commands about one KOL: `msl kol erase` and `msl kol export`."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click

from msl_tui.cli import db_option, fail, main, open_store, resolve_db, say, store_file
from msl_tui.cli.kol_lookup import choose_kol
from msl_tui.models import Kol
from msl_tui.safe_text import printable
from msl_tui.store import Store, StoreError
from msl_tui.store.urls import ServerUrl
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


def _existing(path: Path | ServerUrl) -> None:
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


# -- the encrypted store -------------------------------------------------------------------


def ask_passphrase(path: Path) -> str | None:
    """The CLI's way to ask for a store's passphrase: hidden, on a terminal only."""
    if not sys.stdin.isatty():
        return None
    return str(click.prompt(f"Passphrase for {printable(path, 120)}", hide_input=True, err=True))


def _new_passphrase(path: Path) -> str:
    """A passphrase for a store about to be encrypted: MSL_PASSPHRASE, else typed twice."""
    from msl_tui.store import cipher

    given = os.environ.get(cipher.PASSPHRASE_ENV)
    if given:
        _check_passphrase_text(given)
        return given
    if not sys.stdin.isatty():
        fail(f"choose a passphrase: type it on a terminal, or set {cipher.PASSPHRASE_ENV}")
    typed = click.prompt(
        f"New passphrase for {printable(path, 120)}",
        hide_input=True,
        confirmation_prompt="Type it again",
        err=True,
    )
    if not str(typed).strip():
        fail("an empty passphrase protects nothing: choose one")
    _check_passphrase_text(str(typed))
    return str(typed)


def _check_passphrase_text(passphrase: str) -> None:
    """Before anything is made: a passphrase that cannot be encoded would fail halfway."""
    if not passphrase.strip():
        fail("an empty passphrase protects nothing: choose one")
    try:
        passphrase.encode("utf-8")
    except UnicodeEncodeError:
        fail(f"the passphrase in {cipher_env()} is not valid text: choose another")


def cipher_env() -> str:
    from msl_tui.store import cipher

    return cipher.PASSPHRASE_ENV


def _check_can_remember(remember: bool) -> None:
    from msl_tui.store import cipher

    if remember and not cipher.keyring_usable():
        fail(
            "no OS keyring is available here to remember the passphrase: "
            f"leave out --remember, and use {cipher.PASSPHRASE_ENV} or type it when asked"
        )


def encryption_ready(path: Path, *, remember: bool) -> str:
    """Every check before a store is encrypted (SQLCipher here, a keyring if asked for),
    then the new passphrase: nothing has changed yet."""
    from msl_tui.store import cipher

    if not cipher.available():
        fail("encrypted stores need SQLCipher: pip install 'msl-tui[encrypted-store]'")
    if path.exists() and cipher.looks_encrypted(path):
        fail(f"{printable(path, 160)} is encrypted already")
    _check_can_remember(remember)
    return _new_passphrase(path)


def encrypt_store(path: Path, passphrase: str, *, remember: bool) -> None:
    """Encrypt the (plain) store at ``path`` with ``passphrase``."""
    from msl_tui.store import cipher

    try:
        cipher.convert(path, passphrase=passphrase)
    except StoreError as exc:
        fail(str(exc))
    if remember:
        try:
            cipher.remember(path, passphrase)
        except StoreError as exc:
            fail(f"{path} is encrypted, but {exc}")


@main.command("encrypt")
@db_option
@click.option(
    "--remember", is_flag=True, help="Keep the passphrase in the OS keyring for this store."
)
def encrypt_cmd(db_path: Path | None, remember: bool) -> None:
    """Encrypt the store file (SQLCipher): a new encrypted copy is written, checked, and put
    in place; the plain file is overwritten before it is removed."""
    path = store_file(resolve_db(db_path), "msl encrypt")
    _existing(path)
    from msl_tui.store import cipher

    if cipher.looks_encrypted(path):
        fail(f"{printable(path, 160)} is encrypted already")
    open_store(path, create=False).close()  # a store of ours, up to date, not busy
    encrypt_store(path, encryption_ready(path, remember=remember), remember=remember)
    say(
        f"{path} is encrypted"
        + ("; its passphrase is in the OS keyring" if remember else "")
        + ": without the passphrase it cannot be read, by anyone"
    )


@main.command("decrypt")
@db_option
def decrypt_cmd(db_path: Path | None) -> None:
    """Turn an encrypted store back into a plain SQLite file (and forget its passphrase in
    the OS keyring)."""
    from msl_tui.store import cipher

    path = store_file(resolve_db(db_path), "msl decrypt")
    _existing(path)
    if not cipher.looks_encrypted(path):
        fail(f"{printable(path, 160)} is not encrypted")
    open_store(path, create=False).close()  # the passphrase is right, the store is ours
    try:
        cipher.convert(path, passphrase=None)
    except StoreError as exc:
        fail(str(exc))
    cipher.forget(path)
    say(f"{path} is a plain store again: anyone who can read the file can read the notes")
