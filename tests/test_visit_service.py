"""The capture service: defaults, drafts kept as typed, one-transaction submit, own prompts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from msl_tui.models import Channel, FollowUp, Interaction, Kol, Sentiment
from msl_tui.models.enums import PromptPurpose
from msl_tui.services import visit
from msl_tui.services.prompts import suggest_prompts
from msl_tui.store import Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def kol(store: Store) -> Kol:
    return store.save(Kol(name="Dr Ada Roe", preferred_channels=[Channel.PHONE_VIDEO]))


def _visit(kol_id: str, **fields: object) -> visit.VisitDraft:
    draft = visit.VisitDraft(kol_id=kol_id, when="yesterday 3pm", notes="Discussed dosing.")
    for name, value in fields.items():
        setattr(draft, name, value)
    return draft


def test_a_new_visit_takes_the_preferred_channel(store: Store, kol: Kol) -> None:
    draft = visit.new_visit(store, kol.id, NOW)
    assert (draft.channel, draft.notes) == (Channel.PHONE_VIDEO.value, "")


def test_the_visit_time_is_fixed_when_capture_opens(store: Store, kol: Kol) -> None:
    draft = visit.new_visit(store, kol.id, NOW)
    assert draft.when == NOW.astimezone().strftime("%Y-%m-%d %H:%M")
    assert draft.opened_at == "2026-11-23T09:00:00Z"
    draft.notes = "Discussed dosing."
    # Finished and submitted an hour and a half later: the visit is still at 09:00.
    saved = visit.submit(store, draft, NOW + timedelta(minutes=90))
    assert saved.occurred_at == NOW


def test_relative_words_count_from_when_capture_opened(store: Store, kol: Kol) -> None:
    draft = visit.new_visit(store, kol.id, NOW)
    draft.when, draft.notes = "2 hours ago", "Discussed dosing."
    visit.save_draft(store, draft)
    restored, _ = visit.load_or_new(store, kol.id, NOW + timedelta(days=1))
    saved = visit.submit(store, restored, NOW + timedelta(days=1))
    assert saved.occurred_at == NOW - timedelta(hours=2)


def test_without_a_preference_the_last_channel_is_the_default(store: Store) -> None:
    kol = store.save(Kol(name="Dr Bo Lin"))
    assert visit.new_visit(store, kol.id).channel == Channel.IN_PERSON.value
    visit.submit(store, _visit(kol.id, channel=Channel.EMAIL.value), NOW)
    assert visit.new_visit(store, kol.id).channel == Channel.EMAIL.value


def test_the_open_plan_objective_is_the_default(demo_store: Store) -> None:
    for kol in demo_store.list_kols():
        plan = demo_store.current_plan(kol.id)
        if plan is not None and plan.open_objectives():
            draft = visit.new_visit(demo_store, kol.id)
            assert draft.objective_id == plan.open_objectives()[0].id
            return
    pytest.fail("the demo has no KOL with an open objective")


def test_a_draft_comes_back_exactly_as_typed(store: Store, kol: Kol) -> None:
    draft = _visit(
        kol.id,
        notes="  Trailing spaces \n\n- [ ] send the reprint by fri\n\tümlaut ✓ ",
        when="21/11 14:30",
        tov_amount="12,5",
        insights=[["unmet need", "no home infusion"]],
    )
    visit.save_draft(store, draft)
    back, restored = visit.load_or_new(store, kol.id)
    assert restored and back == draft


def test_a_draft_with_nothing_typed_is_no_note_to_announce(store: Store, kol: Kol) -> None:
    """QA: capture opened, then a crash, left a draft of defaults only; reopening said
    "your unsent note is back" over an empty note."""
    blank = visit.new_visit(store, kol.id, NOW)
    visit.save_draft(store, blank)
    back, restored = visit.load_or_new(store, kol.id, NOW)
    assert back == blank and not restored
    assert visit.saved_drafts(store) == []


def test_a_draft_with_only_an_adverse_event_fact_is_offered_back(store: Store, kol: Kol) -> None:
    draft = visit.new_visit(store, kol.id, NOW)
    draft.ae_patient = "woman, 60s"  # typed before the note: it must not be dropped
    visit.save_draft(store, draft)
    back, restored = visit.load_or_new(store, kol.id, NOW)
    assert restored and back.ae_patient == "woman, 60s"
    assert [d.draft.kol_id for d in visit.saved_drafts(store)] == [kol.id]


def test_submit_writes_the_visit_and_its_follow_ups_and_drops_the_draft(
    store: Store, kol: Kol
) -> None:
    draft = _visit(
        kol.id,
        notes="Asked about practice.\n- [ ] send the trial reprint by fri\n- [x] call back",
        prompts_used=["How does your team currently decide when to start treatment?"],
        feedback_sentiment=Sentiment.NEGATIVE.value,
        feedback_about="slow answers from medical information",
        request_question="Can it be given to children under 12?",
    )
    visit.save_draft(store, draft)
    saved = visit.submit(store, draft, NOW)

    stored = store.get(Interaction, saved.id)
    assert stored is not None
    assert stored.status.value == "submitted"
    assert stored.questions_asked == draft.prompts_used
    assert stored.feedback is not None and stored.feedback.sentiment is Sentiment.NEGATIVE
    assert stored.med_info_request is not None
    assert stored.med_info_request.question == "Can it be given to children under 12?"
    followups = {f.action: f for f in store.followups_for(kol.id)}
    assert followups["send the trial reprint"].due == datetime(2026, 11, 27).date()
    assert followups["call back"].done
    assert all(f.interaction_id == saved.id for f in followups.values())
    assert store.load_draft(draft.draft_id) is None


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("when", {"when": "the day after the big storm"}),
        ("when", {"when": "in 3 days"}),
        ("duration", {"duration": "half an hour"}),
        ("notes", {"notes": "   "}),
        ("channel", {"channel": "carrier pigeon"}),
        ("transfer amount", {"tov_nature": "meal", "tov_amount": "forty"}),
        ("adverse event", {"notes": "Her patient was hospitalised with a rash after dose 2."}),
    ],
)
def test_a_refused_visit_names_the_field_and_changes_nothing(
    store: Store, kol: Kol, field: str, changes: dict[str, object]
) -> None:
    draft = _visit(kol.id, **changes)
    visit.save_draft(store, draft)
    with pytest.raises(visit.VisitError) as error:
        visit.submit(store, draft, NOW)
    assert error.value.field == field
    assert store.interactions_for(kol.id) == []
    # The draft stays as typed (announced as a note back when it holds any text).
    assert visit.load_or_new(store, kol.id) == (draft, draft.has_text())


def test_a_failure_half_way_leaves_no_partial_visit(
    store: Store, kol: Kol, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = _visit(kol.id, notes="Visit.\n- [ ] send the reprint by fri")
    visit.save_draft(store, draft)
    real_save = store.save

    def save_but_fail_on_followups(record):  # type: ignore[no-untyped-def]
        if isinstance(record, FollowUp):
            raise OSError("disk full")
        return real_save(record)

    monkeypatch.setattr(store, "save", save_but_fail_on_followups)
    with pytest.raises(OSError):
        visit.submit(store, draft, NOW)
    monkeypatch.undo()
    assert store.interactions_for(kol.id) == []
    assert store.load_draft(draft.draft_id) is not None


def test_a_confirmed_adverse_event_starts_its_clock_until_reported(store: Store, kol: Kol) -> None:
    draft = _visit(
        kol.id,
        when="yesterday 3pm",
        notes="A patient had a severe rash after the second dose.",
        ae_confirmed="yes",
        ae_patient="woman, 60s",
        ae_product="the product",
        ae_event="severe rash",
    )
    saved = visit.submit(store, draft, NOW)
    event = saved.adverse_event
    assert event is not None and event.reported_at is None
    assert event.day_zero == saved.occurred_at
    assert (event.patient, event.event) == ("woman, 60s", "severe rash")

    reported = visit.mark_ae_reported(store, saved.id, NOW + timedelta(hours=1), "PV-2026-118")
    stored = store.get(Interaction, reported.id)
    assert stored is not None and stored.adverse_event is not None
    assert stored.adverse_event.reference == "PV-2026-118"
    assert stored.adverse_event.reported_at == NOW + timedelta(hours=1)


def test_a_dismissed_mention_submits_without_an_adverse_event(store: Store, kol: Kol) -> None:
    draft = _visit(kol.id, notes="They had a rash of new referrals.", ae_confirmed="no")
    assert visit.submit(store, draft, NOW).adverse_event is None


def test_marking_a_visit_without_an_adverse_event_is_refused(store: Store, kol: Kol) -> None:
    saved = visit.submit(store, _visit(kol.id), NOW)
    with pytest.raises(visit.VisitError):
        visit.mark_ae_reported(store, saved.id, NOW, "PV-1")


def test_a_transfer_of_value_keeps_the_disclosure_fields(store: Store, kol: Kol) -> None:
    draft = _visit(kol.id, tov_nature="meal", tov_amount="42.50", tov_currency="eur")
    tov = visit.submit(store, draft, NOW).transfer_of_value
    assert tov is not None
    assert (tov.nature, tov.amount, tov.currency, tov.recipient) == (
        "meal",
        Decimal("42.50"),
        "EUR",
        "Dr Ada Roe",
    )
    assert tov.date == (NOW - timedelta(days=1)).astimezone().date()


def test_own_prompts_are_added_edited_and_removed(store: Store) -> None:
    mine = visit.add_prompt(store, "unmet needs", "  What gets in the   way today? ", NOW)
    assert mine.text == "What gets in the way today?" and not mine.builtin
    offered = suggest_prompts(custom=visit.my_prompts(store))
    unmet = [p for p in offered if p.purpose is PromptPurpose.UNMET_NEEDS]
    assert unmet[0] == mine  # own prompts come before the built-in ones of their purpose

    visit.edit_prompt(store, mine.id, "evaluate the relationship", "How are we doing?")
    assert [(p.purpose, p.text) for p in visit.my_prompts(store)] == [
        (PromptPurpose.RELATIONSHIP, "How are we doing?")
    ]
    visit.remove_prompt(store, mine.id)
    assert visit.my_prompts(store) == []


@pytest.mark.parametrize(
    ("purpose", "text"),
    [("unmet needs", "  "), ("gossip", "What else?"), ("unmet needs", "x" * 301)],
)
def test_a_bad_own_prompt_is_refused(store: Store, purpose: str, text: str) -> None:
    with pytest.raises(visit.VisitError):
        visit.add_prompt(store, purpose, text, NOW)
    assert visit.my_prompts(store) == []


@pytest.mark.parametrize(
    ("text", "neutral"),
    [
        (
            "Don't you think our drug works better?",
            "How do you see our drug compared with other options?",
        ),
        ("Isn't it the safest option?", "How do you see this option compared with other options?"),
    ],
)
def test_a_leading_own_prompt_is_never_saved_and_a_rewording_is_offered(
    store: Store, text: str, neutral: str
) -> None:
    with pytest.raises(visit.LeadingPromptError) as caught:
        visit.add_prompt(store, "unmet needs", text, NOW)
    assert caught.value.suggestion == neutral
    assert visit.my_prompts(store) == []
    visit.add_prompt(store, "unmet needs", caught.value.suggestion, NOW)
    assert [p.text for p in visit.my_prompts(store)] == [neutral]


def test_built_in_prompts_cannot_be_edited(store: Store) -> None:
    with pytest.raises(visit.VisitError):
        visit.edit_prompt(store, "practice-1", "unmet needs", "Anything else?")


def test_pasted_control_characters_are_taken_out_and_the_visit_saves(
    store: Store, kol: Kol
) -> None:
    # QA 10: a pasted BEL blocked the save with "Visit: check this value"; colour codes
    # from a terminal paste left "[31m" in the note.
    pasted = "Line one\twith tab \x07bell\n\x1b[31mred\x1b[0m text\x85"
    draft = _visit(kol.id, notes=pasted, feedback_sentiment="neutral", feedback_about="dose\x07")
    saved = visit.submit(store, draft, NOW)
    assert saved.notes == "Line one\twith tab bell\nred text"
    assert saved.feedback is not None and saved.feedback.about == "dose"


def test_a_refusal_from_the_records_names_the_field_in_words(store: Store, kol: Kol) -> None:
    with pytest.raises(visit.VisitError) as error:
        visit.submit(store, _visit(kol.id, notes="x" * 100_001), NOW)
    assert error.value.message.startswith("the note is too long")
    assert "this value" not in error.value.message
