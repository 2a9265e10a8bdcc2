"""The local SQLite store (sqlite-utils). Knows nothing of screens.

``Store`` (and the models it reads and writes) loads when first named: the KOL list's
first page at launch reads through ``situation`` and ``database`` alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from msl_tui.store.errors import StoreError
from msl_tui.store.schema_names import SCHEMA_VERSION

if TYPE_CHECKING:
    from msl_tui.store.store import Store, fts_terms


def __getattr__(name: str) -> Any:
    if name not in ("Store", "fts_terms"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from msl_tui.store import store

    value = getattr(store, name)
    globals()[name] = value
    return value


__all__ = ["SCHEMA_VERSION", "Store", "StoreError", "fts_terms"]
