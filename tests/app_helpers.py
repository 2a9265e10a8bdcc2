"""Helpers for driving the app in tests the way a person does."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from textual.pilot import Pilot

from msl_tui.app import MslApp
from msl_tui.clock import HybridLogicalClock
from msl_tui.demo import DEMO_PROFILE, seed_demo
from msl_tui.settings import Settings
from msl_tui.store import Store

FIXED_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def fixed_store(kols: int = 40, years: float = 1.0) -> Store:
    """A demo store whose clock stamps are fixed too, so plan history renders the same."""
    store = Store.memory()
    # The profile first: setting it starts a fresh (real-time) clock, replaced just below.
    store.set_profile(DEMO_PROFILE)
    wall = int(FIXED_NOW.timestamp() * 1000)
    store.clock = HybridLogicalClock(store.device_id, wall=lambda: wall)
    seed_demo(store, kols=kols, years=years, seed=7, now=FIXED_NOW)
    store.clock = HybridLogicalClock(store.device_id, store.clock.last, wall=lambda: wall)
    return store


def make_app(store: Store) -> MslApp:
    return MslApp(store, now=lambda: FIXED_NOW, settings=Settings())


async def wait_for(pilot: Pilot[None], predicate: Callable[[], bool], timeout: float = 10) -> None:
    """Let workers and timers run until ``predicate`` holds (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the app did not reach the expected state in time")
        await pilot.pause(0.05)
