"""Importing bundles: everything checked, one bundle in one transaction.

The bundle's structure (zip, manifest, signature) is checked before the store is touched.
Then, inside one write transaction, each part is streamed in batches: every line is
validated strictly (msl_tui.sync.wire), every patch as the record it makes, in the form the
store keeps; each batch is merged through the store's one write path. The part's checksum
ends the stream: anything wrong anywhere rolls the whole bundle back, so the store is
exactly as it was. The ledger keeps each bundle's id and manifest digest, so a second
import of the same file is a reported no-op and the same id with other content is refused.
A dry run reads the store in a read transaction and writes what the import would write to
a private overlay (msl_tui.sync.overlay), so it counts what the import then does.
"""

from __future__ import annotations

import gc
import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, cast

from pydantic import TypeAdapter, ValidationError

from msl_tui.models import SyncedRecord
from msl_tui.models.canonical import CanonicalValidator, canonical_validator
from msl_tui.models.problems import describe
from msl_tui.safe_text import printable
from msl_tui.store import StoreError, sync_log
from msl_tui.store.codec import ENTITIES, Entity, dump_fields, encode_json, json_text
from msl_tui.store.erasure import try_scrub
from msl_tui.store.store import Store
from msl_tui.sync import crypto
from msl_tui.sync.bundle import (
    ERASURE_TABLE,
    LIMITS,
    BundleError,
    BundleReader,
    Manifest,
    Part,
)
from msl_tui.sync.erasure import ErasureFilter, parts_in_order, report_lines
from msl_tui.sync.keys import trusted_keys
from msl_tui.sync.merge import Change, Counts, MergeError, apply_batch
from msl_tui.sync.merge import covers as _covers
from msl_tui.sync.overlay import Overlay, private_overlay
from msl_tui.sync.wire import CHANGE_LINES, ChangeLine, change_line_validator, wire_problem
from msl_tui.timestamps import from_ms, iso, utcnow

# A laptop clock this far ahead would let its edits win over everyone's for that long.
MAX_SKEW = timedelta(hours=1)
BATCH = 2000
# From this many changes an import is a big write (Store.big_write).
BIG_IMPORT = 5000
Progress = Callable[[int], None]


class ImportError_(ValueError):
    """One bundle was not imported; the message names the file and the problem.

    ``store_failed`` tells a refused bundle (its content) from a store that failed under it
    (busy, full, read-only): then the bundle is fine and a batch should stop, not set it
    aside.
    """

    def __init__(self, message: str, *, store_failed: bool = False) -> None:
        super().__init__(message)
        self.store_failed = store_failed


@dataclass
class ImportReport:
    file: Path
    manifest: Manifest | None = None
    tables: dict[str, Counts] = field(default_factory=dict)
    already: str | None = None
    dry_run: bool = False
    encrypted: bool = False
    erased: int = 0  # KOLs the bundle erased here
    dropped: int = 0  # changes of erased KOLs left out
    scrubbed: bool = True  # the erased bytes are gone from the file too
    needs_scrub: bool = False

    def total(self) -> Counts:
        total = Counts()
        for counts in self.tables.values():
            total.add(counts)
        return total

    def lines(self) -> list[str]:
        m = self.manifest
        assert m is not None
        head = (
            f"{printable(self.file, 120)}: {m.kind} from {printable(m.source_name, 64)}, "
            f"bundle {m.bundle_id[:8]}{' (encrypted)' if self.encrypted else ''}"
        )
        if self.already:
            return [f"{head}: already imported on {self.already}, nothing to do"]
        verb = "dry run, nothing written" if self.dry_run else "imported"
        out = [f"{head}: {verb}"]
        for table, c in self.tables.items():
            line = (
                f"  {_TABLE_WORDS.get(table, table)}: {c.inserted} inserted, {c.updated} updated, "
                f"{c.unchanged} unchanged, {c.conflicts} in conflict"
            )
            if c.waiting:
                line += f", {c.waiting} waiting for earlier changes"
            out.append(line)
        out += report_lines(self.erased, self.dropped, dry_run=self.dry_run)
        if not self.scrubbed:
            out.append("  the erased data leaves the file itself at the next start (store busy)")
        return out


# What each table is called in a summary a person reads.
_TABLE_WORDS = {
    "kols": "KOLs",
    "plans": "plans",
    "interactions": "visits",
    "followups": "follow-ups",
}


# -- validating one change ----------------------------------------------------------------

_ADAPTERS: dict[tuple[str, str], TypeAdapter[Any]] = {}
_FIELDS: dict[str, frozenset[str]] = {}


def _adapter(entity: Entity, name: str) -> TypeAdapter[Any]:
    key = (entity.name, name)
    if key not in _ADAPTERS:
        info = entity.model.model_fields[name]
        annotation: Any = info.annotation
        if info.metadata:
            annotation = Annotated[annotation, *info.metadata]
        _ADAPTERS[key] = TypeAdapter(annotation)
    return _ADAPTERS[key]


def _data_fields(entity: Entity) -> frozenset[str]:
    fields = _FIELDS.get(entity.name)
    if fields is None:
        fields = _FIELDS[entity.name] = frozenset(entity.data_fields())
    return fields


# Values whose JSON text is the same whenever they are equal and of the same type (not float:
# 0.0 == -0.0).
_FLAT = frozenset({str, int, bool, type(None)})


def _same_text(raw: dict[str, Any], clean: dict[str, Any]) -> bool:
    """True only if ``encode_json(raw) == encode_json(clean)``, decided without encoding
    when every value is flat or an empty list or object (False: not decided here)."""
    if raw != clean or list(raw) != list(clean):
        return False
    for a, b in zip(raw.values(), clean.values(), strict=True):
        kind = type(a)
        if kind is not type(b) or not (kind in _FLAT or (not a and kind in (list, dict))):
            return False
    return True


def _not_canonical(name: str, raw: Any, canonical: Any) -> BundleError:
    return BundleError(
        f"{printable(name, 60)}: {_shown(raw)} is not written as msl-tui stores it "
        f"({_shown(canonical)})"
    )


def _shown(value: Any) -> str:
    """A value from a file as JSON text (as the sender wrote it), escaped and cut."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = type(value).__name__
    return printable(text, 60)


def checked_change(entity: Entity, line: ChangeLine) -> Change:
    """The change a valid line carries, its patch validated as the record it makes.

    A whole-record patch is validated as that record; a partial one field by field (the
    merge validates the record it produces). Either way the patch must already be in the
    store's canonical form: a value the models would coerce (a number as text, a time
    without a zone, padded text) is refused, so what was signed is what is stored.
    """
    fields = _data_fields(entity)
    patch, base = line.patch, line.base
    unknown = sorted(set(patch) - fields)
    if unknown:
        raise BundleError(f"patch: {printable(unknown[0], 40)!r} is not a field of {entity.name}")
    unknown = sorted(set(base) - fields)
    if unknown:
        raise BundleError(f"base: {printable(unknown[0], 40)!r} is not a field of {entity.name}")
    record: SyncedRecord | None = None
    try:
        if fields <= patch.keys():
            quick = _quick(entity, patch, line.id)
            if quick is not None:
                record, clean_text = quick
                return _change(entity, line, patch, record, clean_text)
            record = entity.model.model_validate({**patch, "id": line.id})
            clean = dump_fields(record)
        else:
            clean = {}
            for name, value in patch.items():
                adapter = _adapter(entity, name)
                try:
                    clean[name] = adapter.dump_python(adapter.validate_python(value), mode="json")
                except ValidationError as exc:
                    raise BundleError(describe(exc, prefix=(name,))) from None
        # The JSON text tells 1 from True and 1.0 (Python's == does not); from an msl-tui
        # sender it is the same text, which the change log then keeps as it is.
        clean_text = encode_json(clean)
        if (
            not _same_text(patch, clean)
            and clean_text != encode_json(patch)
            and not _covers(patch, clean)
        ):
            name = next(k for k in patch if not _covers(patch[k], clean.get(k)))
            raise _not_canonical(name, patch[name], clean.get(name))
    except ValidationError as exc:
        raise BundleError(f"{entity.name} {line.id}: {describe(exc)}") from None
    except (ValueError, TypeError, OverflowError) as exc:
        if isinstance(exc, BundleError):
            raise BundleError(f"{entity.name} {line.id}: {exc}") from None
        raise BundleError(f"{entity.name} {line.id}: a value cannot be read") from None
    return _change(entity, line, clean, record, clean_text)


def _change(
    entity: Entity,
    line: ChangeLine,
    clean: dict[str, Any],
    record: SyncedRecord | None,
    clean_text: str,
) -> Change:
    base = line.base
    return Change(
        entity.name,
        line.device,
        line.seq,
        line.hlc,
        line.id,
        clean,
        {k: (v if isinstance(v, str) else list(v)) for k, v in base.items()} if base else {},
        line.author,
        record,
        clean_text,
    )


_ORDER: dict[str, list[str]] = {}


def _quick(
    entity: Entity, patch: dict[str, Any], record_id: str
) -> tuple[SyncedRecord, str] | None:
    """(record, patch as JSON) for a whole-record patch already in the store's canonical form,
    checked in pydantic-core alone (msl_tui.models.canonical); None sends it to the model.

    The patch is then its own canonical form without dumping the record: every value the
    quick check accepts is stored as it is, and every object (the patch, a nested record)
    lists all its fields in the model's order, as the model writes them."""
    quick = canonical_validator(entity.model)
    if quick is None:
        return None
    order = _ORDER.get(entity.name)
    if order is None:
        order = _ORDER[entity.name] = entity.data_fields()
    if list(patch) != order:
        return None
    try:
        record = quick.validate({**patch, "id": record_id})
    except ValueError:  # ValidationError too
        return None
    return record, json_text(patch)  # no float: the quick check admits none


class _QuickLines:
    """A whole change line in one pydantic-core call: the wire's checks and the patch's quick
    canonical check together (msl_tui.sync.wire.change_line_validator). ``change`` gives
    the change ``checked_change(entity, ChangeLine(line))`` gives, or None when the line is
    not plainly a canonical whole record: then it goes the long way, which gives the verdict
    and its words."""

    def __init__(self, entity: Entity, quick: CanonicalValidator) -> None:
        self.entity = entity
        self.quick = quick
        self.lines = change_line_validator(quick.patch_schema)
        self.order = entity.data_fields()
        self.fields = _data_fields(entity)

    def change(self, obj: Any) -> Change | None:
        try:
            line = self.lines.validate_python(obj)
        except ValidationError:
            return None
        patch = obj["patch"]  # as read: what the change log keeps (its text is the same)
        device, hlc, base = line["device"], line["hlc"], line["base"]
        if (
            list(patch) != self.order
            or hlc.split("-", 2)[2] != device  # ChangeLine's own check
            or (base and not base.keys() <= self.fields)
        ):
            return None
        values = line["patch"]  # every field of the record, in its order
        values["id"] = record_id = line["id"]
        fields_set = set(patch)  # the fields given, as pydantic notes them: the patch's
        fields_set.add("id")  # and the id
        try:
            record = self.quick.instance(values, fields_set)
        except ValueError:
            return None
        return Change(
            self.entity.name,
            device,
            line["seq"],
            hlc,
            record_id,
            patch,
            base,
            line["author"],
            record,
            json_text(patch),
        )


_QUICK_LINES: dict[str, _QuickLines] = {}


def _quick_lines(entity: Entity) -> _QuickLines | None:
    """The entity's one-call line check, rebuilt with the quick check (each hour)."""
    quick = canonical_validator(entity.model)
    if quick is None:
        return None
    built = _QUICK_LINES.get(entity.name)
    if built is None or built.quick is not quick:
        built = _QUICK_LINES[entity.name] = _QuickLines(entity, quick)
    return built


class _SeenKeys:
    """(device, seq) pairs already met in this bundle, as bitmaps over the manifest's ranges."""

    def __init__(self, ranges: dict[str, list[int]]) -> None:
        total = sum(hi - lo + 1 for lo, hi in ranges.values())
        if total > 200_000_000:
            raise BundleError("manifest sequence ranges are implausibly wide")
        self.ranges = ranges
        self.bits: dict[str, bytearray] = {}

    def add(self, device: str, seq: int) -> None:
        span = self.ranges.get(device)
        if span is None or not span[0] <= seq <= span[1]:
            raise BundleError(f"change {device}#{seq} is outside the manifest's ranges")
        bits = self.bits.get(device)
        if bits is None:
            bits = self.bits[device] = bytearray((span[1] - span[0]) // 8 + 1)
        offset = seq - span[0]
        mask = 1 << (offset & 7)
        if bits[offset >> 3] & mask:
            raise BundleError(f"change {device}#{seq} appears twice in the bundle")
        bits[offset >> 3] |= mask


# -- reading and applying ------------------------------------------------------------------


def _batches(
    reader: BundleReader, part: Part, progress: Progress | None
) -> Iterator[list[tuple[int, Change]]]:
    """The part's changes, validated, in batches of (line number, change)."""
    entity = ENTITIES[part.table]
    numbers: list[int] = []
    objects: list[Any] = []

    def flush() -> list[tuple[int, Change]]:
        quick = _quick_lines(entity)
        changes: list[Change | None] = (
            [quick.change(obj) for obj in objects] if quick else [None] * len(objects)
        )
        # The rest the long way. A line the quick check took is valid: the first line that
        # is not is among the rest, and the rest in order give the same first refusal.
        rest = [i for i, change in enumerate(changes) if change is None]
        if rest:
            try:
                lines = CHANGE_LINES.validate_python([objects[i] for i in rest])
            except ValidationError as exc:
                index, words = wire_problem(exc)
                number = numbers[rest[index] if index is not None else rest[0]]
                raise BundleError(f"{part.name} line {number}: {words}") from None
            for i, line in zip(rest, lines, strict=True):
                try:
                    changes[i] = checked_change(entity, line)
                except BundleError as exc:
                    raise BundleError(f"{part.name} line {numbers[i]}: {exc}") from None
        out = cast(list[tuple[int, Change]], list(zip(numbers, changes, strict=True)))
        if progress is not None:
            progress(len(out))
        numbers.clear()
        objects.clear()
        return out

    for number, obj in reader.lines(part):
        numbers.append(number)
        objects.append(obj)
        if len(objects) >= BATCH:
            yield flush()
    if objects:
        yield flush()


def _check_stamps(
    part: Part, batch: list[tuple[int, Change]], seen: _SeenKeys, limit_ms: int
) -> None:
    for number, change in batch:
        try:
            seen.add(change.device, change.seq)
        except BundleError as exc:
            raise BundleError(f"{part.name} line {number}: {exc}") from None
        wall = int(change.hlc[:13])  # the wire's grammar: thirteen ASCII digits first
        if wall > limit_ms:
            skew_h = MAX_SKEW.total_seconds() / 3600
            ahead = (wall - limit_ms) / 3_600_000 + skew_h
            when = from_ms(wall) - MAX_SKEW
            raise BundleError(
                f"{part.name} line {number}: clock stamp {change.hlc} is {ahead:.1f} h "
                f"ahead of this machine (the sender's clock is wrong): fix that clock, "
                f"or import after {iso(when).replace('T', ' ')[:16]} UTC"
            )


def _apply_part(
    store: Store,
    reader: BundleReader,
    part: Part,
    seen: _SeenKeys,
    eraser: ErasureFilter,
    limit_ms: int,
    now: str,
    *,
    overlay: Overlay | None,
    progress: Progress | None,
) -> Counts:
    """Check and merge one part's changes, batch by batch."""
    counts = Counts()
    for batch in _batches(reader, part, progress):
        _check_stamps(part, batch, seen, limit_ms)
        batch = eraser.drop(part.table, batch)
        try:
            counts.add(
                apply_batch(store, part.table, [c for _, c in batch], now=now, overlay=overlay)
            )
        except MergeError as exc:
            where = part.name
            if exc.change is not None:
                numbers = [n for n, c in batch if c is exc.change]
                if numbers:
                    where += f" line {numbers[0]}"
            raise BundleError(f"{where}: {exc}") from None
    return counts


_GC_LOCK = threading.Lock()
_GC_HELD: list[tuple[int, int, int]] = []  # the threshold before the first import still running
# Allocations (less deallocations) between two collections of the youngest generation while
# an import runs; Python's usual is 700.
_IMPORT_GC_THRESHOLD = 100_000


@contextmanager
def _rare_collections() -> Iterator[None]:
    """Collect cycles rarely while an import runs. It keeps a batch of a few thousand parsed
    lines, changes and records alive at a time: at the usual threshold the cycle collector
    walks each batch over and over, a sixth of the import's CPU time, and finds next to
    nothing (none of them hold cycles). Rarer, not off: cycles made elsewhere in the process
    (the app's screens) are still collected. The threshold is the process's: imports running
    side by side share one raise, and the last to end puts the old threshold back."""
    with _GC_LOCK:
        if not _GC_HELD:
            before = gc.get_threshold()
            _GC_HELD.append(before)
            if before[0]:  # 0: automatic collection is off, and stays off
                gc.set_threshold(max(before[0], _IMPORT_GC_THRESHOLD), *before[1:])
        else:
            _GC_HELD.append(_GC_HELD[0])
    try:
        yield
    finally:
        with _GC_LOCK:
            before = _GC_HELD.pop()
            if not _GC_HELD:
                gc.set_threshold(*before)


def import_bundle(
    store: Store,
    path: Path,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one bundle, or refuse it whole with ImportError_ (the store untouched)."""
    now = now or utcnow()
    stamp_now = iso(now)
    report = ImportReport(path, dry_run=dry_run)
    try:
        with (
            crypto.readable_bundle(store, path) as readable,  # decrypted, if it is encrypted
            BundleReader(readable, trusted=trusted_keys(store)) as reader,
        ):
            manifest = report.manifest = reader.manifest
            report.encrypted = readable != path
            digest = hashlib.sha256(reader.manifest_raw).hexdigest()
            if manifest.kind == "roster" and any(p.table == "interaction" for p in manifest.parts):
                raise BundleError("a roster bundle may not carry interactions")
            with store.transaction(write=not dry_run):
                done = sync_log.ledger_entry(store, manifest.bundle_id)
                if done is not None:
                    if done.get("manifest_sha256") not in (None, digest):
                        raise BundleError(
                            f"bundle id {manifest.bundle_id} was imported on "
                            f"{done['imported_at']} with other content: refused (one id "
                            "names one bundle; ask the sender for a fresh export)"
                        )
                    report.already = done["imported_at"]
                    return report
                limit_ms = int(now.timestamp() * 1000) + int(MAX_SKEW.total_seconds() * 1000)
                seen = _SeenKeys(manifest.ranges)
                eraser = ErasureFilter(store, dry_run=dry_run)
                # A big import indexes text a batch at a time, with a larger page cache.
                big = not dry_run and manifest.total_changes() >= BIG_IMPORT
                with (
                    store.big_write() if big else nullcontext(),
                    _rare_collections(),
                    private_overlay() if dry_run else nullcontext() as overlay,
                ):
                    for part in parts_in_order(manifest.parts):
                        if part.table == ERASURE_TABLE:
                            eraser.apply(reader, part)
                        else:
                            counts = report.tables.setdefault(ENTITIES[part.table].table, Counts())
                            counts.add(
                                _apply_part(
                                    store, reader, part, seen, eraser, limit_ms, stamp_now,
                                    overlay=overlay, progress=progress,
                                )
                            )  # fmt: skip
                if not dry_run:
                    sync_log.record_bundle(
                        store,
                        manifest.bundle_id,
                        printable(path.name, 200),
                        manifest.kind,
                        manifest.source_name,
                        stamp_now,
                        manifest.total_changes(),
                        digest,
                    )
                    store.set_meta("hlc_last", str(store.clock.last))
                report.erased, report.dropped = eraser.applied, eraser.dropped
                report.needs_scrub = eraser.needs_scrub
    except (BundleError, MergeError) as exc:
        raise ImportError_(f"{printable(path, 120)}: {printable(exc, 400)}") from None
    except StoreError as exc:
        raise ImportError_(f"{printable(path, 120)}: {exc}", store_failed=True) from exc
    except (sqlite3.Error, OSError) as exc:
        raise ImportError_(
            f"{printable(path, 120)}: could not be imported ({_io_words(exc)})",
            store_failed=isinstance(exc, sqlite3.Error),
        ) from exc
    if report.needs_scrub:
        report.scrubbed = try_scrub(store)
    return report


def _io_words(exc: BaseException) -> str:
    text = str(exc).lower()
    if "full" in text or getattr(exc, "errno", None) == 28:
        return "the disk is full"
    if "readonly" in text or "read-only" in text:
        return "the store is read-only"
    if "locked" in text or "busy" in text:
        return "the store is busy: try again in a moment"
    return printable(getattr(exc, "strerror", None) or exc.__class__.__name__, 80)


def bundle_total(path: Path) -> int:
    """Changes a bundle declares (for progress bars); 0 if it cannot be opened."""
    try:
        with BundleReader(path, limits=LIMITS) as reader:
            return reader.manifest.total_changes()
    except BundleError:
        return 0
