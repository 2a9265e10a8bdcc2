"""Every field of every record type, spoiled every way, in a bundle whose checksums agree.

Each spoiled bundle is either refused in one line with the store byte-identical, or
accepted; everything accepted then goes through the real `msl import` into one store, and
`msl report`, the ranked list, every KOL page and an app launch (Pilot) must all work on it.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from app_helpers import wait_for
from sync_helpers import part_entry, write_zip

from msl_tui.app import MslApp
from msl_tui.models import (
    Activity,
    AdverseEvent,
    Amendment,
    EngagementPlan,
    Feedback,
    FollowUp,
    Insight,
    InsightCategory,
    Interaction,
    InteractionStatus,
    Kol,
    MedInfoRequest,
    MslProfile,
    Objective,
    Sentiment,
    TransferOfValue,
)
from msl_tui.services.kol_list import KolListService
from msl_tui.services.kol_page import load_kol_page
from msl_tui.settings import Settings
from msl_tui.store import Store
from msl_tui.store.codec import ENTITIES, ENTITY_BY_MODEL, dump_fields
from msl_tui.sync.bundle import WIRE_VERSION
from msl_tui.sync.importer import ImportError_, import_bundle

NOW = datetime.now(UTC).replace(microsecond=0)
MSL = Path(sys.executable).with_name("msl")

# What a hostile or broken exporter might put in any field.
SPOILERS: dict[str, Any] = {
    "zero": 0,
    "negative": -1,
    "float": 1.5,
    "huge int": 2**63,
    "below int64": -(2**63) - 1,
    "huge float": 1e308,
    "numeric string": "12",
    "non-ascii digits": "١٢",
    "naive datetime": "2026-01-05T10:00:00",
    "offset datetime": "2026-01-05T10:00:00+02:00",
    "date only": "2026-01-05",
    "epoch seconds": 1_767_600_000,
    "null": None,
    "true": True,
    "empty string": "",
    "huge string": "x" * 100_001,
    "control chars": "a\x1b]0;owned\x07b\nc",
    "bidi override": "abc\u202edcba",
    "lone surrogate": "\ud800",
    "empty list": [],
    "empty object": {},
    "bad date": "2026-13-45",
}


def family() -> dict[str, Any]:
    """One KOL with a plan, a visit carrying every nested record, and a follow-up."""
    kol = Kol(name="Dr Fuzz Target", institution="General", therapeutic_areas=["renal"])
    objective = Objective(description="Understand dosing practice", due=date.today())
    plan = EngagementPlan(
        kol_id=kol.id,
        period_start=date.today() - timedelta(days=30),
        period_end=date.today() + timedelta(days=300),
        objectives=[objective],
        activities=[Activity(description="Advisory board", due=date.today())],
    )
    visit = Interaction(
        kol_id=kol.id,
        msl_id="fuzz",
        occurred_at=NOW - timedelta(days=2),
        objective_id=objective.id,
        notes="Discussed renal dosing.",
        questions_asked=["How do you choose the dose?"],
        insights=[Insight(category=InsightCategory.DATA_GAP, text="wants cohort data")],
        feedback=Feedback(sentiment=Sentiment.NEUTRAL, about="data"),
        adverse_event=AdverseEvent(day_zero=NOW - timedelta(days=2), event="rash"),
        med_info_request=MedInfoRequest(question="off-label use in children?"),
        transfer_of_value=TransferOfValue(
            nature="meal",
            amount=Decimal("25.00"),
            currency="EUR",
            date=date.today(),
            recipient="Dr Fuzz Target",
        ),
        status=InteractionStatus.AMENDED,
        submitted_at=NOW - timedelta(days=2),
        amendments=[Amendment(at=NOW - timedelta(days=1), reason="typo", previous_notes="x")],
        tags=["renal"],
    )
    follow = FollowUp(kol_id=kol.id, interaction_id=visit.id, action="Send the paper")
    return {"kol": kol, "plan": plan, "interaction": visit, "followup": follow}


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every field and nested field of a record's JSON form (first list item only)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list) and value:
        yield (*prefix, 0)
        yield from paths(value[0], (*prefix, 0))


def _set(target: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


def _renamed(records: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The family's patches with fresh ids, so every bundle stands on its own."""
    patches = {name: dump_fields(r) for name, r in records.items()}
    ids = {name: str(uuid.uuid4()) for name in records}
    mapping = {records[name].id: ids[name] for name in records}
    objective = records["plan"].objectives[0].id
    mapping[objective] = str(uuid.uuid4())
    text = json.dumps(patches)
    for old, new in mapping.items():
        text = text.replace(old, new)
    out = json.loads(text)
    for name in records:
        out[name]["__id"] = ids[name]
    return out


def write_bundle(path: Path, device: str, patches: dict[str, dict[str, Any]]) -> Path:
    wall = int((NOW - timedelta(minutes=5)).timestamp() * 1000)
    members: list[tuple[str, bytes]] = []
    entries = []
    seq = 0
    for name in ("kol", "plan", "interaction", "followup"):
        patch = dict(patches[name])
        record_id = patch.pop("__id")
        seq += 1
        line = {
            "device": device,
            "seq": seq,
            "hlc": f"{wall + seq:013d}-0000-{device}",
            "id": record_id,
            "patch": patch,
            "base": {},
            "author": "fuzz",
        }
        data = json.dumps(line).encode() + b"\n"
        part = f"{ENTITIES[name].table}.jsonl"
        members.append((part, data))
        entries.append(part_entry(part, name, data))
    manifest = {
        "format": 1,
        "schema": WIRE_VERSION,
        "bundle_id": str(uuid.uuid4()),
        "kind": "msl-log",
        "source": {"device": device, "msl_id": "fuzz", "role": "msl"},
        "created": f"{wall + seq + 1:013d}-0000-{device}",
        "ranges": {device: [1, seq]},
        "parts": entries,
    }
    return write_zip(path, [("manifest.json", json.dumps(manifest).encode()), *members])


def _state(db: Path) -> tuple[bytes | None, ...]:
    """The store's files, byte for byte (compared whole: cheaper than hashing them)."""
    parts = (Path(str(db) + suffix) for suffix in ("", "-wal"))
    return tuple(part.read_bytes() if part.exists() else None for part in parts)


def _cases() -> list[tuple[str, tuple[Any, ...], str]]:
    records = family()
    cases = []
    for name, record in records.items():
        for path in paths(dump_fields(record)):
            for spoiler in SPOILERS:
                cases.append((name, path, spoiler))
    return cases


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MSL_BUSY_TIMEOUT_MS": "2000"}
    return subprocess.run([str(MSL), *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Import every spoiled bundle into a scratch store, one at a time."""
    root = tmp_path_factory.mktemp("fuzz")
    db = root / "scratch.db"
    store = Store.open(db)
    store.set_profile(MslProfile(msl_id="target", name="Target", device_id="target-laptop"))
    accepted: list[Path] = []
    refused: list[tuple[str, str]] = []
    problems: list[str] = []
    before = _state(db)
    for n, (name, path, spoiler) in enumerate(_cases()):
        patches = _renamed(family())
        _set(patches[name], path, copy.deepcopy(SPOILERS[spoiler]))
        bundle = write_bundle(root / f"b{n:05d}.mslsync", f"fz{n}", patches)
        label = f"{name}.{'.'.join(map(str, path))} = {spoiler}"
        try:
            import_bundle(store, bundle, now=NOW)
        except ImportError_ as exc:
            message = str(exc)
            if "\n" in message or "\r" in message or "\x1b" in message:
                problems.append(f"{label}: refusal is not one clean line: {message!r}")
            after = _state(db)
            if after != before:
                problems.append(f"{label}: refused, but the store changed")
            before = after  # what the next case must leave as it is
            refused.append((label, message))
            bundle.unlink()
        else:
            accepted.append(bundle)
            before = _state(db)
    store.close()
    return {"root": root, "accepted": accepted, "refused": refused, "problems": problems}


def test_every_spoiled_bundle_is_refused_cleanly_or_accepted(outcome: dict[str, Any]) -> None:
    assert outcome["problems"] == []
    # The spoilers are mostly wrong for any field: most bundles must be refused...
    assert len(outcome["refused"]) > len(outcome["accepted"])
    # ...and each refusal names the file and the field that was spoiled.
    for label, message in outcome["refused"]:
        assert ".mslsync: " in message, (label, message)


def test_coerced_values_are_refused_not_stored(outcome: dict[str, Any]) -> None:
    refused = {label for label, _ in outcome["refused"]}
    for label in (
        "interaction.occurred_at = naive datetime",
        "interaction.occurred_at = epoch seconds",
        "interaction.occurred_at = offset datetime",
        "interaction.duration_min = numeric string",
        "interaction.transfer_of_value.date = epoch seconds",
        "interaction.adverse_event.day_zero = epoch seconds",
        "interaction.adverse_event.day_zero = naive datetime",
        "kol.name = control chars",
        "kol.name = lone surrogate",
        "kol.name = bidi override",
        "interaction.notes = lone surrogate",
        "plan.cadence_days = huge int",
    ):
        assert label in refused, label


def test_what_was_accepted_works_everywhere(outcome: dict[str, Any]) -> None:
    root: Path = outcome["root"]
    accepted: list[Path] = outcome["accepted"]
    assert accepted, "some spoilers are valid values (empty notes, no tags, ...)"
    db = root / "accepted.db"
    assert _run("--db", str(db), "init", "--name", "Head Office").returncode == 0
    for start in range(0, len(accepted), 200):
        result = _run("--db", str(db), "import", *map(str, accepted[start : start + 200]))
        assert result.returncode == 0, result.stderr[-2000:]
        assert "Traceback" not in result.stderr
    report = _run("--db", str(db), "report", "--out", str(root / "reports"))
    assert report.returncode == 0, report.stderr
    assert "Traceback" not in report.stderr

    store = Store.open(db)
    kols = store.list_kols()
    assert len(kols) >= len(accepted) // 2
    rows = KolListService(store).ranked(NOW)
    assert len(rows) == len(kols)
    for kol in kols:
        load_kol_page(store, kol.id, NOW)
    store.close()


async def test_the_app_launches_on_what_was_accepted(outcome: dict[str, Any]) -> None:
    root: Path = outcome["root"]
    db = root / "app.db"
    store = Store.open(db)
    store.set_profile(MslProfile(msl_id="target", name="Target", device_id="app-laptop"))
    for bundle in outcome["accepted"][:150]:
        import_bundle(store, bundle, now=NOW)
    app = MslApp(store, now=lambda: NOW, settings=Settings())
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one("DataTable")
        await wait_for(pilot, lambda: table.row_count > 0)
        for _ in range(3):
            await pilot.press("enter")
            await wait_for(pilot, lambda: type(app.screen).__name__ != "KolListScreen")
            await pilot.pause()
            await pilot.press("escape")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "KolListScreen")
            await pilot.press("down")
    store.close()


def test_model_entities_cover_every_table() -> None:
    assert {ENTITY_BY_MODEL[type(r)].name for r in family().values()} == set(ENTITIES)
