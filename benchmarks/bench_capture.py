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
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402

import msl_tui.screens.capture as capture_module  # noqa: E402
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


async def measure(db: Path, saves: int) -> tuple[list[float], int]:
    store = Store.open(db)
    capture_module.submit = timed_submit  # type: ignore[assignment]
    app = TimedApp(store, settings=Settings())
    latencies: list[float] = []
    non_text_keys = 0
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, KolListScreen) and bool(app.screen.rows))
        for n in range(saves):
            await pilot.press("n")
            if n == 0:
                non_text_keys += 1
            await until(pilot, lambda: isinstance(app.screen, CaptureScreen))
            await pilot.press(*NOTE.replace("\n", "\r"))
            before = committed(db)
            await pilot.press("ctrl+s")
            if n == 0:
                non_text_keys += 1
            await until(pilot, lambda b=before: committed(db) > b)
            latencies.append(commits[-1])
            await until(pilot, lambda: isinstance(app.screen, KolListScreen))
    store.close()
    return latencies, non_text_keys


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
        ours, keys = asyncio.run(measure(db, args.saves))
        raw = baseline(Path(tmp), args.saves)
    print("| measure | msl-tui | raw sqlite3 insert | ratio |")
    print("|---|---:|---:|---:|")
    for name, pick in (
        ("median", statistics.median),
        ("p95", lambda v: sorted(v)[int(0.95 * (len(v) - 1))]),
    ):
        a, b = pick(ours), pick(raw)
        print(
            f"| save key to commit, {name} (ms) | {a * 1000:.1f} | {b * 1000:.1f} | {a / b:.1f}x |"
        )
    print(f"| non-text keys to log a visit from a cold start | {keys} | | |")


if __name__ == "__main__":
    main()
