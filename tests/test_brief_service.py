"""The pre-call brief: the relationship at a glance, built from what was logged."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from msl_tui.models import (
    Channel,
    EngagementPlan,
    Feedback,
    Insight,
    InsightCategory,
    Interaction,
    InteractionStatus,
    Kol,
    Objective,
    Sentiment,
)
from msl_tui.services import visit
from msl_tui.services.brief import answered_questions, build_brief, open_questions, summarise
from msl_tui.store import Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ASKED = "Where do your patients still struggle most?"


def _visit(kol_id: str, days_ago: int, notes: str, **fields: object) -> Interaction:
    when = NOW - timedelta(days=days_ago)
    return Interaction(
        kol_id=kol_id,
        occurred_at=when,
        notes=notes,
        status=InteractionStatus.SUBMITTED,
        submitted_at=when,
        **fields,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("notes", "answered"),
    [
        (f"Q: {ASKED}\nA: ", False),
        (f"Q: {ASKED}\nA: access to infusion chairs", True),
        (f"Q: {ASKED}\nA:\nThey wait months for a chair.", True),
        (f"Q: {ASKED}\nA: \nQ: What data would help you?\nA: real-world data", False),
    ],
)
def test_an_answer_is_whatever_follows_the_question(notes: str, answered: bool) -> None:
    assert (ASKED.lower() in answered_questions(notes)) is answered


def test_open_questions_are_neutral_unanswered_and_latest_first() -> None:
    kol_id = Kol(name="x").id
    visits = [
        _visit(kol_id, 30, "Met.", questions_asked=[ASKED]),
        _visit(kol_id, 20, "Q: What data would help you?\nA: registry data"),
        _visit(kol_id, 10, "Q: Don't you agree our drug is the best?\nA:"),
        _visit(kol_id, 5, f"Q: {ASKED}\nA:", questions_asked=[ASKED]),
    ]
    [question] = open_questions(visits)
    assert (question.text, question.last_asked, question.times_asked) == (
        ASKED,
        date(2026, 11, 18),
        2,
    )


def test_a_summary_leaves_out_prompts_and_checkboxes() -> None:
    notes = (
        f"Discussed   renal dosing.\nQ: {ASKED}\nA: chairs\n- [ ] send reprint by fri\nNext: ESC."
    )
    assert summarise(notes) == "Discussed renal dosing. Next: ESC."
    assert summarise("word " * 100).endswith("…")


def test_the_brief_gathers_the_relationship(store: Store) -> None:
    kol = store.save(Kol(name="Dr Ada Roe", preferred_channels=[Channel.PHONE_VIDEO]))
    plan = store.save(
        EngagementPlan(
            kol_id=kol.id,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
            cadence_days=30,
            objectives=[Objective(description="Understand unmet needs in CKD", target=3)],
        )
    )
    store.save(
        _visit(
            kol.id,
            40,
            "Older visit.",
            insights=[Insight(category=InsightCategory.UNMET_NEED, text="no home infusion")],
        )
    )
    store.save(
        _visit(
            kol.id,
            12,
            f"Talked renal dosing.\nQ: {ASKED}\nA: ",
            objective_id=plan.objectives[0].id,
            questions_asked=[ASKED],
            feedback=Feedback(sentiment=Sentiment.NEGATIVE, about="slow answers"),
        )
    )
    draft = visit.VisitDraft(
        kol_id=kol.id, when="2 days ago", notes="Plain chat.\n- [ ] send the reprint by fri"
    )
    visit.submit(store, draft, NOW)

    brief = build_brief(store, kol.id, NOW)
    assert brief.name == "Dr Ada Roe" and brief.channel_text == "phone/video"
    assert brief.contact_text == "last contact 2 days ago (2026-11-21)"
    assert brief.due_text == "next check-in due 2026-12-21 (in 28 days)"
    assert [v.summary for v in brief.visits] == [
        "Plain chat.",
        "Talked renal dosing.",
        "Older visit.",
    ]
    assert [f.action for f in brief.open_followups] == ["send the reprint"]
    assert [(o.description, o.progress) for o in brief.objectives] == [
        ("Understand unmet needs in CKD", "1/3 interactions")
    ]
    assert [q.text for q in brief.open_questions] == [ASKED]
    assert [(h.kind, h.text) for h in brief.heard] == [
        ("feedback (negative)", "slow answers"),
        ("unmet need", "no home infusion"),
    ]
    assert brief.unreported_adverse_events == ()


def test_a_kol_never_met_is_due_now(store: Store) -> None:
    kol = store.save(Kol(name="Dr New"))
    brief = build_brief(store, kol.id, NOW)
    assert brief.contact_text == "never contacted"
    assert brief.due_text == "check-in due now (never met)"
    assert brief.visits == () and brief.channel_text == "no preference recorded"
