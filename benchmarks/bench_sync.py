"""Sync throughput against raw sqlite3 + JSON Lines, measured in the same run.

    .venv/bin/python benchmarks/bench_sync.py                      # 1,000,000 interactions
    .venv/bin/python benchmarks/bench_sync.py --interactions 50000 # quicker

Export: `msl export --full` versus a bare loop that reads the same change rows with sqlite3
and writes them as JSON Lines. Import: `msl import` (all checks, validation, merge, indexes,
full-text search) into an empty store versus a bare loop that reads those JSON Lines and
inserts each change and its record row with executemany in one transaction. Each phase runs
in its own process so its peak memory (max RSS) is its own. Not run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.figures import Figure, emit  # noqa: E402


def build(db: Path, interactions: int) -> None:
    from msl_tui.models import Channel, Interaction, Kol, MslProfile
    from msl_tui.store import Store

    store = Store.open(db)
    store.set_profile(MslProfile(msl_id="bench", name="Bench", device_id="bench-laptop"))
    rng = random.Random(1)
    kols = [Kol(name=f"Dr Bench {i}", institution=f"Hospital {i % 97}") for i in range(1000)]
    words = [
        "renal",
        "dosing",
        "trial",
        "data",
        "gap",
        "guideline",
        "cohort",
        "biomarker",
        "adherence",
        "outcome",
    ]
    start = datetime(2022, 1, 1, tzinfo=UTC)

    skip = {"id", "kol_id", "msl_id", "occurred_at", "channel", "notes"}
    defaults = {
        k: v.get_default(call_default_factory=True)
        for k, v in Interaction.model_fields.items()
        if k not in skip
    }

    def records():
        yield from kols
        for i in range(interactions):
            # model_construct: the benchmark measures sync, not building the test data.
            yield Interaction.model_construct(
                id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                kol_id=kols[i % len(kols)].id,
                msl_id="bench",
                occurred_at=start + timedelta(seconds=90 * i),
                channel=Channel.IN_PERSON,
                notes=" ".join(rng.choice(words) for _ in range(40)),
                **defaults,
            )

    store.bulk_insert(records())
    store.close()


def phase_export(db: Path, out: Path) -> None:
    from msl_tui.store import Store
    from msl_tui.sync.export import export_bundle

    store = Store.open(db, create=False)
    export_bundle(store, out, full=True, sign=False)
    store.close()


def phase_raw_export(db: Path, out: Path) -> None:
    conn = sqlite3.connect(db)
    with (out / "raw.jsonl").open("w") as handle:
        for entity in ("kol", "plan", "interaction", "followup"):
            cursor = conn.execute(
                "select device_id, seq, hlc, record_id, patch, base, author from changes "
                "where entity = ? order by rowid",
                [entity],
            )
            for d, s, h, r, p, b, a in cursor:
                handle.write(
                    json.dumps(
                        {
                            "entity": entity,
                            "device": d,
                            "seq": s,
                            "hlc": h,
                            "id": r,
                            "patch": p,
                            "base": b,
                            "author": a,
                        }
                    )
                    + "\n"
                )
    conn.close()


def phase_import(db: Path, bundle: Path) -> None:
    from msl_tui.store import Store
    from msl_tui.sync.importer import import_bundle

    store = Store.open(db)
    import_bundle(store, bundle)
    store.close()


def phase_raw_import(db: Path, source: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("pragma journal_mode = wal")
    conn.execute(
        "create table changes (device_id text, seq integer, hlc text, entity text, "
        "record_id text, patch text, base text, author text, primary key (device_id, seq))"
    )
    conn.execute("create table records (id text primary key, entity text, data text)")
    batch_c: list[tuple] = []
    batch_r: list[tuple] = []
    with conn, source.open() as handle:
        for line in handle:
            x = json.loads(line)
            batch_c.append(
                (x["device"], x["seq"], x["hlc"], x["entity"], x["id"], x["patch"], x["base"], x["author"])
            )  # fmt: skip
            batch_r.append((x["id"], x["entity"], x["patch"]))
            if len(batch_c) >= 5000:
                conn.executemany("insert into changes values (?, ?, ?, ?, ?, ?, ?, ?)", batch_c)
                conn.executemany("insert or replace into records values (?, ?, ?)", batch_r)
                batch_c.clear()
                batch_r.clear()
        conn.executemany("insert into changes values (?, ?, ?, ?, ?, ?, ?, ?)", batch_c)
        conn.executemany("insert or replace into records values (?, ?, ?)", batch_r)
    conn.close()


def phase_build(db: Path, interactions: Path) -> None:
    build(db, int(interactions.name))


PHASES = {
    "build": phase_build,
    "export": phase_export,
    "raw-export": phase_raw_export,
    "import": phase_import,
    "raw-import": phase_raw_import,
}


def run_phase(name: str, a: Path, b: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one phase, in a child process of its own."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--phase", name, str(a), str(b)])
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"phase {name} failed with exit code {child.returncode}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--phase", nargs=3, metavar=("NAME", "A", "B"))
    args = parser.parse_args()
    if args.phase:
        name, a, b = args.phase
        PHASES[name](Path(a), Path(b))
        return
    n = args.interactions
    with tempfile.TemporaryDirectory(prefix="msl-bench-") as tmp:
        folder = Path(tmp)
        src = folder / "src.db"
        started = time.perf_counter()
        # Built in a child: Linux keeps a process's peak RSS across exec, so every phase
        # forked from a parent that had built a million records in memory reported the
        # parent's peak (422 MiB for all four), not its own.
        run_phase("build", src, Path(str(n)))
        print(
            f"built a store of {n:,} interactions in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
        out = folder / "out"
        out.mkdir()
        results = {}
        for name, a, b in (
            ("raw-export", src, out),
            ("raw-import", folder / "raw.db", out / "raw.jsonl"),
            ("export", src, out),
        ):
            results[name] = run_phase(name, a, b)
        bundle = next(out.glob("*.mslsync"))
        results["import"] = run_phase("import", folder / "dst.db", bundle)
        size = bundle.stat().st_size / 2**20
        raw_size = (out / "raw.jsonl").stat().st_size / 2**20
        changes = n + 1000
        print(
            f"bundle {size:.0f} MiB (raw JSON Lines {raw_size:.0f} MiB), {changes:,} changes",
            file=sys.stderr,
        )
        figures = []
        for ours, raw in (("export", "raw-export"), ("import", "raw-import")):
            t, mem = results[ours]
            rt, rmem = results[raw]
            what = "raw sqlite3 + JSON Lines"
            figures += [
                Figure(ours, f"{ours}, {changes:,} changes", t, rt, what, "s"),
                Figure(f"{ours}_rss", f"{ours}, peak RSS", mem, rmem, what, "MiB"),
            ]
        emit(figures)


if __name__ == "__main__":
    main()
