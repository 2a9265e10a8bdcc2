"""Writing bundles: this store's changes (incremental or full) or a roster for one MSL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from msl_tui.store import sync_log
from msl_tui.store.codec import ENTITIES
from msl_tui.store.store import Store
from msl_tui.sync.bundle import SUFFIX, BundleWriter, Manifest
from msl_tui.sync.keys import signing_key

EXPORTED_META = "sync_exported_rowid"
Progress = Callable[[int], None]


class ExportError(ValueError):
    """The bundle could not be written (bad destination, nothing to export for an MSL)."""


@dataclass
class ExportResult:
    path: Path | None
    kind: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def line(self) -> str:
        if self.path is None:
            return "nothing new to export since the last export (use --full for everything)"
        detail = ", ".join(f"{n} {t}" for t, n in self.counts.items() if n)
        return f"wrote {self.path} ({self.kind}, {self.total} changes: {detail or 'none'})"


def _line(row: dict[str, Any]) -> bytes:
    # patch and base are stored as compact JSON already: splice them, do not re-parse.
    return (
        f'{{"device":{json.dumps(row["device_id"])},"seq":{int(row["seq"])},'
        f'"hlc":{json.dumps(row["hlc"])},"id":{json.dumps(row["record_id"])},'
        f'"patch":{row["patch"]},"base":{row["base"] or "{}"},'
        f'"author":{json.dumps(row["author"] or "")}}}'
    ).encode()


def _destination(out: Path, name: str) -> Path:
    """A name ending in .mslsync is the file; anything else is a folder (made if needed)."""
    if out.suffix != SUFFIX or out.is_dir():
        if out.exists() and not out.is_dir():
            raise ExportError("exists and is not a folder (name a .mslsync file or a folder)")
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
        return out / name
    if not out.parent.exists():
        raise ExportError(f"folder {out.parent} does not exist")
    return out


def export_bundle(
    store: Store,
    out: Path,
    *,
    full: bool = False,
    roster_for: str | None = None,
    sign: bool = True,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Write a bundle into ``out`` (a folder, or a file name) and return where it went."""
    profile = store.get_profile()
    kind = "roster" if roster_for else ("full" if full else "msl-log")
    with store.transaction():  # one consistent snapshot of the log
        upto = sync_log.max_change_rowid(store)
        after = 0 if (full or roster_for) else int(store.get_meta(EXPORTED_META) or 0)
        wanted: dict[str, set[str]] | None = None
        if roster_for:
            wanted = sync_log.record_ids_for_msl(store, roster_for)
            if not wanted["kol"]:
                raise ExportError(f"no KOLs are planned for or met by {roster_for!r}")
        tables = [e for e in ENTITIES.values() if wanted is None or e.name in wanted]
        if not roster_for and all(
            sync_log.count_changes(store, e.name, after, upto) == 0 for e in tables
        ):
            return ExportResult(None, kind)
        created = store.clock.tick()
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
        who = roster_for or (profile.msl_id if profile else store.device_id)
        bundle_id = str(uuid.uuid4())
        path = _destination(out, f"msl-{who}-{kind}-{stamp}-{bundle_id[:8]}{SUFFIX}")
        ranges: dict[str, list[int]] = {}
        counts: dict[str, int] = {}
        writer = BundleWriter(path)
        try:
            for entity in tables:

                def lines(entity_name: str = entity.name) -> Iterator[bytes]:
                    for row in sync_log.iter_changes(
                        store,
                        entity_name,
                        after_rowid=after,
                        upto_rowid=upto,
                        record_ids=None if wanted is None else wanted[entity_name],
                    ):
                        span = ranges.setdefault(row["device_id"], [row["seq"], row["seq"]])
                        span[0] = min(span[0], row["seq"])
                        span[1] = max(span[1], row["seq"])
                        if progress is not None:
                            progress(1)
                        yield _line(row)

                part = writer.write_part(entity.name, lines())
                counts[entity.table] = part.count
            source = {"device": store.device_id}
            if profile is not None:
                source.update(msl_id=profile.msl_id, role=profile.role)
            manifest = Manifest(bundle_id, kind, source, str(created), ranges, [])
            key = signing_key(store) if sign else None
            writer.commit(manifest, key)
        except BaseException:
            writer.abort()
            raise
        if not roster_for:
            store.set_meta(EXPORTED_META, str(upto))
    return ExportResult(path, kind, counts)


def pending_export_count(store: Store) -> int:
    after = int(store.get_meta(EXPORTED_META) or 0)
    upto = sync_log.max_change_rowid(store)
    return sum(sync_log.count_changes(store, e.name, after, upto) for e in ENTITIES.values())
