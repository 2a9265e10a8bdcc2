"""The models accept what the trade records and refuse the rest, naming the field."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from msl_tui.models import (
    EngagementPlan,
    FollowUp,
    Interaction,
    InteractionStatus,
    Kol,
    MslProfile,
)

KOL_ID = "6f1c2a9e-3c1e-4b8e-9a53-2a7f0d4f3b11"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FAR = datetime.now(UTC) + timedelta(days=5 * 365)

GOOD: list[tuple[type, dict[str, Any]]] = [
    (Kol, {"name": "Dr A"}),
    (
        Kol,
        {
            "name": "Dr A",
            "influence": "national",
            "stance": "advocate",
            "strengths": ["speaker", "trialist"],
            "preferred_channels": ["email"],
            "identified_by": ["peer nomination"],
            "stage": "plateau",
            "tags": ["lupus"],
        },
    ),
    (
        EngagementPlan,
        {
            "kol_id": KOL_ID,
            "period_start": date(2026, 1, 1),
            "period_end": date(2026, 12, 31),
            "objectives": [{"description": "Understand gaps", "kind": "business", "target": 3}],
            "activities": [{"kind": "advisory board", "owner": "Medical Affairs"}],
            "lifecycle_phase": "launch",
        },
    ),
    (Interaction, {"kol_id": KOL_ID, "occurred_at": NOW, "notes": "n"}),
    (
        Interaction,
        {
            "kol_id": KOL_ID,
            "occurred_at": NOW,
            "status": "submitted",
            "submitted_at": NOW,
            "feedback": {"sentiment": "negative", "about": "MI response time"},
            "insights": [{"category": "data gap", "text": "wants renal data"}],
            "adverse_event": {"day_zero": NOW, "event": "rash"},
            "med_info_request": {"question": "Any paediatric data?"},
            "transfer_of_value": {
                "nature": "meal",
                "amount": "48.50",
                "currency": "EUR",
                "date": date(2026, 11, 23),
                "recipient": "Dr A",
            },
        },
    ),
    (FollowUp, {"kol_id": KOL_ID, "action": "send reprint", "due": date(2026, 11, 27)}),
    (MslProfile, {"msl_id": "ana.ruiz", "name": "Ana Ruiz", "device_id": "laptop-1"}),
]

BAD: list[tuple[type, dict[str, Any], str]] = [
    (Kol, {"name": ""}, "name"),
    (Kol, {"name": "   "}, "name"),
    (Kol, {"name": "Dr A", "influence": "galactic"}, "influence"),
    (Kol, {"name": "Dr A", "stance": "fan"}, "stance"),
    (Kol, {"name": "Dr A", "strengths": ["singer"]}, "strengths"),
    (Kol, {"name": "Dr A", "preferred_channels": ["fax"]}, "preferred_channels"),
    (Kol, {"name": "Dr A", "shoe_size": 9}, "shoe_size"),
    (Kol, {"name": 42}, "name"),
    (Kol, {"name": "Dr A", "id": "not-a-uuid"}, "id"),
    (
        EngagementPlan,
        {"kol_id": KOL_ID, "period_start": date(2026, 12, 31), "period_end": date(2026, 1, 1)},
        "period_end",
    ),
    (
        EngagementPlan,
        {
            "kol_id": KOL_ID,
            "period_start": date(2026, 1, 1),
            "period_end": date(2026, 12, 31),
            "cadence_days": 0,
        },
        "cadence_days",
    ),
    (
        EngagementPlan,
        {
            "kol_id": KOL_ID,
            "period_start": date(2026, 1, 1),
            "period_end": date(2026, 12, 31),
            "objectives": [{"description": "x", "target": 0}],
        },
        "target",
    ),
    (
        EngagementPlan,
        {
            "kol_id": KOL_ID,
            "period_start": date(2026, 1, 1),
            "period_end": date(2026, 12, 31),
            "objectives": [{"description": ""}],
        },
        "description",
    ),
    (
        EngagementPlan,
        {
            "kol_id": KOL_ID,
            "period_start": date(2026, 1, 1),
            "period_end": date(2026, 12, 31),
            "activities": [{"owner": "Marketing"}],
        },
        "owner",
    ),
    (Interaction, {"kol_id": KOL_ID, "occurred_at": FAR}, "occurred_at"),
    (Interaction, {"kol_id": KOL_ID, "occurred_at": "yesterday-ish"}, "occurred_at"),
    (Interaction, {"kol_id": KOL_ID, "occurred_at": NOW, "channel": "carrier pigeon"}, "channel"),
    (Interaction, {"kol_id": KOL_ID, "occurred_at": NOW, "duration_min": -5}, "duration_min"),
    (Interaction, {"kol_id": KOL_ID, "occurred_at": NOW, "status": "submitted"}, "submitted_at"),
    (
        Interaction,
        {"kol_id": KOL_ID, "occurred_at": NOW, "feedback": {"sentiment": "furious"}},
        "sentiment",
    ),
    (
        Interaction,
        {"kol_id": KOL_ID, "occurred_at": NOW, "insights": [{"category": "gossip", "text": "x"}]},
        "category",
    ),
    (
        Interaction,
        {
            "kol_id": KOL_ID,
            "occurred_at": NOW,
            "med_info_request": {"question": "q", "unsolicited": False},
        },
        "unsolicited",
    ),
    (
        Interaction,
        {
            "kol_id": KOL_ID,
            "occurred_at": NOW,
            "transfer_of_value": {
                "nature": "meal",
                "amount": "-1",
                "currency": "EUR",
                "date": date(2026, 11, 23),
                "recipient": "A",
            },
        },
        "amount",
    ),
    (
        Interaction,
        {
            "kol_id": KOL_ID,
            "occurred_at": NOW,
            "transfer_of_value": {
                "nature": "meal",
                "amount": "10",
                "currency": "euro",
                "date": date(2026, 11, 23),
                "recipient": "A",
            },
        },
        "currency",
    ),
    (FollowUp, {"kol_id": KOL_ID, "action": ""}, "action"),
    (FollowUp, {"kol_id": KOL_ID, "action": "x", "due": date(2031, 1, 1)}, "due"),
    (MslProfile, {"msl_id": "has space", "name": "A", "device_id": "d"}, "msl_id"),
]


@pytest.mark.parametrize(("model", "data"), GOOD, ids=lambda v: getattr(v, "__name__", ""))
def test_good_records_validate(model: type, data: dict[str, Any]) -> None:
    record = model.model_validate(data)
    assert model.model_validate(record.model_dump()) == record


@pytest.mark.parametrize(
    ("model", "data", "field"),
    BAD,
    ids=[f"{m.__name__}-{f}-{n}" for n, (m, _, f) in enumerate(BAD)],
)
def test_bad_records_are_refused_naming_the_field(
    model: type, data: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    assert field in str(caught.value)


def test_instants_are_stored_in_utc_to_the_second() -> None:
    local = datetime(2026, 11, 23, 10, 30, 15, 999, tzinfo=UTC).astimezone()
    interaction = Interaction(kol_id=KOL_ID, occurred_at=local)
    assert interaction.occurred_at.tzinfo == UTC
    assert interaction.occurred_at.microsecond == 0


def test_amending_keeps_the_earlier_text_and_the_reason() -> None:
    submitted = Interaction(
        kol_id=KOL_ID, occurred_at=NOW, notes="first text", status="submitted", submitted_at=NOW
    )
    amended = submitted.amended("corrected text", "wrong dose noted", by="ana", at=NOW)
    assert amended.status is InteractionStatus.AMENDED
    assert amended.notes == "corrected text"
    assert [(a.previous_notes, a.reason) for a in amended.amendments] == [
        ("first text", "wrong dose noted")
    ]


def test_a_draft_is_edited_not_amended() -> None:
    draft = Interaction(kol_id=KOL_ID, occurred_at=NOW, notes="x")
    with pytest.raises(ValueError, match="draft"):
        draft.amended("y", "reason", by="ana")


def test_adverse_event_hours_left_counts_down_from_24() -> None:
    interaction = Interaction.model_validate(
        {"kol_id": KOL_ID, "occurred_at": NOW, "adverse_event": {"day_zero": NOW}}
    )
    assert interaction.adverse_event is not None
    assert interaction.adverse_event.hours_left(NOW + timedelta(hours=5)) == pytest.approx(19)
    assert interaction.ae_unreported()


def test_transfer_amount_keeps_cents_exactly() -> None:
    i = Interaction.model_validate(
        {
            "kol_id": KOL_ID,
            "occurred_at": NOW,
            "transfer_of_value": {
                "nature": "meal",
                "amount": "48.50",
                "currency": "EUR",
                "date": date(2026, 11, 23),
                "recipient": "A",
            },
        }
    )
    assert i.transfer_of_value is not None and i.transfer_of_value.amount == Decimal("48.50")


def test_text_grammar_and_line_breaks() -> None:
    """Names are one printable line; notes keep line breaks, all as \\n."""
    from msl_tui.models.base import repair_text, text_problem

    assert text_problem("Dr\u2028Holt") == "contains the line separator U+2028"
    assert text_problem("Dr \u2067Holt") == "contains the direction override U+2067"
    assert text_problem("ok\tthen", multiline=True) is None
    visit = Interaction(
        kol_id="a1c1b1a0-0000-4000-8000-000000000000",
        occurred_at="2020-01-01T00:00:00Z",
        notes="one\r\ntwo\rthree\u2029four",
    )
    assert visit.notes == "one\ntwo\nthree\nfour"
    # Reading an old row: what the grammar refuses is shown escaped, never dropped.
    assert repair_text({"name": ["a\x1bb"]}) == {"name": ["a\\x1bb"]}
