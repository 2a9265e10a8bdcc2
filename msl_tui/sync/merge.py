"""Merging changes into the store: a record is a deterministic fold of its change set.

For every field the change with the highest clock stamp wins (stamps order by wall time,
counter, then device, so ties cannot happen). A change's ``base`` names, per field, the
stamp(s) the writer had on screen when it overwrote the field. A write that lost and that no
later writer had seen is a *conflict*: it is listed for review, never dropped. Free text
(notes, profile notes) keeps both texts in the merged value; amendment lists are united.

Everything here is computed from the set of changes alone, so replicas that hold the same
changes hold the same rows and the same open conflicts, whatever order the changes came in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from msl_tui.clock import STAMP_RE, ClockError, Stamp
from msl_tui.models import SyncedRecord
from msl_tui.models.problems import describe
from msl_tui.store import sync_log
from msl_tui.store.codec import ENTITIES, Entity, encode_json, whole_record_stamps
from msl_tui.store.store import RowStamp, Store
from msl_tui.timestamps import from_ms, iso

if TYPE_CHECKING:
    from msl_tui.sync.overlay import Overlay

# Fields whose concurrent edits are both kept in the merged value.
TEXT_FIELDS = frozenset({"notes", "profile_note"})
UNION_FIELDS = frozenset({"amendments"})
MAX_TEXT = 100_000  # the models' LongText limit


class MergeError(ValueError):
    """A change the store cannot take: it contradicts the log (the same device and sequence,
    other content), forges this store's own identity, or would make a record invalid.
    ``change`` names the change, so an importer can point at its line."""

    def __init__(self, message: str, change: Change | None = None) -> None:
        super().__init__(message)
        self.change = change


_PLAIN_DECIMAL = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,2})?\Z", re.ASCII)


def covers(raw: Any, clean: Any) -> bool:
    """``raw`` says exactly what ``clean`` says, where ``clean`` may add nested fields the
    sender did not know (a newer model's defaults): so a bundle from an older msl-tui still
    goes in, stored in today's canonical form. Types must match: 1 is not True nor 1.0."""
    if isinstance(clean, dict):
        return isinstance(raw, dict) and all(
            k in clean and covers(v, clean[k]) for k, v in raw.items()
        )
    if isinstance(clean, list):
        return (
            isinstance(raw, list)
            and len(raw) == len(clean)
            and all(covers(a, b) for a, b in zip(raw, clean, strict=True))
        )
    if type(raw) is not type(clean):
        return False
    if raw == clean:
        return True
    # An amount an older msl-tui wrote as "25.5" is the same amount as today's "25.50";
    # only plain decimal notation counts ("1E+2" is refused).
    return (
        isinstance(raw, str)
        and _PLAIN_DECIMAL.match(raw) is not None
        and _PLAIN_DECIMAL.match(clean) is not None
        and Decimal(raw) == Decimal(clean)
    )


# Not frozen: a frozen dataclass is made with one object.__setattr__ call per field, 1.4 µs
# more per change, and an import makes a million of them. Nothing changes one once made.
@dataclass(slots=True)
class Change:
    entity: str
    device: str
    seq: int
    hlc: str
    record_id: str
    patch: dict[str, Any]
    base: dict[str, Any]
    author: str = ""
    # The validated record when ``patch`` is a whole record (an import's first pass built it).
    record: SyncedRecord | None = field(default=None, compare=False)
    # ``patch`` as compact JSON, when the import encoded it already.
    patch_json: str | None = field(default=None, compare=False)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Change:
        return cls(
            row["entity"],
            row["device_id"],
            int(row["seq"]),
            row["hlc"],
            row["record_id"],
            json.loads(row["patch"]),
            json.loads(row["base"] or "{}"),
            row["author"] or "",
        )

    def same_content(self, other: Change) -> bool:
        """``other`` (an incoming change, in today's canonical form) is this stored one.

        A change an older msl-tui stored may lack nested fields added since (an adverse
        event's ``followups``) or write an amount as "25.5": the import stores today's form
        of a new change, but one already held stays as it was stored. The same change sent
        again is then the same content, not a reused (device, seq): what the stored patch
        says, the incoming one says too (``covers``), and an unchanged change writes nothing.
        """
        if (self.hlc, self.entity, self.record_id, self.base) != (
            other.hlc,
            other.entity,
            other.record_id,
            other.base,
        ):
            return False
        return self.patch == other.patch or (
            self.patch.keys() == other.patch.keys() and covers(self.patch, other.patch)
        )

    def as_row(self) -> list[Any]:
        return [
            self.device,
            self.seq,
            self.hlc,
            self.entity,
            self.record_id,
            self.patch_json if self.patch_json is not None else encode_json(self.patch),
            encode_json(self.base) if self.base else "{}",
            self.author,
        ]


def seen_stamps(base_value: Any) -> list[str]:
    if isinstance(base_value, str):
        return [base_value]
    if isinstance(base_value, list):
        return [s for s in base_value if isinstance(s, str)]
    return []


def stamp_iso(hlc: str) -> str:
    """The stamp's wall time to the second, as stored (ClockError for a malformed stamp)."""
    match = STAMP_RE.match(hlc)
    if match is None:
        raise ClockError(f"malformed clock stamp {hlc!r}")  # as Stamp.parse says it
    return _second_iso(int(match[1]) // 1000)


@lru_cache(maxsize=4096)
def _second_iso(second: int) -> str:
    # Changes made one after another share their second: an import formats each once.
    return iso(from_ms(second * 1000))


@dataclass
class Folded:
    record_id: str
    state: dict[str, Any]
    stamps: dict[str, Any]
    hlc: str
    device: str
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    record: SyncedRecord | None = None  # the validated record, when the state is whole
    problem: str = ""  # why it is not, in words

    @property
    def valid(self) -> bool:
        return self.record is not None

    def row_stamp(self, fields: dict[str, Any] | None = None) -> RowStamp:
        return RowStamp(self.device, self.hlc, stamp_iso(self.hlc), self.stamps, fields)


def _merge_text(winner: str, losers: list[Change], name: str) -> str:
    merged = winner
    for c in losers:
        other = c.patch[name]
        if not isinstance(other, str) or not other or other in merged:
            continue
        addition = f"\n\n--- also written on {c.device} at {stamp_iso(c.hlc)} ---\n{other}"
        if len(merged) + len(addition) > MAX_TEXT:
            addition = f"\n\n--- text written on {c.device} is in the conflicts list ---"
            if len(merged) + len(addition) > MAX_TEXT:
                continue
        merged += addition
    return merged


def _merge_union(winner: list[Any], losers: list[Change], name: str) -> list[Any]:
    merged = list(winner)
    for c in losers:
        for item in c.patch[name] or []:
            if item not in merged:
                merged.append(item)
    return sorted(
        merged, key=lambda item: str(item.get("at", "")) if isinstance(item, dict) else ""
    )


def fold(
    entity: Entity, record_id: str, changes: Iterable[Change], *, validate: bool = True
) -> Folded:
    """The record's state from its changes, with the writes that lost unseen.

    When every change is valid on its own but together they make an invalid record (two
    machines each moved one end of a plan's period), the changes are taken in stamp order
    and one that would spoil the record is kept aside as a conflict instead: the result
    still depends on the set of changes alone, whatever order they arrived in.
    """
    ordered = sorted(changes, key=lambda c: (c.hlc, c.device, c.seq))
    result = _fold_ordered(record_id, ordered)
    if validate:
        result.record, result.problem = whole_record(entity, record_id, result)
        if result.record is None and result.problem not in _missing_problems(entity):
            result = _fold_keeping_valid(entity, record_id, ordered)
    return result


def _missing_problems(entity: Entity) -> set[str]:
    return {f"{name} is missing" for name in _required(entity)}


def _fold_keeping_valid(entity: Entity, record_id: str, ordered: list[Change]) -> Folded:
    """Apply changes one by one in stamp order; one that would make the (complete) record
    invalid is set aside as a conflict. Rare, so its quadratic cost does not matter."""
    accepted: list[Change] = []
    refused: list[tuple[Change, str]] = []
    for c in ordered:
        trial = _fold_ordered(record_id, [*accepted, c])
        record, problem = whole_record(entity, record_id, trial)
        if record is None and problem not in _missing_problems(entity):
            refused.append((c, problem))
        else:
            accepted.append(c)
    if not accepted:
        result = Folded(record_id, {}, {}, ordered[-1].hlc, ordered[-1].device)
        result.problem = refused[0][1] if refused else "no changes"
        return result
    result = _fold_ordered(record_id, accepted)
    result.record, result.problem = whole_record(entity, record_id, result)
    for c, problem in refused:
        name = next(iter(c.patch))
        result.conflicts.append(
            {
                "field": name,
                "kept_value": result.state.get(name),
                "kept_hlc": kept
                if isinstance(kept := result.stamps.get(name), str)
                else result.hlc,
                "other_value": c.patch[name],
                "other_hlc": c.hlc,
                "why": problem,
            }
        )
    return result


def _fold_ordered(record_id: str, ordered: list[Change]) -> Folded:
    seen: dict[str, set[str]] = {}
    winner: dict[str, Change] = {}
    touched: dict[str, list[Change]] = {}
    for c in ordered:
        for name, base in c.base.items():
            seen.setdefault(name, set()).update(seen_stamps(base))
        for name in c.patch:
            winner[name] = c
            touched.setdefault(name, []).append(c)
    state = {name: c.patch[name] for name, c in winner.items()}
    stamps: dict[str, Any] = {name: c.hlc for name, c in winner.items()}
    conflicts: list[dict[str, Any]] = []
    for name, cs in touched.items():
        w = winner[name]
        unseen = [c for c in cs if c is not w and c.hlc not in seen.get(name, ())]
        losers = [c for c in unseen if c.patch[name] != w.patch[name]]
        agreeing = [c.hlc for c in unseen if c.patch[name] == w.patch[name]]
        if agreeing:
            # Concurrent edits that wrote the winner's value are merged, not lost: their
            # stamps go with the field, so a later edit made after seeing this value has
            # seen them too (else they would come back as conflicts against it).
            stamps[name] = [w.hlc, *agreeing]
        if not losers:
            continue
        if name in UNION_FIELDS and isinstance(state[name], list):
            state[name] = _merge_union(state[name], losers, name)
            stamps[name] = [w.hlc, *agreeing, *(c.hlc for c in losers)]
            continue
        if name in TEXT_FIELDS and isinstance(state[name], str):
            state[name] = _merge_text(state[name], losers, name)
            stamps[name] = [w.hlc, *agreeing, *(c.hlc for c in losers)]
        conflicts.extend(
            {
                "field": name,
                "kept_value": state[name],
                "kept_hlc": w.hlc,
                "other_value": c.patch[name],
                "other_hlc": c.hlc,
            }
            for c in losers
        )
    if state.get("deleted") is True:
        # An edit made after the delete, by someone who had not seen it: the record stays
        # deleted (no silent resurrection) and the edit waits for review.
        gone = winner["deleted"].hlc
        conflicts.extend(
            {
                "field": "deleted",
                "kept_value": True,
                "kept_hlc": gone,
                "other_value": c.patch,
                "other_hlc": c.hlc,
            }
            for c in ordered
            if "deleted" not in c.patch and c.hlc > gone and c.hlc not in seen.get("deleted", ())
        )
    last = ordered[-1]
    return Folded(record_id, state, stamps, last.hlc, last.device, conflicts)


_REQUIRED: dict[str, frozenset[str]] = {}


def _required(entity: Entity) -> frozenset[str]:
    if entity.name not in _REQUIRED:
        _REQUIRED[entity.name] = frozenset(
            n for n, info in entity.model.model_fields.items() if info.is_required()
        )
    return _REQUIRED[entity.name]


_DATA_FIELDS: dict[str, frozenset[str]] = {}


def is_complete_patch(entity: Entity, patch: dict[str, Any]) -> bool:
    fields = _DATA_FIELDS.get(entity.name)
    if fields is None:
        fields = _DATA_FIELDS[entity.name] = frozenset(entity.data_fields())
    return fields <= patch.keys()


def whole_record(entity: Entity, record_id: str, folded: Folded) -> tuple[SyncedRecord | None, str]:
    """The validated record a merged state makes, or None and why not.

    A state becomes a row only when it is a valid record: its creation may still be on the
    way (fields missing), or the changes may not add up to a valid record (then the caller
    refuses them).
    """
    missing = sorted(_required(entity) - folded.state.keys())
    if missing:
        return None, f"{missing[0]} is missing"
    try:
        record = entity.model.model_validate(
            {**folded.state, "id": record_id, "device_id": folded.device, "hlc": folded.hlc}
        )
    except ValidationError as exc:
        return None, describe(exc)
    return record, ""


# -- applying a batch of incoming changes ---------------------------------------------------


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    waiting: int = 0  # records whose creation has not arrived yet

    def add(self, other: Counts) -> None:
        for name in ("inserted", "updated", "unchanged", "conflicts", "waiting"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def changed(self) -> int:
        return self.inserted + self.updated


def known_changes(store: Store, batch: Sequence[Change]) -> dict[tuple[str, int], Change]:
    """Changes of ``batch`` the store already holds, by (device, seq)."""
    by_device: dict[str, list[int]] = {}
    for c in batch:
        by_device.setdefault(c.device, []).append(c.seq)
    known: dict[tuple[str, int], Change] = {}
    for device, seqs in by_device.items():
        for seq, row in sync_log.changes_by_key(store, device, seqs).items():
            known[(device, seq)] = Change.from_row(row)
    return known


def check_not_reused(store: Store, batch: Sequence[Change]) -> None:
    known = known_changes(store, batch)
    for c in batch:
        old = known.get((c.device, c.seq))
        if old is not None and not old.same_content(c):
            raise MergeError(
                f"change {c.device}#{c.seq} was already received with different content "
                "(two stores share that device id: was a store file copied?)"
            )


def apply_batch(
    store: Store,
    entity_name: str,
    batch: Sequence[Change],
    *,
    now: str,
    overlay: Overlay | None = None,
) -> Counts:
    """Merge one batch of one table's changes. The caller holds the transaction.

    With ``overlay`` it is a dry run: the store is only read, and what the merge would write
    goes to the overlay, which later batches of the bundle read with the store.

    Raises MergeError, leaving the caller to roll back, for a change that reuses a
    (device, seq) with other content, one under this store's own device id that this store
    never made, and changes that would turn an existing record into an invalid one.
    """
    entity = ENTITIES[entity_name]
    counts = Counts()
    if overlay is None:
        # Before anything is read: a merge beside this one (on a server) touching the same
        # records waits until this transaction ends, then sees its changes. A dry run reads
        # a snapshot and holds nothing up.
        sync_log.lock_records(store, entity_name, sorted({c.record_id for c in batch}))
    known = known_changes(store, batch)
    fresh: list[Change] = []
    for c in batch:
        old = known.get((c.device, c.seq))
        if old is None:
            if c.device == store.device_id:
                raise MergeError(
                    f"change {c.device}#{c.seq} carries this store's own device id but this "
                    "store never made it (a forged or copied identity)",
                    c,
                )
            fresh.append(c)
            known[(c.device, c.seq)] = c
        elif not old.same_content(c):
            raise MergeError(
                f"change {c.device}#{c.seq} was already received with different content "
                "(two stores share that device id: was a store file copied?)",
                c,
            )
        else:
            counts.unchanged += 1
    if not fresh:
        return counts
    by_record: dict[str, list[Change]] = {}
    for c in fresh:
        by_record.setdefault(c.record_id, []).append(c)
    # Only records the store may hold something of are read (store/written.py: in a first
    # full import, only those an earlier batch wrote).
    ids = store.may_hold(list(by_record))
    stored = sync_log.changes_for_records(store, entity.name, ids)
    had_row = sync_log.existing_ids(store, entity, ids)
    open_before = sync_log.open_conflict_keys(store, entity.name, ids)
    if overlay is not None:
        overlay.read_into(entity.name, list(by_record), stored, had_row, open_before)
    items: list[tuple[SyncedRecord, RowStamp]] = []
    new_items: list[tuple[SyncedRecord, RowStamp]] = []  # records with no row yet
    recomputed: list[Folded] = []
    for record_id, incoming in by_record.items():
        only = incoming[0]
        if only.record is not None and len(incoming) == 1 and record_id not in stored:
            # A record made by one change, the only one it has: the import validated it as
            # a whole record and checked the patch equal to its canonical fields. Every
            # field carries that change's stamp and nothing can conflict.
            row_stamp = RowStamp(
                only.device,
                only.hlc,
                stamp_iso(only.hlc),
                whole_record_stamps(entity, only.patch, only.hlc),
                only.patch,
            )
            if record_id in had_row:
                items.append((only.record, row_stamp))
                counts.updated += 1
            else:
                new_items.append((only.record, row_stamp))
                counts.inserted += 1
            continue
        prior = [Change.from_row(r) for r in stored.get(record_id, [])]
        folded = fold(entity, record_id, [*prior, *incoming])
        recomputed.append(folded)
        if folded.record is not None:
            if record_id in had_row:
                items.append((folded.record, folded.row_stamp()))
                counts.updated += 1
            else:
                new_items.append((folded.record, folded.row_stamp()))
                counts.inserted += 1
        elif record_id in had_row:
            # The existing row stays; the changes that would spoil it are refused.
            raise MergeError(
                f"the changes to {entity.name} {record_id} would make it invalid "
                f"({folded.problem})",
                incoming[-1],
            )
        else:
            counts.waiting += 1
        before = open_before.get(record_id, set())
        counts.conflicts += sum(
            1 for k in folded.conflicts if (k["field"], k["other_hlc"]) not in before
        )
    if overlay is not None:
        rows = [record.id for record, _ in items] + [record.id for record, _ in new_items]
        overlay.write(entity.name, fresh, rows, recomputed)
        return counts
    # Later local edits must sort after what this store has now seen (skew was checked).
    # The clock keeps the highest stamp it observed: the batch's highest is enough (stamps
    # of fixed width sort as text in (wall, counter, device) order).
    store.clock.observe(Stamp.parse(max(c.hlc for c in fresh)), max_skew_ms=10**15)
    sync_log.insert_changes(store, [c.as_row() for c in fresh])
    # A plain insert for new rows: no update clause, no look-up of their former owners (the
    # records are locked, or the store held alone, since ``had_row`` was read).
    store.write_records(entity, items)
    store.write_records(entity, new_items, insert_only=True)
    for folded in recomputed:
        if folded.conflicts or folded.record_id in open_before:
            sync_log.save_conflicts(store, entity.name, folded.record_id, folded.conflicts, now)
    return counts


def refold(store: Store, entity_name: str, record_id: str, *, now: str) -> Folded:
    """Rebuild one record (row and open conflicts) from its whole change set."""
    entity = ENTITIES[entity_name]
    stored = sync_log.changes_for_records(store, entity_name, [record_id]).get(record_id, [])
    folded = fold(entity, record_id, [Change.from_row(r) for r in stored])
    if folded.record is not None:
        store.write_records(entity, [(folded.record, folded.row_stamp())])
    elif sync_log.existing_ids(store, entity, [record_id]):
        raise MergeError(
            f"{entity_name} {record_id} would become invalid ({folded.problem}): nothing changed"
        )
    sync_log.save_conflicts(store, entity_name, record_id, folded.conflicts, now)
    return folded


def refresh_conflicts(store: Store, *, now: str) -> None:
    """Local edits can settle a conflict (editing merged notes sees both texts): recompute
    the few records that still have open conflicts before showing the list."""
    with store.transaction():
        for entity_name, record_id in sync_log.records_with_open_conflicts(store):
            refold(store, entity_name, record_id, now=now)


def resolve(store: Store, conflict_id: int, choice: str, *, now: str) -> str:
    """Settle a conflict with a new change that has seen both sides, so it travels.

    ``choice`` is "kept" (the current value stays) or "other" (the losing value is taken;
    for a delete conflict, "other" restores the record).
    """
    conflict = sync_log.get_conflict(store, conflict_id)
    if conflict is None:
        raise MergeError(f"no conflict {conflict_id}")
    if conflict["resolved_at"]:
        raise MergeError(f"conflict {conflict_id} is already resolved")
    if choice not in ("kept", "other"):
        raise MergeError(f"choose 'kept' or 'other', not {choice!r}")
    entity_name, record_id, name = conflict["entity"], conflict["record_id"], conflict["field"]
    if not sync_log.existing_ids(store, ENTITIES[entity_name], [record_id]):
        raise MergeError(
            f"conflict {conflict_id} is about a {entity_name} this store does not hold yet "
            "(its creation has not arrived): import the earlier bundles first"
        )
    with store.transaction():
        current = refold(store, entity_name, record_id, now=now)
        if name == "deleted":
            value: Any = choice != "other"
        elif choice == "other":
            value = conflict["other_value"]
        else:
            value = current.state.get(name)
        stamp = current.stamps.get(name)
        base_seen = [*seen_stamps(stamp), conflict["other_hlc"]]
        stamp_now = str(store.clock.tick())
        change = Change(
            entity_name,
            store.device_id,
            sync_log.next_seq(store),
            stamp_now,
            record_id,
            {name: value},
            {name: sorted(set(base_seen))},
            store.author,
        )
        sync_log.insert_changes(store, [change.as_row()])
        store.set_meta("hlc_last", stamp_now)
        after = refold(store, entity_name, record_id, now=now)
        if after.state.get(name) != value:
            # Never report a resolution that did not take (the transaction rolls back).
            raise MergeError(
                f"conflict {conflict_id} could not be settled: a later change to {name} wins"
            )
        sync_log.mark_resolved(store, conflict_id, choice, now)
    return f"{entity_name} {record_id} {name}: {choice} value kept"
