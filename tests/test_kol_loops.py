"""Loops started on a KOL close in the app, driven with keys as an MSL would: an adverse event
marked reported, a visit amended, a follow-up ticked and reopened, the pre-call brief."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from textual.widgets import DataTable, Input, ListView, Select, Static, TextArea

from msl_tui.app import MslApp
from msl_tui.models import FollowUp, Interaction, InteractionStatus, Kol
from msl_tui.screens.ae_report import AEReportDialog
from msl_tui.screens.amend import AmendScreen
from msl_tui.screens.brief import BriefScreen
from msl_tui.screens.kol_list import KolListScreen
from msl_tui.screens.kol_page import KolPageScreen, profile_text
from msl_tui.screens.pick import Pick
from msl_tui.services.kol_page import load_kol_page
from msl_tui.store import Store
from tests.app_helpers import FIXED_NOW, fixed_store, make_app, run_command, type_text, wait_for


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield


def _text(widget: Static) -> str:
    return str(widget.render())


def _list(app: MslApp) -> KolListScreen:
    assert isinstance(app.screen, KolListScreen)
    return app.screen


def _page(app: MslApp) -> KolPageScreen:
    assert isinstance(app.screen, KolPageScreen)
    return app.screen


async def _list_ready(pilot, app: MslApp) -> None:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))


async def _open_kol(pilot, app: MslApp, name: str) -> KolPageScreen:  # type: ignore[no-untyped-def]
    """Filter the list by name and open the KOL, as a person would."""
    await _list_ready(pilot, app)
    await pilot.press("slash")
    await type_text(pilot, name)
    await pilot.press("enter")
    await wait_for(pilot, lambda: [r.name for r in _list(app).rows] == [name])
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
    page = _page(app)
    await wait_for(pilot, lambda: page.page is not None)
    return page


def _visit_text(page: KolPageScreen, visit_id: str) -> str:
    timeline = page.query_one("#timeline", ListView)
    index = [v.id for v in page.visits].index(visit_id)
    return _text(list(timeline.children)[index].query_one(Static))


def _kol_with_followups(store: Store, *, open_at_least: int, done_at_least: int) -> Kol:
    for kol in store.list_kols():
        followups = store.followups_for(kol.id)
        opened = [f for f in followups if not f.done]
        done = [f for f in followups if f.done]
        if len(opened) >= open_at_least and len(done) >= done_at_least:
            return kol
    raise AssertionError("the demo has no such KOL")


# -- adverse events -----------------------------------------------------------------------


async def test_marking_the_ae_reported_drops_it_from_first_place_and_shows_the_hours() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _list_ready(pilot, app)
        top = _list(app).rows[0]
        assert top.ae_hours_left is not None
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        page = _page(app)
        await wait_for(pilot, lambda: page.page is not None)
        [pending] = [v for v in page.visits if v.ae_unreported()]
        assert "not reported yet: 19 h left of 24 h" in _visit_text(page, pending.id)

        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, AEReportDialog))
        await type_text(pilot, "PV desk, case 2026-0042")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))

        saved = store.get(Interaction, pending.id)
        assert saved is not None and saved.adverse_event is not None
        assert saved.adverse_event.reported_at == FIXED_NOW
        assert saved.adverse_event.reference == "PV desk, case 2026-0042"
        await wait_for(pilot, lambda: "after day zero" in _visit_text(page, pending.id))
        assert "reported 2026-11-23 09:00, 5 h after day zero (on time)" in _visit_text(
            page, pending.id
        )

        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
        await wait_for(pilot, lambda: _list(app).rows[0].kol_id != top.kol_id)
        row = next(r for r in _list(app).rows if r.kol_id == top.kol_id)
        assert row.ae_hours_left is None
        assert all(r.ae_hours_left is None for r in _list(app).rows)


async def test_from_the_list_a_late_report_with_an_earlier_day_zero_says_late() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await _list_ready(pilot, app)
        top = _list(app).rows[0]
        await run_command(pilot, "Mark adverse event reported")
        await wait_for(pilot, lambda: isinstance(app.screen, AEReportDialog))
        dialog = app.screen
        assert isinstance(dialog, AEReportDialog)
        # To whom, then the report time, the note, and day zero (typing replaces each field).
        await type_text(pilot, "PV desk")
        await pilot.press("tab")
        await type_text(pilot, "now")
        await pilot.press("tab", "tab")
        await type_text(pilot, "21/11 08:00")
        await wait_for(
            pilot, lambda: "late: 49 h" in _text(dialog.query_one("#ae-preview", Static))
        )
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
        await wait_for(pilot, lambda: _list(app).rows[0].kol_id != top.kol_id)

        await pilot.press("slash")
        await type_text(pilot, top.name)
        await pilot.press("enter")
        await wait_for(pilot, lambda: [r.kol_id for r in _list(app).rows] == [top.kol_id])
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        page = _page(app)
        await wait_for(pilot, lambda: bool(page.visits))
        reported = next(v for v in page.visits if v.adverse_event)
        assert "reported 2026-11-23 09:00, late: 49 h after day zero" in _visit_text(
            page, reported.id
        )


async def test_a_report_needs_to_whom_and_says_so_in_words() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await _list_ready(pilot, app)
        await run_command(pilot, "Mark adverse event reported")
        await wait_for(pilot, lambda: isinstance(app.screen, AEReportDialog))
        await pilot.press("ctrl+s")
        dialog = app.screen
        error = dialog.query_one("#ae-to-error", Static)
        await wait_for(pilot, lambda: error.display)
        assert "say to whom it went" in _text(error)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
        assert _list(app).rows[0].ae_hours_left is not None  # nothing was written


async def test_follow_up_information_is_added_to_the_reported_event() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _list_ready(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        page = _page(app)
        await wait_for(pilot, lambda: bool(page.visits))
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, AEReportDialog))
        await type_text(pilot, "PV desk")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        # On the timeline, the highlighted visit's event takes the follow-up.
        await pilot.press("tab", "tab")
        await wait_for(pilot, lambda: page.highlighted_visit() is not None)
        visit = page.highlighted_visit()
        assert visit is not None and visit.adverse_event is not None
        await pilot.press("i")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "AEFollowUpDialog")
        await type_text(pilot, "Patient discharged, rash resolved")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "rash resolved" in _visit_text(page, visit.id))
        stored = store.get(Interaction, visit.id)
        assert stored is not None and stored.notes == visit.notes
        assert stored.adverse_event is not None
        assert stored.adverse_event.followups[-1].text == "Patient discharged, rash resolved"


# -- amendments ---------------------------------------------------------------------------


async def test_amending_a_visit_needs_a_reason_and_keeps_the_earlier_text() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await _list_ready(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        page = _page(app)
        await wait_for(pilot, lambda: bool(page.visits))
        await pilot.press("tab", "tab", "down")  # the second visit on the timeline
        await wait_for(pilot, lambda: page.highlighted_visit() == page.visits[1])
        original = page.visits[1]

        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AmendScreen))
        amend = app.screen
        await type_text(pilot, "Corrected: ")
        await pilot.press("ctrl+s")
        error = amend.query_one("#amend-error", Static)
        await wait_for(pilot, lambda: "Say why it changes" in _text(error))
        assert store.get(Interaction, original.id) == original  # nothing saved yet

        await type_text(pilot, "the dose was typed wrong")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        stored = store.get(Interaction, original.id)
        assert stored is not None
        assert stored.status is InteractionStatus.AMENDED
        assert stored.notes == "Corrected: " + original.notes
        [entry] = stored.amendments
        assert (entry.previous_notes, entry.reason) == (original.notes, "the dose was typed wrong")
        await wait_for(pilot, lambda: "earlier (" in _visit_text(page, original.id))
        assert "the dose was typed wrong" in _visit_text(page, original.id)


async def test_a_visit_logged_at_the_wrong_time_and_channel_is_corrected_and_the_old_kept() -> None:
    """The time and channel are corrected the way the text is: reason required, what the
    record said before kept beside it, the text itself untouched."""
    from datetime import timedelta

    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await _list_ready(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        page = _page(app)
        await wait_for(pilot, lambda: bool(page.visits))
        await pilot.press("tab", "tab")
        await wait_for(pilot, lambda: page.highlighted_visit() == page.visits[0])
        original = page.visits[0]

        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AmendScreen))
        amend = app.screen
        await pilot.press("shift+tab", "shift+tab")  # from the text back to the time
        when = amend.query_one("#amend-when", Input)
        await wait_for(pilot, lambda: when.has_focus)
        await pilot.press("ctrl+u")
        await type_text(pilot, "tomorrow 9am")
        await pilot.press("f6")
        await type_text(pilot, "typo in the time")
        await pilot.press("enter")
        error = amend.query_one("#amend-error", Static)
        await wait_for(pilot, lambda: "cannot be in the future" in _text(error))
        assert store.get(Interaction, original.id) == original  # nothing saved

        await pilot.press("shift+tab", "shift+tab", "shift+tab", "shift+tab")
        await wait_for(pilot, lambda: when.has_focus)
        await pilot.press("ctrl+u")
        await type_text(pilot, "yesterday 4:15pm")
        await pilot.press("tab")  # then the channel
        channel = amend.query_one("#amend-channel", Select)
        await wait_for(pilot, lambda: channel.has_focus)
        await pilot.press("enter", "down", "enter")
        await wait_for(pilot, lambda: channel.value != original.channel)
        picked = channel.value
        await pilot.press("f6", "enter")  # the reason typed before is still there
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))

        stored = store.get(Interaction, original.id)
        assert stored is not None
        expected = (FIXED_NOW - timedelta(days=1)).replace(hour=16, minute=15)
        assert (stored.occurred_at, stored.channel) == (expected, picked)
        assert stored.notes == original.notes
        [entry] = stored.amendments
        assert entry.previous_occurred_at == original.occurred_at
        assert entry.previous_channel == original.channel
        assert entry.reason == "typo in the time"
        await wait_for(pilot, lambda: "earlier (" in _visit_text(page, original.id))
        shown = _visit_text(page, original.id)
        assert f"channel {original.channel.value}" in shown
        assert original.occurred_at.strftime("%Y-%m-%d %H:%M") in shown


async def test_f6_moves_from_the_text_to_the_reason_without_touching_the_text() -> None:
    # QA 10: TextArea's own f6 (select line) won, and the reason typed next replaced a line.
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await _list_ready(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        page = _page(app)
        await wait_for(pilot, lambda: bool(page.visits))
        await pilot.press("tab", "tab")
        await wait_for(pilot, lambda: page.highlighted_visit() is not None)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AmendScreen))
        amend = app.screen
        text = amend.query_one("#amend-text", TextArea)
        assert text.has_focus
        # Shown in the footer from the start, while the text has focus.
        assert amend.active_bindings["f6"].binding.action == "focus_reason"
        text.move_cursor(text.document.end)
        await pilot.press("enter")
        await type_text(pilot, "- [ ] call her back by mon")
        await pilot.press("f6")
        await type_text(pilot, "door")
        reason = amend.query_one("#amend-reason", Input)
        await wait_for(pilot, lambda: reason.value == "door")
        assert text.text.endswith("\n- [ ] call her back by mon")
        assert "door" not in text.text


async def test_amend_visit_from_the_palette_on_the_list_offers_the_visits() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await _list_ready(pilot, app)
        top = _list(app).rows[0]
        await run_command(pilot, "Amend visit")
        await wait_for(pilot, lambda: isinstance(app.screen, Pick))
        await pilot.press("enter")  # the newest visit
        await wait_for(pilot, lambda: isinstance(app.screen, AmendScreen))
        amend = app.screen
        assert isinstance(amend, AmendScreen)
        assert amend.visit.kol_id == top.kol_id
        assert amend.visit.id == store.interactions_for(top.kol_id, limit=1)[0].id
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))


# -- follow-ups ---------------------------------------------------------------------------


async def test_x_twice_on_one_follow_up_ticks_it_then_reopens_it_under_the_cursor() -> None:
    store = fixed_store()
    kol = _kol_with_followups(store, open_at_least=2, done_at_least=0)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        page = await _open_kol(pilot, app, kol.name)
        table = page.query_one("#followups", DataTable)
        first, second = page.rows["open"][:2]
        assert table.cursor_row == 0

        assert page.active_bindings["x"].binding.description == "Tick"
        await pilot.press("x")
        await wait_for(pilot, lambda: store.get(FollowUp, first.id).done)  # type: ignore[union-attr]
        await wait_for(pilot, lambda: page.rows["open"][0].done)
        await wait_for(pilot, lambda: page.active_bindings["x"].binding.description == "Reopen")
        assert page.rows["open"][0].id == first.id and table.cursor_row == 0
        assert "1 just ticked" in _text(page.query_one("#open-title", Static))

        await pilot.press("x")
        await wait_for(pilot, lambda: not store.get(FollowUp, first.id).done)  # type: ignore[union-attr]
        await wait_for(pilot, lambda: not page.rows["open"][0].done)
        assert page.rows["open"][0].id == first.id and table.cursor_row == 0
        assert not store.get(FollowUp, second.id).done  # type: ignore[union-attr]
        assert "Open follow-ups (" in _text(page.query_one("#open-title", Static))


async def test_a_done_follow_up_is_reachable_and_reopens_from_done() -> None:
    store = fixed_store()
    kol = _kol_with_followups(store, open_at_least=0, done_at_least=2)
    done_count = sum(1 for f in store.followups_for(kol.id) if f.done)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        page = await _open_kol(pilot, app, kol.name)
        assert f"Done ({done_count})" in _text(page.query_one("#done-title", Static))
        done_table = page.query_one("#done-followups", DataTable)
        await pilot.press("tab")
        await wait_for(pilot, lambda: done_table.has_focus)
        await pilot.press("down")
        target = page.rows["done"][1]
        # The footer says what x does here (QA 10: it said "Tick" on a done row).
        await wait_for(pilot, lambda: page.active_bindings["x"].binding.description == "Reopen")

        await pilot.press("x")
        await wait_for(pilot, lambda: not store.get(FollowUp, target.id).done)  # type: ignore[union-attr]
        await wait_for(pilot, lambda: not page.rows["done"][1].done)
        assert page.rows["done"][1].id == target.id and done_table.cursor_row == 1
        assert f"Done ({done_count - 1})" in _text(page.query_one("#done-title", Static))

        await pilot.press("x")  # and done again
        await wait_for(pilot, lambda: store.get(FollowUp, target.id).done)  # type: ignore[union-attr]


async def test_reopen_follow_up_from_the_palette_on_the_list() -> None:
    store = fixed_store()
    kol = _kol_with_followups(store, open_at_least=0, done_at_least=1)
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _list_ready(pilot, app)
        await pilot.press("slash")
        await type_text(pilot, kol.name)
        await pilot.press("enter")
        await wait_for(pilot, lambda: [r.kol_id for r in _list(app).rows] == [kol.id])
        done = [f for f in store.followups_for(kol.id) if f.done]
        await run_command(pilot, "Reopen follow-up")
        if len(done) > 1:
            await wait_for(pilot, lambda: isinstance(app.screen, Pick))
            await pilot.press("enter")
        await wait_for(
            pilot, lambda: sum(1 for f in store.followups_for(kol.id) if f.done) == len(done) - 1
        )


# -- the brief ----------------------------------------------------------------------------

BRIEF_TITLES = (
    "Last visits",
    "Open follow-ups (",
    "Objectives and progress",
    "Questions asked before, still unanswered",
    "Heard recently",
)


async def test_b_on_the_list_opens_the_brief_with_every_section() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(80, 24)) as pilot:
        await _list_ready(pilot, app)
        top = _list(app).rows[0]
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BriefScreen))
        brief = app.screen
        assert isinstance(brief, BriefScreen)
        await wait_for(pilot, lambda: brief.brief is not None)
        shown = "\n".join(_text(s) for s in brief.query(Static))
        assert top.name in shown
        for title in BRIEF_TITLES:
            assert title in shown
        assert "Prefers:" in shown and "last contact" in shown and "check-in" in shown
        assert "Adverse event:" in shown  # the unreported one, first
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))


async def test_b_on_the_kol_page_and_the_palette_open_the_brief() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(120, 40)) as pilot:
        await _list_ready(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        kol_id = _page(app).current_kol_id
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BriefScreen))
        assert app.screen.current_kol_id == kol_id  # type: ignore[attr-defined]
        await pilot.press("k")  # back to the KOL page it came from
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        await run_command(pilot, "Pre-call brief")
        await wait_for(pilot, lambda: isinstance(app.screen, BriefScreen))


async def test_store_text_shows_literally_never_as_markup() -> None:
    store = fixed_store(kols=3)
    kol = store.save(Kol(name="Dr [b]Bold[/b] Roe", institution="[red]Clinic"))
    store.save(FollowUp(kol_id=kol.id, action="send [i]reprint"))
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        page = await _open_kol(pilot, app, kol.name)
        assert "Dr [b]Bold[/b] Roe" in _text(page.query_one("#profile", Static))
        assert "[red]Clinic" in _text(page.query_one("#profile", Static))
        timeline = page.query_one("#timeline", ListView)
        await wait_for(pilot, lambda: len(timeline.children) == 1)
        assert "No contacts yet" in _text(timeline.query_one(Static))
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BriefScreen))
        brief = app.screen
        await wait_for(pilot, lambda: brief.brief is not None)  # type: ignore[attr-defined]
        shown = "\n".join(_text(s) for s in brief.query(Static))
        assert "Dr [b]Bold[/b] Roe" in shown and "send [i]reprint" in shown


async def test_a_report_is_corrected_or_undone_from_its_visit_on_the_timeline() -> None:
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _list_ready(pilot, app)
        top = _list(app).rows[0]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        page = _page(app)
        await wait_for(pilot, lambda: bool(page.visits))
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, AEReportDialog))
        await type_text(pilot, "PV desk")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        await wait_for(pilot, lambda: not any(v.ae_unreported() for v in page.visits))

        await pilot.press("tab", "tab")  # the newest visit, the one reported
        await wait_for(pilot, lambda: page.highlighted_visit() is not None)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, AEReportDialog))
        dialog = app.screen
        assert isinstance(dialog, AEReportDialog) and dialog.correcting
        assert dialog.query_one("#ae-to").value == "PV desk"  # type: ignore[attr-defined]
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        await wait_for(pilot, lambda: any(v.ae_unreported() for v in page.visits))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
        await wait_for(pilot, lambda: _list(app).rows[0].kol_id == top.kol_id)
        assert _list(app).rows[0].ae_hours_left is not None


async def test_an_adverse_event_told_in_an_amendment_is_questioned_and_recorded() -> None:
    """A correction that adds "an overdose" to a visit asks the adverse-event question a new
    note asks; yes records the event with day zero at the visit, and the list ranks it."""
    store = fixed_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _list_ready(pilot, app)
        rows = _list(app).rows
        plain = next(
            r
            for r in rows[5:]
            if not any(i.adverse_event for i in store.interactions_for(r.kol_id))
        )
        page = await _open_kol(pilot, app, plain.name)
        await wait_for(pilot, lambda: bool(page.visits))
        await pilot.press("tab", "tab")
        await wait_for(pilot, lambda: page.highlighted_visit() is not None)
        visit = page.highlighted_visit()
        assert visit is not None and visit.adverse_event is None
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AmendScreen))
        await type_text(pilot, "A patient took an overdose of the product. ")
        await pilot.press("tab")
        await type_text(pilot, "added what the KOL said at the door")
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "Choice")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        stored = store.get(Interaction, visit.id)
        assert stored is not None and stored.adverse_event is not None
        assert stored.adverse_event.day_zero == visit.occurred_at
        assert stored.adverse_event.reported_at is None
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
        await wait_for(
            pilot,
            lambda: (
                _list(app).rows[0].kol_id == plain.kol_id
                or any(
                    r.kol_id == plain.kol_id and r.ae_hours_left is not None
                    for r in _list(app).rows
                )
            ),
        )


@pytest.mark.parametrize(
    ("institution", "city", "where"),
    [
        ("Nordvik University Hospital", "", "· Nordvik University Hospital"),
        ("Nordvik University Hospital", "Nordvik", "· Nordvik University Hospital, Nordvik"),
        ("", "Nordvik", "· Nordvik"),
    ],
)
def test_the_kol_header_has_no_dangling_comma(
    store: Store, institution: str, city: str, where: str
) -> None:
    kol = store.save(
        Kol(name="Dr Ada Roe", specialty="Oncology", institution=institution, city=city)
    )
    header = profile_text(load_kol_page(store, kol.id, FIXED_NOW)).plain.splitlines()[0]
    assert header.endswith(where)
