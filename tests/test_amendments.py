"""Submitted visits are records: corrected by amendment with a reason, history kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from msl_tui.models import Interaction, InteractionStatus, Kol
from msl_tui.services import visit
from msl_tui.store import Store
from msl_tui.store.history import record_history

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def submitted(store: Store) -> Interaction:
    kol = store.save(Kol(name="Dr Ada Roe"))
    draft = visit.VisitDraft(kol_id=kol.id, when="yesterday", notes="Dose was 5 mg.")
    return visit.submit(store, draft, NOW)


def test_an_amendment_keeps_the_earlier_text_and_the_reason(
    store: Store, submitted: Interaction
) -> None:
    visit.amend(store, submitted.id, "Dose was 50 mg.", "typo in the dose", NOW)
    stored = store.get(Interaction, submitted.id)
    assert stored is not None
    assert stored.status is InteractionStatus.AMENDED
    assert stored.notes == "Dose was 50 mg."
    [entry] = stored.amendments
    assert (entry.previous_notes, entry.reason, entry.by) == (
        "Dose was 5 mg.",
        "typo in the dose",
        store.author,
    )


def test_every_amendment_stays_in_order(store: Store, submitted: Interaction) -> None:
    visit.amend(store, submitted.id, "second", "first fix", NOW)
    visit.amend(store, submitted.id, "third", "second fix", NOW + timedelta(minutes=5))
    stored = store.get(Interaction, submitted.id)
    assert stored is not None
    assert [(a.previous_notes, a.reason) for a in stored.amendments] == [
        ("Dose was 5 mg.", "first fix"),
        ("second", "second fix"),
    ]


def test_the_change_log_shows_each_version(store: Store, submitted: Interaction) -> None:
    visit.amend(store, submitted.id, "Dose was 50 mg.", "typo in the dose", NOW)
    notes_written = [
        e.fields["notes"]
        for e in record_history(store, "interaction", submitted.id)
        if "notes" in e.fields
    ]
    assert notes_written == ["Dose was 50 mg.", "Dose was 5 mg."]


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_amendment_without_a_reason_is_refused(
    store: Store, submitted: Interaction, reason: str
) -> None:
    with pytest.raises(visit.VisitError) as error:
        visit.amend(store, submitted.id, "silently changed", reason, NOW)
    assert error.value.field == "reason"
    stored = store.get(Interaction, submitted.id)
    assert stored is not None and stored.notes == "Dose was 5 mg." and not stored.amendments


def test_amending_an_unknown_visit_is_refused(store: Store) -> None:
    with pytest.raises(visit.VisitError):
        visit.amend(store, "no-such-id", "text", "reason", NOW)
