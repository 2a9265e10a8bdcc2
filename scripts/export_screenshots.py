"""Write SVG screenshots of every main screen, from the demo generator, into a folder.

    python scripts/export_screenshots.py [OUT_DIR] [NAME ...]   (default: screenshots/, all)

Never edit the SVGs by hand: run this again. A test runs it into a temporary folder for the
shots whose steps only it takes (the snapshot tests render the screens themselves).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from msl_tui.app import MslApp
from msl_tui.clock import HybridLogicalClock
from msl_tui.demo import DEMO_PROFILE, seed_demo
from msl_tui.settings import Settings
from msl_tui.store import Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SIZE = (120, 36)

Steps = Callable[[Pilot[None]], Awaitable[None]]


def demo_store() -> Store:
    store = Store.memory()
    store.set_profile(DEMO_PROFILE)  # first: it restarts the clock replaced below
    wall = int(NOW.timestamp() * 1000)
    store.clock = HybridLogicalClock(store.device_id, wall=lambda: wall)
    seed_demo(store, kols=150, years=2.0, seed=7, now=NOW)
    return store


async def settle(pilot: Pilot[None], seconds: float = 0.6) -> None:
    await pilot.pause(seconds)


async def wait_list(pilot: Pilot[None]) -> None:
    deadline = time.monotonic() + 20
    while not getattr(pilot.app.screen, "rows", None):
        if time.monotonic() > deadline:
            raise RuntimeError("the KOL list never loaded")
        await pilot.pause(0.05)


def keys(*pressed: str) -> Steps:
    async def run(pilot: Pilot[None]) -> None:
        for key in pressed:
            await pilot.press(key)
            await pilot.pause(0.1)

    return run


def typed(before: str, text: str, after: str) -> Steps:
    """A key, then ``text`` typed into the focused text area at once (a screen update per
    character took seconds), then another key."""

    async def run(pilot: Pilot[None]) -> None:
        await keys(before)(pilot)
        area = pilot.app.focused
        assert isinstance(area, TextArea), area
        area.insert(text)
        await pilot.pause(0.1)
        await keys(after)(pilot)

    return run


async def sync_preview(pilot: Pilot[None]) -> None:
    """Head office's roster for this MSL, previewed (dry run) before it is imported."""
    import tempfile

    from msl_tui.models import MslProfile
    from msl_tui.sync.export import export_bundle

    office = Store.memory()
    office.set_profile(
        MslProfile(
            msl_id="head.office", name="Head office", role="head office", device_id="head-office"
        )
    )
    seed_demo(office, kols=20, years=0.5, seed=11, now=NOW, profile=None)
    folder = Path(tempfile.mkdtemp(prefix="msl-shot-"))
    bundle = export_bundle(office, folder, full=True, sign=False, now=NOW).path
    await pilot.press("s")
    await settle(pilot, 0.3)
    field = pilot.app.screen.query_one("#import-file", Input)
    field.focus()
    field.insert_text_at_cursor(str(bundle))  # as typed, without a screen update per key
    await pilot.press("f3")
    deadline = time.monotonic() + 20
    while "dry run" not in str(pilot.app.screen.query_one("#sync-status").render()):
        if time.monotonic() > deadline:
            break
        await pilot.pause(0.1)


async def field_view(pilot: Pilot[None]) -> None:
    """Head office's view of the field (a head-office store opens on it; ``f`` anywhere)."""
    await pilot.press("f")
    await pilot.app.workers.wait_for_complete()


SHOTS: dict[str, Steps] = {
    "kol-list": keys(),
    "segment-matrix": keys("m"),
    "kol-page": keys("enter"),
    "pre-call-brief": keys("b"),
    "ae-report": keys("enter", "r"),
    "engagement-plan": keys("enter", "p"),
    "visit-capture": typed(
        "n", "Discussed renal outcomes. Don't you agree it is the best option?", "ctrl+o"
    ),
    "sync": sync_preview,
    "help": keys("question_mark"),
    "field-view": field_view,
}


async def shoot(name: str, steps: Steps, out: Path) -> Path:
    app = MslApp(demo_store(), now=lambda: NOW, settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        await wait_list(pilot)
        await steps(pilot)
        await settle(pilot)
        for widget in app.screen.query("Input, TextArea"):
            widget.cursor_blink = False  # type: ignore[attr-defined]
        await settle(pilot, 0.1)
        path = out / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(out))
        return path


async def main(out: Path, names: list[str] | None = None) -> list[Path]:
    unknown = sorted(set(names or []) - set(SHOTS))
    if unknown:
        raise SystemExit(f"no shot named {unknown[0]!r}: {', '.join(SHOTS)}")
    out.mkdir(parents=True, exist_ok=True)
    return [
        await shoot(name, steps, out) for name, steps in SHOTS.items() if not names or name in names
    ]


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    # A neutral home for paths that show on screen (the export folder).
    os.environ.setdefault("MSL_DATA_DIR", "/home/msl/.local/share/msl-tui")
    time.tzset()
    target = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "screenshots"
    )
    for written in asyncio.run(main(target, sys.argv[2:])):
        print(written)
