"""An MSL's week in a real terminal, keys only: add a KOL, log three visits (one with an
adverse event), mark the event reported, amend a visit, add a plan activity, tick and
reopen a follow-up, read the pre-call brief, export for head office.

Each step is checked on the screen and in the store (read beside the running app), so a
loop that cannot be finished from the keyboard fails here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from msl_tui.models import EngagementPlan, FollowUp, Interaction, InteractionStatus, Kol
from msl_tui.store import Store
from tests.terminal import MSL, Terminal, require_tmux, run_msl

pytestmark = pytest.mark.e2e

NAME = "Dr Wendy Weekly"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    require_tmux()
    db = tmp_path / "week.db"
    result = run_msl("seed-demo", "--db", str(db), "--kols", "12", "--years", "0.5")
    assert result.returncode == 0, result.stderr
    return db


@pytest.fixture
def terminal(store_path: Path) -> Iterator[Terminal]:
    term = Terminal([MSL, "--db", str(store_path)], width=120, height=40)
    yield term
    term.close()


def _read(db: Path) -> tuple[Kol | None, list[Interaction], list[FollowUp], EngagementPlan | None]:
    store = Store.open(db, read_only=True)
    try:
        kol = next((k for k in store.list_kols() if k.name == NAME), None)
        if kol is None:
            return None, [], [], None
        return (
            kol,
            store.interactions_for(kol.id),
            store.followups_for(kol.id),
            store.current_plan(kol.id),
        )
    finally:
        store.close()


def _until(t: Terminal, check, what: str, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"never happened: {what}; the screen was:\n{t.screen()}")


def _opened(t: Terminal, text: str) -> None:
    """Wait for a form's words, then a moment for its first field to take the focus: a
    terminal shows no focus change, and keys sent before it land on the screen beneath."""
    t.wait_for(text)
    time.sleep(0.4)


def _shows(t: Terminal, text: str) -> bool:
    return text in " ".join(t.screen().split())


def _gone(t: Terminal, text: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while _shows(t, text):
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never went away; the screen was:\n{t.screen()}")
        time.sleep(0.2)


def _back_to(t: Terminal, text: str) -> None:
    """Escape, one screen at a time, until ``text`` shows (a form closes first)."""
    for _ in range(4):
        if _shows(t, text):
            return
        t.keys("Escape")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not _shows(t, text):
            time.sleep(0.2)
    t.wait_for(text)


def _visit(t: Terminal, *lines: str, adverse_event: bool = False) -> None:
    t.keys("n")
    _opened(t, "Save & submit")
    for line in lines:
        t.type(line)
        t.keys("Enter")
    t.keys("C-s")
    if adverse_event:
        t.wait_for("adverse event")
        t.keys("y")
        t.wait_for("Patient")  # the adverse-event section is open for the four facts
        t.keys("C-s")
    t.wait_for("sort:")  # back on the list


def test_an_msl_week_from_the_keyboard(
    store_path: Path, terminal: Terminal, tmp_path: Path
) -> None:
    t = terminal
    t.wait_for("12 of 12")  # the ranked rows are in

    # Monday: a KOL met at a congress, added by hand.
    t.keys("a")
    _opened(t, "Add a KOL")
    t.type(NAME)
    t.keys("Tab")
    t.type("Weekly General Hospital")
    t.keys("C-s")
    _until(t, lambda: _read(store_path)[0] is not None, "the KOL is saved")
    t.wait_for(NAME)

    # Three visits; the cursor stays on the new KOL after each.
    _visit(t, "Discussed the registry design.")
    _visit(
        t,
        "One patient developed a rash after the second dose.",
        "- [ ] send the dosing reprint by fri",
        adverse_event=True,
    )
    _visit(t, "Talked about dosing in renal impairment.")
    _, visits, follow, _ = _read(store_path)
    assert len(visits) == 3
    [with_ae] = [v for v in visits if v.adverse_event is not None]
    assert with_ae.adverse_event is not None and with_ae.adverse_event.reported_at is None
    assert [f.action for f in follow] == ["send the dosing reprint"], [v.notes for v in visits]

    # Tuesday: the event goes to pharmacovigilance, recorded from the KOL page.
    t.keys("Enter")
    t.wait_for("Open follow-ups")
    t.keys("r")
    _opened(t, "To whom")
    t.type("PV desk, case 2026-0042")
    t.keys("C-s")

    def reported() -> bool:
        event = next(v for v in _read(store_path)[1] if v.id == with_ae.id).adverse_event
        return event is not None and event.reported_at is not None

    _until(t, reported, "the adverse event is marked reported")
    _gone(t, "Will read:")  # the dialog has closed
    t.wait_for("(on time)")

    # A visit corrected: the newest one on the timeline, with a reason.
    t.keys("Tab", "Tab")
    t.keys("a")
    _opened(t, "Reason")
    t.type("Corrected: ")
    t.keys("C-s")
    t.wait_for("Say why")
    t.type("the dose was typed wrong")
    t.keys("Enter")
    _until(
        t,
        lambda: any(v.status is InteractionStatus.AMENDED for v in _read(store_path)[1]),
        "the visit is amended",
    )
    amended = [v for v in _read(store_path)[1] if v.status is InteractionStatus.AMENDED]
    assert len(amended) == 1 and amended[0].amendments[0].reason == "the dose was typed wrong"
    t.wait_for("the dose was typed wrong")  # the timeline shows the reason

    # Wednesday: tick the follow-up done, then reopen it (the cursor stays on it).
    t.keys("Escape")
    t.wait_for("sort:")
    t.keys("Enter")
    t.wait_for("Open follow-ups (1)")
    t.keys("x")
    _until(t, lambda: all(f.done for f in _read(store_path)[2]), "the follow-up is done")
    t.keys("x")
    _until(t, lambda: not any(f.done for f in _read(store_path)[2]), "the follow-up is reopened")

    # Thursday: an advisory board goes into the plan, from the command palette.
    t.keys("C-p")
    _opened(t, "Search")
    t.type("Add activity")
    t.keys("Enter")
    _opened(t, "Activity")
    t.type("Spring advisory board")
    t.keys("C-s")
    _until(
        t,
        lambda: any(
            a.description == "Spring advisory board"
            for a in ((_read(store_path)[3] or EngagementPlan.model_construct()).activities or [])
        ),
        "the activity is in the plan",
    )
    _back_to(t, "Open follow-ups")

    # Friday, in the car park: the pre-call brief.
    t.keys("b")
    t.wait_for("Pre-call brief")
    screen = t.wait_for("send the dosing reprint")  # the open follow-up, read from the log
    assert NAME in screen and "PV desk, case 2026-0042" in screen
    t.keys("Escape")

    # And the week goes to head office.
    _back_to(t, "sort:")
    t.keys("s")
    _opened(t, "not yet exported")
    t.keys("F2")
    t.wait_for("wrote ")
    t.keys("Escape")
    t.wait_for("sort:")
    exported = run_msl("--db", str(store_path), "export", "--out", str(tmp_path / "again"))
    assert exported.returncode == 0
    assert "nothing new since the last export" in exported.stdout, exported.stdout
