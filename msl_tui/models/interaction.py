"""A visit or other contact with a KOL, and the records that hang off it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, PlainSerializer, field_validator, model_validator

from msl_tui.models.base import (
    DateNotFar,
    Instant,
    LongText,
    Name,
    NoteText,
    PastOrNear,
    RecordId,
    ShortText,
    Strict,
    SyncedRecord,
    Tag,
    utcnow,
)
from msl_tui.models.enums import (
    Channel,
    InsightCategory,
    InteractionStatus,
    OwnerRole,
    Sentiment,
)
from msl_tui.models.rules import AE_REPORT_WINDOW


class Insight(Strict):
    category: InsightCategory
    text: Name


class Feedback(Strict):
    sentiment: Sentiment
    about: ShortText = ""
    root_cause: ShortText = ""
    response: ShortText = ""


class AEFollowUp(Strict):
    """Information about an adverse event that arrived after it was recorded (outcome, the
    patient's course, a case number from pharmacovigilance), dated and signed."""

    at: Instant
    by: ShortText = ""
    text: NoteText


class AdverseEvent(Strict):
    """A possible adverse event the KOL mentioned; any of the four minimum facts may be unknown."""

    day_zero: Instant
    patient: ShortText = ""
    reporter: ShortText = ""
    product: ShortText = ""
    event: ShortText = ""
    reported_at: Instant | None = None
    reference: ShortText = ""
    followups: list[AEFollowUp] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _reported_after_day_zero(self) -> AdverseEvent:
        if self.reported_at is not None and self.reported_at < self.day_zero:
            raise ValueError(
                "reported_at is before day_zero: it cannot be reported before it happened"
            )
        return self

    def due_at(self) -> datetime:
        return self.day_zero + AE_REPORT_WINDOW

    def hours_left(self, now: datetime) -> float:
        return (self.due_at() - now).total_seconds() / 3600


class MedInfoRequest(Strict):
    """An off-label question the KOL raised unprompted, routed to Medical Information."""

    question: Name
    unsolicited: bool = True
    routed_to: OwnerRole = OwnerRole.MEDICAL_INFORMATION

    @field_validator("unsolicited")
    @classmethod
    def _must_be_unsolicited(cls, value: bool) -> bool:
        if not value:
            raise ValueError("an MSL may answer off-label questions only when unsolicited")
        return value


def _cents(value: Decimal) -> Decimal:
    """One form per amount: two decimal places, no exponent, no negative zero."""
    if not value.is_finite():
        raise ValueError("an amount must be a number")
    cents = value.quantize(Decimal("0.01"))
    if cents != value:
        raise ValueError("an amount has at most two decimal places")
    return abs(cents) if cents == 0 else cents


# Written as "25.00" in every store and bundle: Decimal's own text would give "1E+2" or "-0".
Amount = Annotated[
    Decimal,
    Field(ge=0, le=1_000_000),
    AfterValidator(_cents),
    PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json"),
]


class TransferOfValue(Strict):
    """Fields Open Payments / EFPIA-style disclosure needs."""

    nature: Name
    amount: Amount
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    date: DateNotFar
    recipient: Name
    product: ShortText = ""


class Amendment(Strict):
    """A correction to a submitted record: the earlier text stays, with a reason."""

    at: Instant
    by: ShortText = ""
    reason: Name
    previous_notes: LongText
    # Set only when the correction moved them: the visit's time and channel as they were.
    previous_occurred_at: Instant | None = None
    previous_channel: Channel | None = None


class Interaction(SyncedRecord):
    kol_id: RecordId
    msl_id: ShortText = ""
    occurred_at: PastOrNear
    channel: Channel = Channel.IN_PERSON
    duration_min: int = Field(default=30, ge=0, le=24 * 60)
    objective_id: RecordId | None = None
    notes: LongText = ""
    questions_asked: list[Name] = Field(default_factory=list)
    insights: list[Insight] = Field(default_factory=list)
    feedback: Feedback | None = None
    adverse_event: AdverseEvent | None = None
    med_info_request: MedInfoRequest | None = None
    transfer_of_value: TransferOfValue | None = None
    status: InteractionStatus = InteractionStatus.DRAFT
    submitted_at: Instant | None = None
    amendments: list[Amendment] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list)

    @model_validator(mode="after")
    def _submitted_has_time(self) -> Interaction:
        if self.status is not InteractionStatus.DRAFT and self.submitted_at is None:
            raise ValueError("a submitted interaction needs submitted_at")
        return self

    def ae_unreported(self) -> bool:
        return self.adverse_event is not None and self.adverse_event.reported_at is None

    def amended(
        self,
        new_notes: str,
        reason: str,
        by: str,
        at: datetime | None = None,
        *,
        occurred_at: datetime | None = None,
        channel: Channel | None = None,
    ) -> Interaction:
        """Return the corrected record; what it said before goes into the amendment history
        (the text always, the time and channel when they change)."""
        if self.status is InteractionStatus.DRAFT:
            raise ValueError("a draft is edited, not amended")
        moved = occurred_at is not None and occurred_at != self.occurred_at
        switched = channel is not None and channel != self.channel
        if new_notes == self.notes and not moved and not switched:
            raise ValueError("nothing is changed")
        entry = Amendment(
            at=at or utcnow(),
            by=by,
            reason=reason,
            previous_notes=self.notes,
            previous_occurred_at=self.occurred_at if moved else None,
            previous_channel=self.channel if switched else None,
        )
        return self.evolve(
            notes=new_notes,
            occurred_at=occurred_at if moved else self.occurred_at,
            channel=channel if switched else self.channel,
            status=InteractionStatus.AMENDED,
            amendments=[*self.amendments, entry],
        )


class FollowUp(SyncedRecord):
    """A promised action; open and overdue ones drive the KOL list's priority."""

    kol_id: RecordId
    interaction_id: RecordId | None = None
    action: Name
    due: DateNotFar | None = None
    owner: OwnerRole = OwnerRole.MSL
    done: bool = False
    done_at: Instant | None = None

    def overdue_days(self, today: date) -> int:
        if self.done or self.due is None:
            return 0
        return max(0, (today - self.due).days)


__all__ = [
    "AE_REPORT_WINDOW",
    "AEFollowUp",
    "AdverseEvent",
    "Amendment",
    "Feedback",
    "FollowUp",
    "Insight",
    "Interaction",
    "MedInfoRequest",
    "TransferOfValue",
    "utcnow",
]
