"""Erasure that travels: the ``erasures.jsonl`` part of a bundle, and what an import does
with it and with changes that belong to erased KOLs.

Every bundle carries every erasure record its store holds (they are small and hold no
personal data: an id, a time, a reason category, who and which device). Importing one
erases the same KOL here, in the import's transaction. The erasure set only grows, so
stores agree whatever order bundles come in. A change that belongs to an erased KOL (its
record is a KOL that was erased, names one in ``kol_id``, or is a record already erased
here) is dropped, counted in the report, and kept as a payload-free marker so that it is
recognised if it comes back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import ValidationError

from msl_tui.plurals import plural
from msl_tui.store import erasure as erasures
from msl_tui.store.store import Store
from msl_tui.sync.bundle import ERASURE_TABLE, BundleError, BundleReader, Part
from msl_tui.sync.merge import Change
from msl_tui.sync.wire import ERASURE_LINES, ErasureLine, wire_problem


def wire_lines(store: Store) -> Iterator[bytes]:
    """This store's erasure records as bundle lines (the caller holds a read transaction)."""
    for row in erasures.iter_erasures(store):
        yield json.dumps(
            {
                "kol": row["kol_id"],
                "at": row["erased_at"],
                "reason": row["reason"],
                "by": row["erased_by"],
                "device": row["device_id"],
            },
            separators=(",", ":"),
            sort_keys=True,
        ).encode()


def parts_in_order(parts: Sequence[Part]) -> list[Part]:
    """Erasures first: changes of a KOL erased by the same bundle are then dropped, not
    merged and erased again."""
    return sorted(parts, key=lambda p: p.table != ERASURE_TABLE)


class ErasureFilter:
    """One import's view of erasure: applies the bundle's erasure records, then drops the
    changes that belong to erased KOLs. The caller holds the import's transaction."""

    def __init__(self, store: Store, *, dry_run: bool) -> None:
        self.store = store
        self.dry_run = dry_run
        self.erased = erasures.erased_kol_ids(store)
        self.applied = 0  # KOLs this bundle erased here
        self.dropped = 0  # changes of erased KOLs' records left out
        self.needs_scrub = False  # rows were removed: their bytes must leave the file
        # In a dry run nothing is written, so dropped records are remembered here instead.
        self._dropped_ids: dict[str, set[str]] = {}

    def apply(self, reader: BundleReader, part: Part) -> None:
        numbers: list[int] = []
        objects: list[Any] = []
        for number, obj in reader.lines(part):
            numbers.append(number)
            objects.append(obj)
        try:
            lines: list[ErasureLine] = ERASURE_LINES.validate_python(objects)
        except ValidationError as exc:
            index, words = wire_problem(exc)
            number = numbers[index] if index is not None else numbers[0]
            raise BundleError(f"{part.name} line {number}: {words}") from None
        for line in lines:
            if line.kol in self.erased:
                continue
            pending = erasures.pending_adverse_events(self.store, line.kol)
            if pending:
                words = erasures.pending_events_words(self.store, line.kol, pending)
                raise BundleError(f"erases KOL {words}, then import again")
            self.erased.add(line.kol)
            self.applied += 1
            if self.dry_run:
                # What the import would erase now: later changes to it are dropped too.
                for entity, ids in erasures.records_of_kol(self.store, line.kol).items():
                    self._dropped_ids.setdefault(entity, set()).update(ids)
            else:
                self.needs_scrub = True
                erasures.apply_erasure(
                    self.store,
                    line.kol,
                    erased_at=line.at,
                    reason=line.reason,
                    erased_by=line.by,
                    device_id=line.device,
                )

    def drop(self, entity: str, batch: list[tuple[int, Change]]) -> list[tuple[int, Change]]:
        """The batch without changes that belong to erased KOLs."""
        if not self.erased:
            return batch  # the usual case: nothing was ever erased, nothing to look up
        ids = {c.record_id for _, c in batch}
        gone = erasures.erased_record_ids(self.store, entity, ids)
        gone |= self._dropped_ids.get(entity, set()) & ids
        if entity == "kol":
            gone |= ids & self.erased
        # A record that names an erased KOL is erased with all its changes, even ones that
        # came before the change that names it.
        named = {c.record_id for _, c in batch if c.patch.get("kol_id") in self.erased}
        newly = named - gone
        gone |= named
        if not gone:
            return batch
        kept = [(n, c) for n, c in batch if c.record_id not in gone]
        dropped = [c for _, c in batch if c.record_id in gone]
        self.dropped += len(dropped)
        if self.dry_run:
            self._dropped_ids.setdefault(entity, set()).update(gone)
        else:
            if newly:
                erasures.erase_records(self.store, entity, newly)
                erasures.mark_scrub_pending(self.store)
                self.needs_scrub = True
            erasures.insert_markers(
                self.store, [(c.device, c.seq, c.hlc, c.entity, c.record_id) for c in dropped]
            )
        return kept


def report_lines(erased: int, dropped: int, *, dry_run: bool) -> list[str]:
    """What an import did about erasure, for its report (nothing when nothing)."""
    out = []
    if erased:
        verb = "would be erased" if dry_run else "erased here"
        out.append(f"  erasures: {plural(erased, 'KOL')} {verb}")
    if dropped:
        out.append(f"  {plural(dropped, 'change')} for erased KOLs dropped")
    return out
