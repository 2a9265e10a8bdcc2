"""The plan service: typed values read in plain words, saves that never duplicate, and a
history that reads like sentences."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from msl_tui.models import Interaction, Kol
from msl_tui.services.plan_progress import plan_progress
from msl_tui.services.plans import (
    PlanEditError,
    delete_activity,
    delete_objective,
    new_plan,
    plan_history,
    save_activity,
    save_objective,
    set_cadence,
    toggle_activity,
)
from msl_tui.store import Store

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def plan_store(store: Store):  # type: ignore[no-untyped-def]
    kol = store.save(Kol(name="Dr Ada Quist"))
    return store, new_plan(store, kol.id, NOW.date())


def objective(**typed: str) -> dict[str, str]:
    return {"kind": "scientific", "description": "Map evidence gaps", "target": "2", **typed}


def test_saving_the_same_form_twice_edits_one_objective(plan_store) -> None:  # type: ignore[no-untyped-def]
    store, plan = plan_store
    plan, oid = save_objective(store, plan, objective(), None, NOW)
    plan, again = save_objective(store, plan, objective(target="3"), oid, NOW)
    assert again == oid
    assert [(o.description, o.target) for o in store.current_plan(plan.kol_id).objectives] == [
        ("Map evidence gaps", 3)
    ]


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"target": "six"}, "target", "Target must be a whole number, e.g. 6"),
        ({"target": "0"}, "target", "Target must be between 1 and 10,000"),
        ({"description": "  "}, "description", "Describe the objective in a few words"),
        ({"due": "someday"}, "due", "Due date: cannot read 'someday'; try 'next fri'"),
        ({"due": "2031-01-01"}, "due", "more than three years ahead"),
    ],
)
def test_a_bad_value_is_refused_in_plain_words(plan_store, typed, field, message) -> None:  # type: ignore[no-untyped-def]
    store, plan = plan_store
    with pytest.raises(PlanEditError) as caught:
        save_objective(store, plan, objective(**typed), None, NOW)
    assert caught.value.field == field
    assert caught.value.message.startswith(message) or message in caught.value.message
    assert "Input should" not in caught.value.message
    assert store.current_plan(plan.kol_id).objectives == []  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("typed", "due"), [("next fri", date(2026, 11, 27)), ("by fri", date(2026, 11, 27))]
)
def test_due_dates_read_like_visit_dates(plan_store, typed: str, due: date) -> None:  # type: ignore[no-untyped-def]
    store, plan = plan_store
    plan, _ = save_objective(store, plan, objective(due=typed), None, NOW)
    assert plan.objectives[0].due == due


def test_cadence_is_a_whole_number_of_days(plan_store) -> None:  # type: ignore[no-untyped-def]
    store, plan = plan_store
    with pytest.raises(PlanEditError, match=r"Cadence must be a whole number, e\.g\. 30"):
        set_cadence(store, plan, "monthly")
    with pytest.raises(PlanEditError, match="between 1 and 730 days"):
        set_cadence(store, plan, "900")
    assert set_cadence(store, plan, "45").cadence_days == 45


def test_activities_are_added_edited_done_and_deleted(plan_store) -> None:  # type: ignore[no-untyped-def]
    store, plan = plan_store
    typed = {"kind": "advisory board", "owner": "Medical Affairs", "due": "next fri"}
    plan, aid = save_activity(store, plan, {**typed, "description": "Spring board"}, None, NOW)
    plan, same = save_activity(
        store, plan, {**typed, "description": "Spring advisory board"}, aid, NOW
    )
    assert same == aid and len(plan.activities) == 1
    assert plan.activities[0].due == date(2026, 11, 27)
    plan = toggle_activity(store, plan, aid, NOW.date())
    plan = delete_activity(store, plan, aid)
    assert store.current_plan(plan.kol_id).activities == []  # type: ignore[union-attr]


def test_history_reads_like_sentences(plan_store) -> None:  # type: ignore[no-untyped-def]
    store, plan = plan_store
    plan = set_cadence(store, plan, "45")
    plan, oid = save_objective(store, plan, objective(description="Map gaps"), None, NOW)
    plan, _ = save_objective(store, plan, objective(description="Map gaps", target="5"), oid, NOW)
    plan, aid = save_activity(
        store, plan, {"kind": "visit", "description": "Clinic visit"}, None, NOW
    )
    plan = toggle_activity(store, plan, aid, NOW.date())
    plan = delete_activity(store, plan, aid)
    plan = delete_objective(store, plan, oid)
    sentences = [e.sentence for e in plan_history(store, plan.id)]
    assert sentences == [
        "objective 'Map gaps' deleted",
        "activity 'Clinic visit' deleted",
        "activity 'Clinic visit' done",
        "activity 'Clinic visit' added",
        "objective 'Map gaps': target 2 → 5",
        "objective 'Map gaps' added",
        "cadence 30 → 45 days",
        "plan created for 2026-11-23 to 2027-12-31",
    ]
    assert not any("_" in s for s in sentences)  # never a raw field name


def test_pasted_control_characters_are_taken_out_of_plan_text(plan_store) -> None:  # type: ignore[no-untyped-def]
    store, plan = plan_store
    plan, _ = save_objective(
        store, plan, objective(description="Map\x07 evidence gaps", target="2\x00"), None, NOW
    )
    assert [(o.description, o.target) for o in plan.objectives] == [("Map evidence gaps", 2)]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("15/03/2026", "Due date 15 Mar 2026 is in the past"),
        ("yesterday", "Due date 22 Nov 2026 is in the past"),
    ],
)
def test_a_due_date_in_the_past_is_refused_in_words(plan_store, typed: str, message: str) -> None:  # type: ignore[no-untyped-def]
    store, plan = plan_store
    with pytest.raises(PlanEditError) as caught:
        save_activity(store, plan, {"kind": "visit", "due": typed}, None, NOW)
    assert (caught.value.field, caught.value.message.split(":")[0]) == ("due", message)
    assert store.current_plan(plan.kol_id).activities == []  # type: ignore[union-attr]


def test_a_day_and_month_without_a_year_is_the_next_one(plan_store) -> None:  # type: ignore[no-untyped-def]
    store, plan = plan_store
    plan, _ = save_activity(store, plan, {"kind": "advisory board", "due": "15/03"}, None, NOW)
    assert plan.activities[0].due == date(2027, 3, 15)


def test_a_due_date_before_the_plan_starts_is_refused(store: Store) -> None:
    kol = store.save(Kol(name="Dr Ada Quist"))
    plan = new_plan(store, kol.id, date(2027, 1, 1))  # a plan for next year
    with pytest.raises(PlanEditError, match=r"before the plan starts \(1 Jan 2027\)"):
        save_objective(store, plan, objective(due="20/12"), None, NOW)


def test_an_overdue_activity_is_edited_without_moving_its_date(plan_store) -> None:  # type: ignore[no-untyped-def]
    store, plan = plan_store
    plan, aid = save_activity(store, plan, {"kind": "visit", "due": "30/11"}, None, NOW)
    later = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)  # now overdue
    typed = {"kind": "visit", "description": "Clinic visit", "due": "2026-11-30"}
    plan, _ = save_activity(store, plan, typed, aid, later)
    assert [(a.description, a.due) for a in plan.activities] == [
        ("Clinic visit", date(2026, 11, 30))
    ]


def test_progress_never_reads_two_of_zero(plan_store) -> None:  # type: ignore[no-untyped-def]
    _, plan = plan_store
    kol_visit = Interaction(kol_id=plan.kol_id, occurred_at=NOW)
    today = plan_progress(plan, [kol_visit], NOW.date())  # the plan started today
    assert today.summary(NOW.date()).startswith("1 contact (none expected yet) · ")
    later = plan_progress(plan, [kol_visit, kol_visit], date(2027, 2, 1))
    assert later.summary(date(2027, 2, 1)).startswith("2 contacts (3 expected) · ")
