"""Plan progress, computed from what was logged, never typed: contacts against cadence,
objectives met, activities done, and when the next check-in falls due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from msl_tui.models import EngagementPlan, Interaction, Objective
from msl_tui.plurals import plural


@dataclass(frozen=True, slots=True)
class ObjectiveProgress:
    objective: Objective
    contacts: int
    met: bool

    @property
    def label(self) -> str:
        o = self.objective
        if o.measure == "interactions":
            return f"{min(self.contacts, o.target)}/{o.target} interactions"
        return f"met {o.met_on.isoformat()}" if o.met_on else f"{o.measure}: target {o.target}"


@dataclass(frozen=True, slots=True)
class PlanProgress:
    contacts_made: int
    contacts_expected: int
    objectives: tuple[ObjectiveProgress, ...]
    activities_done: int
    activities_total: int
    last_contact: date | None
    next_checkin: date | None

    @property
    def objectives_met(self) -> int:
        return sum(1 for o in self.objectives if o.met)

    def checkin_overdue_days(self, today: date) -> int:
        if self.next_checkin is None:
            return 0
        return max(0, (today - self.next_checkin).days)

    def summary(self, today: date) -> str:
        # "2/0 expected" read as "2 of 0": say it in words when no contact is due yet.
        expected = (
            f"{self.contacts_expected} expected" if self.contacts_expected else "none expected yet"
        )
        parts = [
            f"{plural(self.contacts_made, 'contact')} ({expected})",
            f"objectives met {self.objectives_met}/{len(self.objectives)}",
            f"activities done {self.activities_done}/{self.activities_total}",
        ]
        if self.next_checkin is None:
            parts.append("next check-in: now (never contacted)")
        else:
            over = self.checkin_overdue_days(today)
            parts.append(
                f"next check-in {self.next_checkin.isoformat()}"
                + (f" (! overdue {over}d)" if over else "")
            )
        return " · ".join(parts)


def plan_progress(
    plan: EngagementPlan, interactions: list[Interaction], today: date
) -> PlanProgress:
    """Progress of ``plan`` from the KOL's logged (non-deleted) interactions."""
    in_period = [
        i
        for i in interactions
        if not i.deleted and plan.period_start <= i.occurred_at.date() <= plan.period_end
    ]
    linked: dict[str, int] = {}
    for i in interactions:
        if i.objective_id and not i.deleted:
            linked[i.objective_id] = linked.get(i.objective_id, 0) + 1
    elapsed_end = min(today, plan.period_end)
    elapsed_days = max(0, (elapsed_end - plan.period_start).days)
    expected = elapsed_days // plan.cadence_days + (1 if elapsed_days else 0)
    objectives = tuple(
        ObjectiveProgress(
            objective=o,
            contacts=linked.get(o.id, 0),
            met=o.met_on is not None
            or (o.measure == "interactions" and linked.get(o.id, 0) >= o.target),
        )
        for o in plan.objectives
    )
    live = [i for i in interactions if not i.deleted]
    last = max((i.occurred_at.date() for i in live), default=None)
    return PlanProgress(
        contacts_made=len(in_period),
        contacts_expected=expected,
        objectives=objectives,
        activities_done=sum(1 for a in plan.activities if a.done_on is not None),
        activities_total=len(plan.activities),
        last_contact=last,
        next_checkin=last + timedelta(days=plan.cadence_days) if last else None,
    )
