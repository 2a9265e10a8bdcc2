"""Model <-> row conversion for synced entities: one table per entity, JSON for nesting.

``record_row`` is the one place a table row is built, and it takes a validated model: what
the store holds is always the model's canonical form, never the input it was made from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, get_args

import orjson
from pydantic import BaseModel, ValidationError

from msl_tui.models import EngagementPlan, FollowUp, Interaction, Kol, SyncedRecord
from msl_tui.models.base import repair_text

# Sync metadata lives on the row, not in the change patches.
META_FIELDS = frozenset({"id", "device_id", "hlc", "updated_at"})


@dataclass(frozen=True)
class Entity:
    name: str
    table: str
    model: type[SyncedRecord]
    json_fields: frozenset[str]

    def data_fields(self) -> list[str]:
        return [f for f in self.model.model_fields if f not in META_FIELDS]


def _json_fields(model: type[BaseModel]) -> frozenset[str]:
    sample_types = {"list", "dict", "Feedback", "AdverseEvent", "MedInfoRequest", "TransferOfValue"}
    names = set()
    for name, info in model.model_fields.items():
        text = str(info.annotation)
        if any(t in text for t in sample_types):
            names.add(name)
    return frozenset(names)


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity("kol", "kols", Kol, _json_fields(Kol)),
        Entity("plan", "plans", EngagementPlan, _json_fields(EngagementPlan)),
        Entity("interaction", "interactions", Interaction, _json_fields(Interaction)),
        Entity("followup", "followups", FollowUp, _json_fields(FollowUp)),
    )
}
ENTITY_BY_MODEL = {e.model: e for e in ENTITIES.values()}


def dump_fields(record: SyncedRecord) -> dict[str, Any]:
    """The record's data fields as JSON-compatible values (the form patches carry)."""
    data = record.model_dump(mode="json")
    for meta in META_FIELDS:
        data.pop(meta, None)
    return data


# One encoder for every row: json.dumps with options builds a new encoder on each call.
encode_json = json.JSONEncoder(separators=(",", ":")).encode

# Characters json's ``ensure_ascii`` writes as escapes and orjson writes as they are.
_NOT_ASCII = re.compile("[\x7f-\U0010ffff]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # as a surrogate pair, as json writes it
        code -= 0x10000
        return f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}"
    return f"\\u{code:04x}"


def ascii_json(text: bytes) -> bytes:
    """orjson's text with each character from DEL up written as json's ``ensure_ascii``
    writes it (``\\u00e9``). orjson writes ASCII only outside strings, and escapes within
    them the characters json escapes below DEL, the same way: so for a value with no float
    in it, this is ``encode_json``'s text (tests/test_json_fast_paths.py)."""
    if text.isascii() and b"\x7f" not in text:
        return text
    return _NOT_ASCII.sub(_escaped, text.decode("utf-8")).encode("ascii")


def json_text(value: Any) -> str:
    """``encode_json(value)`` for a value without floats (orjson writes some floats in
    other digits, 1e-05 as 0.00001), made in C: the canonical fields of a record, which
    the quick check (msl_tui.models.canonical) admits with no float in them."""
    try:
        return ascii_json(orjson.dumps(value)).decode("ascii")
    except orjson.JSONEncodeError:  # an integer beyond 64 bits
        return encode_json(value)


# Text that JSON writes as it is, between quotes: field names and clock stamps.
_BARE = re.compile(r"[A-Za-z0-9_.:-]*\Z", re.ASCII)
# Per tuple of field names, the text around their values, or None if a name needs escaping.
_KEY_PARTS: dict[tuple[str, ...], list[str] | None] = {}


def encode_stamps(stamps: dict[str, Any]) -> str:
    """``encode_json(stamps)``. A record one change made has one stamp in every field: then
    the text is joined from parts that need no escaping, at a fraction of the encoder's cost."""
    keys = tuple(stamps)
    if keys:
        first = stamps[keys[0]]
        if (
            type(first) is str
            and list(stamps.values()).count(first) == len(keys)
            and _BARE.match(first)
        ):
            if keys not in _KEY_PARTS:
                if len(_KEY_PARTS) > 256:
                    _KEY_PARTS.clear()
                bare = all(_BARE.match(k) for k in keys)
                _KEY_PARTS[keys] = (
                    [f'{"{" if i == 0 else ","}"{k}":' for i, k in enumerate(keys)] + ["}"]
                    if bare
                    else None
                )
            parts = _KEY_PARTS[keys]
            if parts is not None:
                return f'"{first}"'.join(parts)
    return encode_json(stamps)


def uniform_stamps(fields: dict[str, Any], stamp: str) -> str:
    """``encode_json(dict.fromkeys(fields, stamp))``: a record one change made."""
    keys = tuple(fields)
    parts = _KEY_PARTS.get(keys)
    if parts is not None and _BARE.match(stamp):
        return f'"{stamp}"'.join(parts)
    return encode_stamps(dict.fromkeys(keys, stamp))


_DATA_FIELDS: dict[str, list[str]] = {}


def _data_fields(entity: Entity) -> list[str]:
    names = _DATA_FIELDS.get(entity.name)
    if names is None:
        names = _DATA_FIELDS[entity.name] = entity.data_fields()
    return names


# A row's field_stamps column holds this instead of the JSON object when every data field
# carries the row's own hlc: a record made by one whole-record change and not edited since,
# which is most rows (about 890 of a visit row's 1,400 bytes were that object). It is not
# JSON on purpose: an older msl-tui that met it would fail loudly instead of merging
# against stamps it misread (and migration m007 makes it refuse such a store first).
STAMPS_MARKER = "*"


def decode_stamps(entity: Entity, text: str | None, row_hlc: str) -> dict[str, Any]:
    """A row's field stamps, from its field_stamps column and its hlc: the one reader.

    The marker stands for ``dict.fromkeys(entity.data_fields(), row_hlc)``, with the data
    fields this program knows. So a future migration that adds a data field must first
    expand every marker into the JSON object of the fields that existed (or give the new
    field its own stamp): the new field did not exist when the stamp was written, and
    reading it as carrying the row's stamp would let that stamp win merges it never took
    part in."""
    if text == STAMPS_MARKER:
        return dict.fromkeys(_data_fields(entity), row_hlc)
    return json.loads(text or "{}")  # type: ignore[no-any-return]


# Per tuple of field names: whether they are exactly the entity's data fields.
_WHOLE: dict[tuple[str, tuple[str, ...]], bool] = {}


def _covers_data_fields(entity: Entity, keys: tuple[str, ...]) -> bool:
    whole = _WHOLE.get((entity.name, keys))
    if whole is None:
        if len(_WHOLE) > 256:
            _WHOLE.clear()
        names = _data_fields(entity)
        whole = _WHOLE[(entity.name, keys)] = len(keys) == len(names) and set(keys) == set(names)
    return whole


def whole_record_stamps(entity: Entity, fields: dict[str, Any], stamp: str) -> str:
    """The field_stamps text of a row every field of which one change stamped ``stamp``,
    the row's own hlc: the marker when those are all the data fields, else the JSON."""
    if _covers_data_fields(entity, tuple(fields)):
        return STAMPS_MARKER
    return uniform_stamps(fields, stamp)


def stamps_text(entity: Entity, stamps: dict[str, Any], row_hlc: str) -> str:
    """The field_stamps column for these stamps in a row whose hlc is ``row_hlc``."""
    if (
        stamps
        and _covers_data_fields(entity, tuple(stamps))
        and list(stamps.values()).count(row_hlc) == len(stamps)
    ):
        return STAMPS_MARKER
    return encode_stamps(stamps)


ROW_META = ("id", "device_id", "hlc", "updated_at", "field_stamps")


def row_columns(entity: Entity) -> list[str]:
    derived = ["ae_pending_since"] if entity.name == "interaction" else []
    return [*entity.data_fields(), *derived, *ROW_META]


def _may_hold_bool(annotation: Any) -> bool:
    if annotation is bool or annotation is Any:
        return True
    return any(_may_hold_bool(arg) for arg in get_args(annotation))


@dataclass(frozen=True)
class _RowPlan:
    """How an entity's canonical fields become its row: which columns hold JSON text and
    which may hold a boolean (written 0/1). A boolean can only be in a field whose type
    admits one: canonical fields are the model's own output, or checked strictly."""

    values: Any  # fields -> the data columns' values, in order (an itemgetter)
    nested: tuple[int, ...]
    booleans: tuple[int, ...]


_ROW_PLANS: dict[str, _RowPlan] = {}


def _row_plan(entity: Entity) -> _RowPlan:
    plan = _ROW_PLANS.get(entity.name)
    if plan is None:
        names = _data_fields(entity)
        fields = entity.model.model_fields
        plan = _ROW_PLANS[entity.name] = _RowPlan(
            itemgetter(*names),
            tuple(i for i, n in enumerate(names) if n in entity.json_fields),
            tuple(
                i
                for i, n in enumerate(names)
                if n not in entity.json_fields and _may_hold_bool(fields[n].annotation)
            ),
        )
    return plan


def record_row(
    entity: Entity,
    record: SyncedRecord,
    *,
    device: str,
    hlc: str,
    updated_at: str,
    field_stamps: dict[str, Any] | str,
    fields: dict[str, Any] | None = None,
) -> list[Any]:
    """The table row (values in ``row_columns`` order) for a validated record.

    ``fields``, when given, must be ``dump_fields(record)`` computed already;
    ``field_stamps`` may be given as its column's text already (``whole_record_stamps``).
    """
    if fields is None:
        fields = dump_fields(record)
    plan = _row_plan(entity)
    # Taken in C; then nested values as JSON text (most are empty lists: no encoder call)
    # and booleans as 0/1. An import builds a million rows of twenty-odd columns.
    values = list(plan.values(fields))
    for i in plan.nested:
        value = values[i]
        if value is not None:
            # No float in any model (tests/test_json_fast_paths.py): json_text is exact.
            values[i] = "[]" if value == [] and type(value) is list else json_text(value)
    for i in plan.booleans:
        if type(values[i]) is bool:
            values[i] = int(values[i])
    if entity.name == "interaction":
        values.append(derived_columns(entity, fields)["ae_pending_since"])
    # A bulk load may pass the stamps already as text (one template for many rows).
    stamps = (
        field_stamps if isinstance(field_stamps, str) else stamps_text(entity, field_stamps, hlc)
    )
    values += [record.id, device, hlc, updated_at, stamps]
    return values


def from_row(entity: Entity, row: dict[str, Any]) -> SyncedRecord:
    data: dict[str, Any] = {}
    for field in entity.model.model_fields:
        value = row.get(field)
        if field in entity.json_fields and isinstance(value, str):
            value = json.loads(value)
        if value is None and field in entity.json_fields:
            default = entity.model.model_fields[field]
            if not default.is_required() and default.default_factory is list:
                value = []
        data[field] = value
    data = {k: v for k, v in data.items() if v is not None or k in entity.json_fields}
    try:
        return entity.model.model_validate(data)
    except ValidationError:
        # A row an older msl-tui wrote (or another program edited) may hold text today's
        # grammar refuses (a control character in a name): show it escaped rather than
        # fail to open the KOL. Anything else wrong still raises.
        return entity.model.model_validate(repair_text(data))


def derived_columns(entity: Entity, fields: dict[str, Any]) -> dict[str, Any]:
    """Columns computed from fields, kept for fast queries."""
    if entity.name == "interaction" and "adverse_event" in fields:
        ae = fields["adverse_event"]
        pending = ae is not None and not ae.get("reported_at")
        return {"ae_pending_since": ae["day_zero"] if pending else None}
    return {}
