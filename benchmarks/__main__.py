"""Run every benchmark and print the issue's goals table: `python -m benchmarks [--quick]`.

Each figure sits beside its baseline measured in the same run (bare Textual app, raw sqlite3)
and its goal from issue 11. Builds stores of 300 and 50,000 KOLs (pass --store50k PATH to
reuse a seeded 50,000-KOL store: seeding it is itself one of the figures, so a reused store
leaves that figure out). `--quick`: 300 KOLs and 50,000 interactions only. `--suite` also
times the test suite (the README's command). Writes bench-results/latest.md. Not run in CI.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.figures import Figure, cell, load, ratio  # noqa: E402

# key -> (goal in words, met?) for the figures the issue sets a goal for.
GOALS: dict[str, tuple[str, Callable[[Figure], bool]]] = {
    "launch300": ("≤ 1.25x bare", lambda f: f.ours <= 1.25 * (f.base or 0)),
    "launch50k": ("≤ 2x bare", lambda f: f.ours <= 2 * (f.base or 0)),
    "filter_p95": ("≤ 100 ms", lambda f: f.ours <= 0.100),
    "capture_open": ("≤ 150 ms", lambda f: f.ours <= 0.150),
    "save_p95": ("≤ 10 ms", lambda f: f.ours <= 0.010),
    "import": ("≤ 3x raw", lambda f: f.ours <= 3 * (f.base or 0)),
    "import_rss": ("≤ 200 MB", lambda f: f.ours <= 200 * 1e6 / 2**20),
    "export": ("≤ 1.2x raw", lambda f: f.ours <= 1.2 * (f.base or 0)),
    "seed50k": ("≤ 120 s", lambda f: f.ours <= 120),
    "suite": ("≤ 240 s", lambda f: f.ours <= 240),
}


def run(out: Path, script: str, *args: str) -> None:
    env = {**os.environ, "MSL_BENCH_OUT": str(out)}
    print(f"running {script} {' '.join(args)}", file=sys.stderr)
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], env=env, check=True)


def seed(db: Path, kols: int, years: float) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).parent / "msl"), "seed-demo", "--db", str(db),
         "--kols", str(kols), "--years", str(years)],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def suite() -> float:
    readme = (ROOT / "README.md").read_text()
    command = re.findall(r"```sh\n(.*?)\n```", readme, re.S)[1].split("&&")[-1].strip()
    started = time.perf_counter()
    subprocess.run(command, shell=True, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def report(figures: list[Figure]) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        f"Benchmarks {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}",
        "",
        "| figure | msl-tui | baseline (same run) | ratio | goal | met |",
        "|---|---:|---|---:|---|---|",
    ]
    for f in figures:
        goal, met = GOALS.get(f.key, ("", None))  # type: ignore[arg-type]
        base = f"{cell(f.base, f.unit)} {f.baseline}".strip()
        verdict = "" if met is None else ("yes" if met(f) else "**no**")
        lines.append(
            f"| {f.name} | {cell(f.ours, f.unit)} | {base} | {ratio(f)} | {goal} | {verdict} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 KOLs, 50,000 interactions")
    parser.add_argument("--store50k", type=Path, default=None, help="a seeded 50,000-KOL store")
    parser.add_argument("--rounds", type=int, default=5, help="tmux launches of each app")
    parser.add_argument("--suite", action="store_true", help="also time the test suite")
    parser.add_argument("--skip-sync", action="store_true", help="leave import/export out")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="msl-bench-") as tmp:
        folder = Path(tmp)
        out = folder / "figures.jsonl"
        small = folder / "300.db"
        seed(small, 300, 2.0)
        figures: list[Figure] = []
        run(out, "bench_launch.py", str(small), "--rounds", str(args.rounds), "--key",
            "launch300", "--label", "300 KOLs", "--imports")  # fmt: skip
        kols = ["300"]
        if not args.quick:
            big = args.store50k
            if big is None:
                big = folder / "50k.db"
                took = seed(big, 50_000, 3.5)
                figures.append(
                    Figure(
                        "seed50k", "`msl seed-demo --kols 50000 --years 3.5`", took, None, "", "s"
                    )
                )
            run(out, "bench_launch.py", str(big), "--rounds", str(args.rounds), "--key",
                "launch50k", "--label", "50,000 KOLs")  # fmt: skip
            kols.append("50000")
            run(out, "bench_list.py", "--kols", *kols, "--store50k", str(big))
        else:
            run(out, "bench_list.py", "--kols", *kols)
        run(out, "bench_capture.py")
        if not args.skip_sync:
            run(out, "bench_sync.py", "--interactions", "50000" if args.quick else "1000000")
        figures = load(out) + figures
    if args.suite:
        figures.append(
            Figure("suite", "the whole test suite (README command)", suite(), None, "", "s")
        )
    text = report(figures)
    print(text)
    results = ROOT / "bench-results"
    results.mkdir(exist_ok=True)
    (results / "latest.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
