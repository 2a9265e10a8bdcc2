"""`msl note` in a real terminal: type, ctrl+s, and the shell is back with a line saying so."""

from __future__ import annotations

from pathlib import Path

import pytest

from msl_tui.models import Interaction
from msl_tui.store import Store
from tests.terminal import MSL, Terminal, require_tmux, run_msl

pytestmark = pytest.mark.e2e


def test_msl_note_returns_to_the_shell_after_saving(tmp_path: Path) -> None:
    require_tmux()
    db = tmp_path / "msl.db"
    seeded = run_msl("seed-demo", "--db", str(db), "--kols", "5", "--years", "0.3")
    assert seeded.returncode == 0, seeded.stderr
    store = Store.open(db)
    kol = store.list_kols()[2]
    before = store.count(Interaction)
    store.close()

    shell = f'"{MSL}" note --db "{db}" "{kol.name}"; echo "back at the shell: $?"; sleep 60'
    terminal = Terminal(["sh", "-c", shell])
    try:
        terminal.wait_for("Neutral questions")
        terminal.type("Quick call: she wants the renal subgroup poster.")
        terminal.keys("C-s")
        screen = terminal.wait_for("back at the shell: 0")
        assert f"Visit saved for {kol.name}." in screen
    finally:
        terminal.close()
    store = Store.open(db)
    assert store.count(Interaction) == before + 1
    store.close()
