"""Visit capture as a service: defaults, drafts kept as typed, and one-transaction submit.

The screen holds a ``VisitDraft`` of plain strings exactly as the MSL typed them; it is saved
as the draft on every pause, so nothing typed is lost whatever happens next. ``submit``
turns it into records only when every field validates; a failure names the field and
changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from msl_tui import timestamps
from msl_tui.models import (
    AdverseEvent,
    Channel,
    Feedback,
    FollowUp,
    Insight,
    InsightCategory,
    Interaction,
    InteractionStatus,
    Kol,
    MedInfoRequest,
    Sentiment,
    TransferOfValue,
)
from msl_tui.models.base import typed_text
from msl_tui.models.enums import PromptPurpose
from msl_tui.services.adverse_events import AEMention, detect_adverse_events, local_stamp
from msl_tui.services.dates import DateParseError, parse_when
from msl_tui.services.followups import parse_followups
from msl_tui.services.language import check_text, neutral_rewording
from msl_tui.services.prompts import Prompt
from msl_tui.store import Store, StoreError, prompts_repo


class VisitError(ValueError):
    """A typed value that cannot become a record; ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# How a visit time is written into the When field: absolute, so it reads the same later.
WHEN_FORMAT = "%Y-%m-%d %H:%M"


@dataclass
class VisitDraft:
    """Everything on the capture screen, as typed.

    ``opened_at`` (UTC, ISO) is when capture opened: ``when`` starts as that moment written
    out, and relative words typed into it ("2 hours ago") count from it, so a draft restored
    the next day still means the visit it was written about.
    """

    kol_id: str
    when: str = "now"
    opened_at: str = ""
    channel: str = Channel.IN_PERSON.value
    duration: str = "30"
    objective_id: str = ""
    notes: str = ""
    prompts_used: list[str] = field(default_factory=list)
    insights: list[list[str]] = field(default_factory=list)  # [category, text]
    feedback_sentiment: str = ""
    feedback_about: str = ""
    feedback_root_cause: str = ""
    feedback_response: str = ""
    ae_confirmed: str = ""  # "" not asked, "yes", "no"
    ae_patient: str = ""
    ae_reporter: str = ""
    ae_product: str = ""
    ae_event: str = ""
    ae_forwarded: bool = False
    ae_reference: str = ""
    request_question: str = ""
    tov_nature: str = ""
    tov_amount: str = ""
    tov_currency: str = "EUR"
    tov_recipient: str = ""

    @property
    def draft_id(self) -> str:
        return draft_id_for(self.kol_id)

    def to_payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> VisitDraft:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in payload.items() if k in known})

    def without_invisible(self) -> VisitDraft:
        """A copy with pasted control characters taken out of every typed text (the records
        refuse them, and nobody can see them to delete them)."""
        changes: dict[str, Any] = {
            f.name: typed_text(value, multiline=f.name == "notes")
            for f in fields(self)
            if isinstance(value := getattr(self, f.name), str)
        }
        changes["insights"] = [[typed_text(part) for part in pair] for pair in self.insights]
        changes["prompts_used"] = [typed_text(text) for text in self.prompts_used]
        return replace(self, **changes)

    def has_text(self) -> bool:
        """Something written or answered (not only the defaults capture chose): a draft
        worth offering back. Every part counts: an adverse event's patient typed alone too."""
        return any(
            value.strip() if isinstance(value, str) else value
            for name in _TYPED_FIELDS
            if (value := getattr(self, name))
        )


def draft_id_for(kol_id: str) -> str:
    # One unsent visit per KOL: reopening capture for the KOL brings it back.
    return f"visit:{kol_id}"


def new_visit(store: Store, kol_id: str, now: datetime | None = None) -> VisitDraft:
    """A draft with the defaults filled: the visit time resolved now (on this machine's
    clock), the KOL's usual channel, the open objective."""
    kol = store.get_kol(kol_id)
    if kol is None:
        raise StoreError(f"no KOL with id {kol_id}")
    opened = timestamps.to_utc(now or timestamps.utcnow())
    draft = VisitDraft(
        kol_id=kol_id,
        when=opened.astimezone().strftime(WHEN_FORMAT),
        opened_at=timestamps.iso(opened),
        channel=default_channel(store, kol).value,
    )
    plan = store.current_plan(kol_id)
    if plan is not None:
        open_objectives = plan.open_objectives()
        if open_objectives:
            draft.objective_id = open_objectives[0].id
    return draft


def default_channel(store: Store, kol: Kol) -> Channel:
    if kol.preferred_channels:
        return kol.preferred_channels[0]
    last = store.interactions_for(kol.id, limit=1)
    return last[0].channel if last else Channel.IN_PERSON


# What a person types or answers in capture (the rest starts from defaults capture chose).
_TYPED_FIELDS = frozenset(
    {
        "notes", "insights", "prompts_used",
        "feedback_sentiment", "feedback_about", "feedback_root_cause", "feedback_response",
        "ae_confirmed", "ae_patient", "ae_reporter", "ae_product", "ae_event", "ae_forwarded",
        "ae_reference", "request_question", "tov_nature", "tov_amount", "tov_recipient",
    }
)  # fmt: skip


def load_or_new(store: Store, kol_id: str, now: datetime | None = None) -> tuple[VisitDraft, bool]:
    """The saved draft for this KOL if there is one (and True), else a fresh visit."""
    payload = store.load_draft(draft_id_for(kol_id))
    if payload is not None:
        draft = VisitDraft.from_payload(payload)
        # A draft with nothing typed (capture opened, then a crash) is no note to announce.
        return draft, draft.has_text()
    return new_visit(store, kol_id, now), False


def visit_anchor(draft: VisitDraft, now: datetime) -> datetime:
    """The moment relative words in ``draft.when`` count from, on this machine's clock."""
    try:
        return timestamps.parse(draft.opened_at).astimezone()
    except ValueError:  # a draft from before opened_at was kept: count from now
        return now.astimezone()


def read_when(draft: VisitDraft, now: datetime, *, dayfirst: bool = True) -> datetime:
    """The visit time the draft names; raises DateParseError with the reason."""
    anchor = visit_anchor(draft, now)
    when = parse_when(draft.when or "now", anchor, dayfirst=dayfirst)
    return when if when.tzinfo is not None else when.replace(tzinfo=anchor.tzinfo)


def save_draft(store: Store, draft: VisitDraft, *, wait_ms: int | None = None) -> None:
    store.save_draft(draft.draft_id, draft.kol_id, draft.to_payload(), wait_ms=wait_ms)


def discard_draft(store: Store, draft: VisitDraft) -> None:
    store.delete_draft(draft.draft_id)


@dataclass(frozen=True)
class SavedDraft:
    draft: VisitDraft
    kol_name: str
    updated_at: str


def saved_drafts(store: Store) -> list[SavedDraft]:
    """Unsent visit notes, newest first (offered back when the app starts)."""
    result = []
    for row in store.list_drafts():
        if not str(row["id"]).startswith("visit:"):
            continue
        draft = VisitDraft.from_payload(row["payload"])
        if not draft.has_text():
            continue
        kol = store.get_kol(draft.kol_id)
        result.append(SavedDraft(draft, kol.name if kol else "unknown KOL", row["updated_at"]))
    return result


def possible_adverse_events(draft: VisitDraft) -> list[AEMention]:
    return detect_adverse_events(draft.notes)


def needs_ae_answer(draft: VisitDraft) -> bool:
    """A note that may mention an AE must be confirmed or dismissed before it is submitted."""
    return draft.ae_confirmed == "" and bool(possible_adverse_events(draft))


# Model field -> the words the form uses for it.
_FIELD_WORDS = {
    "text": "the insight",
    "about": "what it is about",
    "root_cause": "the root cause",
    "response": "the response",
    "patient": "the patient",
    "reporter": "the reporter",
    "product": "the product",
    "event": "the event",
    "reference": "the reference",
    "question": "the question",
    "nature": "what was given",
    "amount": "the amount",
    "currency": "the currency (three letters, e.g. EUR)",
    "recipient": "the recipient",
    "duration_min": "the minutes",
    "occurred_at": "the visit time",
    "notes": "the note",
    "questions_asked": "a question asked",
    "action": "a follow-up",
    "previous_notes": "the earlier text",
    "reason": "the reason",
}
# The form part _validate was asked about, for an error the fields above do not place.
_PART_WORDS = {
    "visit": "the visit",
    "feedback": "the feedback",
    "insights": "an insight",
    "adverse event": "the adverse event",
    "request": "the medical information request",
    "transfer of value": "the transfer of value",
    "follow-up": "a follow-up",
    "notes": "the note",
}


def _plain(err: Any, part: str = "") -> str:
    """A validation error in the form's words, never the library's."""
    named = [_FIELD_WORDS[str(p)] for p in err["loc"] if str(p) in _FIELD_WORDS]
    what = named[-1] if named else _PART_WORDS.get(part, "what you typed")
    context = err.get("ctx") or {}
    match err["type"]:
        case "value_error" if str(context.get("error", "")).startswith("text "):
            # Our text grammar's reason ("contains the control character U+0007").
            return f"{what} {str(context['error']).removeprefix('text ')}"
        case "string_too_long" | "too_long":
            return f"{what} is too long (at most {context.get('max_length')} characters)"
        case "string_too_short" | "missing":
            return f"{what} cannot be empty"
        case "greater_than_equal" | "greater_than":
            return f"{what} must be at least {context.get('ge', context.get('gt'))}"
        case "less_than_equal" | "less_than":
            return f"{what} must be at most {context.get('le', context.get('lt'))}"
        case "decimal_max_places":
            return f"{what} takes at most {context.get('decimal_places')} decimals"
        case "decimal_max_digits":
            return f"{what} is too large"
        case "string_pattern_mismatch":
            return f"check {what}"
    return f"check {what}"


def _validate(field_name: str, build: Any) -> Any:
    try:
        return build()
    except ValidationError as exc:
        raise VisitError(field_name, _plain(exc.errors()[0], field_name)) from exc


def build_records(
    store: Store, draft: VisitDraft, now: datetime, *, dayfirst: bool = True
) -> tuple[Interaction, list[FollowUp]]:
    """Validate the draft into records without writing anything."""
    draft = draft.without_invisible()
    local_now = now.astimezone()  # people type times on their own clock
    try:
        when = read_when(draft, now, dayfirst=dayfirst)
    except DateParseError as exc:
        raise VisitError("when", str(exc)) from exc
    if when - local_now > timedelta(minutes=5):
        raise VisitError("when", "a visit cannot be in the future")
    try:
        channel = Channel(draft.channel)
    except ValueError as exc:
        raise VisitError("channel", f"unknown channel {draft.channel!r}") from exc
    if not draft.duration.strip().isdigit():
        raise VisitError("duration", "a whole number, e.g. 30")
    if not draft.notes.strip():
        raise VisitError("notes", "the note is empty: write what was discussed")
    if needs_ae_answer(draft):
        raise VisitError("adverse event", "confirm or dismiss the possible adverse event first")

    feedback = None
    if draft.feedback_sentiment:
        feedback = _validate(
            "feedback",
            lambda: Feedback(
                sentiment=Sentiment(draft.feedback_sentiment),
                about=draft.feedback_about,
                root_cause=draft.feedback_root_cause,
                response=draft.feedback_response,
            ),
        )
    insights = [
        _validate("insights", lambda c=c, t=t: Insight(category=InsightCategory(c), text=t))
        for c, t in draft.insights
    ]
    adverse_event = None
    if draft.ae_confirmed == "yes":
        adverse_event = _validate(
            "adverse event",
            lambda: AdverseEvent(
                day_zero=when,
                patient=draft.ae_patient,
                reporter=draft.ae_reporter,
                product=draft.ae_product,
                event=draft.ae_event,
                reported_at=now if draft.ae_forwarded else None,
                reference=draft.ae_reference,
            ),
        )
    request = None
    if draft.request_question.strip():
        request = _validate("request", lambda: MedInfoRequest(question=draft.request_question))
    transfer = None
    if draft.tov_nature.strip() or draft.tov_amount.strip():
        try:
            amount = Decimal(draft.tov_amount.strip() or "x")
        except InvalidOperation as exc:
            raise VisitError(
                "transfer amount", f"{draft.tov_amount!r} is not an amount, e.g. 48.50"
            ) from exc
        kol = store.get_kol(draft.kol_id)
        transfer = _validate(
            "transfer of value",
            lambda: TransferOfValue(
                nature=draft.tov_nature,
                amount=amount,
                currency=draft.tov_currency.strip().upper(),
                date=when.date(),
                recipient=draft.tov_recipient.strip() or (kol.name if kol else ""),
            ),
        )
    interaction = _validate(
        "visit",
        lambda: Interaction(
            kol_id=draft.kol_id,
            msl_id=store.author,
            occurred_at=when,
            channel=channel,
            duration_min=int(draft.duration),
            objective_id=draft.objective_id or None,
            notes=draft.notes,
            questions_asked=draft.prompts_used,
            insights=insights,
            feedback=feedback,
            adverse_event=adverse_event,
            med_info_request=request,
            transfer_of_value=transfer,
            status=InteractionStatus.SUBMITTED,
            submitted_at=now,
        ),
    )
    followups = [
        _validate(
            "follow-up",
            lambda p=p: FollowUp(
                kol_id=draft.kol_id,
                interaction_id=interaction.id,
                action=p.action,
                due=p.due,
                done=p.done,
                done_at=now if p.done else None,
            ),
        )
        for p in parse_followups(draft.notes, now, dayfirst=dayfirst)
    ]
    return interaction, followups


def submit(store: Store, draft: VisitDraft, now: datetime, *, dayfirst: bool = True) -> Interaction:
    """Write the visit and its follow-ups, and drop the draft, in one transaction."""
    interaction, followups = build_records(store, draft, now, dayfirst=dayfirst)
    with store.transaction():
        saved = store.save(interaction)
        for followup in followups:
            store.save(followup)
        store.delete_draft(draft.draft_id)
    return saved


def new_adverse_event_mentions(before: str, after: str) -> list[str]:
    """Possible adverse-event phrases an amended text adds to what the visit said."""
    seen = {m.phrase.lower() for m in detect_adverse_events(before)}
    return [m.phrase for m in detect_adverse_events(after) if m.phrase.lower() not in seen]


def amend(
    store: Store,
    interaction_id: str,
    new_notes: str,
    reason: str,
    now: datetime,
    *,
    adverse_event: bool = False,
    occurred_at: datetime | None = None,
    channel: Channel | None = None,
) -> Interaction:
    """Correct a submitted visit (its text, and its time or channel when given): what it
    said before stays in its history, with the reason.

    ``adverse_event``: the correction reveals a possible adverse event the visit did not
    record; it is recorded now, with day zero at the visit (when the company learned of it),
    so its 24-hour clock and the list's ranking start from there.
    """
    interaction = store.get(Interaction, interaction_id)
    if interaction is None:
        raise VisitError("interaction", f"no interaction with id {interaction_id}")
    new_notes, reason = typed_text(new_notes, multiline=True), typed_text(reason)
    if not reason.strip():
        raise VisitError("reason", "an amendment needs a reason")
    if occurred_at is not None and occurred_at - now > timedelta(minutes=5):
        raise VisitError("when", "a visit cannot be in the future")
    try:
        amended = interaction.amended(
            new_notes, reason, store.author, now, occurred_at=occurred_at, channel=channel
        )
        ae = interaction.adverse_event
        if ae is not None and ae.day_zero == interaction.occurred_at != amended.occurred_at:
            # The event's day zero was the visit's time (as capture sets it): the visit was
            # at the corrected time, so was day zero; left behind, a visit logged two days
            # late would read 'reported on time' (pharmacovigilance counts late hand-offs).
            if ae.reported_at is not None and ae.reported_at < amended.occurred_at:
                raise VisitError(
                    "when",
                    f"its adverse event was reported at {local_stamp(ae.reported_at)}, "
                    "before that time",
                )
            amended = amended.evolve(
                adverse_event={**ae.model_dump(), "day_zero": amended.occurred_at}
            )
        if adverse_event and amended.adverse_event is None:
            amended = amended.evolve(
                # Day zero is the visit: the corrected time when this amendment moves it
                # (the time it replaces was wrong, and a later day zero would hide lateness).
                adverse_event=AdverseEvent(day_zero=amended.occurred_at).model_dump()
            )
    except VisitError:
        raise
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "when" if "occurred_at" in map(str, first["loc"]) else "notes"
        reason_given = (first.get("ctx") or {}).get("error")
        if where == "when" and first["type"] == "value_error" and reason_given:
            # The range's own words ("1969-12-31 is before 1970"), not "check the visit
            # time" under "The visit time:".
            raise VisitError(where, str(reason_given)) from exc
        raise VisitError(where, _plain(first, "notes")) from exc
    except ValueError as exc:
        raise VisitError("notes", str(exc)) from exc
    return store.save(amended)


def mark_ae_reported(
    store: Store, interaction_id: str, reported_at: datetime, reference: str
) -> Interaction:
    interaction = store.get(Interaction, interaction_id)
    if interaction is None or interaction.adverse_event is None:
        raise VisitError("adverse event", "this interaction has no adverse event to report")
    event = interaction.adverse_event.model_copy(
        update={"reported_at": reported_at, "reference": reference}
    )
    return store.save(interaction.evolve(adverse_event=event.model_dump()))


# -- the MSL's own prompts ----------------------------------------------------------------

PROMPT_MAX_CHARS = 300


def my_prompts(store: Store) -> list[Prompt]:
    """The MSL's own prompts, offered beside the built-in library."""
    result = []
    for row in prompts_repo.list_prompts(store):
        try:
            purpose = PromptPurpose(row["purpose"])
        except ValueError:
            continue  # a purpose retired from the library: keep the row, do not offer it
        result.append(Prompt(row["id"], purpose, row["text"], builtin=False))
    return result


class LeadingPromptError(VisitError):
    """An own prompt that leads or sells: never saved among the neutral questions as it is.

    ``suggestion`` is a neutral rewording the MSL can accept or edit.
    """

    def __init__(self, text: str) -> None:
        hint = check_text(text)[0]
        super().__init__("prompt", f"“{hint.phrase}” {hint.message}: not saved as it is")
        self.suggestion = neutral_rewording(text)


def _clean_prompt(purpose: str, text: str) -> tuple[PromptPurpose, str]:
    try:
        kind = PromptPurpose(purpose)
    except ValueError as exc:
        raise VisitError("purpose", f"unknown purpose {purpose!r}") from exc
    clean = " ".join(text.split())
    if not clean:
        raise VisitError("prompt", "the question is empty")
    if len(clean) > PROMPT_MAX_CHARS:
        raise VisitError("prompt", f"keep it under {PROMPT_MAX_CHARS} characters")
    if check_text(clean):
        raise LeadingPromptError(clean)
    return kind, clean


def add_prompt(store: Store, purpose: str, text: str, now: datetime) -> Prompt:
    """Save a new own prompt. Leading or selling wording is refused with a neutral rewording."""
    kind, clean = _clean_prompt(purpose, text)
    prompt = Prompt(f"my-{uuid.uuid4().hex[:12]}", kind, clean, builtin=False)
    prompts_repo.upsert_prompt(store, prompt.id, kind.value, clean, now.isoformat())
    return prompt


def edit_prompt(store: Store, prompt_id: str, purpose: str, text: str) -> Prompt:
    row = prompts_repo.get_prompt(store, prompt_id)
    if row is None:
        raise VisitError("prompt", f"no own prompt with id {prompt_id} (built-in ones are fixed)")
    kind, clean = _clean_prompt(purpose, text)
    prompts_repo.upsert_prompt(store, prompt_id, kind.value, clean, row["created_at"])
    return Prompt(prompt_id, kind, clean, builtin=False)


def remove_prompt(store: Store, prompt_id: str) -> None:
    if not prompts_repo.delete_prompt(store, prompt_id):
        raise VisitError("prompt", f"no own prompt with id {prompt_id}")
