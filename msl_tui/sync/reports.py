"""Head-office reports: CSV files a spreadsheet opens, one question per file.

Rows are streamed from the store, so a merged store of millions of interactions is read
once per report with only the aggregates held in memory. Cells that a spreadsheet would
run as a formula are prefixed with an apostrophe (notes are free text from the field).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

from msl_tui.locations import create_private_file, ensure_private_dir, private_temp_path, publish
from msl_tui.models import AE_REPORT_WINDOW, Kol
from msl_tui.models.enums import Segment
from msl_tui.services.segments import segment_for
from msl_tui.store import sync_log
from msl_tui.store.codec import ENTITIES, from_row
from msl_tui.store.store import Store
from msl_tui.timestamps import parse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _write(path: Path, header: list[str], rows: Iterable[Iterable[Any]]) -> int:
    """Write one report beside its old copy, then swap it in: readers see the old file or the
    new one whole. The file is private (reports name KOLs) whatever the umask."""
    count = 0
    tmp = private_temp_path(path)
    try:
        with (
            create_private_file(tmp) as raw,
            io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle,
        ):
            out = csv.writer(handle)
            out.writerow(header)
            for row in rows:
                out.writerow([_safe(v) for v in row])
                count += 1
            handle.flush()
            os.fsync(raw.fileno())
        publish(tmp, path, replace=True)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def _parse_time(text: str | None) -> datetime | None:
    return parse(text) if text else None


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None


def segment_of(kol: Kol) -> Segment:
    """The stakeholder-matrix cell, as the rest of the app computes it."""
    return segment_for(kol.influence, kol.stance, kol.stage)


def _interactions(store: Store) -> Iterator[dict[str, Any]]:
    yield from sync_log.iter_rows(store, ENTITIES["interaction"])


def write_reports(store: Store, out: Path, *, now: datetime) -> list[tuple[Path, int]]:
    ensure_private_dir(out)
    kols = {
        r["id"]: from_row(ENTITIES["kol"], r) for r in sync_log.iter_rows(store, ENTITIES["kol"])
    }
    names = {k: v.name for k, v in kols.items()}  # type: ignore[attr-defined]
    written: list[tuple[Path, int]] = []

    def emit(name: str, header: list[str], rows: Iterable[Iterable[Any]]) -> None:
        path = out / name
        written.append((path, _write(path, header, rows)))

    by_month: Counter[tuple[str, str, str]] = Counter()
    insights: Counter[tuple[str, str]] = Counter()
    feedback: Counter[tuple[str, str]] = Counter()
    last_contact: dict[str, str] = {}
    aes: list[list[Any]] = []
    requests: list[list[Any]] = []
    transfers: list[list[Any]] = []
    for r in _interactions(store):
        occurred = r["occurred_at"] or ""
        month = occurred[:7]
        by_month[(r["msl_id"] or "", r["kol_id"], month)] += 1
        if occurred > last_contact.get(r["kol_id"], ""):
            last_contact[r["kol_id"]] = occurred
        for insight in _json(r["insights"]) or []:
            insights[(insight["category"], month)] += 1
        fb = _json(r["feedback"])
        if fb:
            feedback[(fb["sentiment"], fb.get("about") or "(no theme)")] += 1
        ae = _json(r["adverse_event"])
        if ae:
            day_zero = _parse_time(ae["day_zero"])
            reported = _parse_time(ae.get("reported_at"))
            assert day_zero is not None
            due = day_zero + AE_REPORT_WINDOW
            hours = round((reported - day_zero).total_seconds() / 3600, 1) if reported else ""
            if reported:
                status = "late" if reported > due else "on time"
            else:
                status = "NOT REPORTED, overdue" if now > due else "not reported yet"
            aes.append(
                [r["id"], r["msl_id"], names.get(r["kol_id"], r["kol_id"]), ae["day_zero"],
                 ae.get("reported_at") or "", hours, status, ae.get("product", ""),
                 ae.get("event", ""), ae.get("reference", "")]
            )  # fmt: skip
        mir = _json(r["med_info_request"])
        if mir:
            requests.append(
                [r["id"], occurred, r["msl_id"], names.get(r["kol_id"], r["kol_id"]),
                 mir["question"], "yes" if mir.get("unsolicited", True) else "no",
                 mir.get("routed_to", "")]
            )  # fmt: skip
        tov = _json(r["transfer_of_value"])
        if tov:
            kol = kols.get(r["kol_id"])
            transfers.append(
                [tov["recipient"], r["kol_id"], getattr(kol, "institution", ""),
                 getattr(kol, "country", ""), tov["date"], tov["amount"], tov["currency"],
                 tov["nature"], tov.get("product", ""), r["msl_id"], r["id"]]
            )  # fmt: skip

    aes.sort(key=itemgetter(3))
    requests.sort(key=itemgetter(1))
    transfers.sort(key=itemgetter(4, 0))
    emit(
        "interactions_by_msl_kol_month.csv",
        ["msl_id", "kol_id", "kol_name", "month", "interactions"],
        ([m, k, names.get(k, ""), mo, n] for (m, k, mo), n in sorted(by_month.items())),
    )
    emit("coverage_manage_closely.csv", *_coverage(store, kols, last_contact, now))
    emit(
        "insights_by_category.csv",
        ["category", "month", "insights"],
        ([c, m, n] for (c, m), n in sorted(insights.items())),
    )
    emit(
        "feedback_by_sentiment_theme.csv",
        ["sentiment", "theme", "records"],
        ([s, t, n] for (s, t), n in sorted(feedback.items())),
    )
    emit(
        "adverse_events.csv",
        ["interaction_id", "msl_id", "kol", "day_zero", "reported_at", "hours_to_report",
         "status", "product", "event", "reference"],
        aes,
    )  # fmt: skip
    emit(
        "unsolicited_requests.csv",
        ["interaction_id", "occurred_at", "msl_id", "kol", "question", "unsolicited", "routed_to"],
        requests,
    )
    emit(
        "transfers_of_value.csv",
        ["recipient_name", "recipient_kol_id", "recipient_institution", "recipient_country",
         "date_of_payment", "amount", "currency", "nature_of_payment", "related_product",
         "msl_id", "interaction_id"],
        transfers,
    )  # fmt: skip
    return written


def _coverage(
    store: Store, kols: dict[str, Any], last_contact: dict[str, str], now: datetime
) -> tuple[list[str], list[list[Any]]]:
    cadence: dict[str, tuple[int, str]] = {}
    for r in sync_log.iter_rows(store, ENTITIES["plan"]):
        if r["status"] != "closed" and r["period_start"] >= cadence.get(r["kol_id"], (0, ""))[1]:
            cadence[r["kol_id"]] = (int(r["cadence_days"] or 30), r["period_start"])
    rows = []
    for kol_id, kol in sorted(kols.items(), key=lambda kv: kv[1].name):
        if segment_of(kol) is not Segment.MANAGE_CLOSELY:
            continue
        days = cadence.get(kol_id, (30, ""))[0]
        last = _parse_time(last_contact.get(kol_id))
        if last is None:
            rows.append([kol_id, kol.name, kol.territory, days, "", "", "", "never contacted"])
            continue
        due = last + timedelta(days=days)
        since = (now - last).days
        status = "overdue" if now > due else "on cadence"
        rows.append(
            [kol_id, kol.name, kol.territory, days, last.date().isoformat(), since,
             due.date().isoformat(), status]
        )  # fmt: skip
    header = ["kol_id", "kol_name", "territory", "cadence_days", "last_contact",
              "days_since", "next_due", "status"]  # fmt: skip
    return header, rows
