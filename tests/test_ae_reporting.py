"""After detection: an adverse event is marked reported (when, to whom), and late is said."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from msl_tui.models import Interaction, Kol
from msl_tui.services import adverse_events as ae
from msl_tui.services import visit
from msl_tui.store import Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


@pytest.fixture
def ae_visit(store: Store) -> Interaction:
    kol = store.save(Kol(name="Dr Ada Roe"))
    draft = visit.VisitDraft(
        kol_id=kol.id, when="yesterday 10:00", notes="A patient had a rash.", ae_confirmed="yes"
    )
    draft.ae_event = "rash"
    return visit.submit(store, draft, NOW)


def _report(store: Store, visit_id: str, **typed: str) -> Interaction:
    form = ae.AEReportForm(reported_to="PV desk, case 2026-0042", **typed)
    return ae.mark_reported(store, visit_id, form, NOW)


def test_reporting_records_when_and_to_whom(store: Store, ae_visit: Interaction) -> None:
    saved = _report(store, ae_visit.id, reported_at="today 08:30")
    event = saved.adverse_event
    assert event is not None
    assert event.reported_at == datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    assert event.reference == "PV desk, case 2026-0042"
    assert not ae.pending_ae_visits(store, ae_visit.kol_id)


@pytest.mark.parametrize(
    ("reported_at", "words"),
    [
        ("today 08:30", "reported 2026-11-23 08:30, 22.5 h after day zero (on time)"),
        ("yesterday 14:00", "reported 2026-11-22 14:00, 4 h after day zero (on time)"),
    ],
)
def test_on_time_reads_with_its_hours(
    store: Store, ae_visit: Interaction, reported_at: str, words: str
) -> None:
    event = _report(store, ae_visit.id, reported_at=reported_at).adverse_event
    assert event is not None
    assert ae.report_status(event, NOW) == f"{words} · to PV desk, case 2026-0042"


def test_late_is_said_in_words(store: Store, ae_visit: Interaction) -> None:
    event = _report(store, ae_visit.id, day_zero="21/11 10:00", reported_at="now").adverse_event
    assert event is not None
    assert event.day_zero == datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert ae.is_late(event)
    assert "late: 47 h after day zero" in ae.report_status(event, NOW)


def test_an_unreported_event_says_the_time_left(ae_visit: Interaction) -> None:
    assert ae_visit.adverse_event is not None
    assert ae.report_status(ae_visit.adverse_event, NOW) == "not reported yet: 1 h left of 24 h"
    later = NOW + timedelta(hours=3)
    assert "late, 2 h past the 24 h limit" in ae.report_status(ae_visit.adverse_event, later)


@pytest.mark.parametrize(
    ("typed", "field"),
    [
        ({"reported_at": "yesterday 09:00"}, "reported"),  # before day zero
        ({"reported_at": "tomorrow"}, "reported"),
        ({"reported_at": "sometime"}, "reported"),
        ({"day_zero": "in 2 days"}, "day zero"),
        ({"reported_to": "   "}, "to"),
    ],
)
def test_impossible_reports_are_refused_and_nothing_changes(
    store: Store, ae_visit: Interaction, typed: dict[str, str], field: str
) -> None:
    form = ae.AEReportForm(**{"reported_to": "PV desk", **typed})
    with pytest.raises(ae.AEReportError) as error:
        ae.mark_reported(store, ae_visit.id, form, NOW)
    assert error.value.field == field
    assert store.get(Interaction, ae_visit.id) == ae_visit


def test_a_note_and_later_follow_ups_go_to_the_adverse_event(
    store: Store, ae_visit: Interaction
) -> None:
    _report(store, ae_visit.id, note="Called the PV desk back.")
    ae.add_followup_info(store, ae_visit.id, "Patient recovered.", NOW + timedelta(days=2))
    stored = store.get(Interaction, ae_visit.id)
    assert stored is not None and stored.adverse_event is not None
    assert stored.notes == "A patient had a rash."  # the visit's own record stands
    follow = stored.adverse_event.followups
    assert [f.text for f in follow] == ["Called the PV desk back.", "Patient recovered."]
    assert follow[1].at == NOW + timedelta(days=2)
    assert follow[0].by == store.author


def test_empty_follow_up_information_is_refused(store: Store, ae_visit: Interaction) -> None:
    with pytest.raises(ae.AEReportError) as error:
        ae.add_followup_info(store, ae_visit.id, "   \n  ", NOW)
    assert error.value.field == "follow-up"
    assert store.get(Interaction, ae_visit.id) == ae_visit


def test_a_visit_without_an_adverse_event_cannot_be_reported(store: Store) -> None:
    kol = store.save(Kol(name="Dr Bo Lin"))
    plain = visit.submit(store, visit.VisitDraft(kol_id=kol.id, notes="Dosing."), NOW)
    with pytest.raises(ae.AEReportError):
        _report(store, plain.id)


def test_a_report_marked_by_mistake_can_be_undone(store: Store, ae_visit: Interaction) -> None:
    _report(store, ae_visit.id)
    ae.unmark_reported(store, ae_visit.id)
    [pending] = ae.pending_ae_visits(store, ae_visit.kol_id)
    assert pending.adverse_event is not None and pending.adverse_event.reference == ""
