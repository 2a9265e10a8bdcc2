"""Killing `msl import` at random moments leaves the store exactly before or exactly after."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from msl_tui.demo import seed_demo
from msl_tui.store import Store, sync_log
from msl_tui.store.codec import ENTITIES
from msl_tui.sync.export import export_bundle

MSL = Path(sys.executable).parent / "msl"
TRIALS = 14
BUDGET_S = 35.0


def _logical(path: Path) -> tuple[str, Any]:
    store = Store.open(path, create=False)
    try:
        verdict = sync_log.integrity_check(store)
        rows = {
            e.table: [
                {k: v for k, v in r.items() if k != "updated_at"}
                for r in sync_log.iter_rows(store, e, live_only=False)
            ]
            for e in ENTITIES.values()
        }
        changes = sum(1 for e in ENTITIES for _ in sync_log.iter_changes(store, e))
        state = json.dumps([rows, changes, sync_log.list_conflicts(store)], sort_keys=True)
        return verdict, state
    finally:
        store.close()


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("kill")
    src = Store.open(folder / "src.db")
    from conftest import FIXED_NOW

    seed_demo(src, kols=120, years=3.0, seed=3, now=FIXED_NOW)
    bundle = export_bundle(src, folder / "out", sign=False).path
    src.close()
    base = folder / "base.db"
    Store.open(base).close()  # an existing, empty store: "before"
    after = folder / "after.db"
    shutil.copy(base, after)
    started = time.perf_counter()
    subprocess.run(
        [str(MSL), "--db", str(after), "import", str(bundle)], check=True, capture_output=True
    )
    return {
        "bundle": bundle,
        "base": base,
        "before": _logical(base)[1],
        "after": _logical(after)[1],
        "duration": time.perf_counter() - started,
    }


@pytest.mark.long
def test_sigkill_during_import_leaves_before_or_after(scene: dict[str, Any], tmp_path: Path):
    assert scene["before"] != scene["after"]
    rng = random.Random(20261123)
    outcomes = {"before": 0, "after": 0}
    deadline = time.perf_counter() + BUDGET_S
    for trial in range(TRIALS):
        if time.perf_counter() > deadline:
            break
        db = tmp_path / f"trial{trial}.db"
        shutil.copy(scene["base"], db)
        proc = subprocess.Popen(
            [str(MSL), "--db", str(db), "import", str(scene["bundle"])],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Most kills land in the import itself, after the interpreter has started.
        time.sleep(rng.uniform(0.25, 1.1) * scene["duration"])
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        verdict, state = _logical(db)
        assert verdict == "ok", f"trial {trial}: {verdict}"
        assert state in (scene["before"], scene["after"]), f"trial {trial}: half-imported store"
        outcomes["before" if state == scene["before"] else "after"] += 1
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    assert sum(outcomes.values()) >= 5
    assert outcomes["before"] > 0, outcomes
    if os.environ.get("MSL_KILL_VERBOSE"):
        print(outcomes)
