"""QA (qaui2): the KOL list and visit capture as a fast typist meets them."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events

from msl_tui.app import MslApp
from msl_tui.demo import seed_demo
from msl_tui.settings import Settings
from msl_tui.store.store import Store


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MSL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MSL_SETTINGS", str(tmp_path / "settings.toml"))
    path = tmp_path / "msl.db"
    store = Store.open(path)
    seed_demo(store, kols=300, years=0.5)
    store.close()
    return path


class EarlyKeys(MslApp):
    """Keys a fast typist sent with the launch: in the queue before the list is up."""

    def __init__(self, store: Store, keys: list[tuple[str, str]]) -> None:
        super().__init__(store, settings=Settings())
        self._early = keys

    def on_mount(self) -> None:
        for key, character in self._early:
            self.post_message(events.Key(key, character))
        super().on_mount()


async def _settle(pilot, app: MslApp) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        await pilot.pause()
        screen = app.screen
        if getattr(screen, "loaded", False) and not screen._waiting():  # type: ignore[attr-defined]
            return
        await pilot.pause(0.02)


async def test_slash_and_words_typed_at_launch_filter_the_list(store_path: Path) -> None:
    # Was: the screen's auto-focus gave the filter the cursor before the table's deferred
    # focus(): "/zof" went into the filter, `/` included, then the table took the cursor.
    keys = [("slash", "/"), ("z", "z"), ("o", "o"), ("f", "f")]
    app = EarlyKeys(Store.open(store_path), keys)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot, app)
        screen = app.screen
        assert screen.query_one("#filter").value == "zof"  # type: ignore[attr-defined]
        assert app.focused is screen.query_one("#filter")
        await pilot.press("i")  # the next key still goes into the filter
        assert screen.query_one("#filter").value == "zofi"  # type: ignore[attr-defined]
