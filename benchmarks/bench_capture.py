"""Visit capture: save key to committed row, and the keys it takes to log a visit.

    .venv/bin/python benchmarks/bench_capture.py [--saves 30]

Save latency is measured inside the real app (headless Pilot): from the moment the ctrl+s
key event reaches the app until the submit transaction has committed to the file. The
baseline, in the same run, is a raw sqlite3 INSERT of the same row's JSON into a WAL file
with synchronous=FULL: the floor any durable save pays. Not run in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.screen import Screen  # noqa: E402
from textual.widgets import DataTable, TextArea  # noqa: E402

import msl_tui.screens.capture as capture_module  # noqa: E402
from benchmarks.figures import Figure, emit, median, p95  # noqa: E402
from msl_tui.app import MslApp  # noqa: E402
from msl_tui.screens.capture import CaptureScreen  # noqa: E402
from msl_tui.screens.kol_list import KolListScreen  # noqa: E402
from msl_tui.services import visit  # noqa: E402
from msl_tui.settings import Settings  # noqa: E402
from msl_tui.store import Store  # noqa: E402

NOTE = "Discussed titration in frail patients; wants the registry data.\n- [ ] send reprint by fri"


def committed(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("select count(*) from interactions").fetchone()[0])
    finally:
        conn.close()


async def until(pilot, predicate, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise RuntimeError("timed out")
        await pilot.pause(0.001)


class TimedApp(MslApp):
    """Stamps the moment the save key arrives, before any handler runs."""

    key_at = 0.0

    async def on_event(self, event) -> None:  # type: ignore[no-untyped-def]
        if isinstance(event, events.Key) and event.key == "ctrl+s":
            TimedApp.key_at = time.perf_counter()
        await super().on_event(event)


commits: list[float] = []


def timed_submit(*args, **kwargs):  # type: ignore[no-untyped-def]
    saved = visit.submit(*args, **kwargs)  # returns once the transaction has committed
    commits.append(time.perf_counter() - TimedApp.key_at)
    return saved


async def measure(db: Path, saves: int) -> tuple[list[float], list[float], int]:
    store = Store.open(db)
    capture_module.submit = timed_submit  # type: ignore[assignment]
    app = TimedApp(store, settings=Settings())
    latencies: list[float] = []
    opens: list[float] = []
    non_text_keys = 0
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, KolListScreen) and bool(app.screen.rows))
        for n in range(saves):
            t0 = time.perf_counter()
            await pilot.press("n")
            if n == 0:
                non_text_keys += 1
            await until(pilot, lambda: isinstance(app.screen, CaptureScreen) and app.screen.focused)
            await pilot.pause(0)
            opens.append(time.perf_counter() - t0)
            await pilot.press(*NOTE.replace("\n", "\r"))
            before = committed(db)
            await pilot.press("ctrl+s")
            if n == 0:
                non_text_keys += 1
            await until(pilot, lambda b=before: committed(db) > b)
            latencies.append(commits[-1])
            await until(pilot, lambda: isinstance(app.screen, KolListScreen))
    store.close()
    return latencies, opens, non_text_keys


class NoteScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield TextArea()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()


class BareOpen(App[None]):
    """The floor for opening capture: a table, and a key that pushes a screen with a TextArea."""

    BINDINGS = [("n", "note", "")]

    def compose(self) -> ComposeResult:
        yield DataTable()

    def action_note(self) -> None:
        self.push_screen(NoteScreen())


async def measure_bare_open(times: int) -> list[float]:
    app = BareOpen()
    opens = []
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(times):
            t0 = time.perf_counter()
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, NoteScreen) and app.screen.focused)
            await pilot.pause(0)
            opens.append(time.perf_counter() - t0)
            app.pop_screen()
            await pilot.pause(0)
    return opens


def baseline(folder: Path, saves: int) -> list[float]:
    db = folder / "raw.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("pragma journal_mode=wal")
    conn.execute("pragma synchronous=full")
    conn.execute("create table interactions (id integer primary key, body text)")
    body = json.dumps({"notes": NOTE, "channel": "in person", "duration_min": 30})
    latencies = []
    for _ in range(saves):
        started = time.perf_counter()
        conn.execute("begin")
        conn.execute("insert into interactions (body) values (?)", [body])
        conn.execute("commit")
        latencies.append(time.perf_counter() - started)
    conn.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "capture.db"
        msl = Path(sys.executable).parent / "msl"
        subprocess.run(
            [str(msl), "seed-demo", "--db", str(db), "--kols", "300"],
            check=True,
            capture_output=True,
        )
        ours, opens, keys = asyncio.run(measure(db, args.saves))
        raw = baseline(Path(tmp), args.saves)
        bare_opens = asyncio.run(measure_bare_open(args.saves))
    emit(
        [
            Figure("capture_open", "open capture from the list, p95", p95(opens),
                   p95(bare_opens), "bare app pushing a TextArea screen", "ms"),
            Figure("", "save key to committed visit, median", median(ours), median(raw),
                   "raw sqlite3 insert", "ms"),
            Figure("save_p95", "save key to committed visit, p95", p95(ours), p95(raw),
                   "raw sqlite3 insert", "ms"),
        ]
    )  # fmt: skip
    print(f"non-text keys to log a visit from a cold start: {keys}", file=sys.stderr)


if __name__ == "__main__":
    main()
