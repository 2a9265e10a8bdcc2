"""Everything about one KOL relationship, and the small edits made from the KOL page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from msl_tui.models import EngagementPlan, FollowUp, Interaction, Kol
from msl_tui.models.enums import Segment
from msl_tui.services.plan_progress import PlanProgress, plan_progress
from msl_tui.services.segments import segment_for
from msl_tui.store import Store, StoreError


@dataclass(frozen=True)
class KolPage:
    kol: Kol
    segment: Segment
    plan: EngagementPlan | None
    progress: PlanProgress | None
    interactions: list[Interaction]
    followups: list[FollowUp]

    @property
    def open_followups(self) -> list[FollowUp]:
        return [f for f in self.followups if not f.done]


def load_kol_page(store: Store, kol_id: str, now: datetime, limit: int = 100) -> KolPage:
    kol = store.get_kol(kol_id)
    if kol is None:
        raise StoreError(f"no KOL with id {kol_id}")
    plan = store.current_plan(kol_id)
    interactions = store.interactions_for(kol_id, limit=limit)
    progress = plan_progress(plan, interactions, now.date()) if plan else None
    return KolPage(
        kol=kol,
        segment=segment_for(kol.influence, kol.stance, kol.stage),
        plan=plan,
        progress=progress,
        interactions=interactions,
        followups=store.followups_for(kol_id),
    )


def set_followup_done(store: Store, followup_id: str, done: bool, now: datetime) -> FollowUp:
    followup = store.get(FollowUp, followup_id)
    if followup is None:
        raise StoreError(f"no follow-up with id {followup_id}")
    return store.save(followup.evolve(done=done, done_at=now if done else None))
