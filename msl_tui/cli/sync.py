"""Sync commands: export, import, import-roster, report, keys, conflicts."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import click

from msl_tui import locations
from msl_tui.cli import db_option, fail, main, open_store, resolve_db, say
from msl_tui.plurals import plural
from msl_tui.safe_text import printable
from msl_tui.store import Store, StoreError
from msl_tui.store.urls import ServerUrl
from msl_tui.timestamps import now_iso, utcnow


@contextmanager
def _progress(total: int, label: str) -> Iterator[Any]:
    """A progress bar on a terminal for work that can take a while; silent otherwise."""
    if total < 20_000 or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def _existing_store(path: Path | ServerUrl, what: str) -> None:
    """Commands that need a store refuse a missing one before anything is created."""
    if not (path.exists() or path.is_symlink()):
        fail(f"no store at {path}: {what}")


def _writable(path: Path | ServerUrl) -> bool:
    if isinstance(path, ServerUrl):
        return True  # the server says, when the listing's refresh tries
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


@main.command("export")
@db_option
@click.option("--full", is_flag=True, help="Every change this store holds, not only new ones.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder or file name for the bundle (default: the exports folder).",
)
@click.option("--roster", is_flag=True, help="Head office: the roster and plans for one MSL.")
@click.option("--for", "for_msl", default=None, help="The MSL id the roster is for.")
@click.option("--no-sign", is_flag=True, help="Do not sign the bundle.")
@click.option("--force", is_flag=True, help="Replace the --out file if it exists.")
@click.option(
    "--plain", is_flag=True, help="Do not encrypt the bundle, even when recipients are set."
)
def export_cmd(
    db_path: Path | None,
    full: bool,
    out: Path | None,
    roster: bool,
    for_msl: str | None,
    no_sign: bool,
    force: bool,
    plain: bool,
) -> None:
    """Write a .mslsync bundle of this store's changes (new ones since the last export).

    An existing file is never replaced without --force. Once `msl keys --recipient` is
    set, the bundle is encrypted to those recipients and to this store.
    """
    from msl_tui.sync.export import (
        ExportError,
        check_destination,
        export_bundle,
        pending_export_count,
    )

    if roster != bool(for_msl):
        fail("--roster and --for MSL go together")
    path = resolve_db(db_path)
    _existing_store(path, "nothing to export")
    target = out or locations.exports_dir()
    if _same_file(target, path):
        fail(f"--out {printable(target, 120)} is the store itself: name another file or folder")
    try:
        check_destination(target, force=force)  # before the store is opened for writing
    except ExportError as exc:
        fail(str(exc))
    store = open_store(path, create=False)
    try:
        # An export that moves its mark reads settled snapshots (see Store.settled).
        with store.settled() if not roster else nullcontext():
            total = pending_export_count(store) if not (full or roster) else 0
            with _progress(total, "exporting") as update:
                result = export_bundle(
                    store,
                    target,
                    full=full,
                    roster_for=for_msl,
                    sign=not no_sign,
                    progress=update,
                    force=force,
                    plain=plain,
                )
    except ExportError as exc:
        fail(str(exc))
    finally:
        store.close()
    say(result.line())


@main.command("import")
@db_option
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option(
    "--set-aside",
    type=click.Path(path_type=Path),
    default=None,
    help="Move refused bundles here, each with a .reason.txt (never over another file).",
)
def import_cmd(
    db_path: Path | None, files: tuple[Path, ...], dry_run: bool, set_aside: Path | None
) -> None:
    """Merge .mslsync bundles (or every bundle in a folder) into the store, which is
    created if it does not exist yet.

    Each bundle goes in whole or not at all; a refused one does not stop the others.
    """
    from msl_tui.sync.importer import ImportError_, bundle_total
    from msl_tui.sync.side_by_side import import_one

    # A folder stands for the bundles in it: head office drops a week's files in one place.
    paths = [p for f in files for p in (sorted(f.glob("*.mslsync")) if f.is_dir() else [f])]
    if not paths:
        fail(f"no .mslsync files in {', '.join(str(f) for f in files)}")
    path = resolve_db(db_path)
    for bundle in paths:
        if _same_file(bundle, path):
            fail(f"{printable(bundle, 120)} is the store itself, not a bundle")
    if set_aside is not None and set_aside.exists() and not set_aside.is_dir():
        fail(f"--set-aside {printable(set_aside, 120)} is a file: name a folder")
    if dry_run:
        # A dry run compares bundles with a store and writes nothing: not even a new store.
        _existing_store(path, "a dry run needs the store it would import into")
    store = open_store(path, read_only=dry_run)
    imported = 0
    refused: list[tuple[Path, str]] = []
    try:
        total = sum(bundle_total(f) for f in paths if f.is_file()) * 2
        with _progress(total, "importing") as update:
            for bundle in paths:
                try:
                    report = import_one(store, bundle, dry_run=dry_run, progress=update)
                except ImportError_ as exc:
                    _raise_if_the_store_failed(exc)
                    refused.append((bundle, str(exc)))
                    say(f"msl: error: {exc}", err=True, limit=400)
                    continue
                imported += 1
                for line in report.lines():
                    say(line)
    finally:
        store.close()
    if set_aside is not None and not dry_run:
        for bundle, reason in refused:
            _set_aside(bundle, set_aside, reason)
    if refused:
        if len(paths) > 1:
            say(
                f"msl: {len(refused)} of {plural(len(paths), 'bundle')} refused, "
                f"{imported} imported",
                err=True,
            )
        sys.exit(1)


def _same_file(a: Path, b: Path | ServerUrl) -> bool:
    """Whether two paths name one file (or ``a`` is the store's journal beside ``b``)."""
    if isinstance(b, ServerUrl):
        return False  # a server's store is no file here
    for candidate in (b, Path(f"{b}-wal"), Path(f"{b}-shm"), Path(f"{b}-journal")):
        try:
            if a.exists() and candidate.exists() and os.path.samefile(a, candidate):
                return True
        except OSError:
            continue
    return False


def _raise_if_the_store_failed(exc: Exception) -> None:
    """A bundle is refused for what is in it; when the store itself failed (busy, full,
    read-only) the batch stops there and nothing is set aside: the bundles are fine."""
    cause = exc.__cause__ or exc.__context__
    if getattr(exc, "store_failed", False) and isinstance(cause, sqlite3.Error | StoreError):
        raise cause


def _set_aside(bundle: Path, folder: Path, reason: str) -> None:
    """Move a refused bundle into ``folder`` with a .reason.txt beside it.

    Never over another file (a taken name gets a number), across file systems too: the
    bundle is copied into a private file there first, and the original removed only once
    the copy is safe. If it cannot be moved, it stays where it was and one line says why.
    """
    if not bundle.is_file():
        return
    try:
        locations.ensure_private_dir(folder)
        target, note = _free_names(folder, bundle.name)
        tmp = locations.private_temp_path(target)
        try:
            with locations.create_private_file(tmp) as copy, bundle.open("rb") as original:
                shutil.copyfileobj(original, copy, 1 << 20)
                copy.flush()
                os.fsync(copy.fileno())
            locations.publish(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        try:
            with locations.create_private_file(note) as handle:
                handle.write((printable(reason, None) + "\n").encode("utf-8"))
            bundle.unlink()
        except OSError:
            target.unlink(missing_ok=True)
            note.unlink(missing_ok=True)
            raise
    except OSError as exc:
        say(
            f"msl: error: {bundle} stays where it is: it could not be set aside in {folder} "
            f"({exc.strerror or type(exc).__name__})",
            err=True,
        )


def _free_names(folder: Path, name: str) -> tuple[Path, Path]:
    """``name`` in ``folder``, or ``stem-2.mslsync`` and so on: no file is ever replaced."""
    stem, dot, suffix = name.partition(".")
    for n in range(1, 10_000):
        candidate = folder / (name if n == 1 else f"{stem}-{n}{dot}{suffix}")
        note = candidate.with_name(candidate.name + ".reason.txt")
        if not any(p.exists() or p.is_symlink() for p in (candidate, note)):
            return candidate, note
    raise FileExistsError(17, "no free name", str(folder / name))


@main.command("import-roster")
@db_option
@click.argument("csv_file", type=click.Path(path_type=Path))
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Read spreadsheet COLUMN into KOL FIELD (repeatable); same-named columns map by themselves.",
)
def import_roster_cmd(db_path: Path | None, csv_file: Path, mapping: tuple[str, ...]) -> None:
    """Create or update KOLs from a spreadsheet (CSV). All rows go in, or none do."""
    from msl_tui.sync.roster import RosterError, import_roster, parse_mapping

    try:
        columns = parse_mapping(mapping)
    except RosterError as exc:
        fail(str(exc))
    if not csv_file.exists():
        fail(f"{csv_file}: no such file")
    if not csv_file.is_file():
        fail(f"{csv_file} is not a file: name a CSV file")
    store = open_store(resolve_db(db_path))
    try:
        result = import_roster(store, csv_file, columns)
    except RosterError as exc:
        for problem in exc.problems:
            say(f"msl: error: {problem}", err=True, limit=400)
        fail(str(exc))
    finally:
        store.close()
    say(result.line())


@main.command("report")
@db_option
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder.")
def report_cmd(db_path: Path | None, out: Path) -> None:
    """Write head-office reports (CSV) into a folder."""
    from msl_tui.sync.reports import write_reports

    if out.exists() and not out.is_dir():
        fail(f"--out {printable(out, 120)} is a file: name a folder for the reports")
    path = resolve_db(db_path)
    _existing_store(path, "nothing to report on")
    store = open_store(path, create=False, read_only=True)
    try:
        written = write_reports(store, out, now=utcnow())
    finally:
        store.close()
    for file, rows in written:
        say(f"wrote {file} ({plural(rows, 'row')})")
    from msl_tui.sync import reports_xlsx

    if not reports_xlsx.available():
        say('no workbook: pip install "msl-tui[headoffice]" to have the XLSX too', err=True)


@main.command("keys")
@db_option
@click.option("--trust", nargs=2, metavar="NAME KEY", default=None, help="Pin NAME's public key.")
@click.option("--untrust", metavar="NAME", default=None, help="Forget NAME's pinned key.")
@click.option(
    "--recipient",
    nargs=2,
    metavar="NAME AGE1...",
    default=None,
    help="Encrypt every export to NAME's age recipient too (head office's, for an MSL).",
)
@click.option("--no-recipient", metavar="NAME", default=None, help="Stop encrypting to NAME.")
@click.option(
    "--require-encryption", is_flag=True, help="Refuse plain (unencrypted) bundles on import."
)
@click.option("--allow-plain", is_flag=True, help="Accept plain bundles on import again.")
@click.option(
    "--export-identity",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="Write this store's age identity to a new private FILE (for the age tool).",
)
def keys_cmd(
    db_path: Path | None,
    trust: tuple[str, str] | None,
    untrust: str | None,
    recipient: tuple[str, str] | None,
    no_recipient: str | None,
    require_encryption: bool,
    allow_plain: bool,
    export_identity: Path | None,
) -> None:
    """Show this store's public keys (made on first use): the signing key and the age
    recipient others encrypt bundles to; the keys it trusts and the recipients its exports
    are encrypted to."""
    from msl_tui.sync import crypto, keys

    if require_encryption and allow_plain:
        fail("--require-encryption and --allow-plain contradict each other: choose one")
    path = resolve_db(db_path)
    changing = bool(trust or untrust or recipient or no_recipient)
    changing = changing or require_encryption or allow_plain
    if not changing and path.exists():
        # Showing keys only reads, unless the store has no keys yet (made on first use).
        store = open_store(path, create=False, read_only=True)
        try:
            has_keys = (
                keys.signing_key(store, create=False) is not None
                and crypto.identity(store, create=False) is not None
            )
        except keys.KeyError_ as exc:
            store.close()
            fail(str(exc))
        if not has_keys:
            try:
                writer = Store.open(path, create=False)
            except (StoreError, sqlite3.Error):
                writer = None  # read-only media or a busy store: show what there is
            if writer is not None:
                store.close()
                store = writer
    else:
        store = open_store(path)
    try:
        if trust:
            keys.trust(store, trust[0], trust[1])
        if untrust:
            keys.untrust(store, untrust)
        if recipient:
            crypto.add_recipient(store, recipient[0], recipient[1])
        if no_recipient:
            crypto.remove_recipient(store, no_recipient)
        if require_encryption or allow_plain:
            crypto.set_requires_encryption(store, require_encryption)
        key = keys.signing_key(store, create=False)
        ident = crypto.identity(store, create=False)
        if (key is None or ident is None) and not store.read_only:
            # Made on first use; a busy store shows them as not made yet.
            with contextlib.suppress(StoreError):
                key, ident = keys.signing_key(store), crypto.identity(store)
        profile = store.get_profile()
        who = printable(profile.msl_id if profile else store.device_id, 60)
        later = "none yet (made once this store can be written)"
        lines = [
            f"this store ({who}) signing key: {keys.public_hex(key) if key else later}",
            f"this store ({who}) age recipient: "
            + (crypto.recipient_of(ident) if ident else later),
        ]
        lines += [
            f"trusted {name}: {public}" for name, public in sorted(keys.trusted_keys(store).items())
        ]
        listed = crypto.recipients(store)
        lines += [f"recipient {name}: {public}" for name, public in sorted(listed.items())]
        lines.append(
            "exports: encrypted to " + ", ".join([*sorted(listed), crypto.SELF])
            if listed
            else "exports: not encrypted (no recipients: add one with --recipient NAME AGE1...)"
        )
        lines.append(
            "imports: encrypted bundles only"
            if crypto.requires_encryption(store)
            else "imports: encrypted or plain bundles"
        )
        if export_identity is not None:
            written = crypto.export_identity(store, export_identity)
            lines.append(
                f"wrote {written}: this store's age identity; whoever holds it can read "
                "bundles sent here (`age -d -i FILE BUNDLE`)"
            )
    except keys.KeyError_ as exc:
        fail(str(exc))
    finally:
        store.close()
    for line in lines:
        say(line)


@main.group("conflicts", invoke_without_command=True)
@db_option
@click.option("--all", "show_all", is_flag=True, help="Include resolved conflicts.")
@click.pass_context
def conflicts_cmd(ctx: click.Context, db_path: Path | None, show_all: bool) -> None:
    """List edits that lost a merge without having been seen (resolve them one by one)."""
    if ctx.invoked_subcommand is not None:
        ctx.obj["conflicts_db"] = db_path
        return
    from msl_tui.store import sync_log
    from msl_tui.sync.conflict_words import labels, stamp_words

    path = resolve_db(db_path)
    _existing_store(path, "no conflicts to list")
    store = open_store(path, create=False, read_only=True)
    try:
        if sync_log.records_with_open_conflicts(store) and _writable(path):
            _refresh(path)
        rows = sync_log.list_conflicts(store, open_only=not show_all)
        words = labels(store, rows)
    finally:
        store.close()
    if not rows:
        say("no open conflicts" if not show_all else "no conflicts")
    for r in rows:
        state = f" [{r['resolution']} {r['resolved_at']}]" if r["resolved_at"] else ""
        # The number is what `msl conflicts resolve` takes; the rest is for deciding.
        say(
            f"#{r['id']} {words[(str(r['entity']), str(r['record_id']))]}, "
            f"{printable(r['field'], 40)}: "
            f"kept {_short(r['kept_value'])} ({stamp_words(r['kept_hlc'])}) / "
            f"other {_short(r['other_value'])} ({stamp_words(r['other_hlc'])}){state}"
        )


def _refresh(path: Path | ServerUrl) -> None:
    """Local edits may have settled some conflicts: recompute those records (a write). A
    busy or full store is no reason to refuse a listing: it is shown as last computed."""
    from msl_tui.sync.merge import refresh_conflicts

    try:
        writer = Store.open(path, create=False)
    except (StoreError, sqlite3.Error):
        return
    try:
        refresh_conflicts(writer, now=now_iso())
    except (StoreError, sqlite3.Error):
        pass
    finally:
        writer.close()


def _short(value: Any, width: int = 40) -> str:
    """A stored value, quoted and escaped, cut to ``width``."""
    return printable(repr(value), width)


@conflicts_cmd.command("resolve")
@db_option
@click.argument("conflict_id", type=int)
@click.argument("choice", type=click.Choice(["kept", "other"]))
def resolve_cmd(db_path: Path | None, conflict_id: int, choice: str) -> None:
    """Settle conflict ID: keep the current value, or take the other one."""
    from msl_tui.sync.merge import MergeError, resolve

    ctx = click.get_current_context()
    db_path = db_path or (ctx.parent.params.get("db_path") if ctx.parent else None)
    path = resolve_db(db_path)
    _existing_store(path, "no conflicts to resolve")
    store = open_store(path, create=False)
    try:
        said = resolve(store, conflict_id, choice, now=now_iso())
    except MergeError as exc:
        fail(str(exc))
    finally:
        store.close()
    say(said)
