"""Editing an engagement plan. Every save lands in the change log (who, when, what).

Forms hand over what the MSL typed, as text. Each value is read here and a value that cannot
be used is refused in plain words naming the field on screen (``PlanEditError.field`` is the
form's field key), so the screen can say it beside the field and keep what was typed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from pydantic import ValidationError

from msl_tui.models import (
    Activity,
    ActivityKind,
    EngagementPlan,
    LifecyclePhase,
    Objective,
    ObjectiveKind,
    OwnerRole,
)
from msl_tui.models.base import FUTURE_LIMIT_DAYS, typed_text
from msl_tui.services.dates import DateParseError, parse_due
from msl_tui.store import Store
from msl_tui.store.history import record_history

TARGET_MAX = 10_000
CADENCE_MAX = 730
DESCRIPTION_MAX = 200


class PlanEditError(ValueError):
    """A typed value that cannot be used; ``field`` is the form field it belongs beside."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# -- reading typed values -------------------------------------------------------------------


def read_whole_number(
    text: str, field: str, label: str, low: int, high: int, *, unit: str = "", example: int = 6
) -> int:
    cleaned = typed_text(text).strip().replace(",", "")
    if not cleaned.isdigit():
        raise PlanEditError(field, f"{label} must be a whole number, e.g. {example}")
    value = int(cleaned)
    if not low <= value <= high:
        suffix = f" {unit}" if unit else ""
        raise PlanEditError(field, f"{label} must be between {low} and {high:,}{suffix}")
    return value


def read_due(text: str, now: datetime, *, dayfirst: bool = True, field: str = "due") -> date | None:
    """A due date as typed (``next fri``, ``by fri``, ``31/12``); empty means none."""
    text = typed_text(text)
    if not text.strip():
        return None
    try:
        due = parse_due(text, now, dayfirst=dayfirst)
    except DateParseError as exc:
        raise PlanEditError(field, f"Due date: {exc}") from exc
    if due - now.date() > timedelta(days=FUTURE_LIMIT_DAYS):
        raise PlanEditError(field, "Due date is more than three years ahead: check the year")
    return due


def _read_text(text: str, field: str, what: str, *, required: bool) -> str:
    clean = " ".join(typed_text(text).split())
    if required and not clean:
        raise PlanEditError(field, f"Describe the {what} in a few words")
    if len(clean) > DESCRIPTION_MAX:
        raise PlanEditError(field, f"Keep the {what} under {DESCRIPTION_MAX} characters")
    return clean


def _enum(kind: Any, value: Any, field: str, what: str) -> Any:
    try:
        return kind(value)
    except ValueError as exc:
        raise PlanEditError(field, f"Choose a {what} from the list") from exc


_FIELD_LABELS = {
    "description": "The description",
    "measure": "The measure",
    "target": "The target",
    "due": "The due date",
    "cadence_days": "The cadence",
}


def _checked(build: Any, field: str) -> Any:
    """A last guard: the model's own rules, reported without library wording."""
    try:
        return build()
    except ValidationError as exc:
        err = exc.errors()[0]
        where = next((str(p) for p in reversed(err["loc"]) if str(p) in _FIELD_LABELS), field)
        label = _FIELD_LABELS.get(where, "This value")
        reason = str((err.get("ctx") or {}).get("error", ""))
        if reason.startswith("text "):
            raise PlanEditError(field, f"{label} {reason.removeprefix('text ')}") from exc
        raise PlanEditError(field, f"{label} cannot be saved as typed") from exc


def read_objective(
    values: Mapping[str, Any], now: datetime, *, dayfirst: bool = True
) -> dict[str, Any]:
    """The objective fields from form text; raises PlanEditError in plain words."""
    return {
        "kind": _enum(ObjectiveKind, values.get("kind", "scientific"), "kind", "kind"),
        "description": _read_text(
            str(values.get("description", "")), "description", "objective", required=True
        ),
        "measure": _read_text(str(values.get("measure", "")), "measure", "measure", required=False)
        or "interactions",
        "target": read_whole_number(
            str(values.get("target", "") or "1"), "target", "Target", 1, TARGET_MAX
        ),
        "due": read_due(str(values.get("due", "")), now, dayfirst=dayfirst),
        "owner": _enum(OwnerRole, values.get("owner", "MSL"), "owner", "owner"),
    }


def read_activity(
    values: Mapping[str, Any], now: datetime, *, dayfirst: bool = True
) -> dict[str, Any]:
    return {
        "kind": _enum(ActivityKind, values.get("kind", "visit"), "kind", "kind of activity"),
        "description": _read_text(
            str(values.get("description", "")), "description", "activity", required=False
        ),
        "owner": _enum(OwnerRole, values.get("owner", "MSL"), "owner", "owner"),
        "due": read_due(str(values.get("due", "")), now, dayfirst=dayfirst),
    }


# -- writing ---------------------------------------------------------------------------------


def new_plan(store: Store, kol_id: str, today: date) -> EngagementPlan:
    plan = EngagementPlan(
        kol_id=kol_id,
        period_start=today,
        period_end=date(today.year, 12, 31) if today.month < 10 else date(today.year + 1, 12, 31),
        owner_msl=store.author,
    )
    return store.save(plan)


def _save(store: Store, plan: EngagementPlan, field: str, **changes: Any) -> EngagementPlan:
    return store.save(_checked(lambda: plan.evolve(**changes), field))


def set_cadence(store: Store, plan: EngagementPlan, text: str) -> EngagementPlan:
    days = read_whole_number(text, "cadence", "Cadence", 1, CADENCE_MAX, unit="days", example=30)
    return _save(store, plan, "cadence", cadence_days=days)


def set_lifecycle_phase(store: Store, plan: EngagementPlan, phase: Any) -> EngagementPlan:
    value = _enum(LifecyclePhase, phase, "phase", "product lifecycle phase")
    return _save(store, plan, "phase", lifecycle_phase=value)


def _check_due(plan: EngagementPlan, due: date | None, kept: date | None, today: date) -> None:
    """A new due date must lie ahead and within the plan; one already saved may stand (an
    overdue activity is edited without being moved)."""
    if due is None or due == kept:
        return
    shown = f"{due:%d %b %Y}".lstrip("0")
    if due < today:
        raise PlanEditError("due", f"Due date {shown} is in the past: type a later date")
    if due < plan.period_start:
        start = f"{plan.period_start:%d %b %Y}".lstrip("0")
        raise PlanEditError("due", f"Due date {shown} is before the plan starts ({start})")


def _dumped(items: Iterable[Objective | Activity]) -> list[dict[str, Any]]:
    return [i.model_dump() for i in items]


Item = TypeVar("Item", Objective, Activity)


def _put(
    items: Sequence[Item], item_id: str | None, fields: dict[str, Any], model: type[Item]
) -> tuple[list[Item], Item]:
    """The list with the item ``item_id`` replaced by ``fields`` (validated), or a new item
    added when there is no such id: a second save of one form edits, never duplicates."""
    out: list[Item] = list(items)
    for n, item in enumerate(out):
        if item.id == item_id:
            merged = {**item.model_dump(), **fields}
            out[n] = _checked(lambda: model(**merged), "description")  # noqa: B023 (called now)
            return out, out[n]
    added: Item = _checked(lambda: model(**fields), "description")
    out.append(added)
    return out, added


def save_objective(
    store: Store,
    plan: EngagementPlan,
    values: Mapping[str, Any],
    objective_id: str | None,
    now: datetime,
    *,
    dayfirst: bool = True,
) -> tuple[EngagementPlan, str]:
    """Add (no id) or replace one objective. Returns the plan and the objective's id, so a
    second save of the same form edits that objective instead of adding it again."""
    fields = read_objective(values, now, dayfirst=dayfirst)
    kept = next((o.due for o in plan.objectives if o.id == objective_id), None)
    _check_due(plan, fields["due"], kept, now.date())
    objectives, objective = _put(plan.objectives, objective_id, fields, Objective)
    return _save(store, plan, "description", objectives=_dumped(objectives)), objective.id


def delete_objective(store: Store, plan: EngagementPlan, objective_id: str) -> EngagementPlan:
    """Remove an objective from the plan; the change log keeps what it was."""
    kept = [o for o in plan.objectives if o.id != objective_id]
    return _save(store, plan, "objectives", objectives=_dumped(kept))


def toggle_objective_met(
    store: Store, plan: EngagementPlan, objective_id: str, today: date
) -> EngagementPlan:
    """Mark an objective met today, or open it again."""
    objectives = [
        o.model_copy(update={"met_on": None if o.met_on else today}) if o.id == objective_id else o
        for o in plan.objectives
    ]
    return _save(store, plan, "objectives", objectives=_dumped(objectives))


def save_activity(
    store: Store,
    plan: EngagementPlan,
    values: Mapping[str, Any],
    activity_id: str | None,
    now: datetime,
    *,
    dayfirst: bool = True,
) -> tuple[EngagementPlan, str]:
    """Add (no id) or replace one activity; returns the plan and the activity's id."""
    fields = read_activity(values, now, dayfirst=dayfirst)
    kept = next((a.due for a in plan.activities if a.id == activity_id), None)
    _check_due(plan, fields["due"], kept, now.date())
    activities, activity = _put(plan.activities, activity_id, fields, Activity)
    return _save(store, plan, "description", activities=_dumped(activities)), activity.id


def delete_activity(store: Store, plan: EngagementPlan, activity_id: str) -> EngagementPlan:
    kept = [a for a in plan.activities if a.id != activity_id]
    return _save(store, plan, "activities", activities=_dumped(kept))


def toggle_activity(
    store: Store, plan: EngagementPlan, activity_id: str, today: date
) -> EngagementPlan:
    """Mark an activity done today, or undo that."""
    activities = [
        a.model_copy(update={"done_on": None if a.done_on else today}) if a.id == activity_id else a
        for a in plan.activities
    ]
    return _save(store, plan, "activities", activities=_dumped(activities))


# -- history, in sentences ---------------------------------------------------------------------


@dataclass(frozen=True)
class PlanEdit:
    when: datetime
    author: str
    changes: tuple[str, ...]

    @property
    def sentence(self) -> str:
        return "; ".join(self.changes)


def _label(item: Mapping[str, Any]) -> str:
    text = str(item.get("description") or item.get("kind") or "untitled")
    return f"'{text if len(text) <= 40 else text[:39] + '…'}'"


_ITEM_FIELDS = {
    "kind": "kind",
    "measure": "measure",
    "target": "target",
    "due": "due",
    "owner": "owner",
}


def _item_changes(noun: str, before: list[Any], after: list[Any]) -> list[str]:
    old = {i["id"]: i for i in before if isinstance(i, dict) and "id" in i}
    new = {i["id"]: i for i in after if isinstance(i, dict) and "id" in i}
    out: list[str] = []
    for item_id, item in new.items():
        if item_id not in old:
            out.append(f"{noun} {_label(item)} added")
            continue
        was = old[item_id]
        if was.get("description") != item.get("description"):
            out.append(f"{noun} {_label(was)} renamed {_label(item)}")
        details = [
            f"{word} {was.get(key) or 'none'} → {item.get(key) or 'none'}"
            for key, word in _ITEM_FIELDS.items()
            if was.get(key) != item.get(key)
        ]
        if details:
            out.append(f"{noun} {_label(item)}: {', '.join(details)}")
        for key, done_word in (("met_on", "met"), ("done_on", "done")):
            if was.get(key) != item.get(key):
                state = done_word if item.get(key) else "reopened"
                out.append(f"{noun} {_label(item)} {state}")
    out.extend(f"{noun} {_label(item)} deleted" for i, item in old.items() if i not in new)
    return out


def _field_changes(before: Mapping[str, Any], patch: Mapping[str, Any]) -> list[str]:
    if not before:
        start, end = patch.get("period_start"), patch.get("period_end")
        return [f"plan created for {start} to {end}" if start and end else "plan created"]
    out: list[str] = []
    simple = {
        "cadence_days": ("cadence", " days"),
        "lifecycle_phase": ("product lifecycle", ""),
        "status": ("status", ""),
        "owner_msl": ("owner", ""),
        "period_start": ("period starts", ""),
        "period_end": ("period ends", ""),
    }
    for key, (word, unit) in simple.items():
        if key in patch and before.get(key) != patch[key]:
            out.append(f"{word} {before.get(key) or 'none'} → {patch[key] or 'none'}{unit}")
    for key, noun in (("objectives", "objective"), ("activities", "activity")):
        if key in patch:
            out.extend(_item_changes(noun, before.get(key) or [], patch[key] or []))
    if patch.get("deleted"):
        out.append("plan deleted")
    return out


def plan_history(store: Store, plan_id: str) -> list[PlanEdit]:
    """Every edit of the plan, newest first, each told as a sentence."""
    state: dict[str, Any] = {}
    edits: list[PlanEdit] = []
    for entry in reversed(record_history(store, "plan", plan_id)):
        changes = _field_changes(state, entry.fields)
        state.update(entry.fields)
        edits.append(
            PlanEdit(
                when=datetime.fromtimestamp(entry.wall_ms / 1000).astimezone(),
                author=entry.author or entry.device_id,
                changes=tuple(changes) or ("details updated",),
            )
        )
    return edits[::-1]
