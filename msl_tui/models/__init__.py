"""Domain models (pydantic v2). Pure: they know nothing of storage or screens.

The vocabularies (``enums``) load with the package; the pydantic models load when first
named (``from msl_tui.models import Kol``), so a caller that needs only the vocabularies,
the KOL list's first page at launch, does not pay for building every model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from msl_tui.models.enums import *  # noqa: F403 - the vocabularies are part of the model API
from msl_tui.models.enums import __all__ as _enum_names

if TYPE_CHECKING:
    from msl_tui.models.base import SyncedRecord, new_id, utcnow
    from msl_tui.models.interaction import (
        AdverseEvent,
        AEFollowUp,
        Amendment,
        Feedback,
        FollowUp,
        Insight,
        Interaction,
        MedInfoRequest,
        TransferOfValue,
    )
    from msl_tui.models.kol import Kol
    from msl_tui.models.msl import MslProfile
    from msl_tui.models.plan import Activity, EngagementPlan, Objective
    from msl_tui.models.rules import AE_REPORT_WINDOW

# Each model's module, by the name it is imported under.
_LAZY = {
    "SyncedRecord": "base",
    "new_id": "base",
    "utcnow": "base",
    "AE_REPORT_WINDOW": "rules",
    "AEFollowUp": "interaction",
    "AdverseEvent": "interaction",
    "Amendment": "interaction",
    "Feedback": "interaction",
    "FollowUp": "interaction",
    "Insight": "interaction",
    "Interaction": "interaction",
    "MedInfoRequest": "interaction",
    "TransferOfValue": "interaction",
    "Kol": "kol",
    "MslProfile": "msl",
    "Activity": "plan",
    "EngagementPlan": "plan",
    "Objective": "plan",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once: later lookups find it without this function
    return value


__all__ = [
    "AE_REPORT_WINDOW",
    "AEFollowUp",
    "Activity",
    "AdverseEvent",
    "Amendment",
    "EngagementPlan",
    "Feedback",
    "FollowUp",
    "Insight",
    "Interaction",
    "Kol",
    "MedInfoRequest",
    "MslProfile",
    "Objective",
    "SyncedRecord",
    "TransferOfValue",
    "new_id",
    "utcnow",
    *_enum_names,
]
