"""Typing a note while another msl holds the store (a long import): the app stays, the text
stays, and it is saved once the store frees; a visit saved meanwhile waits in the form."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from msl_tui.demo import DEMO_PROFILE, seed_demo
from msl_tui.screens.capture import CaptureScreen
from msl_tui.screens.kol_list import KolListScreen
from msl_tui.screens.kol_page import KolPageScreen
from msl_tui.services.visit import draft_id_for
from msl_tui.store import Store
from tests.app_helpers import FIXED_NOW, make_app, type_text, wait_for


def _file_store(path: Path) -> Store:
    store = Store.open(path)
    store.set_profile(DEMO_PROFILE)
    seed_demo(store, kols=12, years=0.5, seed=7, now=FIXED_NOW)
    return store


async def test_a_busy_store_keeps_the_text_and_saves_it_when_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each write waits this long for the lock before giving up (5 s by default): a second
    # still makes every draft save and the save key wait while keys go on arriving.
    monkeypatch.setenv("MSL_BUSY_TIMEOUT_MS", "1000")
    db = tmp_path / "busy.db"
    store = _file_store(db)
    app = make_app(store)
    other = sqlite3.connect(db, timeout=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        kol_id = app.screen.rows[0].kol_id  # type: ignore[attr-defined]
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CaptureScreen))
        screen = app.screen
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        await type_text(pilot, "Discussed the registry")
        await wait_for(pilot, lambda: screen._store_trouble)  # type: ignore[attr-defined]
        assert app.is_running and isinstance(app.screen, CaptureScreen)
        stored = store.load_draft(draft_id_for(kol_id)) or {}
        assert stored.get("notes") != "Discussed the registry"  # not written yet
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(screen.query_one("#form-error").render())
        assert "busy" in error and isinstance(app.screen, CaptureScreen)
        other.rollback()  # the other writer finishes
        await wait_for(
            pilot,
            lambda: (
                (store.load_draft(draft_id_for(kol_id)) or {}).get("notes")
                == "Discussed the registry"
            ),
        )
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
    other.close()
    assert store.interactions_for(kol_id, limit=1)[0].notes == "Discussed the registry"


async def test_a_write_on_a_busy_store_is_a_notice_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MSL_BUSY_TIMEOUT_MS", "100")
    db = tmp_path / "busy.db"
    store = _file_store(db)
    app = make_app(store)
    other = sqlite3.connect(db, timeout=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolPageScreen))
        page = app.screen
        await wait_for(pilot, lambda: page.page is not None)  # type: ignore[attr-defined]
        open_before = len(page.page.open_followups)  # type: ignore[attr-defined]
        assert open_before > 0
        other.execute("BEGIN IMMEDIATE")
        await pilot.press("x")  # tick: the write cannot take the lock
        await wait_for(pilot, lambda: any("busy" in n.message for n in app._notifications))
        assert app.is_running and isinstance(app.screen, KolPageScreen)
        other.rollback()
    other.close()
