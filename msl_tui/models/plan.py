"""An individual engagement plan: one per KOL per period, owned by head office."""

from __future__ import annotations

from pydantic import Field, model_validator

from msl_tui.models.base import (
    DateNotFar,
    Day,
    Name,
    RecordId,
    ShortText,
    Strict,
    SyncedRecord,
    new_id,
)
from msl_tui.models.enums import (
    ActivityKind,
    LifecyclePhase,
    ObjectiveKind,
    OwnerRole,
    PlanStatus,
)


class Objective(Strict):
    """Stated so both sides understand it; ``measure`` says how success is counted.

    When ``measure`` is "interactions" progress is the count of logged interactions linked
    to this objective; other measures are met when ``met_on`` is set.
    """

    id: RecordId = Field(default_factory=new_id)
    kind: ObjectiveKind = ObjectiveKind.SCIENTIFIC
    description: Name
    measure: ShortText = "interactions"
    target: int = Field(default=1, ge=1, le=10_000)
    due: DateNotFar | None = None
    owner: OwnerRole = OwnerRole.MSL
    met_on: Day | None = None


class Activity(Strict):
    id: RecordId = Field(default_factory=new_id)
    kind: ActivityKind = ActivityKind.VISIT
    description: ShortText = ""
    owner: OwnerRole = OwnerRole.MSL
    due: DateNotFar | None = None
    done_on: Day | None = None


class EngagementPlan(SyncedRecord):
    kol_id: RecordId
    period_start: Day
    period_end: Day
    objectives: list[Objective] = Field(default_factory=list)
    activities: list[Activity] = Field(default_factory=list)
    cadence_days: int = Field(default=30, ge=1, le=730)
    lifecycle_phase: LifecyclePhase = LifecyclePhase.GROWTH
    status: PlanStatus = PlanStatus.ACTIVE
    owner_msl: ShortText = ""

    @model_validator(mode="after")
    def _period_in_order(self) -> EngagementPlan:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self

    def open_objectives(self) -> list[Objective]:
        return [o for o in self.objectives if o.met_on is None]


__all__ = ["Activity", "EngagementPlan", "Name", "Objective"]
