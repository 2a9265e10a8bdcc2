"""Launch in a real terminal: from starting the command to five KOL rows on screen.

    .venv/bin/python benchmarks/bench_launch.py STORE.db [--rounds 5] [--label "300 KOLs"]
        [--before OTHER/.venv/bin/msl]

Each round starts `msl --db STORE.db` in a fresh tmux server, polls `tmux capture-pane`
until five KOL rows show, then kills it; then the same for benchmarks/bare_table.py (one
DataTable filled from sqlite3) on the same store. Rounds alternate so both see the same
cache state; the figure is the median of the rounds. Also: importing `msl_tui.app` against
importing `textual.app`, each in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.figures import Figure, emit, median  # noqa: E402

MSL = Path(sys.executable).parent / "msl"
# Demo KOLs are all "Dr First Last"; a row of either app shows one.
KOL_ROW = re.compile(r"\bDr [A-Z][a-z]+ [A-Z]")


def until_rows(command: list[str], rows: int = 5, timeout: float = 120) -> float:
    tmux = shutil.which("tmux")
    if tmux is None:
        raise SystemExit("bench_launch needs tmux")
    socket = f"msl-bench-{uuid.uuid4().hex[:8]}"
    shell = " ".join(f"'{part}'" for part in command)
    started = time.perf_counter()
    subprocess.run(
        [tmux, "-L", socket, "new-session", "-d", "-s", "b", "-x", "140", "-y", "40",
         f"env -u COLUMNS -u LINES TERM=xterm-256color {shell}"],
        check=True,
    )  # fmt: skip
    try:
        while True:
            screen = subprocess.run(
                [tmux, "-L", socket, "capture-pane", "-p", "-t", "b"],
                capture_output=True,
                text=True,
            ).stdout
            if sum(1 for line in screen.splitlines() if KOL_ROW.search(line)) >= rows:
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"{command[0]}: no KOL rows after {timeout} s:\n{screen}")
            time.sleep(0.01)
    finally:
        subprocess.run([tmux, "-L", socket, "kill-server"], capture_output=True)


def launch(db: Path, rounds: int, before: Path | None = None) -> tuple[float, float]:
    """Medians of ours and the bare app's; with ``before`` (another build's `msl`), that
    one too, in the same rounds, printed with each spread."""
    ours, bare, earlier = [], [], []
    for _ in range(rounds):
        if before is not None:
            earlier.append(until_rows([str(before), "--db", str(db)]))
        ours.append(until_rows([str(MSL), "--db", str(db)]))
        bare.append(
            until_rows([sys.executable, str(ROOT / "benchmarks" / "bare_table.py"), str(db)])
        )
    if before is not None:
        for name, times in (("before", earlier), ("now", ours), ("bare", bare)):
            spread = ", ".join(f"{t:.3f}" for t in sorted(times))
            print(f"{name}: median {median(times):.3f} s ({spread})", file=sys.stderr)
        print(f"before/bare {median(earlier) / median(bare):.2f}x", file=sys.stderr)
    return median(ours), median(bare)


def import_time(module: str, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        times.append(time.perf_counter() - started)
    return median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--key", default="", help="the goal this figure answers")
    parser.add_argument("--label", default="")
    parser.add_argument("--imports", action="store_true", help="also time the imports")
    parser.add_argument("--before", type=Path, help="another build's msl, timed alternately")
    args = parser.parse_args()
    ours, bare = launch(args.db, args.rounds, args.before)
    figures = [
        Figure(
            args.key,
            f"launch to five ranked rows, {args.label}, real terminal (median of {args.rounds})",
            ours,
            bare,
            "bare DataTable app",
            "s",
        )
    ]
    if args.imports:
        figures.append(
            Figure(
                "",
                "`import msl_tui.app` in a fresh interpreter",
                import_time("msl_tui.app"),
                import_time("textual.app"),
                "`import textual.app`",
                "s",
            )
        )
    emit(figures)


if __name__ == "__main__":
    main()
