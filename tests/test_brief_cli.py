"""`msl brief NAME` for real: Markdown on stdout, store text that cannot drive the terminal."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from msl_tui.models import FollowUp, Interaction, InteractionStatus, Kol, MslProfile
from msl_tui.store import Store
from msl_tui.timestamps import utcnow

MSL = shutil.which("msl", path=str(Path(sys.executable).parent)) or "msl"
HOSTILE = "Dr Evil \x1b]0;pwn\x07Roe\nforged line"


def msl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MSL, *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "TZ": "UTC"},
    )


def _store(path: Path) -> Store:
    store = Store.open(path)
    store.set_profile(MslProfile(msl_id="ada", name="Ada", device_id=store.device_id))
    return store


def test_the_brief_prints_markdown_with_control_characters_escaped(tmp_path: Path) -> None:
    db = tmp_path / "msl.db"
    store = _store(db)
    kol = store.save(Kol(name="Dr Evil Roe", institution="St Red Hospital"))
    when = utcnow() - timedelta(days=3)
    visit = store.save(
        Interaction(
            kol_id=kol.id,
            occurred_at=when,
            notes="Talked dosing.",
            status=InteractionStatus.SUBMITTED,
            submitted_at=when,
        )
    )
    follow = store.save(FollowUp(kol_id=kol.id, action="send reprint"))
    # The models refuse control characters today; a store written by an older msl-tui (or
    # edited by another program) may still hold them, and printing must not trust it.
    store.db.execute(
        "update kols set name = ?, institution = ? where id = ?",
        [HOSTILE, "St \x1b[31mRed\x1b[0m Hospital", kol.id],
    )
    store.db.execute(
        "update interactions set notes = ? where id = ?", ["Talked \x1b[2J dosing.", visit.id]
    )
    store.db.execute(
        "update followups set action = ? where id = ?", ["send \x07reprint", follow.id]
    )
    store.db.conn.commit()
    store.close()

    result = msl("--db", str(db), "brief", "evil")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\x1b" not in out and "\x07" not in out
    assert out.startswith(r"# Pre-call brief: Dr Evil \x1b]0;pwn\x07Roe\x0aforged line")
    assert "\nforged line" not in out
    assert r"St \x1b[31mRed\x1b[0m Hospital" in out
    for heading in (
        "## Last visits",
        "## Open follow-ups",
        "## Objectives and progress",
        "## Questions asked before, still unanswered",
        "## Heard recently",
    ):
        assert f"\n{heading}\n" in out
    assert r"Talked \x1b[2J dosing." in out
    assert r"- [ ] send \x07reprint (no due date; MSL)" in out
    assert "last contact 3 days ago" in out


def test_an_unknown_name_is_one_line_on_stderr(tmp_path: Path) -> None:
    db = tmp_path / "msl.db"
    _store(db).close()
    result = msl("--db", str(db), "brief", "nobody")
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("msl: error: no KOL") and "'nobody'" in line


def test_several_matches_are_named_not_guessed(tmp_path: Path) -> None:
    db = tmp_path / "msl.db"
    store = _store(db)
    store.save(Kol(name="Dr Ada Roe"))
    store.save(Kol(name="Dr Bo Roe"))
    store.close()
    result = msl("--db", str(db), "brief", "roe")
    assert result.returncode == 1
    assert "Dr Ada Roe" in result.stderr and "Dr Bo Roe" in result.stderr
