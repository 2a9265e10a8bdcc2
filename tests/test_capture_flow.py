"""Logging a visit the way an MSL does: keys only, then check what the store holds."""

from __future__ import annotations

from msl_tui.models import FollowUp, Interaction, Sentiment
from msl_tui.screens.capture import CaptureScreen
from msl_tui.screens.kol_list import KolListScreen
from tests.app_helpers import fixed_store, make_app, type_text, wait_for


def newest_interaction(store, kol_id: str) -> Interaction:  # type: ignore[no-untyped-def]
    return store.interactions_for(kol_id, limit=1)[0]


async def test_a_whole_visit_typed_with_keys_lands_in_the_store() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        kol_id = app.screen.rows[0].kol_id  # type: ignore[attr-defined]
        before = store.count(Interaction)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
        assert app.focused is not None and app.focused.id == "notes"
        await type_text(
            pilot,
            "Discussed dosing in frail patients.\n"
            "- [ ] send the trial reprint by fri\n"
            "One patient was hospitalised with a rash.\n",
        )
        await pilot.press("ctrl+o")  # insert the highlighted neutral question
        await type_text(pilot, "They want more renal data.")
        # Negative feedback, about one thing, root cause not yet known.
        await pilot.press("f2", "enter", "down", "down", "down", "enter")
        await pilot.press("tab")
        await type_text(pilot, "slow answers from medical information")
        title = app.screen.query_one("#prompt-title")
        await wait_for(pilot, lambda: "root cause" in str(title.render()))
        await pilot.press("ctrl+s")  # the AE question comes first
        await wait_for(pilot, lambda: type(app.screen).__name__ == "Choice")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
        await type_text(pilot, "adult male")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))

        assert store.count(Interaction) == before + 1
        saved = newest_interaction(store, kol_id)
        assert "Discussed dosing in frail patients." in saved.notes
        assert saved.questions_asked and saved.questions_asked[0] in saved.notes
        assert saved.feedback is not None and saved.feedback.sentiment is Sentiment.NEGATIVE
        assert saved.feedback.about == "slow answers from medical information"
        assert saved.adverse_event is not None
        assert saved.adverse_event.patient == "adult male"
        assert saved.adverse_event.reported_at is None
        followups = [f for f in store.followups_for(kol_id) if f.interaction_id == saved.id]
        assert [(f.action, f.due.isoformat() if f.due else None) for f in followups] == [
            ("send the trial reprint", "2026-11-27")
        ]
        assert store.list_drafts() == []


async def test_escape_with_text_asks_and_keeping_the_draft_brings_it_back() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
        await type_text(pilot, "Half-written thought about biomarkers")
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "Choice")
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
        assert app.screen.query_one("#notes").text == "Half-written thought about biomarkers"


async def test_an_empty_note_is_refused_on_the_field_and_nothing_is_written() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        before = store.count(Interaction), store.count(FollowUp)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        error = str(app.screen.query_one("#form-error").render())
        assert error == "! Note: the note is empty: write what was discussed"
        assert (store.count(Interaction), store.count(FollowUp)) == before


async def test_a_bad_date_keeps_every_typed_character() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
        await type_text(pilot, "Notes that must survive")
        when = app.screen.query_one("#when")
        when.focus()
        await pilot.press("ctrl+a", "ctrl+e")
        when.value = "the day after never"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        error = str(app.screen.query_one("#form-error").render())
        assert error.startswith("! When: cannot read 'the day after never'")
        assert app.screen.query_one("#notes").text == "Notes that must survive"
        assert store.load_draft(app.screen.draft.draft_id)["when"] == "the day after never"  # type: ignore[attr-defined,index]


async def test_a_saved_draft_is_offered_back_when_the_app_starts() -> None:
    store = fixed_store()
    kol = store.list_kols()[0]
    store.save_draft(f"visit:{kol.id}", kol.id, {"kol_id": kol.id, "notes": "left unsent"})
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "Choice")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
        assert app.screen.query_one("#notes").text == "left unsent"
