"""Adding a KOL in the app, from an empty store: the list says how to start, `a` opens a
form, plain-word errors, and the new KOL is highlighted, ready for a note."""

from __future__ import annotations

import asyncio

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, Select
from textual.widgets._toast import Toast

from msl_tui.app import MslApp
from msl_tui.demo import DEMO_PROFILE
from msl_tui.models import Influence, Kol, Stance
from msl_tui.screens.add_kol import AddKolScreen, FormField
from msl_tui.screens.capture import CaptureScreen
from msl_tui.screens.dialogs import Choice
from msl_tui.screens.kol_list import EMPTY_STORE, KolListScreen
from msl_tui.services.kols import KolEditError, add_kol, family_name_key, read_areas
from msl_tui.store import Store
from tests.app_helpers import make_app, run_command, type_text, wait_for


def empty_store() -> Store:
    store = Store.memory()
    store.set_profile(DEMO_PROFILE)
    return store


def reasons(app: MslApp) -> str:
    return str(app.screen.query_one("#reasons").render())


async def list_loaded(pilot: Pilot[None]) -> KolListScreen:
    app = pilot.app
    await wait_for(pilot, lambda: getattr(app.screen, "loaded", False))
    assert isinstance(app.screen, KolListScreen)
    return app.screen


async def test_an_empty_store_says_how_to_start_and_n_says_what_to_do() -> None:
    app = make_app(empty_store())
    async with app.run_test(size=(80, 24)) as pilot:
        await list_loaded(pilot)
        assert reasons(app) == EMPTY_STORE
        assert "No KOL matches" not in reasons(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: bool(app._notifications))
        assert "press a to add one" in list(app._notifications)[-1].message
        assert isinstance(app.screen, KolListScreen)


async def test_add_a_kol_from_the_empty_store_then_write_a_note() -> None:
    store = empty_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await list_loaded(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AddKolScreen))
        form = app.screen
        await pilot.press("ctrl+s")  # nothing typed yet
        await pilot.pause(0.1)
        error = form.query_one("#kol-name-error")
        assert error.display and str(error.render()) == "Type the KOL's name, e.g. Dr Ada Roe"
        await type_text(pilot, "Prof Ines Quarles")
        await pilot.press("tab")
        await type_text(pilot, "Caldmoor General Hospital")
        await pilot.press("tab")
        await type_text(pilot, "Cardiology")
        form.query_one("#kol-influence").value = "national"  # type: ignore[attr-defined]
        form.query_one("#kol-stance").value = "negative"  # type: ignore[attr-defined]
        form.query_one("#kol-areas").focus()
        await type_text(pilot, "cardiology, heart failure")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
        await wait_for(pilot, lambda: len(screen.rows) == 1)
        (kol,) = store.list_kols()
        assert (kol.name, kol.institution, kol.specialty) == (
            "Prof Ines Quarles",
            "Caldmoor General Hospital",
            "Cardiology",
        )
        assert (kol.influence, kol.stance) == (Influence.NATIONAL, Stance.NEGATIVE)
        assert kol.therapeutic_areas == ["cardiology", "heart failure"]
        assert screen.current_kol_id == kol.id
        assert "critic" in reasons(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))


async def test_the_palette_entry_opens_the_same_form_from_the_list_and_the_matrix() -> None:
    app = make_app(empty_store())
    async with app.run_test(size=(80, 24)) as pilot:
        await list_loaded(pilot)
        for screen in ("list", "matrix"):
            if screen == "matrix":
                await pilot.press("m")
                await wait_for(pilot, lambda: type(app.screen).__name__ == "MatrixScreen")
            await run_command(pilot, "Add KOL")
            await wait_for(pilot, lambda: isinstance(app.screen, AddKolScreen))
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, AddKolScreen))


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"name": "  "}, "name", "Type the KOL's name, e.g. Dr Ada Roe"),
        ({"name": "Dr A", "influence": "galactic"}, "influence", "Choose the influence"),
        ({"name": "Dr A", "areas": "x" * 61}, "areas", "Each area must be under 60 characters"),
        ({"name": "Dr Ada Roe", "institution": "Nordvik"}, "name", "already in your list"),
    ],
)
def test_add_kol_refuses_in_plain_words(
    store: Store, values: dict[str, str], field: str, message: str
) -> None:
    store.save(Kol(name="Dr Ada Roe", institution="Nordvik"))
    with pytest.raises(KolEditError) as caught:
        add_kol(store, values)
    assert caught.value.field == field and message in caught.value.message
    assert store.count(Kol) == 1


def test_stance_is_read_in_display_words_too(store: Store) -> None:
    assert add_kol(store, {"name": "Dr B", "stance": "critic"}).stance is Stance.NEGATIVE


def test_areas_are_a_comma_separated_list() -> None:
    assert read_areas(" oncology, , Oncology,lung cancer ") == ["oncology", "lung cancer"]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Dr Amara Aldane", ("aldane", "amara")),
        ("Prof. Jo van Dyke, MD", ("dyke", "jo van")),
        ("Dr Bram Zelenko 2", ("zelenko", "bram")),
        ("Cher", ("cher", "")),
    ],
)
def test_family_name_key(name: str, key: tuple[str, str]) -> None:
    assert family_name_key(name) == key


def test_pasted_control_characters_never_block_adding_a_kol(store: Store) -> None:
    kol = add_kol(store, {"name": "Dr Bell\x07", "institution": "\x1b[1mNordvik\x1b[0m\u202e"})
    assert (kol.name, kol.institution) == ("Dr Bell", "Nordvik")


async def test_a_name_holding_markup_is_announced_as_typed() -> None:
    name = "[b]Bold[/b] [red]x $var \\ [@click=app.quit]y[/]"
    store = empty_store()
    app = make_app(store)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await list_loaded(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AddKolScreen))
        await type_text(pilot, name)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: bool(app.screen.query(Toast)))
        toast = app.screen.query_one(Toast)
        assert str(toast.render()).startswith(f"{name} added.")
        assert app.is_running


async def test_esc_with_typed_text_asks_before_throwing_it_away() -> None:
    store = empty_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await list_loaded(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AddKolScreen))
        form = app.screen
        await type_text(pilot, "Something important typed")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, Choice))
        await pilot.press("escape")  # stay
        await wait_for(pilot, lambda: app.screen is form)
        assert form.query_one("#kol-name", Input).value == "Something important typed"
        await pilot.press("escape", "d")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
        assert store.list_kols() == []
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AddKolScreen))
        await pilot.press("escape")  # nothing typed: closes without asking
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))


async def burst(pilot: Pilot[None], *keys: str) -> None:
    """The keys posted all at once, as a terminal delivers a fast typist's, then one wait
    until the app has handed them on and gone idle (pilot.press waits after each key)."""
    app = pilot.app
    for name in keys:
        app.post_message(events.Key(name, name if len(name) == 1 else None))
    handed_on = asyncio.Event()
    app.call_later(handed_on.set)  # queued behind the keys
    await handed_on.wait()
    await pilot.wait_for_scheduled_animations()


async def open_form(pilot: Pilot[None]) -> AddKolScreen:
    await list_loaded(pilot)
    await pilot.press("a")
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.focused, FormField))
    assert isinstance(app.screen, AddKolScreen)
    return app.screen


async def test_escape_closes_an_open_select_list_first_then_the_form() -> None:
    app = make_app(empty_store())
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot)
        influence = form.query_one("#kol-influence", Select)
        influence.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: influence.expanded and app.focused is not influence)
        await pilot.press("escape")  # the list closes; the form and its choice stay
        await wait_for(pilot, lambda: app.focused is influence)
        assert not influence.expanded and app.screen is form
        assert influence.value == Influence.LOCAL.value
        await burst(pilot, "escape", "g")  # the form closes; g picks a segment on the list
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
        list_screen = app.screen
        assert isinstance(list_screen, KolListScreen)
        await wait_for(pilot, lambda: list_screen.query_state.segment is not None)


@pytest.mark.parametrize(
    ("keys", "then", "name"),
    [
        # Discarded, then g is the list's (it was typed into the name, and the question
        # stayed up waiting for an answer).
        (("escape", "d", "g"), KolListScreen, None),
        # A key that is no answer goes to the question, not into the form behind it.
        (("escape", "x"), Choice, "Dr Ada Roe"),
        # Stay, then x is typed into the form, after the rest.
        (("escape", "escape", "x"), AddKolScreen, "Dr Ada Roex"),
    ],
)
async def test_keys_typed_after_escape_on_a_typed_form_go_to_the_question(
    keys: tuple[str, ...], then: type, name: str | None
) -> None:
    store = empty_store()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot)
        await type_text(pilot, "Dr Ada Roe")
        await burst(pilot, *keys)
        await wait_for(pilot, lambda: isinstance(app.screen, then))
        await pilot.wait_for_scheduled_animations()  # keys sent on have arrived
        assert isinstance(app.screen, then)
        if name is not None:
            assert form.query_one("#kol-name", Input).value == name
        else:
            list_screen = app.screen
            assert isinstance(list_screen, KolListScreen)
            await wait_for(pilot, lambda: list_screen.query_state.segment is not None)
            assert store.list_kols() == []
