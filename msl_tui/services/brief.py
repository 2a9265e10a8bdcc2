"""The pre-call brief: what an MSL rereads in the car park before a visit, in one object.

Plain data for the brief screen and for `msl brief`; nothing here knows how it is drawn.
Values are the store's own text: whoever prints them escapes them for their medium.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from msl_tui.models import FollowUp, Interaction
from msl_tui.services.adverse_events import local_stamp, report_status
from msl_tui.services.kol_page import load_kol_page
from msl_tui.services.language import check_text
from msl_tui.store import Store

LAST_VISITS = 3
HEARD_LIMIT = 6
QUESTION_LIMIT = 5
SUMMARY_CHARS = 100

# Capture inserts a prompt as "Q: question" then "A: "; whatever follows until the next
# question is the answer.
_QUESTION = re.compile(r"^\s*Q:\s*(?P<text>.+?)\s*$")
_ANSWER_PREFIX = re.compile(r"^\s*A:\s*")
# Lines that are not what was discussed: prompts, follow-up checkboxes, AE follow-up lines.
_NOT_SUMMARY = re.compile(
    r"^\s*(?:Q:|A:|[-*]\s*\[[ xX]\]|todo:|follow[- ]up:|Adverse event follow-up \()",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class VisitLine:
    occurred_at: datetime
    channel: str
    duration_min: int
    summary: str
    amended: bool
    adverse_event: str  # the hand-off in words, or "" when none was recorded


@dataclass(frozen=True, slots=True)
class FollowUpLine:
    action: str
    due: date | None
    owner: str
    overdue_days: int


@dataclass(frozen=True, slots=True)
class ObjectiveLine:
    kind: str
    description: str
    progress: str
    met: bool


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    text: str
    last_asked: date
    times_asked: int


@dataclass(frozen=True, slots=True)
class Heard:
    on: date
    kind: str  # "unmet need", "feedback (negative)", ...
    text: str


@dataclass(frozen=True)
class Brief:
    kol_id: str
    name: str
    credentials: str
    specialty: str
    institution: str
    city: str
    segment: str
    preferred_channels: tuple[str, ...]
    today: date
    last_contact: date | None
    next_due: date | None
    cadence_days: int | None
    plan_summary: str
    objectives: tuple[ObjectiveLine, ...]
    visits: tuple[VisitLine, ...]
    open_followups: tuple[FollowUpLine, ...]
    open_questions: tuple[OpenQuestion, ...]
    heard: tuple[Heard, ...]
    unreported_adverse_events: tuple[str, ...]

    @property
    def days_since_contact(self) -> int | None:
        return None if self.last_contact is None else (self.today - self.last_contact).days

    @property
    def contact_text(self) -> str:
        days = self.days_since_contact
        if days is None:
            return "never contacted"
        when = "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"
        return f"last contact {when} ({self.last_contact})"

    @property
    def due_text(self) -> str:
        if self.last_contact is None:
            return "check-in due now (never met)"
        if self.next_due is None:
            return "no check-in cadence (no engagement plan)"
        days = (self.next_due - self.today).days
        if days < 0:
            return f"check-in overdue by {_days(-days)} (was due {self.next_due})"
        if days == 0:
            return f"check-in due today ({self.next_due})"
        return f"next check-in due {self.next_due} (in {_days(days)})"

    @property
    def channel_text(self) -> str:
        return ", ".join(self.preferred_channels) or "no preference recorded"


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def summarise(notes: str, limit: int = SUMMARY_CHARS) -> str:
    """What was discussed, on one line: prompts, checkboxes and AE follow-ups left out."""
    kept = [line.strip() for line in notes.splitlines() if not _NOT_SUMMARY.match(line)]
    text = " ".join(" ".join(kept).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _key(question: str) -> str:
    return " ".join(question.lower().split())


def answered_questions(notes: str) -> set[str]:
    """Questions written as "Q: ..." in a note with something after them before the next."""
    answered: set[str] = set()
    current: str | None = None
    for line in notes.splitlines():
        match = _QUESTION.match(line)
        if match:
            current = _key(match["text"])
            continue
        if current is not None and _ANSWER_PREFIX.sub("", line).strip():
            answered.add(current)
    return answered


def open_questions(interactions: list[Interaction]) -> list[OpenQuestion]:
    """Neutral questions asked in any visit and answered in none, most recently asked first.

    A question counts as asked when the visit lists it or its note has a "Q:" line for it.
    Leading ones are left out: they are not worth asking again as they stand.
    """
    asked: dict[str, tuple[str, date, int]] = {}
    answered: set[str] = set()
    for visit in sorted(interactions, key=lambda i: i.occurred_at):
        if visit.deleted:
            continue
        in_note = [m["text"] for line in visit.notes.splitlines() if (m := _QUESTION.match(line))]
        for text in dict.fromkeys([*visit.questions_asked, *in_note]):
            key = _key(text)
            times = asked[key][2] + 1 if key in asked else 1
            asked[key] = (text.strip(), visit.occurred_at.date(), times)
        answered |= answered_questions(visit.notes)
    still_open = [
        OpenQuestion(text, last, times)
        for key, (text, last, times) in asked.items()
        if key not in answered and not check_text(text)
    ]
    still_open.sort(key=lambda q: q.last_asked, reverse=True)
    return still_open


def _heard(interactions: list[Interaction]) -> list[Heard]:
    heard: list[Heard] = []
    for visit in interactions:  # newest first
        on = visit.occurred_at.date()
        for insight in visit.insights:
            heard.append(Heard(on, insight.category.value, insight.text))
        if visit.feedback is not None:
            fb = visit.feedback
            parts = [fb.about or "no topic noted"]
            if fb.root_cause:
                parts.append(f"root cause: {fb.root_cause}")
            if fb.response:
                parts.append(f"our response: {fb.response}")
            heard.append(Heard(on, f"feedback ({fb.sentiment.value})", "; ".join(parts)))
    return heard


def _followup_line(f: FollowUp, today: date) -> FollowUpLine:
    return FollowUpLine(f.action, f.due, f.owner.value, f.overdue_days(today))


def build_brief(store: Store, kol_id: str, now: datetime) -> Brief:
    page = load_kol_page(store, kol_id, now)
    today = now.date()
    kol = page.kol
    visits = [i for i in page.interactions if not i.deleted]
    progress = page.progress
    last_contact = max((i.occurred_at.date() for i in visits), default=None)
    return Brief(
        kol_id=kol.id,
        name=kol.name,
        credentials=kol.credentials,
        specialty=kol.specialty,
        institution=kol.institution,
        city=kol.city,
        segment=page.segment.value,
        preferred_channels=tuple(c.value for c in kol.preferred_channels),
        today=today,
        last_contact=last_contact,
        next_due=progress.next_checkin if progress else None,
        cadence_days=page.plan.cadence_days if page.plan else None,
        plan_summary=progress.summary(today) if progress else "",
        objectives=tuple(
            ObjectiveLine(o.objective.kind.value, o.objective.description, o.label, o.met)
            for o in (progress.objectives if progress else ())
        ),
        visits=tuple(
            VisitLine(
                occurred_at=i.occurred_at,
                channel=i.channel.value,
                duration_min=i.duration_min,
                summary=summarise(i.notes),
                amended=bool(i.amendments),
                adverse_event=report_status(i.adverse_event, now) if i.adverse_event else "",
            )
            for i in visits[:LAST_VISITS]
        ),
        open_followups=tuple(_followup_line(f, today) for f in page.open_followups),
        open_questions=tuple(open_questions(visits)[:QUESTION_LIMIT]),
        heard=tuple(_heard(visits)[:HEARD_LIMIT]),
        unreported_adverse_events=tuple(
            f"{i.adverse_event.event or 'event not described'} "
            f"(day zero {local_stamp(i.adverse_event.day_zero)}): "
            f"{report_status(i.adverse_event, now)}"
            for i in visits
            if i.adverse_event is not None and i.ae_unreported()
        ),
    )
