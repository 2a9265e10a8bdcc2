"""The capture screen driven by keys: the fast path, own prompts, drafts kept while typing."""

from __future__ import annotations

import time

import pytest
from textual import events
from textual.widgets import TextArea

from msl_tui.models import Interaction
from msl_tui.screens.capture import CaptureScreen
from msl_tui.screens.dialogs import PromptEditor
from msl_tui.screens.kol_list import KolListScreen
from msl_tui.services.visit import draft_id_for, my_prompts
from tests.app_helpers import fixed_store, make_app, type_text, wait_for


async def _capture_for_top_kol(pilot, app) -> str:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
    kol_id: str = app.screen.rows[0].kol_id
    await pilot.press("n")
    await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
    return kol_id


async def test_the_top_kol_is_logged_with_two_keys_besides_the_text() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        kol_id = await _capture_for_top_kol(pilot, app)  # key 1: n
        await type_text(pilot, "Talked through enrolment criteria for the registry.")
        await pilot.press("ctrl+s")  # key 2
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
    saved = store.interactions_for(kol_id, limit=1)[0]
    assert saved.notes == "Talked through enrolment criteria for the registry."
    assert saved.occurred_at == make_app(store).now()


async def test_the_draft_is_saved_while_typing_without_leaving() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        kol_id = await _capture_for_top_kol(pilot, app)
        await type_text(pilot, "Half a thought, then the train\n  stopped")

        def saved_notes() -> str | None:
            payload = store.load_draft(draft_id_for(kol_id))
            return payload["notes"] if payload else None

        await wait_for(pilot, lambda: saved_notes() == "Half a thought, then the train\n  stopped")
        assert isinstance(app.screen, CaptureScreen)


async def test_an_own_prompt_is_written_offered_and_recorded_when_asked() -> None:
    store = fixed_store()
    app = make_app(store)
    question = "What would make the registry easier for your nurses?"
    async with app.run_test(size=(120, 40)) as pilot:
        kol_id = await _capture_for_top_kol(pilot, app)
        await pilot.press("f8")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptEditor))
        await type_text(pilot, question)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
        screen = app.screen
        assert isinstance(screen, CaptureScreen)
        texts = [p.text for p in screen.prompts]
        assert question in texts
        for _ in range(texts.index(question)):
            await pilot.press("ctrl+l")
        await pilot.press("ctrl+o")
        await type_text(pilot, "More nurse time.")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
    assert [p.text for p in my_prompts(store)] == [question]
    saved = store.interactions_for(kol_id, limit=1)[0]
    assert saved.questions_asked == [question]
    assert f"Q: {question}\nA: More nurse time." in saved.notes


async def test_the_prompt_editor_points_out_leading_wording() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _capture_for_top_kol(pilot, app)
        await pilot.press("f8")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptEditor))
        await type_text(pilot, "Don't you agree the data are superior?")
        hints = app.screen.query_one("#prompt-hints")

        def pointed_out() -> bool:
            shown = str(hints.render())
            return "leading" in shown and "promotional" in shown

        await wait_for(pilot, pointed_out)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
    assert my_prompts(store) == []


async def test_an_unsolicited_request_and_a_meal_are_recorded() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        kol_id = await _capture_for_top_kol(pilot, app)
        await type_text(pilot, "Lunch-and-learn on the new data.")
        await pilot.press("f4")
        await type_text(pilot, "Is it safe in dialysis patients?")
        await pilot.press("tab")
        await type_text(pilot, "meal")
        await pilot.press("tab")
        await type_text(pilot, "18.40")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
    saved: Interaction = store.interactions_for(kol_id, limit=1)[0]
    assert saved.med_info_request is not None
    assert saved.med_info_request.question == "Is it safe in dialysis patients?"
    assert saved.transfer_of_value is not None
    assert (saved.transfer_of_value.nature, str(saved.transfer_of_value.amount)) == (
        "meal",
        "18.40",
    )


async def test_the_date_is_read_as_typed_and_a_bad_one_is_marked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "UTC")  # dates are read on the local clock
    time.tzset()
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _capture_for_top_kol(pilot, app)
        when = app.screen.query_one("#when")
        await pilot.click("#when")
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "2 days ago")
        await wait_for(pilot, lambda: str(when.tooltip).startswith("Sat 21 Nov 2026"))
        assert not when.has_class("-invalid")
        await type_text(pilot, " or so")
        await wait_for(pilot, lambda: when.has_class("-invalid"))


async def test_a_leading_own_prompt_is_reworded_and_only_the_neutral_one_is_saved() -> None:
    store = fixed_store()
    app = make_app(store)
    leading = "Don't you think our drug works better?"
    neutral = "How do you see our drug compared with other options?"
    async with app.run_test(size=(80, 24)) as pilot:
        await _capture_for_top_kol(pilot, app)
        await pilot.press("f8")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptEditor))
        editor = app.screen
        await type_text(pilot, leading)
        await pilot.press("enter")
        await wait_for(pilot, lambda: editor.query_one("#prompt-text").value == neutral)  # type: ignore[attr-defined]
        assert isinstance(app.screen, PromptEditor)  # not saved, still asking
        assert my_prompts(store) == []
        await wait_for(
            pilot, lambda: "not saved as it is" in str(editor.query_one("#prompt-hints").render())
        )
        # Edited back into a leading question, it is reworded again, never saved.
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "Surely you agree?")
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, PromptEditor) and my_prompts(store) == []
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, leading)
        await pilot.press("enter")
        await wait_for(pilot, lambda: editor.query_one("#prompt-text").value == neutral)  # type: ignore[attr-defined]
        await pilot.press("enter")  # accept the rewording
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
    assert [p.text for p in my_prompts(store)] == [neutral]


@pytest.mark.parametrize(
    "leading",
    [
        "Don\u2019t you think our drug works better?",  # a typographic ’, as pasted from mail
        "You're happy with the results of our drug, aren't you?",
    ],
)
async def test_a_pasted_or_tagged_leading_prompt_is_not_saved_as_typed(leading: str) -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await _capture_for_top_kol(pilot, app)
        await pilot.press("f8")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptEditor))
        editor = app.screen
        await type_text(pilot, leading)
        await pilot.press("enter")
        await wait_for(pilot, lambda: editor.query_one("#prompt-text").value != leading)  # type: ignore[attr-defined]
        assert isinstance(app.screen, PromptEditor) and my_prompts(store) == []
        await pilot.press("enter")  # accept the rewording
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
    [saved] = my_prompts(store)
    assert saved.text.startswith("How ") and "our drug" in saved.text


async def test_a_paste_holding_a_bell_still_saves_without_it() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        kol_id = await _capture_for_top_kol(pilot, app)
        notes = app.screen.query_one("#notes", TextArea)
        app.post_message(events.Paste("Line one\twith tab \x07bell\n"))  # as the terminal sends it
        await wait_for(pilot, lambda: "\x07" in notes.text)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
    assert store.interactions_for(kol_id, limit=1)[0].notes == "Line one\twith tab bell\n"
