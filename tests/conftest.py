"""Shared fixtures: a fresh in-memory store, and a small demo territory at a fixed moment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pg_helpers import PgServer, start_server

from msl_tui.demo import seed_demo
from msl_tui.store import Store

# Demo data is anchored here so that "overdue" and "hours left" never drift between runs.
FIXED_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The few tests that run for tens of seconds go first: under xdist, a worker handed
    one of them last would run on alone after the other has finished."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable


@pytest.fixture(autouse=True)
def _isolated_locations(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test may touch the real user's data or settings."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("MSL_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("MSL_SETTINGS", str(home / "settings.toml"))
    monkeypatch.delenv("MSL_DB", raising=False)
    monkeypatch.delenv("MSL_DEMO_DB", raising=False)


@pytest.fixture
def store() -> Iterator[Store]:
    db = Store.memory()
    yield db
    db.close()


@pytest.fixture
def demo_store() -> Iterator[Store]:
    db = Store.memory()
    seed_demo(db, kols=40, years=1.0, seed=7, now=FIXED_NOW)
    yield db
    db.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A private PostgreSQL server for the whole run (started on first use)."""
    server = start_server()
    if isinstance(server, str):
        pytest.skip(server)
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of a fresh, empty PostgreSQL database."""
    return pg_server.create_database()
