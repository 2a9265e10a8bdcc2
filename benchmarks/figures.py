"""One measured figure beside its same-run baseline, passed from each script to the report.

Each benchmark script runs in a process of its own (so its imports and memory are its own)
and appends its figures as JSON lines to the file named by ``MSL_BENCH_OUT``; run alone, it
prints them as a table instead.
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    key: str  # names the goal it answers (see __main__.GOALS), or "" for context
    name: str
    ours: float
    base: float | None  # the same-run baseline, None for absolute goals
    baseline: str  # what the baseline is, in words
    unit: str  # "s", "ms", "MiB"


def emit(figures: list[Figure]) -> None:
    out = os.environ.get("MSL_BENCH_OUT")
    if out:
        with Path(out).open("a", encoding="utf-8") as handle:
            for figure in figures:
                handle.write(json.dumps(asdict(figure)) + "\n")
        return
    print(table(figures))


def load(path: Path) -> list[Figure]:
    if not path.exists():
        return []
    return [Figure(**json.loads(line)) for line in path.read_text().splitlines() if line]


def cell(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "ms":
        return f"{value * 1000:.1f} ms"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def ratio(figure: Figure) -> str:
    return f"{figure.ours / figure.base:.2f}x" if figure.base else ""


def table(figures: list[Figure]) -> str:
    lines = ["| figure | msl-tui | baseline | ratio |", "|---|---:|---:|---:|"]
    for f in figures:
        base = f"{cell(f.base, f.unit)} ({f.baseline})" if f.baseline else cell(f.base, f.unit)
        lines.append(f"| {f.name} | {cell(f.ours, f.unit)} | {base} | {ratio(f)} |")
    return "\n".join(lines)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


median = statistics.median
