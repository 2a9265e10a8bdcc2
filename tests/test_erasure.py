"""Erasure that travels: a KOL erased at head office is erased at every MSL that imports the
next bundle; old changes of that KOL that arrive later are dropped and counted; and no byte
of the person's name is left in any of the store files.

The erasure itself runs through the real `msl kol erase` command.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sync_helpers import add_kol, add_visit, make_store

from msl_tui.models import EngagementPlan, FollowUp, Kol
from msl_tui.store import Store, sync_log
from msl_tui.store import erasure as erasures
from msl_tui.sync.bundle import BundleError, Manifest
from msl_tui.sync.export import export_bundle
from msl_tui.sync.importer import ImportError_, import_bundle

MSL = shutil.which("msl", path=str(Path(sys.executable).parent)) or "msl"
# A name no other text in these stores contains, in every form FTS or JSON could keep it.
FIRST, LAST = "Zephyrine", "Quillfeather"
NAME = f"Dr {FIRST} {LAST}"
SECRET = "sleeps badly since the merger"


def msl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MSL, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "MSL_BUSY_TIMEOUT_MS": "100"},
    )


def traces(path: Path) -> list[str]:
    """Which forms of the erased person's data are still in the store's files (after a
    checkpoint that empties the write-ahead log into the file)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    found = []
    for file in [path, *path.parent.glob(path.name + "-*")]:
        raw = file.read_bytes().lower()
        for needle in (FIRST, LAST, SECRET, "merger"):
            if needle.lower().encode() in raw:
                found.append(f"{file.name}: {needle}")
    return found


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Three:
    ana: Path
    ho: Path
    bob: Path
    kol_id: str
    folder: Path
    bob_stale: Path  # a bundle Bob wrote before the erasure: changes of the erased KOL


def _ship(src: Path, dst: Path, out: Path, *, full: bool = False) -> str:
    a = Store.open(src)
    bundle = export_bundle(a, out, full=full).path
    a.close()
    assert bundle is not None
    b = Store.open(dst)
    lines = import_bundle(b, bundle).lines()
    b.close()
    return "\n".join(lines)


@pytest.fixture
def three(tmp_path: Path) -> Three:
    """Ana (MSL) met the KOL; head office has everything; Bob (MSL) got the KOL from head
    office, wrote a visit of his own and exported it, but head office has not read it yet.
    Head office holds an open conflict about the KOL's profile note."""
    ana = make_store(tmp_path / "ana.db", "ana", "laptop-ana")
    kol = add_kol(ana, NAME, city="York", profile_note=f"{LAST} chairs the renal guideline")
    other = add_kol(ana, "Dr Oskar Lind", city="Leeds")
    visit = add_visit(ana, kol, notes=f"{FIRST} {SECRET}")
    add_visit(ana, other, notes="asked about dosing")
    ana.save(FollowUp(kol_id=kol.id, interaction_id=visit.id, action=f"Send {LAST} the data"))
    ana.save(
        EngagementPlan(
            kol_id=kol.id,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
            owner_msl=f"ana for {LAST}",
        )
    )
    ana.save_draft("draft-1", kol.id, {"notes": f"half-written: {FIRST} {SECRET}"})
    ana.close()
    ho = make_store(tmp_path / "ho.db", "head.office", "hq-1", role="head office")
    bob = make_store(tmp_path / "bob.db", "bob", "laptop-bob")
    ho.close()
    bob.close()
    _ship(tmp_path / "ana.db", tmp_path / "ho.db", tmp_path / "1")
    _ship(tmp_path / "ho.db", tmp_path / "bob.db", tmp_path / "2", full=True)
    # The same note changed on two laptops, and Bob logs a visit of his own.
    a, b = Store.open(tmp_path / "ana.db"), Store.open(tmp_path / "bob.db")
    a.save(a.get(Kol, kol.id).evolve(profile_note=f"{LAST} moved to Leeds"))  # type: ignore[union-attr]
    b.save(b.get(Kol, kol.id).evolve(profile_note=f"{LAST} retired"))  # type: ignore[union-attr]
    add_visit(b, b.get(Kol, kol.id), notes=f"{FIRST} again: {SECRET}")  # type: ignore[arg-type]
    edit = export_bundle(a, tmp_path / "3").path
    a.close()
    assert edit is not None
    office = Store.open(tmp_path / "ho.db")
    import_bundle(office, edit)
    office.close()  # checkpointed: the digests below compare whole files
    import_bundle(b, edit)
    assert sync_log.list_conflicts(b)  # Bob now holds both notes in a conflict
    stale = export_bundle(b, tmp_path / "bob-stale").path
    b.close()
    assert stale is not None
    return Three(
        tmp_path / "ana.db", tmp_path / "ho.db", tmp_path / "bob.db", kol.id, tmp_path, stale
    )


def test_three_store_erasure_round_trip_leaves_no_byte_of_the_name(three: Three) -> None:
    # Before: every store holds the person, in rows, indexes and the change log.
    assert all(traces(db) for db in (three.ana, three.ho, three.bob))

    erased = msl("--db", three.ho, "kol", "erase", LAST, "--reason", "request", "--yes")
    assert erased.returncode == 0, erased.stderr
    assert erased.stdout.startswith(
        f"erased {NAME} ({three.kol_id}): 1 visit, 1 plan, 1 follow-up, 0 drafts"
    )
    assert traces(three.ho) == []

    # Head office's next export carries the erasure (and no trace of the person).
    out = three.folder / "h"
    sent = msl("--db", three.ho, "export", "--out", out)
    assert sent.returncode == 0, sent.stderr and "1 erasure" in sent.stdout
    [bundle] = out.glob("*.mslsync")
    with zipfile.ZipFile(bundle) as z:
        [line] = z.read("erasures.jsonl").splitlines()
        assert json.loads(z.read("manifest.json"))["format"] == 2
        assert not any(LAST.lower().encode() in z.read(n).lower() for n in z.namelist())
    record = json.loads(line)
    assert set(record) == {"kol", "at", "reason", "by", "device"}
    assert (record["kol"], record["reason"], record["by"]) == (
        three.kol_id,
        "request",
        "head.office",
    )

    for db in (three.ana, three.bob):
        took = msl("--db", db, "import", bundle)
        assert took.returncode == 0, took.stderr
        assert "erasures: 1 KOL erased here" in took.stdout
        assert traces(db) == []

    # Bob's bundle from before the erasure reaches head office late: its changes of the
    # erased KOL are dropped and said so; nothing of the person comes back.
    late = msl("--db", three.ho, "import", three.bob_stale)
    assert late.returncode == 0, late.stderr
    # Ana's four first changes and her note edit, which Bob relays, his edit and his visit.
    assert "7 changes for erased KOLs dropped" in late.stdout
    assert "KOLs: 0 inserted, 0 updated, 1 unchanged" in late.stdout  # Dr Lind
    assert traces(three.ho) == []
    # And once more: a bundle seen as dropped is dropped again, quietly counted.
    ana_full = msl("--db", three.ana, "export", "--full", "--out", three.folder / "a.mslsync")
    assert ana_full.returncode == 0, ana_full.stderr
    assert msl("--db", three.bob, "import", three.folder / "a.mslsync").returncode == 0

    for db in (three.ana, three.ho, three.bob):
        assert traces(db) == [], db.name
        store = Store.open(db)
        assert [k.name for k in store.list_kols()] == ["Dr Oskar Lind"]
        assert store.list_drafts() == []
        assert [r for r in sync_log.list_conflicts(store, open_only=False)] == []
        assert erasures.erased_kol_ids(store) == {three.kol_id}
        assert store.search_kol_ids(LAST) == []
        assert sync_log.integrity_check(store) == "ok"
        store.close()


def test_erased_changes_are_markers_and_never_exported(three: Three) -> None:
    result = msl("--db", three.ana, "kol", "erase", three.kol_id, "--reason", "objection", "--yes")
    assert result.returncode == 0, result.stderr
    store = Store.open(three.ana)
    rows = list(
        store.db.query(
            "select patch, base, author from changes where record_id = ?", [three.kol_id]
        )
    )
    assert rows and all(r == {"patch": "{}", "base": "{}", "author": ""} for r in rows)
    bundle = export_bundle(store, three.folder / "x", full=True).path
    store.close()
    with zipfile.ZipFile(bundle) as z:  # type: ignore[arg-type]
        assert b'"patch":{}' not in z.read("kols.jsonl")
        assert len(z.read("kols.jsonl").splitlines()) == 1  # Dr Lind's creation only


def test_a_dry_run_shows_the_erasure_and_writes_nothing(three: Three) -> None:
    assert (
        msl("--db", three.ho, "kol", "erase", LAST, "--reason", "request", "--yes").returncode == 0
    )
    sent = msl("--db", three.ho, "export", "--full", "--out", three.folder / "h.mslsync")
    assert sent.returncode == 0
    before = digest(three.bob)
    dry = msl("--db", three.bob, "import", "--dry-run", three.folder / "h.mslsync")
    assert dry.returncode == 0, dry.stderr
    assert "erasures: 1 KOL would be erased" in dry.stdout
    assert digest(three.bob) == before
    # At head office, Bob's late bundle in a dry run: the drops are counted, nothing written.
    before = digest(three.ho)
    late = msl("--db", three.ho, "import", "--dry-run", three.bob_stale)
    assert late.returncode == 0 and "7 changes for erased KOLs dropped" in late.stdout
    assert digest(three.ho) == before


def test_erasing_needs_confirmation_off_a_terminal(three: Three) -> None:
    before = digest(three.ho)
    result = msl("--db", three.ho, "kol", "erase", LAST, "--reason", "request")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"msl: error: erasing {NAME} ({three.kol_id}) cannot be undone: add --yes to confirm"
    ]
    assert digest(three.ho) == before


def test_the_reason_is_a_category_not_free_text(three: Three) -> None:
    result = msl("--db", three.ho, "kol", "erase", LAST, "--reason", f"{NAME} asked", "--yes")
    assert result.returncode == 2 and "is not one of" in result.stderr


def _with_pending_event(db: Path, kol_id: str) -> None:
    store = Store.open(db)
    kol = store.get(Kol, kol_id)
    assert kol is not None
    add_visit(
        store,
        kol,
        notes="patient had a rash",
        adverse_event={"day_zero": datetime(2026, 11, 20, 9, tzinfo=UTC), "event": "rash"},
    )
    store.close()


def test_an_unreported_adverse_event_blocks_erasure(three: Three) -> None:
    _with_pending_event(three.ho, three.kol_id)
    before = digest(three.ho)
    result = msl("--db", three.ho, "kol", "erase", LAST, "--reason", "request", "--yes")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert "adverse event(s) not yet reported to pharmacovigilance" in line
    assert "day zero 2026-11-20" in line
    assert digest(three.ho) == before


def test_an_imported_erasure_waits_for_an_unreported_adverse_event(three: Three) -> None:
    assert (
        msl("--db", three.ho, "kol", "erase", LAST, "--reason", "request", "--yes").returncode == 0
    )
    assert msl("--db", three.ho, "export", "--out", three.folder / "h.mslsync").returncode == 0
    _with_pending_event(three.bob, three.kol_id)
    before = digest(three.bob)
    result = msl("--db", three.bob, "import", three.folder / "h.mslsync")
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "erases KOL" in line and "report them first" in line and "import again" in line
    assert digest(three.bob) == before


def test_a_store_with_no_erasures_writes_format_1_bundles(tmp_path: Path) -> None:
    store = make_store(tmp_path / "a.db", "ana", "laptop-a")
    add_kol(store, "Dr Oskar Lind")
    bundle = export_bundle(store, tmp_path / "a.mslsync").path
    store.close()
    with zipfile.ZipFile(bundle) as z:  # type: ignore[arg-type]
        assert json.loads(z.read("manifest.json"))["format"] == 1
        assert "erasures.jsonl" not in z.namelist()


def test_a_format_1_manifest_cannot_carry_erasures() -> None:
    manifest = {
        "format": 1,
        "schema": 1,
        "bundle_id": "00000000-0000-4000-8000-000000000000",
        "kind": "msl-log",
        "source": {"device": "laptop-a"},
        "created": "1795734386080-0000-laptop-a",
        "ranges": {},
        "parts": [
            {
                "name": "erasures.jsonl",
                "table": "erasure",
                "size": 0,
                "count": 0,
                "sha256": "0" * 64,
            }
        ],
    }
    with pytest.raises(BundleError, match="a format 1 bundle cannot carry erasures"):
        Manifest.parse(json.dumps(manifest).encode())


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("reason", "because Dr Holt said so", "erasures.jsonl line 1: reason"),
        ("kol", "Dr Holt", "is not a KOL id (UUID)"),
        ("at", "yesterday", "is not a time"),
        ("at", "9999-12-31T00:00:00Z", "erasures.jsonl line 1: at: 9999-12-31 is more than"),
        ("at", "0001-01-01T00:00:00Z", "erasures.jsonl line 1: at: 0001-01-01 is before 1970"),
        ("at", "2026-02-30T00:00:00Z", "erasures.jsonl line 1: at: 2026-02-30T00:00:00Z is not"),
        ("by", "ana\nforged line", "erasures.jsonl line 1: by"),
    ],
)
def test_a_bad_erasure_line_refuses_the_bundle(
    three: Three, field: str, value: str, words: str
) -> None:
    assert (
        msl("--db", three.ho, "kol", "erase", LAST, "--reason", "request", "--yes").returncode == 0
    )
    good = three.folder / "h.mslsync"
    assert msl("--db", three.ho, "export", "--no-sign", "--out", good).returncode == 0
    with zipfile.ZipFile(good) as z:
        members = {n: z.read(n) for n in z.namelist()}
    line = json.loads(members["erasures.jsonl"])
    line[field] = value
    members["erasures.jsonl"] = json.dumps(line).encode() + b"\n"
    manifest = json.loads(members["manifest.json"])
    for part in manifest["parts"]:
        if part["name"] == "erasures.jsonl":
            data = members["erasures.jsonl"]
            part.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    members["manifest.json"] = json.dumps(manifest).encode()
    bad = three.folder / "bad.mslsync"
    with zipfile.ZipFile(bad, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    store = Store.open(three.bob)
    with pytest.raises(ImportError_, match=re.escape(words)):
        import_bundle(store, bad)
    assert store.get(Kol, three.kol_id) is not None
    store.close()
