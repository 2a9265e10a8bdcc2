"""Editing an engagement plan. Every save lands in the change log (who, when, what)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from msl_tui.models import EngagementPlan, Objective
from msl_tui.store import Store
from msl_tui.store.history import record_history


class PlanEditError(ValueError):
    """A field the MSL typed does not validate; ``field`` names it for the form."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _first_error(exc: ValidationError, prefix: str = "") -> PlanEditError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "plan"
    return PlanEditError(prefix + field, err["msg"])


def new_plan(store: Store, kol_id: str, today: date) -> EngagementPlan:
    plan = EngagementPlan(
        kol_id=kol_id,
        period_start=today,
        period_end=date(today.year, 12, 31) if today.month < 10 else date(today.year + 1, 12, 31),
        owner_msl=store.author,
    )
    return store.save(plan)


def update_plan(store: Store, plan: EngagementPlan, **changes: Any) -> EngagementPlan:
    try:
        updated = plan.evolve(**changes)
    except ValidationError as exc:
        raise _first_error(exc) from exc
    return store.save(updated)


def save_objective(
    store: Store, plan: EngagementPlan, values: dict[str, Any], objective_id: str | None = None
) -> EngagementPlan:
    """Add (no id) or replace one objective, validating the typed values first."""
    try:
        if objective_id is None:
            objective = Objective.model_validate(values)
            objectives = [*plan.objectives, objective]
        else:
            objectives = []
            for o in plan.objectives:
                if o.id == objective_id:
                    o = Objective.model_validate({**o.model_dump(), **values})
                objectives.append(o)
    except ValidationError as exc:
        raise _first_error(exc) from exc
    return update_plan(store, plan, objectives=[o.model_dump() for o in objectives])


def toggle_activity(
    store: Store, plan: EngagementPlan, activity_id: str, today: date
) -> EngagementPlan:
    """Mark an activity done today, or undo that."""
    activities = [
        a.model_copy(update={"done_on": None if a.done_on else today}) if a.id == activity_id else a
        for a in plan.activities
    ]
    return update_plan(store, plan, activities=[a.model_dump() for a in activities])


@dataclass(frozen=True)
class PlanEdit:
    when: datetime
    author: str
    fields: tuple[str, ...]


def plan_history(store: Store, plan_id: str) -> list[PlanEdit]:
    return [
        PlanEdit(
            when=datetime.fromtimestamp(entry.wall_ms / 1000).astimezone(),
            author=entry.author or entry.device_id,
            fields=tuple(sorted(k for k in entry.fields if k not in {"created_at", "deleted"})),
        )
        for entry in record_history(store, "plan", plan_id)
    ]
