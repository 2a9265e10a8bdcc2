"""Helpers for driving the app in tests the way a person does."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from textual import events
from textual._xterm_parser import XTermParser
from textual.command import CommandInput, CommandList
from textual.pilot import Pilot

from msl_tui.app import MslApp
from msl_tui.clock import HybridLogicalClock
from msl_tui.demo import DEMO_PROFILE, seed_demo
from msl_tui.services.kol_list import KolListService
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


async def type_text(pilot: Pilot[None], text: str) -> None:
    """Type ``text`` into what has the cursor as a fast typist's terminal delivers it: the
    keys Textual's own terminal parser reads from those characters (a newline is enter),
    all posted to the app at once and handled by its real key path, then one wait until the
    app has handled them.

    ``pilot.press`` waits for the app to go idle after every key (about 100 ms a key, most
    of a typing test). Text only: a key that moves the cursor or opens a screen goes through
    ``pilot.press``, since in a burst the keys after it are already on their way to the
    field that had the cursor (as in a real terminal)."""
    app = pilot.app
    for event in XTermParser().feed(text.replace("\n", "\r")):
        assert isinstance(event, events.Key), event
        event.set_sender(app)
        app.post_message(event)
    # The app hands keys on in order: once a callback queued behind them has run, each key
    # is with its target; the wait after it lets the targets (and what they start) finish.
    handed_on = asyncio.Event()
    app.call_later(handed_on.set)
    await handed_on.wait()
    await pilot.wait_for_scheduled_animations()


async def keys_acted(pilot: Pilot[None], app: Any, screen: Any) -> None:
    """Until the keys typed at the list ``screen`` have acted and what they asked for is on
    screen. A plain launch replays the keys it held once the whole ranking is laid out, a
    refresh after it is on screen (MslApp._replay_held): waiting for the ranking alone
    compared the state before they had acted (1 run in 7), and the app, closed with them
    still on their way, raised ScreenStackError over the failed assertion."""
    await wait_for(pilot, lambda: app._exit or not app._holding)
    handed_on = asyncio.Event()
    if not app._exit:
        app.call_later(handed_on.set)  # queued behind the replayed keys
    await wait_for(pilot, lambda: app._exit or handed_on.is_set())
    await pilot.wait_for_scheduled_animations()  # what the keys started (a page, a filter)
    await wait_for(pilot, lambda: app._exit or not screen._waiting())
    await pilot.pause()


async def run_command(pilot: Pilot[None], title: str) -> None:
    """Open the command palette, type ``title``, and press enter once the entry the palette
    highlights shows it (its search answers a moment after the keys)."""
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(pilot.app.focused, CommandInput))
    await type_text(pilot, title)

    def highlighted() -> str:
        found = pilot.app.screen.query(CommandList)
        if not found or found.first().highlighted is None:
            return ""
        options = found.first()
        return str(options.get_option_at_index(options.highlighted).prompt)  # type: ignore[arg-type]

    await wait_for(pilot, lambda: title in highlighted())
    await pilot.press("enter")


async def settle(pilot: Pilot[None], done: Callable[[], bool], within: float = 1.0) -> None:
    """Let the app work until ``done`` holds (at most ``within`` seconds), then once more
    until it is idle, so a key still on its way lands; never fails by itself: the
    caller's assertions then say what is wrong. For checks that a burst of keys ended in
    the right place, where a fixed wait used to be."""
    deadline = time.monotonic() + within
    while not done() and time.monotonic() < deadline:
        await pilot.pause(0.02)
    await pilot.pause()


def hold_ranking(app: MslApp) -> threading.Event:
    """Hold the app's whole ranking back (at most 10 s) until the returned event is set: the
    moments before it is ready (launch, a filter typed early) can then be looked at."""
    gate = threading.Event()
    ranked = KolListService.ranked

    def held(self: KolListService, now: datetime) -> list:  # type: ignore[type-arg]
        gate.wait(10)
        return ranked(self, now)

    app.kol_list.ranked = held.__get__(app.kol_list)  # type: ignore[method-assign]
    return gate
