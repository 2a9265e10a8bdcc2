"""Fixed rules of the trade that are values, not records: no pydantic, cheap to import."""

from __future__ import annotations

from datetime import timedelta

# Field staff forward a possible adverse event to pharmacovigilance within this window.
AE_REPORT_WINDOW = timedelta(hours=24)
