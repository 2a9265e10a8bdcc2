"""The local SQLite store (sqlite-utils). Knows nothing of screens."""

from msl_tui.store.errors import StoreError
from msl_tui.store.schema_names import SCHEMA_VERSION
from msl_tui.store.store import Store, fts_terms

__all__ = ["SCHEMA_VERSION", "Store", "StoreError", "fts_terms"]
