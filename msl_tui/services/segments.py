"""The stakeholder matrix: which of the four cells a KOL falls in, and the mix each phase wants.

Reach (influence) is the power axis; engagement with the company (stance) is the interest
axis. Advocates and critics both care a great deal about what we do, so both count as high
interest; neutral and unknown KOLs count as low.

| reach \\ interest            | advocate or negative | neutral or unknown |
|-----------------------------|----------------------|--------------------|
| global, national            | manage closely       | keep satisfied     |
| regional, growing           | manage closely       | keep satisfied     |
| regional (otherwise), local | keep informed        | monitor            |

A regional voice whose engagement is growing is treated as high reach: rising regional KOLs
are the ones a top-down view misses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from msl_tui.models.enums import EngagementStage, Influence, LifecyclePhase, Segment, Stance

HIGH_REACH = frozenset({Influence.GLOBAL, Influence.NATIONAL})
HIGH_INTEREST = frozenset({Stance.ADVOCATE, Stance.NEGATIVE})


def segment_for(
    influence: Influence, stance: Stance, stage: EngagementStage | None = None
) -> Segment:
    high_reach = influence in HIGH_REACH or (
        influence is Influence.REGIONAL and stage is EngagementStage.GROWING
    )
    high_interest = stance in HIGH_INTEREST
    if high_reach:
        return Segment.MANAGE_CLOSELY if high_interest else Segment.KEEP_SATISFIED
    return Segment.KEEP_INFORMED if high_interest else Segment.MONITOR


# The share of field effort each product lifecycle phase calls for. Around a launch most effort
# goes to "manage closely"; on a plateau and in decline it shifts to "keep satisfied / informed".
PHASE_MIX: dict[LifecyclePhase, dict[Segment, float]] = {
    LifecyclePhase.PRE_LAUNCH: {
        Segment.MANAGE_CLOSELY: 0.50,
        Segment.KEEP_SATISFIED: 0.25,
        Segment.KEEP_INFORMED: 0.15,
        Segment.MONITOR: 0.10,
    },
    LifecyclePhase.LAUNCH: {
        Segment.MANAGE_CLOSELY: 0.60,
        Segment.KEEP_SATISFIED: 0.20,
        Segment.KEEP_INFORMED: 0.15,
        Segment.MONITOR: 0.05,
    },
    LifecyclePhase.GROWTH: {
        Segment.MANAGE_CLOSELY: 0.45,
        Segment.KEEP_SATISFIED: 0.25,
        Segment.KEEP_INFORMED: 0.20,
        Segment.MONITOR: 0.10,
    },
    LifecyclePhase.PLATEAU: {
        Segment.MANAGE_CLOSELY: 0.30,
        Segment.KEEP_SATISFIED: 0.30,
        Segment.KEEP_INFORMED: 0.30,
        Segment.MONITOR: 0.10,
    },
    LifecyclePhase.DECLINE: {
        Segment.MANAGE_CLOSELY: 0.25,
        Segment.KEEP_SATISFIED: 0.30,
        Segment.KEEP_INFORMED: 0.30,
        Segment.MONITOR: 0.15,
    },
}


def actual_mix(segments: Iterable[Segment]) -> dict[Segment, float]:
    """Share of KOLs in each segment (every segment present, zero when empty)."""
    counts = Counter(segments)
    total = sum(counts.values())
    return {s: (counts[s] / total if total else 0.0) for s in Segment}
