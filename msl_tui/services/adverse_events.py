"""Adverse events: spotting a possible mention in a note, then the hand-off to pharmacovigilance.

Detection: spots possible adverse-event mentions so the MSL can confirm them in time.

Recall matters more than precision: a hit only asks the MSL to confirm. Plain negations
("no side effects reported", "no adverse events") do not trigger, nor do look-alikes such as
"side-by-side", "hospital pharmacy" or "dose-finding".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from msl_tui.models import AE_REPORT_WINDOW, AdverseEvent, AEFollowUp, Interaction
from msl_tui.models.problems import describe
from msl_tui.services.dates import DateParseError, parse_when
from msl_tui.store import Store


@dataclass(frozen=True, slots=True)
class AEMention:
    start: int
    end: int
    phrase: str
    category: str


_TERMS: tuple[tuple[str, str], ...] = (
    ("side effect", r"side[- ]effects?\b(?!-)"),
    ("side effect", r"adverse (?:event|reaction|effect|drug reaction)s?"),
    ("side effect", r"\b(?:skin )?rash(?:es)?\b"),
    ("side effect", r"\bnausea\b|\bvomiting\b|\bdiarrh(?:o)?ea\b"),
    ("side effect", r"\banaphyla(?:xis|ctic)\b|\ballergic reactions?\b"),
    ("side effect", r"\bliver (?:injury|damage|toxicity)\b|\bhepatotoxicity\b"),
    ("side effect", r"\btoxicity\b|\bintolerance\b|\breaction to\b"),
    ("hospitalisation", r"\bhospitali[sz](?:ed|ation)\b"),
    ("hospitalisation", r"\badmitted to (?:the )?(?:hospital|icu|ward|a&e|er)\b"),
    ("hospitalisation", r"\b(?:emergency|er|a&e) (?:admission|visit)\b"),
    ("pregnancy exposure", r"\bpregnan(?:t|cy)\b(?! registry)"),
    ("overdose", r"\boverdos(?:e|ed|es|ing)\b"),
    ("misuse", r"\b(?:misuse|abuse)[ds]?\b|\boff[- ]label use\b"),
    ("lack of effect", r"\b(?:did ?n[o']?t|does ?n[o']?t|didn't|doesn't) work\b"),
    ("lack of effect", r"\bstopped working\b|\black of (?:efficacy|effect)\b"),
    ("lack of effect", r"\bno (?:therapeutic )?effect\b|\bnot effective\b|\bineffective\b"),
    ("death", r"\b(?:died|death|fatal(?:ity)?|passed away)\b"),
    ("medication error", r"\bwrong dose\b|\bdosing error\b|\bmedication error\b"),
    ("harm", r"\bharm(?:ed)?\b|\binjur(?:y|ed|ies)\b"),
)
_PATTERN = re.compile(
    "|".join(f"(?P<t{n}>{regex})" for n, (_, regex) in enumerate(_TERMS)), re.IGNORECASE
)
# "no", "without", "denies" shortly before a term cancel it: "no side effects were seen".
_NEGATION = re.compile(
    r"\b(?:no|without|denie[sd]|never|nor|not any)\b[\w\s,-]{0,20}$", re.IGNORECASE
)


def detect_adverse_events(text: str) -> list[AEMention]:
    mentions = []
    for match in _PATTERN.finditer(text):
        category = next(
            _TERMS[int(name[1:])][0] for name, value in match.groupdict().items() if value
        )
        before = text[max(0, match.start() - 24) : match.start()]
        # "no effect" is itself the term; other negations cancel the mention.
        if category != "lack of effect" and _NEGATION.search(before):
            continue
        mentions.append(AEMention(match.start(), match.end(), match.group(0), category))
    return mentions


def mentions_adverse_event(text: str) -> bool:
    return bool(detect_adverse_events(text))


# -- after detection: the hand-off to pharmacovigilance ------------------------------------
#
# Day zero is when the company first learned of the event (for an MSL, the visit). The MSL
# forwards it, records when and to whom, and adds follow-up information as it arrives.


class AEReportError(ValueError):
    """A typed value the report cannot accept; ``field`` names the dialog field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class AEReportForm:
    """The report dialog, as typed."""

    reported_at: str = "now"
    reported_to: str = ""
    note: str = ""
    day_zero: str = ""


def local_stamp(value: datetime) -> str:
    """An instant as the MSL reads it: their own clock, to the minute."""
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def hours_text(hours: float) -> str:
    """31 h, 5 h, 24.5 h: whole hours unless the fraction decides late or on time."""
    rounded = round(hours, 1)
    return f"{rounded:.0f} h" if rounded == int(rounded) else f"{rounded:.1f} h"


def hours_to_report(ae: AdverseEvent) -> float | None:
    if ae.reported_at is None:
        return None
    return (ae.reported_at - ae.day_zero).total_seconds() / 3600


def is_late(ae: AdverseEvent) -> bool:
    hours = hours_to_report(ae)
    return hours is not None and hours > AE_REPORT_WINDOW.total_seconds() / 3600


def report_status(ae: AdverseEvent, now: datetime) -> str:
    """The hand-off in words: "reported 2026-11-23 14:30, 5 h after day zero (on time)"."""
    hours = hours_to_report(ae)
    if ae.reported_at is None or hours is None:
        left = ae.hours_left(now)
        if left >= 0:
            return f"not reported yet: {hours_text(left)} left of 24 h"
        return f"not reported yet: late, {hours_text(-left)} past the 24 h limit"
    when = local_stamp(ae.reported_at)
    if is_late(ae):
        text = f"reported {when}, late: {hours_text(hours)} after day zero"
    else:
        text = f"reported {when}, {hours_text(hours)} after day zero (on time)"
    if ae.reference:
        text += f" · to {ae.reference}"
    return text


def _instant(text: str, now: datetime, field: str, *, dayfirst: bool) -> datetime:
    local_now = now.astimezone()
    try:
        value = parse_when(text or "now", local_now, dayfirst=dayfirst, direction="past")
    except DateParseError as exc:
        raise AEReportError(field, str(exc)) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=local_now.tzinfo)
    if value - local_now > timedelta(minutes=5):
        raise AEReportError(field, "that is in the future")
    return value.astimezone(UTC).replace(microsecond=0)


def report_from_form(
    ae: AdverseEvent, form: AEReportForm, now: datetime, *, dayfirst: bool = True
) -> AdverseEvent:
    """The adverse event as the form would record it; raises AEReportError, writes nothing."""
    day_zero = (
        _instant(form.day_zero, now, "day zero", dayfirst=dayfirst)
        if form.day_zero.strip()
        else ae.day_zero
    )
    reported_at = _instant(form.reported_at, now, "reported", dayfirst=dayfirst)
    if reported_at < day_zero:
        raise AEReportError(
            "reported", f"that is before day zero ({local_stamp(day_zero)}); check both times"
        )
    to_whom = " ".join(form.reported_to.split())
    if not to_whom:
        raise AEReportError("to", "say to whom it went, or the safety case reference")
    if len(to_whom) > 200:
        raise AEReportError("to", "keep it under 200 characters")
    return ae.model_validate(
        {**ae.model_dump(), "day_zero": day_zero, "reported_at": reported_at, "reference": to_whom}
    )


def ae_visits(store: Store, kol_id: str) -> list[Interaction]:
    """The KOL's visits that recorded a possible adverse event, newest first."""
    return [i for i in store.interactions_for(kol_id) if i.adverse_event is not None]


def pending_ae_visits(store: Store, kol_id: str) -> list[Interaction]:
    """Visits whose adverse event is not reported yet, the oldest day zero first."""
    pending = [i for i in ae_visits(store, kol_id) if i.ae_unreported()]
    return sorted(pending, key=lambda i: i.adverse_event.day_zero)  # type: ignore[union-attr]


def _visit_with_ae(store: Store, interaction_id: str) -> Interaction:
    visit = store.get(Interaction, interaction_id)
    if visit is None or visit.deleted or visit.adverse_event is None:
        raise AEReportError("visit", "this visit has no adverse event recorded")
    return visit


def mark_reported(
    store: Store,
    interaction_id: str,
    form: AEReportForm,
    now: datetime,
    *,
    dayfirst: bool = True,
) -> Interaction:
    """Record the hand-off (or correct it); a note goes in as the first follow-up line."""
    visit = _visit_with_ae(store, interaction_id)
    assert visit.adverse_event is not None
    event = report_from_form(visit.adverse_event, form, now, dayfirst=dayfirst)
    with store.transaction():
        saved = store.save(visit.evolve(adverse_event=event.model_dump()))
        if form.note.strip():
            saved = add_followup_info(store, interaction_id, form.note, now)
    return saved


def unmark_reported(store: Store, interaction_id: str) -> Interaction:
    """Undo a report marked by mistake: the event waits again (the change log keeps both)."""
    visit = _visit_with_ae(store, interaction_id)
    assert visit.adverse_event is not None
    event = {**visit.adverse_event.model_dump(), "reported_at": None, "reference": ""}
    return store.save(visit.evolve(adverse_event=event))


def add_followup_info(store: Store, interaction_id: str, text: str, now: datetime) -> Interaction:
    """Information that arrived later, added to the adverse event's own follow-up list,
    dated and signed (the change log keeps the event as it was before)."""
    visit = _visit_with_ae(store, interaction_id)
    assert visit.adverse_event is not None
    clean = "\n".join(line.rstrip() for line in text.strip().splitlines())
    if not clean:
        raise AEReportError("follow-up", "the follow-up information is empty")
    event = visit.adverse_event
    if len(event.followups) >= 200:
        raise AEReportError("follow-up", "this adverse event holds 200 follow-ups already")
    try:
        entry = AEFollowUp(at=now, by=store.author, text=clean)
    except ValidationError as exc:
        raise AEReportError("follow-up", describe(exc).split(": ", 1)[-1]) from exc
    updated = event.model_copy(update={"followups": [*event.followups, entry]})
    return store.save(visit.evolve(adverse_event=updated.model_dump()))
