"""`msl conflicts` names what a conflict is about (the KOL, the visit's date), not record ids
or raw clock stamps; the conflict's number stays, as resolving needs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sync_helpers import add_kol, add_visit, make_store

from msl_tui.cli import main
from msl_tui.models import Interaction, Kol
from msl_tui.store import Store
from msl_tui.sync.conflict_words import record_words, stamp_words


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize(
    ("entity", "label", "words"),
    [
        ("kol", ("Dr Mira Holt", "St Olav"), "KOL Dr Mira Holt (St Olav)"),
        ("kol", ("Dr Mira Holt", None), "KOL Dr Mira Holt"),
        ("interaction", ("Dr Mira Holt", "2026-03-02T09:15:00Z"), "visit with Dr Mira Holt on 2026-03-02"),
        ("plan", ("Dr Mira Holt", "2026-01-01"), "plan for Dr Mira Holt from 2026-01-01"),
        ("followup", ("Dr Mira Holt", "send the renal data"), "follow-up for Dr Mira Holt: send the renal data"),
        ("interaction", (None, "2026-03-02T09:15:00Z"), "visit with an unknown KOL on 2026-03-02"),
        ("plan", None, "plan 0f1e2d3c (not in this store)"),
        ("kol", ("Dr \x1b[31mRed", None), "KOL Dr \\x1b[31mRed"),
    ],
)  # fmt: skip
def test_a_record_in_words(entity: str, label, words: str) -> None:
    assert record_words(entity, "0f1e2d3c-aaaa-bbbb", label) == words


def test_a_stamp_in_words() -> None:
    assert stamp_words("1772442900000-0003-laptop-a") == "laptop-a, 2026-03-02 09:15 UTC"
    assert stamp_words("not a stamp") == "not a stamp"


def _conflicted(tmp_path: Path) -> tuple[Path, Kol, Interaction]:
    """Two laptops edit the same KOL's city and the same visit's notes; b imports a's."""
    a = make_store(tmp_path / "a.db", "ana", "laptop-a")
    b = make_store(tmp_path / "b.db", "ana", "laptop-b")
    kol = add_kol(a, "Dr Mira Holt", institution="St Olav")
    visit = add_visit(a, kol, "first notes")
    a.close()
    b.close()
    _run("--db", str(tmp_path / "a.db"), "export", "--out", str(tmp_path / "1"))
    [bundle] = (tmp_path / "1").glob("*.mslsync")
    assert _run("--db", str(tmp_path / "b.db"), "import", str(bundle)).exit_code == 0
    a, b = Store.open(tmp_path / "a.db"), Store.open(tmp_path / "b.db")
    a.save(kol.evolve(city="Leeds"))
    b.save(b.get(Kol, kol.id).evolve(city="York"))  # type: ignore[union-attr]
    a.save(a.get(Interaction, visit.id).evolve(notes="from a"))  # type: ignore[union-attr]
    b.save(b.get(Interaction, visit.id).evolve(notes="from b"))  # type: ignore[union-attr]
    a.close()
    b.close()
    _run("--db", str(tmp_path / "a.db"), "export", "--out", str(tmp_path / "2"))
    [bundle] = (tmp_path / "2").glob("*.mslsync")
    assert _run("--db", str(tmp_path / "b.db"), "import", str(bundle)).exit_code == 0
    return tmp_path / "b.db", kol, visit


def test_the_listing_names_the_kol_and_the_visit_not_their_ids(tmp_path: Path) -> None:
    db, kol, visit = _conflicted(tmp_path)
    listing = _run("--db", str(db), "conflicts")
    assert listing.exit_code == 0, listing.stderr
    lines = listing.stdout.splitlines()
    [city] = [line for line in lines if "city" in line]
    assert "KOL Dr Mira Holt (St Olav), city: kept" in city and "'Leeds'" in city
    day = visit.occurred_at.date().isoformat()
    assert any(f"visit with Dr Mira Holt on {day}, notes" in line for line in lines)
    assert kol.id[:8] not in listing.stdout and visit.id[:8] not in listing.stdout
    assert "laptop-a, " in city and "laptop-b, " in city  # who wrote each value, and when
    number = city.split()[0]
    assert number.startswith("#")
    done = _run("--db", str(db), "conflicts", "resolve", number[1:], "other")
    assert done.exit_code == 0, done.stderr
