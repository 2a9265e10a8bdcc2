"""Spreadsheet rosters come in all or nothing; head-office reports answer their questions."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sync_helpers import file_hash, make_store

from msl_tui.cli import main
from msl_tui.models import (
    AdverseEvent,
    Influence,
    Interaction,
    InteractionStatus,
    Kol,
    Stance,
    TransferOfValue,
)
from msl_tui.store import Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_roster_maps_columns_and_updates_by_name_and_institution(tmp_path: Path) -> None:
    db = tmp_path / "ho.db"
    store = make_store(db, "ho", "ho-1", role="head office")
    store.save(Kol(name="Dr Mira Holt", institution="St Olaf", city="Bergen"))
    store.close()
    sheet = _csv(
        tmp_path / "kols.csv",
        [
            ["Full name", "institution", "City", "Tags", "Shoe size"],
            ["Dr Mira Holt", "St Olaf", "Oslo", "renal; rising", "41"],
            ["Dr Oskar Lind", "Karolinska", "Stockholm", "", "44"],
        ],
    )
    result = _run("--db", str(db), "import-roster", str(sheet), "--map", "Full name=name")
    assert result.exit_code == 0, result.stderr
    assert "1 KOL created, 1 updated" in result.stdout and "Shoe size" in result.stdout
    store = Store.open(db)
    kols = {k.name: k for k in store.list_kols()}
    assert kols["Dr Mira Holt"].city == "Oslo" and kols["Dr Mira Holt"].tags == ["renal", "rising"]
    assert kols["Dr Oskar Lind"].institution == "Karolinska"


def test_roster_with_bad_rows_reports_each_line_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "ho.db"
    make_store(db, "ho", "ho-1", role="head office").close()
    before = file_hash(db)
    sheet = _csv(
        tmp_path / "kols.csv",
        [
            ["name", "influence", "stance"],
            ["Dr Good", "national", "advocate"],
            ["Dr Bad Influence", "galactic", "neutral"],
            ["", "local", "neutral"],
            ["Dr Good", "local", "neutral"],
        ],
    )
    result = _run("--db", str(db), "import-roster", str(sheet))
    assert result.exit_code == 1
    errors = result.stderr.strip().splitlines()
    assert any(f"{sheet}:3: influence" in e for e in errors)
    assert any(f"{sheet}:4: name" in e for e in errors)
    assert any(f"{sheet}:5: same name and institution as line 2" in e for e in errors)
    assert "3 rows rejected, nothing imported" in errors[-1]
    assert file_hash(db) == before


def test_roster_by_id_updates_in_place_whatever_the_case_of_the_id(tmp_path: Path) -> None:
    """An id typed in capitals names the same KOL: only the given cells change."""
    db = tmp_path / "ho.db"
    store = make_store(db, "ho", "ho-1", role="head office")
    kol = store.save(Kol(name="Dr Mira Holt", institution="St Olaf", influence=Influence.NATIONAL))
    gone = store.save(Kol(name="Dr Gone"))
    store.delete(Kol, gone.id)
    store.close()
    sheet = _csv(
        tmp_path / "ids.csv", [["id", "name", "city"], [kol.id.upper(), "Dr Mira Holt", "Oslo"]]
    )
    result = _run("--db", str(db), "import-roster", str(sheet))
    assert result.exit_code == 0, result.stderr
    assert "0 KOLs created, 1 updated" in result.stdout
    store = Store.open(db)
    again = store.get_kol(kol.id)
    assert again is not None and again.city == "Oslo" and again.institution == "St Olaf"
    assert again.influence is Influence.NATIONAL
    store.close()
    before = file_hash(db)
    revive = _csv(tmp_path / "revive.csv", [["id", "name"], [gone.id, "Dr Gone"]])
    refused = _run("--db", str(db), "import-roster", str(revive))
    assert refused.exit_code == 1
    assert "was deleted" in refused.stderr and file_hash(db) == before
    bad = _csv(tmp_path / "bad.csv", [["name", "influence"], ["Dr X", "galactic"]])
    worded = _run("--db", str(db), "import-roster", str(bad))
    assert "influence: must be one of" in worded.stderr
    assert "Input should be" not in worded.stderr


def test_roster_map_to_unknown_field_is_refused(tmp_path: Path) -> None:
    sheet = _csv(tmp_path / "k.csv", [["n"], ["Dr X"]])
    result = _run("--db", str(tmp_path / "x.db"), "import-roster", str(sheet), "--map", "n=nom")
    assert result.exit_code == 1 and "'nom' is not a KOL field" in result.stderr


def test_reports_mark_late_adverse_events_and_disclose_transfers(tmp_path: Path) -> None:
    db = tmp_path / "ho.db"
    store = make_store(db, "ho", "ho-1", role="head office")
    kol = store.save(Kol(name="=Dr Formula", influence=Influence.NATIONAL, stance=Stance.ADVOCATE))
    day = NOW - timedelta(days=10)
    late = AdverseEvent(day_zero=day, product="Veltorib", reported_at=day + timedelta(hours=30))
    pending = AdverseEvent(day_zero=NOW - timedelta(hours=30), product="Veltorib")
    tov = TransferOfValue(
        nature="meal", amount="48.50", currency="EUR", date=day.date(), recipient="=Dr Formula"
    )
    for ae, extra in ((late, {"transfer_of_value": tov}), (pending, {})):
        store.save(
            Interaction(
                kol_id=kol.id,
                msl_id="ana",
                occurred_at=ae.day_zero,
                adverse_event=ae,
                status=InteractionStatus.SUBMITTED,
                submitted_at=ae.day_zero,
                **extra,
            )
        )
    store.close()
    out = tmp_path / "reports"
    result = _run("--db", str(db), "report", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    aes = list(csv.DictReader((out / "adverse_events.csv").open()))
    assert (aes[0]["status"], aes[0]["hours_to_report"]) == ("late", "30.0")
    assert len(aes) == 2 and aes[1]["status"].startswith("NOT REPORTED")
    [payment] = list(csv.DictReader((out / "transfers_of_value.csv").open()))
    assert (payment["amount"], payment["currency"], payment["nature_of_payment"]) == (
        "48.50",
        "EUR",
        "meal",
    )
    assert payment["recipient_name"] == "'=Dr Formula"  # never a live formula
    [covered] = list(csv.DictReader((out / "coverage_manage_closely.csv").open()))
    assert covered["kol_name"] == "'=Dr Formula"
    months = list(csv.DictReader((out / "interactions_by_msl_kol_month.csv").open()))
    assert sum(int(m["interactions"]) for m in months) == 2
