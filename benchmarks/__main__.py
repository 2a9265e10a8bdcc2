"""Run every benchmark and print one table: `python -m benchmarks [--quick]`.

Builds stores of 300 and 50,000 KOLs (the 50,000 one takes about six minutes to seed; pass
--store50k PATH to reuse one), then runs the list, capture and sync benchmarks, each beside
its same-run baseline. The table is also written to bench-results/latest.md. Not run in CI.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="300 KOLs and 50,000 interactions only (minutes, not an hour)",
    )
    parser.add_argument("--store50k", default=None, help="a seeded 50,000-KOL store to reuse")
    args = parser.parse_args()
    kols = ["300"] if args.quick else ["300", "50000"]
    list_args = ["--kols", *kols] + (["--store50k", args.store50k] if args.store50k else [])
    sections = [
        ("KOL list (issue 3)", run("bench_list.py", *list_args)),
        ("Visit capture (issue 4)", run("bench_capture.py")),
        (
            "Sync (issue 5)",
            run("bench_sync.py", "--interactions", "50000" if args.quick else "1000000"),
        ),
    ]
    machine = (
        f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}"
    )
    text = [
        f"Benchmarks {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}, "
        f"{__import__('os').cpu_count()} cores",
        "",
    ]
    for title, body in sections:
        text += [f"### {title}", "", body, ""]
    report = "\n".join(text)
    print(report)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(report)


if __name__ == "__main__":
    main()
