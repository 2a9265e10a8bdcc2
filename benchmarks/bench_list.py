"""KOL list speed: launch to first rendered list, and filter keystroke to rendered table.

    .venv/bin/python benchmarks/bench_list.py [--kols 300 50000] [--store50k PATH]

Each figure sits beside a baseline measured in the same run: a bare Textual app with one
DataTable that reads the same store with raw sqlite3 (names and institutions of the first
150 KOLs by name, refilled on each keystroke from an FTS prefix query). The ratio says
what ranking, reasons and the worker/message plumbing cost on top of a bare table.
A keystroke's time is counted in Pilot's steps of 20 ms (it waits until the process has
been idle that long), so on a busy machine the wall time swings with other processes;
the CPU time the process spent on each keystroke (every thread) is printed beside it.
The first keystroke waits for the whole ranking (typed as soon as the first rows show).
Headless (Pilot); not run in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.figures import Figure, emit, median, p95  # noqa: E402
from msl_tui.app import MslApp  # noqa: E402
from msl_tui.screens.kol_list import KolListScreen  # noqa: E402
from msl_tui.settings import Settings  # noqa: E402
from msl_tui.store import Store  # noqa: E402

QUERY = "nordvik"  # typed one key at a time, then erased
WINDOW = 150


class BareTable(App[None]):
    """The floor: a DataTable filled straight from sqlite3, no ranking, no workers."""

    def __init__(self, db: Path) -> None:
        super().__init__()
        self.conn = sqlite3.connect(db)
        self.generation = 0

    def compose(self) -> ComposeResult:
        yield Input(id="filter")
        yield DataTable(id="table")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Name", "Institution")
        self.fill("")

    def fill(self, text: str) -> None:
        table = self.query_one(DataTable)
        table.clear()
        if text:
            rows = self.conn.execute(
                "select k.name, k.institution from kols_fts f join kols k on k.rowid = f.rowid "
                "where kols_fts match ? order by k.name limit ?",
                [f'"{text}"*', WINDOW],
            ).fetchall()
        else:
            rows = self.conn.execute(
                "select name, institution from kols order by name limit ?", [WINDOW]
            ).fetchall()
        table.add_rows(rows)
        self.generation += 1

    def on_input_changed(self, event: Input.Changed) -> None:
        self.fill(event.value)


async def until(pilot, predicate, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise RuntimeError("timed out")
        await pilot.pause(0.005)


def keystrokes() -> list[str]:
    return [*QUERY, *["backspace"] * len(QUERY)]


async def measure_app(db: Path) -> tuple[float, list[float], list[float]]:
    store = Store.open(db)
    app = MslApp(store, settings=Settings())
    started = time.perf_counter()
    latencies, cpu = [], []
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, KolListScreen) and bool(app.screen.rows))
        await pilot.pause(0)
        first = time.perf_counter() - started
        screen = app.screen
        assert isinstance(screen, KolListScreen)
        await pilot.press("slash")
        for key in keystrokes():
            before = screen.generation
            t0, c0 = time.perf_counter(), time.process_time()
            await pilot.press(key)
            # Rendered: the load for this keystroke's generation has been applied.
            await until(
                pilot,
                lambda b=before: (
                    screen.generation > b and screen.applied_generation == screen.generation
                ),
            )
            await pilot.pause(0)
            latencies.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    store.close()
    return first, latencies, cpu


async def measure_bare(db: Path) -> tuple[float, list[float], list[float]]:
    app = BareTable(db)
    started = time.perf_counter()
    latencies, cpu = [], []
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.generation > 0)
        await pilot.pause(0)
        first = time.perf_counter() - started
        app.query_one(Input).focus()
        for key in keystrokes():
            before = app.generation
            t0, c0 = time.perf_counter(), time.process_time()
            await pilot.press(key)
            await until(pilot, lambda b=before: app.generation > b)
            await pilot.pause(0)
            latencies.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return first, latencies, cpu


def seed(kols: int, folder: Path) -> Path:
    db = folder / f"list-{kols}.db"
    years = 2.0 if kols <= 1000 else 3.5
    msl = Path(sys.executable).parent / "msl"
    subprocess.run(
        [str(msl), "seed-demo", "--db", str(db), "--kols", str(kols), "--years", str(years)],
        check=True,
        capture_output=True,
    )
    return db


def run(kols_list: list[int], store50k: Path | None) -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for kols in kols_list:
            db = store50k if (kols >= 50_000 and store50k) else seed(kols, Path(tmp))
            ours_first, ours_lat, ours_cpu = asyncio.run(measure_app(db))
            bare_first, bare_lat, bare_cpu = asyncio.run(measure_bare(db))
            for name, values in (("msl-tui", ours_lat), ("bare", bare_lat)):
                keys = " ".join(str(round(v * 1000)) for v in values)
                print(f"{kols:,} KOLs, {name}, each key (ms): {keys}", file=sys.stderr)
            big = kols >= 50_000
            bare = "bare DataTable + FTS"
            figures += [
                Figure("", f"{kols:,} KOLs: launch to first list, headless Pilot", ours_first,
                       bare_first, bare, "s"),
                Figure("", f"{kols:,} KOLs: filter keystroke to rendered rows, median",
                       median(ours_lat), median(bare_lat), bare, "ms"),
                Figure("filter_p95" if big else "", f"{kols:,} KOLs: filter keystroke to "
                       "rendered rows, p95", p95(ours_lat), p95(bare_lat), bare, "ms"),
                # The first key waits for the ranking: its CPU is the ranking's.
                Figure("", f"{kols:,} KOLs: CPU per filter keystroke (after the first), "
                       "median", median(ours_cpu[1:]), median(bare_cpu[1:]), bare, "ms"),
            ]  # fmt: skip
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kols", type=int, nargs="+", default=[300, 50_000])
    parser.add_argument(
        "--store50k",
        type=Path,
        default=None,
        help="reuse a seeded 50,000-KOL store instead of building one",
    )
    args = parser.parse_args()
    emit(run(args.kols, args.store50k))


if __name__ == "__main__":
    main()
