"""Importing bundles: check everything first, then apply one bundle in one transaction.

Pass one reads every part (checksums, counts, strict JSON, every change validated by the
models, clock stamps, sequence numbers) without writing. Pass two streams the parts again
and merges them in batches inside a single transaction, then records the bundle id in the
ledger, so a second import of the same file is a reported no-op.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from msl_tui.clock import ClockError, Stamp
from msl_tui.store import StoreError, sync_log
from msl_tui.store.codec import ENTITIES, Entity
from msl_tui.store.store import Store
from msl_tui.sync.bundle import DEVICE_RE, LIMITS, BundleError, BundleReader, Manifest, Part
from msl_tui.sync.keys import trusted_keys
from msl_tui.sync.merge import Change, Counts, MergeError, apply_batch, check_not_reused

# A laptop clock this far ahead would let its edits win over everyone's for that long.
MAX_SKEW = timedelta(hours=1)
BATCH = 2000
CHANGE_KEYS = frozenset({"device", "seq", "hlc", "id", "patch", "base", "author"})
MAX_SEEN = 256
Progress = Callable[[int], None]


class ImportError_(ValueError):
    """One bundle was refused; the message names the file and the problem."""


@dataclass
class ImportReport:
    file: Path
    manifest: Manifest | None = None
    tables: dict[str, Counts] = field(default_factory=dict)
    already: str | None = None
    dry_run: bool = False

    def total(self) -> Counts:
        total = Counts()
        for counts in self.tables.values():
            total.add(counts)
        return total

    def lines(self) -> list[str]:
        m = self.manifest
        assert m is not None
        head = f"{self.file}: {m.kind} from {m.source_name}, bundle {m.bundle_id[:8]}"
        if self.already:
            return [f"{head}: already imported on {self.already}, nothing to do"]
        verb = "dry run, nothing written" if self.dry_run else "imported"
        out = [f"{head}: {verb}"]
        for table, c in self.tables.items():
            line = (
                f"  {table}: {c.inserted} inserted, {c.updated} updated, "
                f"{c.unchanged} unchanged, {c.conflicts} in conflict"
            )
            if c.waiting:
                line += f", {c.waiting} waiting for earlier changes"
            out.append(line)
        return out


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


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "record"
    return f"{where}: {err['msg']}"


def parse_change(entity: Entity, obj: Any, *, validate: bool = True) -> Change:
    if not isinstance(obj, dict) or set(obj) != CHANGE_KEYS:
        raise BundleError(f"a change needs exactly the keys {', '.join(sorted(CHANGE_KEYS))}")
    device, seq, hlc, rid = obj["device"], obj["seq"], obj["hlc"], obj["id"]
    patch, base, author = obj["patch"], obj["base"], obj["author"]
    if not isinstance(device, str) or not DEVICE_RE.match(device):
        raise BundleError("device: not a device id")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise BundleError("seq: not a positive integer")
    if not isinstance(hlc, str):
        raise BundleError("hlc: not a clock stamp")
    try:
        stamp = Stamp.parse(hlc)
    except ClockError as exc:
        raise BundleError(f"hlc: {exc}") from None
    if stamp.device != device:
        raise BundleError(f"hlc: stamp {hlc} was not issued by device {device}")
    try:
        if not isinstance(rid, str) or str(uuid.UUID(rid)) != rid:
            raise ValueError
    except ValueError:
        raise BundleError("id: not a record id (UUID)") from None
    fields = _FIELDS.get(entity.name)
    if fields is None:
        fields = _FIELDS[entity.name] = frozenset(entity.data_fields())
    if not isinstance(patch, dict) or not patch:
        raise BundleError("patch: not a non-empty object")
    unknown = sorted(set(patch) - fields)
    if unknown:
        raise BundleError(f"patch: unknown field {unknown[0]!r} for {entity.name}")
    if not isinstance(base, dict) or not set(base) <= fields:
        raise BundleError("base: not an object of known fields")
    for value in base.values():
        stamps = [value] if isinstance(value, str) else value
        if not isinstance(stamps, list) or len(stamps) > MAX_SEEN:
            raise BundleError("base: not clock stamps")
        for s in stamps:
            if not isinstance(s, str):
                raise BundleError("base: not clock stamps")
            try:
                Stamp.parse(s)
            except ClockError as exc:
                raise BundleError(f"base: {exc}") from None
    if not isinstance(author, str) or len(author) > 200:
        raise BundleError("author: not a short text")
    if validate:
        try:
            if fields <= patch.keys():
                entity.model.model_validate({**patch, "id": rid})
            else:
                for name, value in patch.items():
                    _adapter(entity, name).validate_python(value)
        except ValidationError as exc:
            raise BundleError(f"{entity.name} {rid}: {_first_error(exc)}") from None
    return Change(entity.name, device, seq, hlc, rid, patch, base, author)


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


# -- the two passes -----------------------------------------------------------------------


def _changes(
    reader: BundleReader, part: Part, *, validate: bool, progress: Progress | None
) -> Iterator[tuple[int, Change]]:
    entity = ENTITIES[part.table]
    for number, obj in reader.lines(part, strict=validate):
        if validate:
            try:
                change = parse_change(entity, obj)
            except BundleError as exc:
                raise BundleError(f"{part.name} line {number}: {exc}") from None
        else:
            # Pass two: pass one accepted these very bytes (their checksum ends this pass
            # too, inside the transaction), so the change is built without checking again.
            change = Change(
                entity.name, obj["device"], obj["seq"], obj["hlc"], obj["id"], obj["patch"],
                obj["base"], obj["author"],
            )  # fmt: skip
        if progress is not None and number % 1000 == 0:
            progress(1000)
        yield number, change


def _batches(items: Iterator[tuple[int, Change]]) -> Iterator[list[tuple[int, Change]]]:
    batch: list[tuple[int, Change]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def check_bundle(
    store: Store, reader: BundleReader, *, now: datetime, progress: Progress | None = None
) -> None:
    """Pass one: everything that could refuse the bundle, with no write."""
    manifest = reader.manifest
    if manifest.kind == "roster" and any(p.table == "interaction" for p in manifest.parts):
        raise BundleError("a roster bundle may not carry interactions")
    limit_ms = int(now.timestamp() * 1000) + int(MAX_SKEW.total_seconds() * 1000)
    seen = _SeenKeys(manifest.ranges)
    for part in manifest.parts:
        for batch in _batches(_changes(reader, part, validate=True, progress=progress)):
            for number, change in batch:
                try:
                    seen.add(change.device, change.seq)
                except BundleError as exc:
                    raise BundleError(f"{part.name} line {number}: {exc}") from None
                wall = Stamp.parse(change.hlc).wall_ms
                if wall > limit_ms:
                    ahead = (wall - limit_ms) / 3_600_000 + MAX_SKEW.total_seconds() / 3600
                    when = datetime.fromtimestamp(wall / 1000 - MAX_SKEW.total_seconds(), UTC)
                    raise BundleError(
                        f"{part.name} line {number}: clock stamp {change.hlc} is {ahead:.1f} h "
                        f"ahead of this machine (the sender's clock is wrong): fix that clock, "
                        f"or import after {when:%Y-%m-%d %H:%M} UTC"
                    )
            try:
                check_not_reused(store, [c for _, c in batch])
            except MergeError as exc:
                raise BundleError(f"{part.name}: {exc}") from None


def import_bundle(
    store: Store,
    path: Path,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one bundle, or refuse it whole with ImportError_ (the store untouched)."""
    now = now or datetime.now(UTC)
    stamp_now = now.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    report = ImportReport(path, dry_run=dry_run)
    try:
        with BundleReader(path, trusted=trusted_keys(store)) as reader:
            manifest = report.manifest = reader.manifest
            done = sync_log.ledger_entry(store, manifest.bundle_id)
            if done is not None:
                report.already = done["imported_at"]
                return report
            check_bundle(store, reader, now=now, progress=progress)
            with store.transaction():
                for part in manifest.parts:
                    counts = report.tables.setdefault(ENTITIES[part.table].table, Counts())
                    changes = _changes(reader, part, validate=False, progress=progress)
                    for batch in _batches(changes):
                        counts.add(
                            apply_batch(
                                store,
                                part.table,
                                [c for _, c in batch],
                                now=stamp_now,
                                dry_run=dry_run,
                                trusted_whole=True,
                            )
                        )
                if not dry_run:
                    sync_log.record_bundle(
                        store,
                        manifest.bundle_id,
                        path.name,
                        manifest.kind,
                        manifest.source_name,
                        stamp_now,
                        manifest.total_changes(),
                    )
                    store.set_meta("hlc_last", str(store.clock.last))
    except (BundleError, MergeError) as exc:
        raise ImportError_(f"{path}: {exc}") from None
    except (StoreError, sqlite3.Error, OSError) as exc:
        raise ImportError_(f"{path}: could not be imported ({exc})") from None
    return report


@dataclass
class BatchOutcome:
    reports: list[ImportReport] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)


def import_many(
    store: Store,
    paths: Sequence[Path],
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    set_aside: Path | None = None,
    progress: Progress | None = None,
) -> BatchOutcome:
    """Head office's case: each bundle in its own transaction; a bad one is set aside with
    its reason (moved to ``set_aside`` with a .reason.txt when given) and the rest go in."""
    outcome = BatchOutcome()
    for path in paths:
        try:
            outcome.reports.append(
                import_bundle(store, path, dry_run=dry_run, now=now, progress=progress)
            )
        except ImportError_ as exc:
            outcome.refused.append((path, str(exc)))
            if set_aside is not None and path.exists() and not dry_run:
                set_aside.mkdir(parents=True, exist_ok=True)
                target = set_aside / path.name
                path.replace(target)
                target.with_name(target.name + ".reason.txt").write_text(str(exc) + "\n")
    return outcome


def bundle_total(path: Path) -> int:
    """Changes a bundle declares (for progress bars); 0 if it cannot be opened."""
    try:
        with BundleReader(path, limits=LIMITS) as reader:
            return reader.manifest.total_changes()
    except BundleError:
        return 0
