"""The stakeholder matrix: which of the four cells a KOL falls in, and the mix each phase wants.

Reach (influence) is the power axis; advocacy (stance toward the company) is the interest
axis. Advocates and critics both care a great deal about what we do, so both count as high
interest; neutral and unknown KOLs count as low.

| reach \\ interest            | advocate or critic   | neutral or unknown |
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

# The one set of words every screen uses. A negative stance reads "critic" (DOMAIN.md calls
# it negative; the word on screen names the person, like "advocate").
STANCE_WORDS: dict[Stance, str] = {
    Stance.ADVOCATE: "advocate",
    Stance.NEUTRAL: "neutral",
    Stance.NEGATIVE: "critic",
    Stance.UNKNOWN: "unknown",
}


def stance_word(stance: Stance) -> str:
    return STANCE_WORDS[stance]


def stage_words(stage: EngagementStage) -> str:
    """The relationship's own lifecycle, never confused with the product's."""
    return f"relationship stage: {stage.value}"


def lifecycle_words(phase: LifecyclePhase) -> str:
    return f"product lifecycle: {phase.value}"


def _high_reach(influence: Influence, stage: EngagementStage | None) -> bool:
    return influence in HIGH_REACH or (
        influence is Influence.REGIONAL and stage is EngagementStage.GROWING
    )


def segment_summary(influence: Influence, stance: Stance, stage: EngagementStage | None) -> str:
    """A short reason for the cell, e.g. "manage closely: national influence, advocate"."""
    segment = segment_for(influence, stance, stage)
    reach = f"{influence.value} influence"
    if influence is Influence.REGIONAL and stage is EngagementStage.GROWING:
        reach += " (growing relationship)"
    return f"{segment.value}: {reach}, {stance_word(stance)}"


def why_cell(influence: Influence, stance: Stance, stage: EngagementStage | None) -> str:
    """Why a KOL sits in their cell, in a sentence: the two axes and what decided each."""
    segment = segment_for(influence, stance, stage)
    if influence in HIGH_REACH:
        reach = f"{influence.value} influence is high reach"
    elif _high_reach(influence, stage):
        reach = "regional influence with a growing relationship counts as high reach"
    elif influence is Influence.REGIONAL:
        shown = stage_words(stage) if stage else "relationship stage not set"
        reach = f"regional influence is low reach unless the relationship is growing ({shown})"
    else:
        reach = f"{influence.value} influence is low reach"
    word = stance_word(stance)
    if stance in HIGH_INTEREST:
        interest = f"{'an' if word[0] in 'aeiou' else 'a'} {word} cares a lot about what we do"
    else:
        interest = f"stance {word} is low interest"
    return f"{segment.value.capitalize()}: {reach}; {interest}."


def segment_for(
    influence: Influence, stance: Stance, stage: EngagementStage | None = None
) -> Segment:
    high_reach = _high_reach(influence, stage)
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
