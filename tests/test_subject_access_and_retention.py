"""Access and retention: `msl kol export` writes everything held about one KOL (JSON and
Markdown, 0600), and unsent drafts past their time are removed when a writable store opens."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sync_helpers import add_kol, add_visit, make_store

from msl_tui.models import FollowUp, Interaction
from msl_tui.store import Store

MSL = shutil.which("msl", path=str(Path(sys.executable).parent)) or "msl"


def msl(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MSL, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A KOL with a note that was edited, a deleted visit, a follow-up and a draft; and
    another KOL whose data must not appear in the first one's export."""
    path = tmp_path / "ana.db"
    store = make_store(path, "ana", "laptop-ana")
    kol = add_kol(store, "Dr Mira Holt", city="York", profile_note="first impression")
    store.save(kol.evolve(profile_note="chairs the renal guideline"))
    visit = add_visit(store, kol, notes="asked about renal dosing")
    gone = add_visit(store, kol, notes="logged by mistake")
    store.delete(Interaction, gone.id)
    store.save(FollowUp(kol_id=kol.id, interaction_id=visit.id, action="Send the renal data"))
    store.save_draft(f"visit:{kol.id}", kol.id, {"kol_id": kol.id, "notes": "half written"})
    other = add_kol(store, "Dr Oskar Lind")
    add_visit(store, other, notes="nothing about Holt's colleague")
    store.close()
    return path


def test_a_subject_access_export_holds_everything_and_is_private(db: Path, tmp_path: Path) -> None:
    before = digest(db)
    result = msl("--db", db, "kol", "export", "holt", "--out", tmp_path / "sar" / "holt.json")
    assert result.returncode == 1 and "does not exist" in result.stderr
    (tmp_path / "sar").mkdir()
    result = msl("--db", db, "kol", "export", "holt", "--out", tmp_path / "sar" / "holt.json")
    assert result.returncode == 0, result.stderr
    assert "2 interactions, 1 follow-up, 1 draft" in result.stdout
    written = [tmp_path / "sar" / "holt.json", tmp_path / "sar" / "holt.md"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)
    assert digest(db) == before  # reading for an export changes nothing

    data = json.loads(written[0].read_text(encoding="utf-8"))
    assert data["kol"]["name"] == "Dr Mira Holt"
    assert sorted(i["notes"] for i in data["interactions"]) == [
        "asked about renal dosing",
        "logged by mistake",  # deleted, but still held: it is in the export
    ]
    assert data["followups"][0]["action"] == "Send the renal data"
    assert data["drafts"][0]["payload"]["notes"] == "half written"
    # The change history keeps earlier values: they are held, so they are exported.
    notes = [h["fields"].get("profile_note") for h in data["history"] if h["entity"] == "kol"]
    assert notes == ["first impression", "chairs the renal guideline"]
    assert "Lind" not in written[0].read_text() and "Lind" not in written[1].read_text()

    markdown = written[1].read_text(encoding="utf-8")
    assert markdown.startswith("# Data held about Dr Mira Holt\n")
    for words in (
        "## Visits and other interactions (2)",
        "asked about renal dosing",
        "half written",
    ):
        assert words in markdown

    again = msl("--db", db, "kol", "export", "holt", "--out", tmp_path / "sar" / "holt")
    assert again.returncode == 1 and "already exists" in again.stderr
    forced = msl("--db", db, "kol", "export", "holt", "--out", tmp_path / "sar" / "holt", "--force")
    assert forced.returncode == 0, forced.stderr


def test_an_erased_kol_has_only_its_erasure_record(db: Path, tmp_path: Path) -> None:
    store = Store.open(db)
    kol_id = store.find_kols_by_name("holt")[0].id
    store.close()
    assert msl("--db", db, "kol", "erase", kol_id, "--reason", "request", "--yes").returncode == 0
    result = msl("--db", db, "kol", "export", kol_id, "--out", tmp_path / "x")
    assert result.returncode == 1
    assert "was erased on" in result.stderr and "(request)" in result.stderr
    assert not list(tmp_path.glob("x*"))


def _age_drafts(db: Path, days: int) -> None:
    conn = sqlite3.connect(db)
    conn.execute(
        "update drafts set updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?)",
        [f"-{days} days"],
    )
    conn.commit()
    conn.close()


def _drafts(db: Path) -> int:
    conn = sqlite3.connect(db)
    count = conn.execute("select count(*) from drafts").fetchone()[0]
    conn.close()
    return int(count)


def test_old_drafts_are_removed_when_a_writable_store_opens(db: Path, tmp_path: Path) -> None:
    _age_drafts(db, 31)
    assert msl("--db", db, "report", "--out", tmp_path / "r").returncode == 0
    assert _drafts(db) == 1  # a read-only command removes nothing
    result = msl("--db", db, "export", "--out", tmp_path / "b.mslsync")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "msl: removed 1 unsent draft older than 30 days (settings: [retention] drafts_days)\n"
    )
    assert _drafts(db) == 0
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert b"half written" not in db.read_bytes()  # the text left the file too


def test_recent_drafts_stay_and_the_setting_is_honoured(db: Path, tmp_path: Path) -> None:
    _age_drafts(db, 10)
    assert msl("--db", db, "init", "--name", "Ana").returncode == 0
    assert _drafts(db) == 1
    settings = tmp_path / "settings.toml"
    settings.write_text("[retention]\ndrafts_days = 7\n", encoding="utf-8")
    result = msl("--db", db, "init", "--name", "Ana", env={"MSL_SETTINGS": str(settings)})
    assert result.returncode == 0 and "older than 7 days" in result.stderr
    assert _drafts(db) == 0


@pytest.mark.parametrize(
    "text", ["[retention]\ndrafts_days = 0\n", "[retention]\ndrafts_days = 'x'\n"]
)
def test_a_bad_retention_setting_removes_nothing(db: Path, tmp_path: Path, text: str) -> None:
    _age_drafts(db, 400)
    settings = tmp_path / "settings.toml"
    settings.write_text(text, encoding="utf-8")
    result = msl("--db", db, "init", "--name", "Ana", env={"MSL_SETTINGS": str(settings)})
    assert result.returncode == 0
    assert _drafts(db) == 1


def test_opening_the_store_removes_plaintext_a_killed_import_left_beside_it(
    tmp_path: Path,
) -> None:
    """A killed import leaves its decrypted bundle in a scratch folder beside the store,
    and a killed `msl decrypt` a hidden plaintext copy: the next writable open removes both
    once they are an hour old (no running command can still own them)."""
    import os
    import time

    from msl_tui.services.retention import housekeeping
    from msl_tui.store import Store

    db = tmp_path / "msl.db"
    Store.open(db).close()
    scratch = tmp_path / ".msl-scratch-abc123"
    scratch.mkdir()
    (scratch / "bundle.zip").write_bytes(b"Dr Secret Name")
    copy = tmp_path / ".msl.tmp-0123456789ab"
    journal = tmp_path / ".msl.tmp-0123456789ab-journal"
    for f in (copy, journal):
        f.write_bytes(b"Dr Secret Name")
    fresh = tmp_path / ".msl.tmp-ffffffffffff"
    fresh.write_bytes(b"in use")
    old = time.time() - 7200
    for f in (scratch, copy, journal):
        os.utime(f, (old, old))
    store = Store.open(db)
    said = housekeeping(store, 30)
    store.close()
    assert not scratch.exists() and not copy.exists() and not journal.exists()
    assert fresh.exists()
    assert any("leftover" in line for line in said)
