"""Who needs attention now, and why: a score per KOL with its reasons in plain words.

Pure: the caller gathers each KOL's situation (from the store) and passes it in. Every weight
lives in ``PriorityWeights``; a settings file can change any of them without code:

    [priority]
    checkin_overdue_per_cadence = 40
    overdue_followup = 10
    [priority.segment.launch]
    "manage closely" = 50

An unreported adverse-event mention outranks everything else until it is marked reported: the
company must learn of it within 24 hours, so the least time left comes first.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from msl_tui.models.enums import EngagementStage, Influence, LifecyclePhase, Segment, Stance
from msl_tui.services.segments import segment_for, segment_summary


def _segment_weights(mc: float, ks: float, ki: float, mon: float) -> dict[Segment, float]:
    return {
        Segment.MANAGE_CLOSELY: mc,
        Segment.KEEP_SATISFIED: ks,
        Segment.KEEP_INFORMED: ki,
        Segment.MONITOR: mon,
    }


def _default_segment_weights() -> dict[LifecyclePhase, dict[Segment, float]]:
    return {
        LifecyclePhase.PRE_LAUNCH: _segment_weights(36, 22, 14, 5),
        LifecyclePhase.LAUNCH: _segment_weights(42, 20, 12, 4),
        LifecyclePhase.GROWTH: _segment_weights(34, 22, 15, 5),
        LifecyclePhase.PLATEAU: _segment_weights(26, 25, 21, 6),
        LifecyclePhase.DECLINE: _segment_weights(24, 24, 20, 6),
    }


@dataclass(frozen=True)
class PriorityWeights:
    """Every number the ranking uses. Points add up; the highest total ranks first.

    A plain dataclass, so ranking (and the list's first page at launch) needs no pydantic;
    a settings file's ``[priority]`` is checked by ``_file_schema()``, whose fields carry
    the bounds and what each number means."""

    adverse_event: float = 10_000
    segment: dict[LifecyclePhase, dict[Segment, float]] = field(
        default_factory=_default_segment_weights
    )
    checkin_overdue_per_cadence: float = 30
    checkin_overdue_cap: float = 60
    checkin_due_soon: float = 6
    never_contacted: float = 25
    overdue_followup: float = 8
    overdue_followup_per_day: float = 0.3
    overdue_followup_cap: float = 40
    open_followup: float = 1
    open_objective: float = 2
    no_plan: float = 3

    def segment_points(self, phase: LifecyclePhase | None, segment: Segment) -> float:
        table = (
            self.segment.get(phase or LifecyclePhase.GROWTH)
            or _default_segment_weights()[LifecyclePhase.GROWTH]
        )
        return table.get(segment, 0.0)

    def key(self) -> str:
        """A short digest naming these weights (the kept ranking's scores are theirs)."""
        return hashlib.sha256(self.as_json().encode()).hexdigest()[:16]

    def as_json(self) -> str:
        """Every weight as compact JSON (numbers as floats): the kept ranking's scores are
        kept under a digest of it, so it must not change for the same weights."""
        values: dict[str, Any] = {}
        for name in (f.name for f in fields(self)):
            value = getattr(self, name)
            if name == "segment":
                value = {
                    phase.value: {seg.value: float(points) for seg, points in table.items()}
                    for phase, table in value.items()
                }
            else:
                value = float(value)
            values[name] = value
        return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


@functools.cache
def _file_schema() -> Any:
    """The pydantic model a settings file's ``[priority]`` must fit (built when a file has
    one): the same fields as ``PriorityWeights``, with their bounds and meaning."""
    from pydantic import BaseModel, ConfigDict, Field

    d = PriorityWeights()

    class WeightsFile(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

        adverse_event: float = Field(
            d.adverse_event, description="An unreported AE mention: above any other total.", gt=0
        )
        segment: dict[LifecyclePhase, dict[Segment, float]] = Field(
            default_factory=_default_segment_weights,
            description="Base points by segment, per product lifecycle phase of the KOL's plan.",
        )
        checkin_overdue_per_cadence: float = Field(
            d.checkin_overdue_per_cadence,
            description="Points per whole cadence period a check-in is overdue.",
            ge=0,
        )
        checkin_overdue_cap: float = Field(
            d.checkin_overdue_cap, description="Most points overdue check-ins add.", ge=0
        )
        checkin_due_soon: float = Field(
            d.checkin_due_soon,
            description="Points when the next check-in falls within a week.",
            ge=0,
        )
        never_contacted: float = Field(
            d.never_contacted, description="Points for a KOL never met yet.", ge=0
        )
        overdue_followup: float = Field(
            d.overdue_followup, description="Points per overdue follow-up.", ge=0
        )
        overdue_followup_per_day: float = Field(
            d.overdue_followup_per_day,
            description="Points per day the oldest overdue follow-up is late.",
            ge=0,
        )
        overdue_followup_cap: float = Field(
            d.overdue_followup_cap, description="Most points follow-ups add.", ge=0
        )
        open_followup: float = Field(
            d.open_followup, description="Points per open follow-up not yet due.", ge=0
        )
        open_objective: float = Field(
            d.open_objective, description="Points per plan objective still open.", ge=0
        )
        no_plan: float = Field(
            d.no_plan, description="Points for a KOL with no engagement plan.", ge=0
        )

    return WeightsFile


WEIGHTS_TOML_EXAMPLE = """\
# settings.toml: any subset of the priority weights (see msl_tui/services/priority.py)
[priority]
checkin_overdue_per_cadence = 30   # points per whole cadence period overdue
overdue_followup = 8               # points per overdue follow-up
never_contacted = 25

[priority.segment.launch]          # base points by segment in the launch phase
"manage closely" = 42
"keep satisfied" = 20
"keep informed" = 12
"monitor" = 4
"""


def load_weights(path: Path | None) -> PriorityWeights:
    """Defaults, overridden by the ``[priority]`` table of a TOML settings file if present."""
    if path is None or not path.exists():
        return PriorityWeights()
    import tomllib  # only when there is a file (launch without one does not load it)

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from exc
    section: dict[str, Any] = data.get("priority", {})
    if not isinstance(section, dict):
        raise ValueError(f"{path}: [priority] must be a table")
    merged: dict[str, Any] = dict(section)
    if "segment" in section:
        defaults = {
            p.value: {s.value: v for s, v in t.items()}
            for p, t in _default_segment_weights().items()
        }
        overrides = section["segment"]
        if not isinstance(overrides, dict):
            raise ValueError(f"{path}: priority.segment must be a table")
        for phase, table in overrides.items():
            if phase not in defaults:
                raise ValueError(f"{path}: priority.segment.{phase}: unknown lifecycle phase")
            if not isinstance(table, dict):
                raise ValueError(f"{path}: priority.segment.{phase} must be a table")
            defaults[phase].update(table)
        merged["segment"] = defaults
    from pydantic import ValidationError

    try:
        checked = _file_schema().model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in ("priority", *first["loc"]))
        raise ValueError(f"{path}: {key}: {first['msg']}") from exc
    return PriorityWeights(**{f.name: getattr(checked, f.name) for f in fields(PriorityWeights)})


@dataclass(frozen=True, slots=True)
class KolSituation:
    """What ranking needs to know about one KOL today."""

    kol_id: str
    name: str
    influence: Influence
    stance: Stance
    stage: EngagementStage | None = None
    lifecycle_phase: LifecyclePhase | None = None
    cadence_days: int | None = None
    days_since_contact: int | None = None
    open_followups: int = 0
    overdue_followups: int = 0
    max_followup_overdue_days: int = 0
    unreported_ae_hours_left: float | None = None
    open_objectives: int = 0
    has_plan: bool = False


@dataclass(frozen=True, slots=True)
class Priority:
    kol_id: str
    name: str
    score: float
    segment: Segment
    reasons: tuple[str, ...]
    next_checkin_due_in_days: int | None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def score(s: KolSituation, weights: PriorityWeights) -> Priority:
    segment = segment_for(s.influence, s.stance, s.stage)
    parts: list[tuple[float, str]] = []
    urgent: list[str] = []
    total = 0.0

    if s.unreported_ae_hours_left is not None:
        hours = s.unreported_ae_hours_left
        # Less time left ranks higher; past the deadline it keeps climbing.
        total += weights.adverse_event + max(0.0, 48.0 - hours)
        if hours >= 0:
            urgent.append(f"adverse event mention not yet reported: {hours:.0f} h left of 24 h")
        else:
            urgent.append(f"adverse event report overdue by {-hours:.0f} h")

    base = weights.segment_points(s.lifecycle_phase, segment)
    total += base
    parts.append((base, segment_summary(s.influence, s.stance, s.stage)))

    due_in: int | None = None
    if s.days_since_contact is None:
        total += weights.never_contacted
        parts.append((weights.never_contacted, "never contacted"))
    elif s.cadence_days:
        due_in = s.cadence_days - s.days_since_contact
        if due_in < 0:
            over = -due_in
            points = min(
                weights.checkin_overdue_cap,
                weights.checkin_overdue_per_cadence * over / s.cadence_days,
            )
            total += points
            parts.append((points, f"check-in overdue by {_plural(over, 'day')}"))
        elif due_in <= 7:
            total += weights.checkin_due_soon
            when = "today" if due_in == 0 else f"in {_plural(due_in, 'day')}"
            parts.append((weights.checkin_due_soon, f"check-in due {when}"))

    if s.overdue_followups:
        points = min(
            weights.overdue_followup_cap,
            weights.overdue_followup * s.overdue_followups
            + weights.overdue_followup_per_day * s.max_followup_overdue_days,
        )
        total += points
        text = f"{_plural(s.overdue_followups, 'follow-up')} overdue"
        if s.max_followup_overdue_days:
            text += f" (oldest by {_plural(s.max_followup_overdue_days, 'day')})"
        parts.append((points, text))
    not_due = s.open_followups - s.overdue_followups
    if not_due > 0:
        points = weights.open_followup * not_due
        total += points
        parts.append((points, f"{_plural(not_due, 'open follow-up')}"))

    if s.open_objectives:
        points = weights.open_objective * s.open_objectives
        total += points
        parts.append((points, f"{_plural(s.open_objectives, 'plan objective')} open"))
    if not s.has_plan:
        total += weights.no_plan
        parts.append((weights.no_plan, "no engagement plan"))

    # Biggest contribution first; the sort is stable so equal points keep the order above.
    parts.sort(key=lambda part: -part[0])
    return Priority(
        kol_id=s.kol_id,
        name=s.name,
        score=round(total, 3),
        segment=segment,
        reasons=(*urgent, *(text for _, text in parts)),
        next_checkin_due_in_days=due_in,
    )


def rank(situations: Iterable[KolSituation], weights: PriorityWeights) -> list[Priority]:
    """Highest score first; ties by name then id, so the order never flickers."""
    scored = [score(s, weights) for s in situations]
    scored.sort(key=lambda p: (-p.score, p.name, p.kol_id))
    return scored
