"""The sync screen, driven with keys: export, preview then confirm an import, resolve."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sync_helpers import add_kol, make_store
from textual.app import App
from textual.widgets import DataTable, Input, Static

from msl_tui.models import Kol
from msl_tui.screens import sync as sync_screen
from msl_tui.screens.sync import SyncScreen
from msl_tui.store import Store, sync_log
from msl_tui.sync.export import export_bundle
from msl_tui.sync.importer import import_bundle
from tests.app_helpers import wait_for


class Harness(App[None]):
    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def on_mount(self) -> None:
        self.push_screen(SyncScreen())


def _status(app: App[None]) -> str:
    return str(app.screen.query_one("#sync-status", Static).render())


async def test_export_writes_a_bundle_to_the_chosen_folder(tmp_path: Path) -> None:
    store = make_store(tmp_path / "a.db", "ana", "laptop-a")
    add_kol(store, "Dr Mira Holt")
    app = Harness(store)
    async with app.run_test(size=(120, 40)) as pilot:
        field = app.screen.query_one("#export-folder", Input)
        field.value = str(tmp_path / "out")
        await pilot.press("f2")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "wrote" in _status(app)
    assert len(list((tmp_path / "out").glob("*.mslsync"))) == 1


async def test_import_shows_the_dry_run_and_waits_for_confirmation(tmp_path: Path) -> None:
    src = make_store(tmp_path / "src.db", "bob", "laptop-b")
    add_kol(src, "Dr Oskar Lind")
    bundle = export_bundle(src, tmp_path / "in", sign=False).path
    store = make_store(tmp_path / "a.db", "ana", "laptop-a")
    app = Harness(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.click("#import-file")
        app.screen.query_one("#import-file", Input).value = str(bundle)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "dry run, nothing written" in _status(app)
        assert "KOLs: 1 inserted" in _status(app)
        assert store.list_kols() == []
        await pilot.press("f4")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "imported" in _status(app)
    assert [k.name for k in store.list_kols()] == ["Dr Oskar Lind"]


def _city_conflict(tmp_path: Path, theirs: str) -> tuple[Store, Kol]:
    """Laptop b holding a conflict on a KOL's city: its "York" against laptop a's ``theirs``."""
    a = make_store(tmp_path / "a.db", "ana", "laptop-a")
    b = make_store(tmp_path / "b.db", "ana", "laptop-b")
    kol = add_kol(a, "Dr Mira Holt")
    import_bundle(b, export_bundle(a, tmp_path / "1", sign=False).path)  # type: ignore[arg-type]
    a.save(kol.evolve(city=theirs))
    b.save(b.get(Kol, kol.id).evolve(city="York"))  # type: ignore[union-attr]
    import_bundle(b, export_bundle(a, tmp_path / "2", sign=False).path)  # type: ignore[arg-type]
    return b, kol


async def test_one_key_takes_the_other_value_of_a_conflict(tmp_path: Path) -> None:
    b, kol = _city_conflict(tmp_path, "Leeds")
    assert b.get(Kol, kol.id).city == "York"  # type: ignore[union-attr]
    app = Harness(b)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        table.focus()
        await pilot.press("o")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.row_count == 0
    assert b.get(Kol, kol.id).city == "Leeds"  # type: ignore[union-attr]
    assert sync_log.list_conflicts(b) == []


async def test_more_f2_presses_during_an_export_start_no_second_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # QA 10: extra f2 presses queued exports, and the last one hid the first one's result.
    store = make_store(tmp_path / "a.db", "ana", "laptop-a")
    add_kol(store, "Dr Mira Holt")
    release, calls = threading.Event(), []

    def slow_export(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        release.wait(10)  # the export is under way until the test lets it finish
        return export_bundle(*args, **kwargs)

    monkeypatch.setattr(sync_screen, "export_bundle", slow_export)
    app = Harness(store)
    async with app.run_test(size=(120, 40)) as pilot:
        app.screen.query_one("#export-folder", Input).value = str(tmp_path / "out")
        await pilot.press("f2")
        await wait_for(pilot, lambda: len(calls) == 1)
        await pilot.press("f2", "f2")
        release.set()
        await wait_for(pilot, lambda: "wrote" in _status(app))
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(calls) == 1 and "wrote" in _status(app)
    assert len(list((tmp_path / "out").glob("*.mslsync"))) == 1


async def test_nothing_new_to_export_is_said_in_the_app_s_words(tmp_path: Path) -> None:
    store = make_store(tmp_path / "a.db", "ana", "laptop-a")
    add_kol(store, "Dr Mira Holt")
    export_bundle(store, tmp_path / "first", sign=False)
    app = Harness(store)
    async with app.run_test(size=(120, 40)) as pilot:
        app.screen.query_one("#export-folder", Input).value = str(tmp_path / "out")
        await pilot.press("f2")
        await wait_for(pilot, lambda: "Nothing new" in _status(app))
        assert "--" not in _status(app)


async def test_a_path_with_brackets_is_shown_as_typed_not_read_as_markup(tmp_path: Path) -> None:
    # Was: the status panel was a Static given plain strings, so the file name typed (or a
    # bundle's sender named in a result line) was read as markup: "[b]" made bold text and
    # "[/]" raised a markup error.
    store = make_store(tmp_path / "a.db", "ana", "laptop-a")
    app = Harness(store)
    name = str(tmp_path / "no[/]such[b].mslsync")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.click("#import-file")
        app.screen.query_one("#import-file", Input).value = name
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "no[/]such[b].mslsync" in _status(app)
        assert isinstance(app.screen, SyncScreen)


async def test_a_conflicts_values_are_shown_as_they_are_not_read_as_markup(tmp_path: Path) -> None:
    # Was: the conflicts table took its cells as plain strings, which DataTable reads as
    # markup: a city of "[/]" from another laptop raised a markup error on the screen.
    b, _kol = _city_conflict(tmp_path, "[/]Leeds[b]")
    app = Harness(b)
    async with app.run_test(size=(160, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        shown = [str(cell) for cell in table.get_row_at(0)]
        assert "[/]Leeds[b]" in shown and "York" in shown
        assert "[/]Leeds[b]" in "".join(s.text for s in table.render_line(1))
