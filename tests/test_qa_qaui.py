"""QA (qaui): a fast typist's keys, and what a kept capture screen carries between visits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.widgets import Input, TextArea

from msl_tui.app import MslApp
from msl_tui.demo import seed_demo
from msl_tui.screens.capture import CaptureScreen
from msl_tui.settings import Settings
from msl_tui.store import Store
from tests.app_helpers import settle, type_text

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "msl.db")
    seed_demo(s, kols=6, years=0.3, now=NOW)
    return s


def _app(store: Store) -> MslApp:
    return MslApp(store, now=lambda: NOW, settings=Settings())


def _burst(app: MslApp, text: str) -> None:
    """Keys as a terminal delivers a fast typist's burst: all queued before any is handled."""
    for ch in text:
        app.post_message(events.Key(_character_to_key(ch), ch))


def _notes(app: MslApp) -> str | None:
    found = app.screen.query("#notes")
    return found.first(TextArea).text if found else None


def _field(app: MslApp, selector: str) -> str | None:
    found = app.screen.query(selector)
    return found.first(Input).value if found else None


async def _wait_for_list(app: MslApp, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(100):
        if getattr(app.screen, "current_kol_id", None):
            return
        await pilot.pause(0.05)
    raise AssertionError("the KOL list never highlighted a KOL")


@pytest.mark.parametrize("opens", [1, 2])
async def test_keys_typed_right_after_n_reach_the_note(store: Store, opens: int) -> None:
    """`n` then the first words at typing speed: not one key may be lost, on the first
    capture (a new screen) nor on the kept one."""
    app = _app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await _wait_for_list(app, pilot)
        for _ in range(opens - 1):  # a visit opened and left empty before: the kept screen
            await pilot.press("n")
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
        _burst(app, "nhello world")
        await settle(pilot, lambda: _notes(app) == "hello world")
        assert isinstance(app.screen, CaptureScreen)
        assert app.screen.query_one("#notes", TextArea).text == "hello world"


async def test_escape_after_typing_asks_to_keep(store: Store) -> None:
    app = _app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await _wait_for_list(app, pilot)
        await pilot.press("n")
        await pilot.pause()
        await type_text(pilot, "abc")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CaptureScreen), app.screen


async def test_nothing_of_kol_a_visit_shows_or_is_saved_on_kol_b(store: Store) -> None:
    """A's visit left as a draft on the kept capture screen, then B's: B starts blank
    (text, feedback, AE answers, undo history) and A's draft comes back whole."""
    from textual.widgets import Input, Select

    from msl_tui.services.visit import load_or_new

    app = _app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await _wait_for_list(app, pilot)
        kol_a = app.screen.current_kol_id  # type: ignore[attr-defined]
        await pilot.press("n")
        await pilot.pause()
        await type_text(pilot, "note for a")
        await pilot.press("f2")
        await pilot.pause()
        cap = app.screen
        assert isinstance(cap, CaptureScreen)
        cap.query_one("#fb-sentiment", Select).value = "negative"
        await pilot.press("tab")
        await type_text(pilot, "dosing")  # fb-about
        await pilot.press("f3")
        await type_text(pilot, "65 yo man")
        await pilot.press("f4")
        await type_text(pilot, "off label q")
        await pilot.pause(0.3)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("k")
        await pilot.pause()
        await pilot.press("down")
        await pilot.pause()
        kol_b = app.screen.current_kol_id  # type: ignore[attr-defined]
        assert kol_b != kol_a
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is cap and cap.current_kol_id == kol_b
        assert cap.query_one("#notes", TextArea).text == ""
        assert cap.query_one("#fb-sentiment", Select).value is Select.NULL
        for field in ("fb-about", "ae-patient", "request"):
            assert cap.query_one(f"#{field}", Input).value == "", field
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert cap.query_one("#notes", TextArea).text == ""
        await type_text(pilot, "b text")
        await pilot.pause(0.3)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("k")
        await pilot.pause()
        draft_b, _ = load_or_new(store, kol_b, NOW)
        assert draft_b.notes == "b text"
        assert (draft_b.feedback_sentiment, draft_b.feedback_about, draft_b.ae_patient) == (
            "",
            "",
            "",
        )
        assert draft_b.request_question == ""
        draft_a, restored = load_or_new(store, kol_a, NOW)
        assert restored and draft_a.notes == "note for a"
        assert draft_a.feedback_sentiment == "negative"
        assert (draft_a.feedback_about, draft_a.ae_patient) == ("dosing", "65 yo man")
        assert draft_a.request_question == "off label q"


async def test_keys_typed_right_after_the_restore_answer_reach_the_note(store: Store) -> None:
    """The unsent-note question at start answered with `y` and the next words at once:
    the space after `y` went to the dialog, then nowhere."""
    from msl_tui.services.visit import new_visit, save_draft

    kol = store.list_kols()[0]
    draft = new_visit(store, kol.id, NOW)
    draft.notes = "kept"
    save_draft(store, draft)
    app = _app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            if type(app.screen).__name__ == "Choice":
                break
            await pilot.pause(0.05)
        _burst(app, "y and more")
        await settle(pilot, lambda: _notes(app) == "kept and more")
        assert isinstance(app.screen, CaptureScreen)
        assert app.screen.query_one("#notes", TextArea).text == "kept and more"
        from textual.widgets import Input

        assert app.screen.query_one("#when", Input).value == draft.when  # not " "


@pytest.mark.parametrize("from_list", [False, True])
async def test_section_keys_in_a_burst_send_the_next_words_to_their_field(
    store: Store, from_list: bool
) -> None:
    """f3 then `65 yo` at once: the words go to the AE's first field, not the note; f4
    and f5 likewise. (The keys went to the note: the cursor moved after they were sent.)"""
    from textual.widgets import Input

    app = _app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await _wait_for_list(app, pilot)
        if not from_list:
            await pilot.press("n")
            await pilot.pause()
        keys = [("n", "n")] if from_list else []
        keys += [("a", "a"), ("f3", None), ("6", "6"), ("5", "5"), ("f4", None), ("q", "q")]
        keys += [("f5", None), ("z", "z")]
        for key, char in keys:
            app.post_message(events.Key(key, char))
        await settle(
            pilot,
            lambda: (
                (_notes(app), _field(app, "#ae-patient"), _field(app, "#request"))
                == ("az", "65", "q")
            ),
        )
        cap = app.screen
        assert isinstance(cap, CaptureScreen)
        assert cap.query_one("#notes", TextArea).text == "az"
        assert cap.query_one("#ae-patient", Input).value == "65"
        assert cap.query_one("#request", Input).value == "q"


async def test_filter_typed_fast_after_slash_filters_and_opens_nothing(store: Store) -> None:
    """`/` and a name at typing speed: the name goes in the filter; its letters are not
    taken as the list's keys (`s` opened Sync, `w` filtered by due date)."""
    from textual.widgets import Input

    from msl_tui.screens.kol_list import KolListScreen

    family = store.list_kols()[0].name.split()[-1].lower()
    app = _app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await _wait_for_list(app, pilot)
        _burst(app, "/" + family + "sw")
        await settle(pilot, lambda: _field(app, "#filter") == family + "sw")
        assert isinstance(app.screen, KolListScreen)
        assert app.screen.query_one("#filter", Input).value == family + "sw"


async def test_cursor_stays_on_a_kol_deep_in_the_list_after_a_saved_visit(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scrolled past FOLLOW_LIMIT (600 rows at full size), a saved visit sent the cursor
    back to the first row: the MSL lost their place."""
    import msl_tui.screens.kol_list as kol_list

    monkeypatch.setattr(kol_list, "FOLLOW_LIMIT", 2)
    app = _app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await _wait_for_list(app, pilot)
        await pilot.press("down", "down", "down", "down")
        await pilot.pause()
        kol = app.screen.current_kol_id  # type: ignore[attr-defined]
        await pilot.press("n")
        await pilot.pause()
        await type_text(pilot, "Discussed the dosing data.")
        await pilot.press("ctrl+s")
        for _ in range(40):
            await pilot.pause(0.05)
            if not isinstance(app.screen, CaptureScreen) and app.screen.loaded:  # type: ignore[attr-defined]
                break
        await pilot.pause(0.3)
        assert not isinstance(app.screen, CaptureScreen)
        assert app.screen.current_kol_id == kol  # type: ignore[attr-defined]


async def test_ctrl_end_reaches_the_last_kol(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import msl_tui.screens.kol_list as kol_list

    store = Store.open(tmp_path / "many.db")
    seed_demo(store, kols=40, years=0.1, now=NOW)
    monkeypatch.setattr(kol_list, "WINDOW", 10)
    monkeypatch.setattr(kol_list, "FIRST_WINDOW", 10)
    monkeypatch.setattr(kol_list, "SCREEN_MARGIN", -100)
    app = _app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await _wait_for_list(app, pilot)
        screen = app.screen
        await pilot.press("ctrl+end")
        await pilot.pause()
        assert screen.current_kol_id == screen.rows[-1].kol_id  # type: ignore[attr-defined]


async def test_n_and_slash_are_letters_in_the_filter(store: Store) -> None:
    from textual.widgets import Input

    from msl_tui.screens.kol_list import KolListScreen

    app = _app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await _wait_for_list(app, pilot)
        await pilot.press("slash", "n", "slash", "a")
        await pilot.pause()
        assert isinstance(app.screen, KolListScreen)
        assert app.screen.query_one("#filter", Input).value == "n/a"


@pytest.mark.parametrize(
    ("server_says", "words"),
    [
        (
            'connection to server at "127.0.0.1", port 5432 failed: FATAL:  invalid value '
            'for parameter "statement_timeout": "x"',
            "refused the setting statement_timeout",
        ),
        (
            'connection to server at "127.0.0.1", port 5432 failed: server does not support '
            "SSL, but SSL was required",
            "does not accept SSL",
        ),
    ],
)
def test_pg_connection_refusals_are_named(server_says: str, words: str) -> None:
    """`?options=-c statement_timeout=x` read "the server did not answer in time", and
    `sslmode=require` to a server without SSL "the server could not be reached"."""
    psycopg = pytest.importorskip("psycopg")
    from msl_tui.store.pg import describe

    message = str(describe(psycopg.OperationalError(server_says), "postgresql://ho@h/db"))
    assert words in message
    assert "did not answer in time" not in message
