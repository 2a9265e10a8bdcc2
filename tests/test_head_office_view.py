"""The head-office view: four plots of the field, each with its numbers a key away."""

from __future__ import annotations

from conftest import FIXED_NOW as NOW
from textual.widgets import ContentSwitcher, DataTable

from msl_tui.app import MslApp
from msl_tui.demo import seed_demo
from msl_tui.models import MslProfile
from msl_tui.screens.head_office import HeadOfficeScreen
from msl_tui.services.field_view import field_view
from msl_tui.store import Store
from msl_tui.sync.reports import build_reports


def _head_office(store: Store) -> None:
    seed_demo(store, kols=30, years=1.0, seed=3, now=NOW, profile=None)
    store.set_profile(
        MslProfile(msl_id="ho", name="Head Office", role="head office", device_id="ho-1")
    )


def test_the_numbers_are_the_reports_numbers(store: Store) -> None:
    _head_office(store)
    charts = {c.key: c for c in field_view(store, NOW)}
    reports = {r.file: list(r.rows) for r in build_reports(store, now=NOW)}
    assert sum(sum(v) for v in charts["insights"].series.values()) <= sum(
        int(n) for _, _, n in reports["insights_by_category.csv"]
    )
    assert sum(charts["ae"].series["adverse events"]) == len(reports["adverse_events.csv"])
    plans = sum(int(r[1]) for r in reports["coverage_by_msl.csv"])
    assert sum(sum(v) for v in charts["coverage"].series.values()) == plans
    assert round(sum(charts["mix"].series["actual %"])) == 100


async def test_head_office_opens_on_the_field_and_n_shows_the_numbers(store: Store) -> None:
    _head_office(store)
    app = MslApp(store, now=lambda: NOW)
    async with app.run_test(size=(140, 44)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HeadOfficeScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one("#table-coverage", DataTable)
        assert table.row_count > 0
        await pilot.press("n")
        switch = app.screen.query_one("#switch-ae", ContentSwitcher)
        assert switch.current == "table-ae"
        await pilot.press("n")
        assert switch.current == "plot-ae"
        await pilot.press("escape")
        assert not isinstance(app.screen, HeadOfficeScreen)


async def test_the_view_reads_a_postgresql_store_too(pg_url: str) -> None:
    store = Store.open(pg_url)
    _head_office(store)
    app = MslApp(store, now=lambda: NOW)
    async with app.run_test(size=(140, 44)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, HeadOfficeScreen)
        assert app.screen.query_one("#table-ae", DataTable).row_count == 7
        await pilot.press("escape")  # the KOL list, ranked from the server
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert getattr(app.screen, "rows", None)
    store.close()
