"""The sync screen, driven with keys: export, preview then confirm an import, resolve."""

from __future__ import annotations

from pathlib import Path

from sync_helpers import add_kol, make_store
from textual.app import App
from textual.widgets import DataTable, Input, Static

from msl_tui.models import Kol
from msl_tui.screens.sync import SyncScreen
from msl_tui.store import Store, sync_log
from msl_tui.sync.export import export_bundle
from msl_tui.sync.importer import import_bundle


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


async def test_one_key_takes_the_other_value_of_a_conflict(tmp_path: Path) -> None:
    a = make_store(tmp_path / "a.db", "ana", "laptop-a")
    b = make_store(tmp_path / "b.db", "ana", "laptop-b")
    kol = add_kol(a, "Dr Mira Holt")
    import_bundle(b, export_bundle(a, tmp_path / "1", sign=False).path)  # type: ignore[arg-type]
    a.save(kol.evolve(city="Leeds"))
    b.save(b.get(Kol, kol.id).evolve(city="York"))  # type: ignore[union-attr]
    import_bundle(b, export_bundle(a, tmp_path / "2", sign=False).path)  # type: ignore[arg-type]
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
