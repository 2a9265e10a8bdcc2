"""Domain models (pydantic v2). Pure: they know nothing of storage or screens."""

from msl_tui.models.base import SyncedRecord, new_id, utcnow
from msl_tui.models.enums import *  # noqa: F403 - the vocabularies are part of the model API
from msl_tui.models.enums import __all__ as _enum_names
from msl_tui.models.interaction import (
    AE_REPORT_WINDOW,
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
