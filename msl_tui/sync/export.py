"""Writing bundles: this store's changes (incremental or full) or a roster for one MSL."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from msl_tui.locations import (
    create_private_file,
    ensure_private_dir,
    private_scratch,
    private_temp_path,
    publish,
    sweep_stale_temps,
)
from msl_tui.plurals import plural
from msl_tui.safe_text import printable
from msl_tui.store import StoreError, sync_log
from msl_tui.store import erasure as erasures
from msl_tui.store.codec import ENTITIES
from msl_tui.store.database import describe_sqlite_error
from msl_tui.store.store import Store
from msl_tui.sync import crypto
from msl_tui.sync.bundle import ERASURE_TABLE, SUFFIX, BundleWriter, Manifest
from msl_tui.timestamps import utcnow

EXPORTED_META = "sync_exported_rowid"
ERASURES_EXPORTED_META = "sync_exported_erasure_rowid"
Progress = Callable[[int], None]
_PROGRESS_STEP = 1000  # changes per progress report (a bar redrawn per change is slow)


class ExportError(ValueError):
    """The bundle could not be written (bad destination, nothing to export for an MSL)."""


# What a table's changes are called in a sentence.
_NOUNS = {
    "kols": "KOL",
    "plans": "plan",
    "interactions": "interaction",
    "followups": "follow-up",
}


@dataclass
class ExportResult:
    path: Path | None
    kind: str
    counts: dict[str, int] = field(default_factory=dict)
    # For an empty result: whether this store had exported before (so "since" is true).
    exported_before: bool = True
    # Names the bundle is encrypted to; empty for a plain bundle (``plain``: asked for).
    encrypted_to: list[str] = field(default_factory=list)
    plain: bool = False
    erasures: int = 0  # erasure records carried (every one this store holds)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def line(self) -> str:
        if self.path is None:
            if self.exported_before:
                return "nothing new since the last export (use --full for everything)"
            return "nothing to export: this store holds no changes yet"
        detail = ", ".join(
            plural(n, _NOUNS.get(t, t.rstrip("s"))) for t, n in self.counts.items() if n
        )
        return (
            f"wrote {printable(self.path, None)} "
            f"({self.kind}, {plural(self.total, 'change')}: {detail or 'none'}"
            + (f"; {plural(self.erasures, 'erasure')}" if self.erasures else "")
            + "); "
            + self.privacy()
        )

    def privacy(self) -> str:
        if self.encrypted_to:
            return "encrypted to " + ", ".join(printable(n, 60) for n in self.encrypted_to)
        if self.plain:
            return "not encrypted (--plain): anyone who gets the file can read it"
        return "not encrypted: no recipients (see `msl keys --recipient`)"


def _lines(
    rows: Iterable[tuple[Any, ...]],
    ranges: dict[str, list[int]],
    progress: Progress | None,
) -> Iterator[bytes]:
    """Bundle lines from ``sync_log.iter_change_values`` rows, noting each device's range
    of sequence numbers. patch and base are stored as compact JSON already: they are
    spliced in, not parsed and encoded again; the strings are quoted as ``json.dumps``
    quotes them."""
    quote = encode_basestring_ascii
    done = 0
    for device, seq, hlc, record_id, patch, base, author in rows:
        seq = int(seq)
        span = ranges.get(device)
        if span is None:
            ranges[device] = [seq, seq]
        elif seq < span[0]:
            span[0] = seq
        elif seq > span[1]:
            span[1] = seq
        done += 1
        if progress is not None and done == _PROGRESS_STEP:
            progress(done)
            done = 0
        yield (
            f'{{"device":{quote(device)},"seq":{seq},"hlc":{quote(hlc)},'
            f'"id":{quote(record_id)},"patch":{patch},"base":{base or "{}"},'
            f'"author":{quote(author or "")}}}'
        ).encode()
    if progress is not None and done:
        progress(done)


def check_destination(out: Path, *, force: bool = False) -> None:
    """Refuse, before any work, a destination that would overwrite a file or cannot be."""
    if out.suffix != SUFFIX or out.is_dir():
        if (out.exists() or out.is_symlink()) and not out.is_dir():
            raise ExportError(
                f"{out} exists and is not a folder (name a .mslsync file or a folder)"
            )
        return
    if not out.parent.is_dir():
        raise ExportError(f"folder {out.parent} does not exist")
    if (out.exists() or out.is_symlink()) and not force:
        raise ExportError(f"{out} already exists: name another file, or --force to replace it")


def _destination(out: Path, name: str, *, force: bool) -> Path:
    """A name ending in .mslsync is the file; anything else is a folder (made if needed)."""
    check_destination(out, force=force)
    if out.suffix != SUFFIX or out.is_dir():
        ensure_private_dir(out)
        return out / name
    return out


class _PrivateWriter(BundleWriter):
    """A BundleWriter whose temporary file is ours: created 0600 whatever the umask and not
    named like a bundle. Its ``commit`` finishes and fsyncs that file where it is (its own
    rename is onto itself); ``publish`` then gives it its name without overwriting."""

    def __init__(self, tmp: Path) -> None:
        create_private_file(tmp).close()
        super().__init__(tmp, tmp)


def export_bundle(
    store: Store,
    out: Path,
    *,
    full: bool = False,
    roster_for: str | None = None,
    sign: bool = True,
    now: datetime | None = None,
    progress: Progress | None = None,
    force: bool = False,
    plain: bool = False,
) -> ExportResult:
    """Write a bundle into ``out`` (a folder, or a file name) and return where it went.

    An existing file is never replaced unless ``force``. The export mark moves only once the
    bundle is complete, fsynced and in place: a failed or killed export is simply redone.
    Once the store lists recipients, the bundle is encrypted to them and to the store
    (``plain`` writes it unencrypted).
    """
    profile = store.get_profile()
    kind = "roster" if roster_for else ("full" if full else "msl-log")
    # Reading takes a snapshot, not the write lock (the app may need it meanwhile). The
    # change log is append-only and row ids only grow, so "everything up to ``upto``" stays
    # the same set of changes for as long as this export takes.
    with store.transaction(write=False):
        upto = sync_log.max_change_rowid(store)
        mark = store.get_meta(EXPORTED_META)
        after = 0 if (full or roster_for) else int(mark or 0)
        wanted: dict[str, set[str]] | None = None
        if roster_for:
            wanted = sync_log.record_ids_for_msl(store, roster_for)
            if not wanted["kol"]:
                raise ExportError(
                    f"no KOLs are planned for or met by {printable(roster_for, 60)!r}"
                )
        tables = [e for e in ENTITIES.values() if wanted is None or e.name in wanted]
        erased_upto = erasures.max_erasure_rowid(store)
        new_erasures = erased_upto > int(store.get_meta(ERASURES_EXPORTED_META) or 0)
        if (
            not roster_for
            and not (new_erasures and not full)
            and all(sync_log.count_changes(store, e.name, after, upto) == 0 for e in tables)
        ):
            return ExportResult(None, kind, exported_before=mark is not None and not full)
    check_destination(out, force=force)
    key = None
    if sign:
        # Imported here, like the erasure module below: an export without them (a bench,
        # a script's --no-sign) starts that much sooner.
        from msl_tui.sync.keys import signing_key

        key = signing_key(store)  # made (and stored) on first use
    created = store.clock.tick()
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%S")
    who = slug_for_file(roster_for or (profile.msl_id if profile else store.device_id))
    bundle_id = str(uuid.uuid4())
    path = _destination(out, f"msl-{who}-{kind}-{stamp}-{bundle_id[:8]}{SUFFIX}", force=force)
    sweep_stale_temps(path.parent)  # what a killed export left there, an hour or more ago
    ranges: dict[str, list[int]] = {}
    counts: dict[str, int] = {}
    to = {} if plain else crypto.export_recipients(store)
    scratch = contextlib.ExitStack()
    # An encrypted bundle's plaintext is written beside the store, never where the bundle
    # goes (a USB stick keeps what was deleted from it).
    zip_tmp = (
        scratch.enter_context(private_scratch(store.path)) / "bundle.zip"
        if to
        else private_temp_path(path)
    )
    writer = _PrivateWriter(zip_tmp)
    sealed: Path | None = None
    carried = 0
    try:
        with store.transaction(write=False):
            if erased_upto:
                from msl_tui.sync import erasure

                # Every erasure this store knows travels in every bundle (ids, no names).
                carried = writer.write_part(ERASURE_TABLE, erasure.wire_lines(store)).count
            for entity in tables:
                rows = sync_log.iter_change_values(
                    store,
                    entity.name,
                    after_rowid=after,
                    upto_rowid=upto,
                    record_ids=None if wanted is None else wanted[entity.name],
                )
                part = writer.write_part(entity.name, _lines(rows, ranges, progress))
                counts[entity.table] = part.count
        source = {"device": store.device_id}
        if profile is not None:
            source.update(msl_id=profile.msl_id, role=profile.role)
        manifest = Manifest(bundle_id, kind, source, str(created), ranges, [])
        writer.commit(manifest, key)  # signed first: the signature travels inside
        finished = writer.tmp
        if to:
            sealed = finished = private_temp_path(path)
            crypto.encrypt_file(writer.tmp, sealed, to)
        try:
            publish(finished, path, replace=force)
        except FileExistsError:
            raise ExportError(
                f"{path} already exists: name another file, or --force to replace it"
            ) from None
    except BaseException:
        writer.abort()
        if sealed is not None:
            sealed.unlink(missing_ok=True)
        raise
    finally:
        scratch.close()
    if not roster_for:
        try:
            with store.transaction():
                # Another export may have finished meanwhile: the mark never goes back.
                if upto > int(store.get_meta(EXPORTED_META) or 0):
                    store.set_meta(EXPORTED_META, str(upto))
                if erased_upto > int(store.get_meta(ERASURES_EXPORTED_META) or 0):
                    store.set_meta(ERASURES_EXPORTED_META, str(erased_upto))
        except (StoreError, sqlite3.Error) as exc:
            # The bundle is whole and stays; only the mark did not move, so the next export
            # sends these changes again (importing them twice changes nothing).
            reason = (
                str(exc) if isinstance(exc, StoreError) else describe_sqlite_error(exc, store.path)
            )
            raise ExportError(
                f"wrote {path}, but {reason}; the next export will include these changes again"
            ) from exc
    return ExportResult(path, kind, counts, encrypted_to=list(to), plain=plain, erasures=carried)


def slug_for_file(name: str) -> str:
    """A name from the store (an MSL id) made safe inside a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip(".-")[:60] or "msl"


def pending_export_count(store: Store) -> int:
    after = int(store.get_meta(EXPORTED_META) or 0)
    upto = sync_log.max_change_rowid(store)
    return sum(sync_log.count_changes(store, e.name, after, upto) for e in ENTITIES.values())
