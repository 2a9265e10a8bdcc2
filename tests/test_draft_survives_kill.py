"""A real `msl note` killed mid-typing: the draft in the store is exactly what was typed.

The store is read directly after the SIGKILL, so the proof does not depend on how the
screen wraps the text; then a restart offers the same draft back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from msl_tui.store import Store
from tests.terminal import MSL, Terminal, draft_notes, eventually, require_tmux, run_msl

pytestmark = pytest.mark.e2e

LINES = ["Asked how referrals reach her clinic.", "  - [ ] send the trial reprint by fri  "]


def test_a_killed_note_keeps_every_character(tmp_path: Path) -> None:
    require_tmux()
    db = tmp_path / "msl.db"
    seeded = run_msl("seed-demo", "--db", str(db), "--kols", "5", "--years", "0.3")
    assert seeded.returncode == 0, seeded.stderr
    store = Store.open(db)
    name = store.list_kols()[0].name
    store.close()

    terminal = Terminal([MSL, "note", "--db", str(db), name])
    try:
        terminal.wait_for("Neutral questions")
        terminal.type(LINES[0])
        terminal.keys("Enter")
        terminal.type(LINES[1])
        terminal.wait_for("send the trial reprint")
        # A pause in typing: the debounced draft is written.
        eventually(lambda: draft_notes(db) == ["\n".join(LINES)], what="no draft was saved")
        terminal.kill_app()
    finally:
        terminal.close()

    store = Store.open(db)
    drafts = store.list_drafts()
    store.close()
    assert [d["payload"]["notes"] for d in drafts] == ["\n".join(LINES)]

    again = Terminal([MSL, "--db", str(db)])
    try:
        again.wait_for("unsent visit note")
        again.keys("y")
        assert "Asked how referrals reach her clinic." in again.wait_for("Neutral questions")
    finally:
        again.close()
