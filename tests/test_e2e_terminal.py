"""msl in a real terminal: what a person sees, what survives a restart and a kill."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from msl_tui.models import Interaction
from msl_tui.store import Store
from tests.terminal import MSL, Terminal, draft_notes, eventually, require_tmux, run_msl

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tmux()
    db = tmp_path_factory.mktemp("e2e") / "msl.db"
    result = run_msl("seed-demo", "--db", str(db), "--kols", "30", "--years", "1")
    assert result.returncode == 0, result.stderr
    return db


@pytest.fixture
def store_copy(seeded: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "msl.db"
    copy.write_bytes(seeded.read_bytes())
    return copy


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.close()


def start(terminals: list[Terminal], db: Path, height: int = 32) -> Terminal:
    terminal = Terminal([MSL, "--db", str(db)], height=height)
    terminals.append(terminal)
    return terminal


def top_kol(db: Path) -> str:
    store = Store.open(db)
    # The demo's first KOL carries the unreported adverse event, so it ranks first.
    name = next(
        k.name
        for k in store.list_kols()
        if any(i.ae_unreported() for i in store.interactions_for(k.id))
    )
    store.close()
    return name


def test_the_ranked_list_and_a_kol_page(store_copy: Path, terminals: list[Terminal]) -> None:
    terminal = start(terminals, store_copy)
    screen = terminal.wait_for("Why now")
    name = top_kol(store_copy)
    assert name in screen
    assert "Why now: adverse event mention not yet reported" in screen
    terminal.keys("Enter")
    page = terminal.wait_for("Engagement plan")
    assert "Open follow-ups" in page and name in page
    terminal.keys("q")


def test_a_visit_logged_shows_in_the_timeline_after_a_restart(
    store_copy: Path, terminals: list[Terminal]
) -> None:
    terminal = start(terminals, store_copy)
    terminal.wait_for("Why now")
    terminal.keys("n")
    terminal.wait_for("Neutral questions")
    terminal.type("Talked through the extension protocol with the research nurse")
    terminal.keys("C-s")
    terminal.wait_for("Visit saved")
    terminal.keys("q")
    terminal.wait_closed()
    terminal.close()

    again = start(terminals, store_copy, height=60)
    again.wait_for("Why now")
    again.keys("Enter")
    # The page loads in a worker: wait for the visit itself, not just the heading.
    screen = again.wait_for("Talked through the extension protocol")
    assert "Timeline" in screen


def test_a_draft_survives_a_kill_mid_typing(store_copy: Path, terminals: list[Terminal]) -> None:
    terminal = start(terminals, store_copy)
    terminal.wait_for("Why now")
    terminal.keys("n")
    terminal.wait_for("Neutral questions")
    words = "Asked about biomarker turnaround; she wants regional data"
    terminal.type(words)
    terminal.wait_for(words[:40])
    # A pause in typing: the draft is saved.
    eventually(lambda: any(words in n for n in draft_notes(store_copy)), what="no draft saved")
    terminal.kill_app()
    terminal.close()

    assert Store.open(store_copy).count(Interaction) > 0  # the store opens cleanly
    again = start(terminals, store_copy)
    again.wait_for("unsent visit note")
    again.keys("y")
    screen = again.wait_for("Neutral questions")
    assert words[:50] in screen


def test_an_export_imported_into_a_second_store(
    store_copy: Path, tmp_path: Path, terminals: list[Terminal]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    exported = run_msl("export", "--db", str(store_copy), "--full", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    bundles = list(out.glob("*.mslsync"))
    assert len(bundles) == 1
    second = tmp_path / "head-office.db"
    assert run_msl("init", "--db", str(second), "--name", "Head Office").returncode == 0
    imported = run_msl("import", "--db", str(second), str(bundles[0]))
    assert imported.returncode == 0, imported.stderr
    terminal = start(terminals, second)
    screen = terminal.wait_for("30 of 30")
    assert top_kol(store_copy) in screen
