"""Sync commands: export, import, import-roster, report, keys, conflicts."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from msl_tui import locations
from msl_tui.cli import db_option, fail, main, open_store, resolve_db


@contextmanager
def _progress(total: int, label: str) -> Iterator[Any]:
    """A progress bar on a terminal for work that can take a while; silent otherwise."""
    if total < 20_000 or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


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
def export_cmd(
    db_path: Path | None,
    full: bool,
    out: Path | None,
    roster: bool,
    for_msl: str | None,
    no_sign: bool,
) -> None:
    """Write a .mslsync bundle of this store's changes (new ones since the last export)."""
    from msl_tui.sync.export import ExportError, export_bundle, pending_export_count

    if roster != bool(for_msl):
        fail("--roster and --for MSL go together")
    path = resolve_db(db_path)
    if not path.exists():
        fail(f"no store at {path}: nothing to export")
    store = open_store(path, create=False)
    target = out or locations.exports_dir()
    if out is None:
        locations.ensure_private_dir(target)
    total = pending_export_count(store) if not (full or roster) else 0
    try:
        with _progress(total, "exporting") as update:
            result = export_bundle(
                store, target, full=full, roster_for=for_msl, sign=not no_sign, progress=update
            )
    except (ExportError, OSError) as exc:
        fail(f"{target}: {exc}")
        return
    finally:
        store.close()
    click.echo(result.line())


@main.command("import")
@db_option
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option(
    "--set-aside",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Move refused bundles here, each with a .reason.txt.",
)
def import_cmd(
    db_path: Path | None, files: tuple[Path, ...], dry_run: bool, set_aside: Path | None
) -> None:
    """Merge .mslsync bundles (or every bundle in a folder) into the store, which is
    created if it does not exist yet.

    Each bundle goes in whole or not at all; a refused one does not stop the others.
    """
    from msl_tui.sync.importer import bundle_total, import_many

    # A folder stands for the bundles in it: head office drops a week's files in one place.
    paths = [p for f in files for p in (sorted(f.glob("*.mslsync")) if f.is_dir() else [f])]
    if not paths:
        fail(f"no .mslsync files in {', '.join(str(f) for f in files)}")
    store = open_store(resolve_db(db_path))
    total = sum(bundle_total(f) for f in paths if f.is_file()) * 2
    try:
        with _progress(total, "importing") as update:
            outcome = import_many(
                store, paths, dry_run=dry_run, set_aside=set_aside, progress=update
            )
    finally:
        store.close()
    for report in outcome.reports:
        for line in report.lines():
            click.echo(line)
    for _path, reason in outcome.refused:
        click.echo(f"msl: error: {reason}", err=True)
    if outcome.refused:
        if len(paths) > 1:
            click.echo(
                f"msl: {len(outcome.refused)} of {len(paths)} bundles refused, "
                f"{len(outcome.reports)} imported",
                err=True,
            )
        sys.exit(1)


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
        return
    store = open_store(resolve_db(db_path))
    try:
        result = import_roster(store, csv_file, columns)
    except RosterError as exc:
        for problem in exc.problems:
            click.echo(f"msl: error: {problem}", err=True)
        fail(str(exc))
        return
    finally:
        store.close()
    click.echo(result.line())


@main.command("report")
@db_option
@click.option(
    "--out", required=True, type=click.Path(path_type=Path, file_okay=False), help="Folder."
)
def report_cmd(db_path: Path | None, out: Path) -> None:
    """Write head-office reports (CSV) into a folder."""
    from msl_tui.sync.reports import write_reports

    path = resolve_db(db_path)
    if not path.exists():
        fail(f"no store at {path}")
    store = open_store(path, create=False)
    try:
        written = write_reports(store, out, now=datetime.now(UTC))
    except OSError as exc:
        fail(f"{out}: {exc.strerror or exc}")
        return
    finally:
        store.close()
    for file, rows in written:
        click.echo(f"wrote {file} ({rows} rows)")


@main.command("keys")
@db_option
@click.option("--trust", nargs=2, metavar="NAME KEY", default=None, help="Pin NAME's public key.")
@click.option("--untrust", metavar="NAME", default=None, help="Forget NAME's pinned key.")
def keys_cmd(db_path: Path | None, trust: tuple[str, str] | None, untrust: str | None) -> None:
    """Show this store's signing key (made on first use) and the keys it trusts."""
    from msl_tui.sync import keys

    store = open_store(resolve_db(db_path))
    try:
        if trust:
            keys.trust(store, trust[0], trust[1])
        if untrust:
            keys.untrust(store, untrust)
        key = keys.signing_key(store)
        assert key is not None
        profile = store.get_profile()
        who = profile.msl_id if profile else store.device_id
        click.echo(f"this store ({who}): {keys.public_hex(key)}")
        for name, public in sorted(keys.trusted_keys(store).items()):
            click.echo(f"trusted {name}: {public}")
    except keys.KeyError_ as exc:
        fail(str(exc))
    finally:
        store.close()


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
    from msl_tui.sync.merge import refresh_conflicts

    store = open_store(resolve_db(db_path))
    try:
        refresh_conflicts(store, now=_now())
        rows = sync_log.list_conflicts(store, open_only=not show_all)
    finally:
        store.close()
    if not rows:
        click.echo("no open conflicts")
    for r in rows:
        state = f" [{r['resolution']} {r['resolved_at']}]" if r["resolved_at"] else ""
        click.echo(
            f"#{r['id']} {r['entity']} {r['record_id'][:8]} {r['field']}: "
            f"kept {_short(r['kept_value'])} ({r['kept_hlc']}) / "
            f"other {_short(r['other_value'])} ({r['other_hlc']}){state}"
        )


def _short(value: Any, width: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


@conflicts_cmd.command("resolve")
@db_option
@click.argument("conflict_id", type=int)
@click.argument("choice", type=click.Choice(["kept", "other"]))
def resolve_cmd(db_path: Path | None, conflict_id: int, choice: str) -> None:
    """Settle conflict ID: keep the current value, or take the other one."""
    from msl_tui.sync.merge import MergeError, resolve

    ctx = click.get_current_context()
    db_path = db_path or (ctx.parent.params.get("db_path") if ctx.parent else None)
    store = open_store(resolve_db(db_path))
    try:
        click.echo(resolve(store, conflict_id, choice, now=_now()))
    except MergeError as exc:
        fail(str(exc))
    finally:
        store.close()
