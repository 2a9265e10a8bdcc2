"""Reports for the people who read them: pharmacovigilance, compliance, medical, field
leadership; as CSV files and as one workbook, with no live formula in either."""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from msl_tui.models import (
    AdverseEvent,
    EngagementPlan,
    Feedback,
    Insight,
    Interaction,
    InteractionStatus,
    Kol,
    TransferOfValue,
)
from msl_tui.models.interaction import AEFollowUp
from msl_tui.store import Store
from msl_tui.sync.reports import WORKBOOK, write_reports

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _visit(store: Store, kol: Kol, when: datetime, msl: str = "ana", **fields) -> Interaction:
    return store.save(
        Interaction(
            kol_id=kol.id,
            msl_id=msl,
            occurred_at=when,
            status=InteractionStatus.SUBMITTED,
            submitted_at=when,
            **fields,
        )
    )


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _sheets(book: Path) -> dict[str, str]:
    with zipfile.ZipFile(book) as zf:
        names = re.findall(r'<sheet name="([^"]+)"', zf.read("xl/workbook.xml").decode())
        return {
            name: zf.read(f"xl/worksheets/sheet{n}.xml").decode()
            for n, name in enumerate(names, start=1)
        }


@pytest.fixture
def reports(store: Store, tmp_path: Path) -> Path:
    kol = store.save(
        Kol(name="=HYPERLINK(\"http://x\")", institution="St Olaf", country="NO",
            therapeutic_areas=["renal"])
    )  # fmt: skip
    other = store.save(Kol(name="Dr Per Holm", institution="Uppsala", country="SE"))
    day = NOW - timedelta(days=10)
    _visit(
        store, kol, day,
        adverse_event=AdverseEvent(
            day_zero=day, patient="woman, 60s", reporter="Dr Holt", product="Veltorib",
            event="rash", reported_at=day + timedelta(hours=30), reference="PV desk / C-881",
            followups=[AEFollowUp(at=day + timedelta(days=2), by="ana", text="rash resolved")],
        ),
        insights=[Insight(category="unmet need", text="-no oral option for elderly")],
        feedback=Feedback(sentiment="negative", about="dosing"),
        transfer_of_value=TransferOfValue(
            nature="meal", amount="48.50", currency="EUR", date=day.date(), recipient="Dr Holt"
        ),
    )  # fmt: skip
    _visit(
        store, kol, day + timedelta(days=1),
        adverse_event=AdverseEvent(day_zero=day + timedelta(days=1), product="Veltorib",
                                   reported_at=day + timedelta(days=1, hours=3)),
        transfer_of_value=TransferOfValue(
            nature="honorarium", amount="300.00", currency="EUR",
            date=(day + timedelta(days=1)).date(), recipient="Dr Holt",
        ),
    )  # fmt: skip
    _visit(
        store, other, NOW - timedelta(days=90), msl="ben",
        transfer_of_value=TransferOfValue(
            nature="travel", amount="120.00", currency="SEK",
            date=(NOW - timedelta(days=90)).date(), recipient="Dr Per Holm",
        ),
    )  # fmt: skip
    for k, msl, cadence in ((kol, "ana", 30), (other, "ben", 30)):
        store.save(
            EngagementPlan(kol_id=k.id, owner_msl=msl, cadence_days=cadence,
                           period_start=date(2026, 1, 1), period_end=date(2026, 12, 31))
        )  # fmt: skip
    out = tmp_path / "reports"
    write_reports(store, out, now=NOW)
    return out


def test_pharmacovigilance_sees_the_four_facts_timeliness_and_follow_ups(reports: Path) -> None:
    late, on_time = _rows(reports, "adverse_events.csv")
    assert (late["patient"], late["reporter"], late["product"], late["event"]) == (
        "woman, 60s", "Dr Holt", "Veltorib", "rash"
    )  # fmt: skip
    assert (late["hours_to_report"], late["late"], late["status"]) == ("30.0", "yes", "late")
    assert late["reported to / case reference"] == "PV desk / C-881" and late["missing_facts"] == ""
    assert (on_time["late"], on_time["missing_facts"]) == ("no", "patient; reporter; event")
    [follow] = _rows(reports, "adverse_event_followups.csv")
    assert follow["text"] == "rash resolved" and follow["interaction_id"] == late["interaction_id"]


def test_compliance_gets_totals_per_recipient_year_and_currency(reports: Path) -> None:
    totals = _rows(reports, "transfers_by_recipient_year.csv")
    assert [(t["recipient_name"], t["currency"], t["payments"], t["total_amount"]) for t in totals] == [
        ("Dr Holt", "EUR", "2", "348.50"),
        ("Dr Per Holm", "SEK", "1", "120.00"),
    ]  # fmt: skip
    assert totals[0]["recipient_institution"] == "St Olaf"
    assert totals[0]["natures_of_payment"] == "honorarium; meal"


def test_medical_sees_the_words_of_each_insight(reports: Path) -> None:
    [insight] = _rows(reports, "insights.csv")
    assert insight["text"] == "'-no oral option for elderly"  # neutralised, words intact
    assert (insight["category"], insight["therapeutic_areas"], insight["msl_id"]) == (
        "unmet need", "renal", "ana"
    )  # fmt: skip
    assert insight["month"] == (NOW - timedelta(days=10)).strftime("%Y-%m")
    [fb] = _rows(reports, "feedback.csv")
    assert (fb["sentiment"], fb["about"]) == ("negative", "dosing")


def test_coverage_against_cadence_per_msl(reports: Path) -> None:
    per_msl = {r["owner_msl"]: r for r in _rows(reports, "coverage_by_msl.csv")}
    assert (per_msl["ana"]["on_cadence"], per_msl["ana"]["overdue"]) == ("1", "0")
    assert (per_msl["ben"]["on_cadence"], per_msl["ben"]["overdue"]) == ("0", "1")
    assert per_msl["ana"]["share_on_cadence"] == "100.0"


def test_the_workbook_has_every_report_and_no_live_formula(reports: Path) -> None:
    sheets = _sheets(reports / WORKBOOK)
    assert len(sheets) == len(list(reports.glob("*.csv")))
    everything = "".join(sheets.values())
    assert "<f>" not in everything  # no cell is a formula
    assert "&apos;=HYPERLINK" in everything or "'=HYPERLINK" in everything
    assert "'-no oral option" in sheets["Insights"]
    assert "<v>348.5</v>" in sheets["Transfers per recipient"]  # money as a number
    assert (reports / WORKBOOK).stat().st_mode & 0o777 == 0o600


def test_the_same_store_gives_the_same_workbook(store: Store, tmp_path: Path) -> None:
    store.save(Kol(name="Dr Same"))
    write_reports(store, tmp_path / "a", now=NOW)
    write_reports(store, tmp_path / "b", now=NOW)
    assert (tmp_path / "a" / WORKBOOK).read_bytes() == (tmp_path / "b" / WORKBOOK).read_bytes()


def test_a_disk_filling_up_halfway_leaves_last_reports_as_they_were(
    reports: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All files or none: never this run's AEs beside the last run's transfers of value."""
    import errno
    import os

    from msl_tui.sync import reports as module

    new = store.save(Kol(name="Dr New Since Last Week", institution="Lund"))
    _visit(store, new, NOW - timedelta(days=1), insights=[Insight(category="unmet need", text="x")])
    before = {p.name: p.read_bytes() for p in reports.iterdir()}
    real = module._write_csv
    calls = []

    def fills_up(tmp: Path, header: list[str], rows) -> int:
        calls.append(tmp)
        if len(calls) == 3:
            with tmp.open("wb"):  # the third file's start was written when the disk filled
                pass
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(tmp, header, rows)

    monkeypatch.setattr(module, "_write_csv", fills_up)
    with pytest.raises(OSError):
        write_reports(store, reports, now=NOW)
    assert {p.name: p.read_bytes() for p in reports.iterdir()} == before
    monkeypatch.setattr(module, "_write_csv", real)
    write_reports(store, reports, now=NOW)
    assert {p.name for p in reports.iterdir()} == set(before)
    assert any(
        "Dr New Since Last Week" in (reports / n).read_text() for n in before if "insight" in n
    )
