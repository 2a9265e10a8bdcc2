"""The names of the store's migrations, known without loading them.

Opening a store that is up to date only compares these names with the ones it has applied;
the migrations themselves (store/migrations.py, written with sqlite-utils) are loaded only
to create or upgrade a store. tests/test_store_connection.py checks this list against them.
"""

from __future__ import annotations

MIGRATION_SET = "msl_tui"
MIGRATION_NAMES = (
    "m001_initial",
    "m002_sync",
    "m003_objective_index",
    "m004_ledger_digest",
    "m005_privacy",
    "m006_kol_situation",
    "m007_compact_stamps",
)
SCHEMA_VERSION = len(MIGRATION_NAMES)
