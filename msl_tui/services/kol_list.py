"""The ranked KOL list: store aggregates in, ranked and filtered rows out. No Textual.

Screens ask ``KolListService.load`` (in a worker) for rows; filtering, sorting and the
search box all go through ``ListQuery`` so the same rules serve every view and test.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from msl_tui.models import (
    AE_REPORT_WINDOW,
    EngagementStage,
    Influence,
    LifecyclePhase,
    Segment,
    Stance,
)
from msl_tui.services.kols import family_name_key
from msl_tui.services.priority import KolSituation, Priority, PriorityWeights, rank
from msl_tui.store import Store

SORT_KEYS = (
    "rank",
    "name",
    "institution",
    "influence",
    "stance",
    "segment",
    "last",
    "due",
    "followups",
)


@dataclass(frozen=True, slots=True)
class KolRow:
    """One line of the KOL list, ready to render."""

    rank: int
    kol_id: str
    name: str
    institution: str
    specialty: str
    influence: Influence
    stance: Stance
    segment: Segment
    stage: EngagementStage | None
    territory: str
    therapeutic_areas: tuple[str, ...]
    last_contact: date | None
    next_due: date | None
    open_followups: int
    overdue_followups: int
    ae_hours_left: float | None
    score: float
    reasons: tuple[str, ...]

    @property
    def due_label(self) -> str:
        """Due date with an overdue mark that does not rely on colour."""
        if self.next_due is None:
            return "-" if self.last_contact else "now"
        return self.next_due.isoformat()

    def due_flag(self, today: date) -> str:
        if self.next_due is None:
            return ""
        days = (self.next_due - today).days
        if days < 0:
            return f"! {-days}d over"
        if days <= 7:
            return f"in {days}d"
        return ""


@dataclass(frozen=True)
class ListQuery:
    text: str = ""
    segment: Segment | None = None
    influence: Influence | None = None
    territory: str | None = None
    therapeutic_area: str | None = None
    due_this_week: bool = False
    sort: str = "rank"
    descending: bool = False

    def with_(self, **changes: Any) -> ListQuery:
        return replace(self, **changes)


@dataclass
class ListResult:
    rows: list[KolRow]
    total: int
    territories: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)


def _parse_day(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def _parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class KolListService:
    """Ranks every KOL once per data change; filters and sorts reuse the ranking."""

    def __init__(self, store: Store, weights: PriorityWeights | None = None) -> None:
        self.store = store
        self.weights = weights or PriorityWeights()
        self._ranked: list[KolRow] | None = None

    def invalidate(self) -> None:
        self._ranked = None

    def situations(self, now: datetime) -> tuple[list[KolSituation], dict[str, dict[str, Any]]]:
        today = now.date()
        overview = self.store.kol_overview(today)
        objective_ids: list[str] = []
        plans: dict[str, list[dict[str, Any]]] = {}
        for row in overview:
            if row["objectives"]:
                objectives = json.loads(row["objectives"])
                plans[row["id"]] = objectives
                objective_ids.extend(
                    o["id"] for o in objectives if o.get("measure") == "interactions"
                )
        contacts = self.store.objective_contacts(objective_ids)
        situations = []
        by_id = {}
        for row in overview:
            last = _parse_instant(row["last_contact"]) if row["last_contact"] else None
            ae_hours = None
            if row["ae_pending_since"]:
                due = _parse_instant(row["ae_pending_since"]) + AE_REPORT_WINDOW
                ae_hours = (due - now).total_seconds() / 3600
            open_objectives = sum(
                1
                for o in plans.get(row["id"], [])
                if not o.get("met_on")
                and not (
                    o.get("measure") == "interactions"
                    and contacts.get(o["id"], 0) >= int(o.get("target", 1))
                )
            )
            oldest_due = _parse_day(row["oldest_due"])
            situations.append(
                KolSituation(
                    kol_id=row["id"],
                    name=row["name"],
                    influence=Influence(row["influence"]),
                    stance=Stance(row["stance"]),
                    stage=EngagementStage(row["stage"]) if row["stage"] else None,
                    lifecycle_phase=LifecyclePhase(row["lifecycle_phase"])
                    if row["lifecycle_phase"]
                    else None,
                    cadence_days=row["cadence_days"],
                    days_since_contact=(today - last.date()).days if last else None,
                    open_followups=row["open_followups"],
                    overdue_followups=row["overdue_followups"],
                    max_followup_overdue_days=max(0, (today - oldest_due).days)
                    if oldest_due and row["overdue_followups"]
                    else 0,
                    unreported_ae_hours_left=ae_hours,
                    open_objectives=open_objectives,
                    has_plan=row["plan_id"] is not None,
                )
            )
            by_id[row["id"]] = {**row, "last": last}
        return situations, by_id

    def ranked(self, now: datetime) -> list[KolRow]:
        if self._ranked is None:
            situations, extra = self.situations(now)
            priorities = rank(situations, self.weights)
            self._ranked = [
                self._row(position, p, extra[p.kol_id], now)
                for position, p in enumerate(priorities, start=1)
            ]
        return self._ranked

    @staticmethod
    def _row(position: int, p: Priority, row: dict[str, Any], now: datetime) -> KolRow:
        last: datetime | None = row["last"]
        next_due = None
        if row["cadence_days"] and last is not None:
            next_due = last.date() + timedelta(days=row["cadence_days"])
        ae_hours = None
        if row["ae_pending_since"]:
            due = _parse_instant(row["ae_pending_since"]) + AE_REPORT_WINDOW
            ae_hours = (due - now).total_seconds() / 3600
        return KolRow(
            rank=position,
            kol_id=p.kol_id,
            name=row["name"],
            institution=row["institution"] or "",
            specialty=row["specialty"] or "",
            influence=Influence(row["influence"]),
            stance=Stance(row["stance"]),
            segment=p.segment,
            stage=EngagementStage(row["stage"]) if row["stage"] else None,
            territory=row["territory"] or "",
            therapeutic_areas=tuple(json.loads(row["therapeutic_areas"] or "[]")),
            last_contact=last.date() if last else None,
            next_due=next_due,
            open_followups=row["open_followups"],
            overdue_followups=row["overdue_followups"],
            ae_hours_left=ae_hours,
            score=p.score,
            reasons=p.reasons,
        )

    def load(self, query: ListQuery, now: datetime | None = None) -> ListResult:
        now = now or datetime.now(UTC)
        rows = self.ranked(now)
        territories = sorted({r.territory for r in rows if r.territory})
        areas = sorted({a for r in rows for a in r.therapeutic_areas})
        total = len(rows)
        if query.text.strip():
            matched = set(self.store.search_kol_ids(query.text))
            rows = [r for r in rows if r.kol_id in matched]
        rows = [r for r in rows if _passes(r, query, now.date())]
        rows = _sorted(rows, query)
        return ListResult(rows=rows, total=total, territories=territories, areas=areas)


def _passes(row: KolRow, q: ListQuery, today: date) -> bool:
    if q.segment is not None and row.segment is not q.segment:
        return False
    if q.influence is not None and row.influence is not q.influence:
        return False
    if q.territory and row.territory != q.territory:
        return False
    if q.therapeutic_area and q.therapeutic_area not in row.therapeutic_areas:
        return False
    if q.due_this_week:
        never_met = row.next_due is None and row.last_contact is None
        due_soon = never_met or (
            row.next_due is not None and row.next_due <= today + timedelta(days=7)
        )
        if not (due_soon or row.ae_hours_left is not None):
            return False
    return True


_INFLUENCE_ORDER = {i: n for n, i in enumerate(Influence)}
_STANCE_ORDER = {s: n for n, s in enumerate(Stance)}
_SEGMENT_ORDER = {s: n for n, s in enumerate(Segment)}


def _sorted(rows: Sequence[KolRow], q: ListQuery) -> list[KolRow]:
    key = q.sort if q.sort in SORT_KEYS else "rank"
    funcs: dict[str, Any] = {
        "rank": lambda r: r.rank,
        "name": lambda r: family_name_key(r.name),
        "institution": lambda r: r.institution.lower(),
        "influence": lambda r: (_INFLUENCE_ORDER[r.influence], r.rank),
        "stance": lambda r: (_STANCE_ORDER[r.stance], r.rank),
        "segment": lambda r: (_SEGMENT_ORDER[r.segment], r.rank),
        "last": lambda r: r.last_contact or date.min,
        "due": lambda r: r.next_due or date.min,
        "followups": lambda r: (-r.open_followups, r.rank),
    }
    return sorted(rows, key=funcs[key], reverse=q.descending)
