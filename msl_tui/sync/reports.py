"""Head-office reports: CSV files a spreadsheet opens, one question per file, and the same
tables as sheets of one XLSX workbook (``reports_xlsx``).

Who reads what (DOMAIN.md, "Who reads head office's data"):

- pharmacovigilance: every adverse event with day zero, the four minimum facts, when and to
  whom it was reported, hours to report, late ones flagged; follow-up information;
- compliance: transfers of value, each and per recipient and year, in disclosure columns;
  unsolicited requests with their verbatim text and routing;
- medical insights: each insight with its words, category, therapeutic area, month and MSL;
  feedback by sentiment; coverage against each plan's cadence, per plan and per MSL.

Rows are read from the store once, streamed, with only what the reports keep held in
memory. Text from the field that a spreadsheet would run as a formula (a cell starting
with = + - @ tab or CR) is prefixed with an apostrophe, in the CSV and the workbook alike.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any

from msl_tui.locations import (
    create_private_file,
    ensure_private_dir,
    fsync_dir,
    private_temp_path,
    sweep_stale_temps,
)
from msl_tui.models import AE_REPORT_WINDOW, Kol
from msl_tui.models.enums import Segment
from msl_tui.services.segments import segment_for
from msl_tui.store import sync_log
from msl_tui.store.codec import ENTITIES, from_row
from msl_tui.store.store import Store
from msl_tui.timestamps import parse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
WORKBOOK = "head_office_reports.xlsx"
FACTS = ("patient", "reporter", "product", "event")


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as written: text that would start a formula gets a
    leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


_safe = safe_cell  # the name older callers use


@dataclass
class Report:
    """One table: a CSV file and a sheet of the workbook."""

    file: str
    sheet: str  # at most 31 characters (Excel's limit)
    reader: str
    header: list[str]
    rows: Iterable[Sequence[Any]]


def _write_csv(tmp: Path, header: list[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write one report into its temporary file, private (reports name KOLs) whatever the
    umask, fsynced; the number of data rows."""
    count = 0
    with (
        create_private_file(tmp) as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle,
    ):
        out = csv.writer(handle)
        out.writerow(header)
        for row in rows:
            out.writerow([safe_cell(v) for v in row])
            count += 1
        handle.flush()
        os.fsync(raw.fileno())
    return count


def _parse_time(text: str | None) -> datetime | None:
    return parse(text) if text else None


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None


def segment_of(kol: Kol) -> Segment:
    """The stakeholder-matrix cell, as the rest of the app computes it."""
    return segment_for(kol.influence, kol.stance, kol.stage)


def _hours(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 3600, 1)


def build_reports(store: Store, *, now: datetime) -> list[Report]:
    """Every report's table, from one pass over the interactions."""
    kols: dict[str, Kol] = {
        r["id"]: from_row(ENTITIES["kol"], r)  # type: ignore[misc]
        for r in sync_log.iter_rows(store, ENTITIES["kol"])
    }
    names = {k: v.name for k, v in kols.items()}

    def kol_field(kol_id: str, field: str) -> str:
        kol = kols.get(kol_id)
        return str(getattr(kol, field, "")) if kol is not None else ""

    def areas(kol_id: str) -> str:
        kol = kols.get(kol_id)
        return "; ".join(kol.therapeutic_areas) if kol is not None else ""

    by_month: Counter[tuple[str, str, str]] = Counter()
    insight_counts: Counter[tuple[str, str]] = Counter()
    feedback_counts: Counter[tuple[str, str]] = Counter()
    last_contact: dict[str, str] = {}
    insights: list[list[Any]] = []
    feedback: list[list[Any]] = []
    aes: list[list[Any]] = []
    ae_followups: list[list[Any]] = []
    requests: list[list[Any]] = []
    transfers: list[list[Any]] = []
    for r in sync_log.iter_rows(store, ENTITIES["interaction"]):
        occurred = r["occurred_at"] or ""
        month = occurred[:7]
        msl = r["msl_id"] or ""
        kol_id = r["kol_id"]
        kol_name = names.get(kol_id, kol_id)
        by_month[(msl, kol_id, month)] += 1
        if occurred > last_contact.get(kol_id, ""):
            last_contact[kol_id] = occurred
        for insight in _json(r["insights"]) or []:
            insight_counts[(insight["category"], month)] += 1
            insights.append(
                [month, occurred, msl, kol_name, areas(kol_id), insight["category"],
                 insight["text"], r["id"]]
            )  # fmt: skip
        fb = _json(r["feedback"])
        if fb:
            feedback_counts[(fb["sentiment"], fb.get("about") or "(no theme)")] += 1
            feedback.append(
                [month, occurred, msl, kol_name, fb["sentiment"], fb.get("about", ""),
                 fb.get("root_cause", ""), fb.get("response", ""), r["id"]]
            )  # fmt: skip
        ae = _json(r["adverse_event"])
        if ae:
            aes.append(_ae_row(r, ae, kol_name, now))
            ae_followups.extend(
                [r["id"], ae["day_zero"], f["at"], f.get("by", ""), f["text"]]
                for f in ae.get("followups") or []
            )
        mir = _json(r["med_info_request"])
        if mir:
            requests.append(
                [r["id"], occurred, msl, kol_name, mir["question"],
                 "yes" if mir.get("unsolicited", True) else "no", mir.get("routed_to", "")]
            )  # fmt: skip
        tov = _json(r["transfer_of_value"])
        if tov:
            transfers.append(
                [tov["recipient"], kol_id, kol_field(kol_id, "institution"),
                 kol_field(kol_id, "country"), tov["date"], tov["amount"], tov["currency"],
                 tov["nature"], tov.get("product", ""), msl, r["id"]]
            )  # fmt: skip

    aes.sort(key=itemgetter(3, 0))
    ae_followups.sort(key=itemgetter(1, 0, 2))
    requests.sort(key=itemgetter(1, 0))
    transfers.sort(key=itemgetter(4, 0, 10))
    insights.sort(key=itemgetter(1, 7, 5, 6))
    feedback.sort(key=itemgetter(1, 8))
    plans = _plan_coverage(store, kols, last_contact, now)
    return [
        Report(
            "adverse_events.csv", "Adverse events", "pharmacovigilance",
            ["interaction_id", "msl_id", "kol", "day_zero", "reported_at", "hours_to_report",
             "status", "product", "event", "reported to / case reference", "patient", "reporter",
             "missing_facts", "late", "followups"],
            aes,
        ),
        Report(
            "adverse_event_followups.csv", "AE follow-ups", "pharmacovigilance",
            ["interaction_id", "day_zero", "at", "by", "text"], ae_followups,
        ),
        Report(
            "transfers_of_value.csv", "Transfers of value", "compliance",
            ["recipient_name", "recipient_kol_id", "recipient_institution", "recipient_country",
             "date_of_payment", "amount", "currency", "nature_of_payment", "related_product",
             "msl_id", "interaction_id"],
            transfers,
        ),
        Report(
            "transfers_by_recipient_year.csv", "Transfers per recipient", "compliance",
            ["recipient_name", "recipient_kol_id", "recipient_institution", "recipient_country",
             "year", "currency", "payments", "total_amount", "natures_of_payment"],
            _per_recipient_year(transfers),
        ),
        Report(
            "unsolicited_requests.csv", "Unsolicited requests", "compliance",
            ["interaction_id", "occurred_at", "msl_id", "kol", "question", "unsolicited",
             "routed_to"],
            requests,
        ),
        Report(
            "insights.csv", "Insights", "medical",
            ["month", "occurred_at", "msl_id", "kol", "therapeutic_areas", "category", "text",
             "interaction_id"],
            insights,
        ),
        Report(
            "insights_by_category.csv", "Insights by category", "medical",
            ["category", "month", "insights"],
            ([c, m, n] for (c, m), n in sorted(insight_counts.items())),
        ),
        Report(
            "feedback.csv", "Feedback", "medical",
            ["month", "occurred_at", "msl_id", "kol", "sentiment", "about", "root_cause",
             "response", "interaction_id"],
            feedback,
        ),
        Report(
            "feedback_by_sentiment_theme.csv", "Feedback by sentiment", "medical",
            ["sentiment", "theme", "records"],
            ([s, t, n] for (s, t), n in sorted(feedback_counts.items())),
        ),
        Report(
            "coverage_by_plan.csv", "Coverage by plan", "field leadership",
            ["owner_msl", "kol_id", "kol_name", "territory", "plan_id", "cadence_days",
             "last_contact", "days_since", "next_due", "status"],
            plans,
        ),
        Report(
            "coverage_by_msl.csv", "Coverage by MSL", "field leadership",
            ["owner_msl", "plans", "on_cadence", "overdue", "never_contacted",
             "share_on_cadence"],
            _per_msl(plans),
        ),
        Report(
            "coverage_manage_closely.csv", "Manage closely", "field leadership",
            *_coverage(store, kols, last_contact, now),
        ),
        Report(
            "interactions_by_msl_kol_month.csv", "Interactions by month", "field leadership",
            ["msl_id", "kol_id", "kol_name", "month", "interactions"],
            ([m, k, names.get(k, ""), mo, n] for (m, k, mo), n in sorted(by_month.items())),
        ),
    ]  # fmt: skip


def _ae_row(r: dict[str, Any], ae: dict[str, Any], kol_name: str, now: datetime) -> list[Any]:
    day_zero = _parse_time(ae["day_zero"])
    reported = _parse_time(ae.get("reported_at"))
    assert day_zero is not None
    due = day_zero + AE_REPORT_WINDOW
    hours: Any = _hours(day_zero, reported) if reported else ""
    if reported:
        status = "late" if reported > due else "on time"
        late = "yes" if reported > due else "no"
    else:
        status = "NOT REPORTED, overdue" if now > due else "not reported yet"
        late = "yes" if now > due else ""
    missing = "; ".join(f for f in FACTS if not (ae.get(f) or "").strip())
    return [
        r["id"], r["msl_id"], kol_name, ae["day_zero"], ae.get("reported_at") or "", hours,
        status, ae.get("product", ""), ae.get("event", ""), ae.get("reference", ""),
        ae.get("patient", ""), ae.get("reporter", ""), missing, late,
        len(ae.get("followups") or []),
    ]  # fmt: skip


def _per_recipient_year(transfers: list[list[Any]]) -> Iterator[list[Any]]:
    """Disclosure totals: one row per recipient, year and currency (amounts in different
    currencies are never added together)."""
    totals: dict[tuple[str, str, str], list[Any]] = {}
    for name, kol_id, institution, country, day, amount, currency, nature, *_ in transfers:
        key = (kol_id or name, str(day)[:4], currency)
        row = totals.setdefault(
            key, [name, kol_id, institution, country, str(day)[:4], currency, 0, Decimal(0), set()]
        )
        row[6] += 1
        row[7] += Decimal(str(amount))
        row[8].add(nature)
    for key in sorted(totals, key=lambda k: (totals[k][0], k)):
        row = totals[key]
        yield [*row[:7], f"{row[7]:.2f}", "; ".join(sorted(row[8]))]


def _current_plans(store: Store) -> dict[str, dict[str, Any]]:
    """Each KOL's current plan: the latest-starting one that is not closed."""
    plans: dict[str, dict[str, Any]] = {}
    for r in sync_log.iter_rows(store, ENTITIES["plan"]):
        if r["status"] == "closed":
            continue
        held = plans.get(r["kol_id"])
        if held is None or (r["period_start"], r["id"]) > (held["period_start"], held["id"]):
            plans[r["kol_id"]] = r
    return plans


def _status(last: datetime | None, days: int, now: datetime) -> tuple[Any, Any, Any, str]:
    if last is None:
        return "", "", "", "never contacted"
    due = last + timedelta(days=days)
    return (
        last.date().isoformat(),
        (now - last).days,
        due.date().isoformat(),
        "overdue" if now > due else "on cadence",
    )


def _plan_coverage(
    store: Store, kols: dict[str, Kol], last_contact: dict[str, str], now: datetime
) -> list[list[Any]]:
    rows = []
    for kol_id, plan in _current_plans(store).items():
        kol = kols.get(kol_id)
        if kol is None:
            continue
        days = int(plan["cadence_days"] or 30)
        rows.append(
            [plan["owner_msl"] or "", kol_id, kol.name, kol.territory, plan["id"], days,
             *_status(_parse_time(last_contact.get(kol_id)), days, now)]
        )  # fmt: skip
    rows.sort(key=lambda row: (row[0], row[2], row[1]))
    return rows


def _per_msl(plans: list[list[Any]]) -> list[list[Any]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in plans:
        counts[row[0]][row[-1]] += 1
    out = []
    for msl, c in sorted(counts.items()):
        total = sum(c.values())
        share = round(100 * c["on cadence"] / total, 1) if total else 0.0
        out.append([msl, total, c["on cadence"], c["overdue"], c["never contacted"], share])
    return out


def _coverage(
    store: Store, kols: dict[str, Kol], last_contact: dict[str, str], now: datetime
) -> tuple[list[str], list[list[Any]]]:
    cadence = {k: int(p["cadence_days"] or 30) for k, p in _current_plans(store).items()}
    rows = []
    for kol_id, kol in sorted(kols.items(), key=lambda kv: (kv[1].name, kv[0])):
        if segment_of(kol) is not Segment.MANAGE_CLOSELY:
            continue
        days = cadence.get(kol_id, 30)
        last, since, due, status = _status(_parse_time(last_contact.get(kol_id)), days, now)
        rows.append([kol_id, kol.name, kol.territory, days, last, since, due, status])
    header = ["kol_id", "kol_name", "territory", "cadence_days", "last_contact",
              "days_since", "next_due", "status"]  # fmt: skip
    return header, rows


def write_reports(
    store: Store, out: Path, *, now: datetime, workbook: bool | None = None
) -> list[tuple[Path, int]]:
    """Write every report as CSV into ``out``, and the workbook of them all beside them.

    ``workbook``: None writes it when XlsxWriter is installed (the headoffice extra).
    """
    from msl_tui.sync import reports_xlsx

    ensure_private_dir(out)
    sweep_stale_temps(out)  # what a killed report left there an hour ago (personal data)
    # Every file is written beside its old copy first; only when all of them are whole are
    # they swapped in (renames need no space): a full disk or a kill halfway leaves the
    # folder as it was, never this week's AEs beside last week's transfers of value.
    written: list[tuple[Path, int]] = []
    temps: list[tuple[Path, Path]] = []  # (temporary, final)
    make_book = reports_xlsx.available() if workbook is None else workbook
    book = reports_xlsx.Book(out / WORKBOOK, created=now) if make_book else None
    try:
        # One read snapshot for every file: an import running meanwhile must not show up
        # in the visits but not yet in the KOLs (a report with nameless rows).
        with store.transaction(write=False):
            for report in build_reports(store, now=now):
                rows: Iterable[Sequence[Any]] = report.rows
                if book is not None:
                    rows = book.sheet(report.sheet, report.header, rows)
                path = out / report.file
                temps.append((private_temp_path(path), path))
                written.append((path, _write_csv(temps[-1][0], report.header, rows)))
        if book is not None:
            done, book = book, None
            temps.append((done.tmp, done.path))
            written.append((done.path, done.finish()))
        # A folder where a report goes would stop the swap halfway (the files before it
        # new, those after it old): refused before the first rename, by its own name.
        for _tmp, path in temps:
            if path.is_dir() and not path.is_symlink():
                raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
        for tmp, path in temps:
            os.replace(tmp, path)
        fsync_dir(out)
    finally:
        if book is not None:
            book.abort()
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
    return written
