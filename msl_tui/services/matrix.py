"""The segment matrix view's numbers: who sits in each cell, and the mix against the target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from msl_tui.models import LifecyclePhase, Segment
from msl_tui.services.kol_list import KolListService, KolRow, ListQuery
from msl_tui.services.segments import PHASE_MIX, actual_mix


@dataclass(frozen=True)
class MatrixView:
    phase: LifecyclePhase
    cells: dict[Segment, list[KolRow]]
    target_mix: dict[Segment, float]
    actual: dict[Segment, float]


def segment_matrix(service: KolListService, phase: LifecyclePhase, now: datetime) -> MatrixView:
    rows = service.load(ListQuery(), now).rows
    cells: dict[Segment, list[KolRow]] = {s: [] for s in Segment}
    for row in rows:
        cells[row.segment].append(row)
    return MatrixView(
        phase=phase,
        cells=cells,
        target_mix=PHASE_MIX[phase],
        actual=actual_mix(r.segment for r in rows),
    )
