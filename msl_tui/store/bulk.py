"""Rows for a bulk load of new records (``Store.bulk_load``), built without a model.

A bulk load takes each record as its canonical fields already (what ``dump_fields`` gives
for the validated model) and makes the table row ``codec.record_row`` would make from them:
the same values in the same columns, nested values as the same JSON text. Column values
are picked in one C call; only the JSON and boolean columns are touched in Python.
tests/test_bulk_rows.py checks these rows against ``record_row`` column for column.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from msl_tui.store.codec import (
    Entity,
    derived_columns,
    encode_json,
    row_columns,
    whole_record_stamps,
)


class RowMaker:
    """Table rows and insert statement for one entity."""

    def __init__(self, entity: Entity) -> None:
        self.entity = entity
        data = entity.data_fields()
        self._values = itemgetter(*data)
        self._json_at = [i for i, name in enumerate(data) if name in entity.json_fields]
        # Booleans are stored as 0/1: the columns whose type admits one.
        self._bool_at = [
            i
            for i, name in enumerate(data)
            if name not in entity.json_fields
            and "bool" in str(entity.model.model_fields[name].annotation)
        ]
        self._derived = entity.name == "interaction"
        columns = row_columns(entity)
        self.sql = (
            f"insert into {entity.table} ({', '.join(columns)}) "
            f"values ({', '.join('?' for _ in columns)})"
        )

    def row(
        self, record_id: str, fields: dict[str, Any], device: str, stamp: str, updated_at: str
    ) -> list[Any]:
        row = list(self._values(fields))
        for i in self._json_at:
            value = row[i]
            if value is not None:
                row[i] = "[]" if value == [] and type(value) is list else encode_json(value)
        for i in self._bool_at:
            if type(row[i]) is bool:
                row[i] = int(row[i])
        if self._derived:
            row.append(derived_columns(self.entity, fields)["ae_pending_since"])
        row += (record_id, device, stamp, updated_at, self.stamps(fields, stamp))
        return row

    def stamps(self, fields: dict[str, Any], stamp: str) -> str:
        """A new record's field stamps (every field stamped ``stamp``, the row's hlc): the
        marker when the fields are all the data fields, as ``record_row`` writes."""
        return whole_record_stamps(self.entity, fields, stamp)
