"""Model <-> row conversion for synced entities: one table per entity, JSON for nesting.

``record_row`` is the one place a table row is built, and it takes a validated model: what
the store holds is always the model's canonical form, never the input it was made from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

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


def to_column(entity: Entity, field: str, value: Any) -> Any:
    if field in entity.json_fields:
        return None if value is None else encode_json(value)
    if isinstance(value, bool):
        return int(value)
    return value


ROW_META = ("id", "device_id", "hlc", "updated_at", "field_stamps")


def row_columns(entity: Entity) -> list[str]:
    derived = ["ae_pending_since"] if entity.name == "interaction" else []
    return [*entity.data_fields(), *derived, *ROW_META]


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
    ``field_stamps`` may be given as its JSON already encoded.
    """
    if fields is None:
        fields = dump_fields(record)
    values = [to_column(entity, f, fields[f]) for f in entity.data_fields()]
    if entity.name == "interaction":
        values.append(derived_columns(entity, fields)["ae_pending_since"])
    stamps = field_stamps if isinstance(field_stamps, str) else encode_json(field_stamps)
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
