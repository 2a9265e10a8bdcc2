"""The head-office view's numbers: the field at a glance, from the same tables as the reports.

Four charts, each with the table of its numbers (the screen shows either): insights by
theme per month, adverse events by time to report, coverage against cadence per MSL, and
the segment mix against the target of the lifecycle phase most plans are in. No UI here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from msl_tui.models import LifecyclePhase, Segment
from msl_tui.services.segments import PHASE_MIX, actual_mix
from msl_tui.store import Store, sync_log
from msl_tui.store.codec import ENTITIES, from_row
from msl_tui.sync.reports import Report, build_reports, segment_of

# Hours from day zero to the report to pharmacovigilance, in the buckets PV counts.
AE_BUCKETS = ("0-6 h", "6-12 h", "12-24 h", "24-48 h", "over 48 h", "not reported")


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    kind: str  # "lines" (one per series over the categories) or "bars" (grouped)
    categories: list[str]
    series: dict[str, list[float]]
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def _table(reports: list[Report], file: str) -> list[list[Any]]:
    found = next(r for r in reports if r.file == file)
    return [list(row) for row in found.rows]


def _insights(reports: list[Report]) -> Chart:
    rows = _table(reports, "insights_by_category.csv")
    months = sorted({m for _, m, _ in rows})[-12:]
    themes = sorted({c for c, _, _ in rows})
    counts = {(c, m): n for c, m, n in rows}
    series = {t: [float(counts.get((t, m), 0)) for m in months] for t in themes}
    table = [[m, *(counts.get((t, m), 0) for t in themes)] for m in months]
    return Chart(
        "insights", "Insights by theme per month", "lines", months, series,
        ["month", *themes], table,
    )  # fmt: skip


def _bucket(hours: Any) -> str:
    if hours in ("", None):
        return AE_BUCKETS[-1]
    for limit, name in zip((6, 12, 24, 48), AE_BUCKETS, strict=False):
        if float(hours) <= limit:
            return name
    return AE_BUCKETS[4]


def _adverse_events(reports: list[Report]) -> Chart:
    rows = _table(reports, "adverse_events.csv")
    counts = Counter(_bucket(r[5]) for r in rows)
    values = [float(counts.get(b, 0)) for b in AE_BUCKETS]
    late = sum(1 for r in rows if r[13] == "yes")
    table: list[list[Any]] = [[b, counts.get(b, 0)] for b in AE_BUCKETS]
    table.append(["late (over 24 h)", late])
    return Chart(
        "ae", "Adverse events: time to report", "bars", list(AE_BUCKETS),
        {"adverse events": values}, ["time to report", "adverse events"], table,
    )  # fmt: skip


def _coverage(reports: list[Report]) -> Chart:
    rows = _table(reports, "coverage_by_msl.csv")
    msls = [r[0] or "(no owner)" for r in rows]
    series = {
        "on cadence": [float(r[2]) for r in rows],
        "overdue": [float(r[3]) for r in rows],
        "never contacted": [float(r[4]) for r in rows],
    }
    return Chart(
        "coverage", "Coverage against cadence per MSL", "bars", msls, series,
        ["msl", "plans", "on cadence", "overdue", "never contacted", "% on cadence"],
        [[m, *r[1:]] for m, r in zip(msls, rows, strict=True)],
    )  # fmt: skip


def _segment_mix(store: Store) -> Chart:
    kols = [from_row(ENTITIES["kol"], r) for r in sync_log.iter_rows(store, ENTITIES["kol"])]
    phases = Counter(
        r["lifecycle_phase"]
        for r in sync_log.iter_rows(store, ENTITIES["plan"])
        if r["status"] != "closed" and r["lifecycle_phase"]
    )
    phase = LifecyclePhase(phases.most_common(1)[0][0]) if phases else next(iter(LifecyclePhase))
    target = PHASE_MIX[phase]
    actual = actual_mix(segment_of(k) for k in kols)  # type: ignore[arg-type]
    segments = list(Segment)
    series = {
        "actual %": [round(100 * actual.get(s, 0.0), 1) for s in segments],
        f"target % ({phase.value})": [round(100 * target.get(s, 0.0), 1) for s in segments],
    }
    table = [[s.value, *(v[i] for v in series.values())] for i, s in enumerate(segments)]
    return Chart(
        "mix", f"Segment mix against the {phase.value} target", "bars",
        [s.value for s in segments], series, ["segment", *series], table,
    )  # fmt: skip


def field_view(store: Store, now: datetime) -> list[Chart]:
    """The four charts, read in one pass of the reports plus the KOLs and plans."""
    reports = build_reports(store, now=now)
    return [_insights(reports), _adverse_events(reports), _coverage(reports), _segment_mix(store)]
