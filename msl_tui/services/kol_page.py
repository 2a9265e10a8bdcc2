"""Everything about one KOL relationship, and the small edits made from the KOL page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from msl_tui.models import EngagementPlan, FollowUp, Interaction, InteractionStatus, Kol
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


def toggle_followup(store: Store, followup_id: str, now: datetime) -> FollowUp:
    """Done becomes open and open becomes done, from the stored state: a second key press
    that arrives before the screen has redrawn still toggles back, never repeats."""
    with store.transaction():
        followup = store.get(FollowUp, followup_id)
        if followup is None:
            raise StoreError(f"no follow-up with id {followup_id}")
        done = not followup.done
        return store.save(followup.evolve(done=done, done_at=now if done else None))


def kol_name(store: Store, kol_id: str) -> str:
    kol = store.get_kol(kol_id)
    return kol.name if kol else "this KOL"


def get_visit(store: Store, interaction_id: str) -> Interaction:
    visit = store.get(Interaction, interaction_id)
    if visit is None or visit.deleted:
        raise StoreError(f"no visit with id {interaction_id}")
    return visit


def amendable_visits(store: Store, kol_id: str, limit: int = 30) -> list[Interaction]:
    """Submitted visits, newest first: a draft is edited, not amended."""
    return [
        i
        for i in store.interactions_for(kol_id, limit=limit)
        if i.status is not InteractionStatus.DRAFT
    ]


def done_followups(store: Store, kol_id: str) -> list[FollowUp]:
    """Follow-ups ticked done, the most recently ticked first."""
    done = [f for f in store.followups_for(kol_id) if f.done]
    return sorted(done, key=lambda f: (f.done_at is None, f.done_at), reverse=True)
