"""Who needs attention first, and why: the ranking rules as a table of situations."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msl_tui.models.enums import (
    EngagementStage,
    Influence,
    LifecyclePhase,
    Segment,
    Stance,
)
from msl_tui.services.priority import (
    WEIGHTS_TOML_EXAMPLE,
    KolSituation,
    PriorityWeights,
    load_weights,
    rank,
)
from msl_tui.services.segments import PHASE_MIX, actual_mix, segment_for

W = PriorityWeights()


def kol(name: str, **facts: object) -> KolSituation:
    base: dict[str, object] = {
        "kol_id": name,
        "name": name,
        "influence": Influence.LOCAL,
        "stance": Stance.NEUTRAL,
        "cadence_days": 30,
        "days_since_contact": 10,
        "has_plan": True,
    }
    return KolSituation(**{**base, **facts})  # type: ignore[arg-type]


RANKINGS = [
    (
        "an unreported AE beats a national advocate long overdue",
        [
            kol("ae", unreported_ae_hours_left=20.0),
            kol(
                "vip", influence=Influence.NATIONAL, stance=Stance.ADVOCATE, days_since_contact=200
            ),
        ],
        ["ae", "vip"],
    ),
    (
        "less AE time left ranks first",
        [kol("later", unreported_ae_hours_left=20.0), kol("sooner", unreported_ae_hours_left=2.0)],
        ["sooner", "later"],
    ),
    (
        "an AE past its deadline ranks above one still in time",
        [kol("in time", unreported_ae_hours_left=1.0), kol("late", unreported_ae_hours_left=-3.0)],
        ["late", "in time"],
    ),
    (
        "launch: manage closely above keep informed at equal overdue",
        [
            kol(
                "informed",
                stance=Stance.ADVOCATE,
                lifecycle_phase=LifecyclePhase.LAUNCH,
                days_since_contact=40,
            ),
            kol(
                "close",
                influence=Influence.NATIONAL,
                stance=Stance.ADVOCATE,
                lifecycle_phase=LifecyclePhase.LAUNCH,
                days_since_contact=40,
            ),
        ],
        ["close", "informed"],
    ),
    (
        "more days overdue ranks higher",
        [kol("a bit", days_since_contact=35), kol("a lot", days_since_contact=80)],
        ["a lot", "a bit"],
    ),
    (
        "overdue follow-ups rank above none",
        [
            kol("calm"),
            kol("owing", open_followups=2, overdue_followups=2, max_followup_overdue_days=9),
        ],
        ["owing", "calm"],
    ),
    (
        "never contacted ranks above recently seen",
        [kol("seen", days_since_contact=3), kol("never", days_since_contact=None)],
        ["never", "seen"],
    ),
    ("equal situations fall back to name order", [kol("Dr B"), kol("Dr A")], ["Dr A", "Dr B"]),
]


@pytest.mark.parametrize(("case", "situations", "order"), RANKINGS, ids=[r[0] for r in RANKINGS])
def test_rank_order(case: str, situations: list[KolSituation], order: list[str]) -> None:
    assert [p.kol_id for p in rank(situations, W)] == order


def test_plateau_narrows_the_gap_between_segments() -> None:
    def gap(phase: LifecyclePhase) -> float:
        close = kol(
            "c", influence=Influence.NATIONAL, stance=Stance.ADVOCATE, lifecycle_phase=phase
        )
        informed = kol("i", stance=Stance.ADVOCATE, lifecycle_phase=phase)
        scores = {p.kol_id: p.score for p in rank([close, informed], W)}
        return scores["c"] - scores["i"]

    assert gap(LifecyclePhase.PLATEAU) < gap(LifecyclePhase.LAUNCH)


@pytest.mark.parametrize(
    ("situation", "reasons"),
    [
        (
            kol("x", unreported_ae_hours_left=5.4),
            ["adverse event mention not yet reported: 5 h left of 24 h"],
        ),
        (kol("x", unreported_ae_hours_left=-3.0), ["adverse event report overdue by 3 h"]),
        (
            kol("x", influence=Influence.NATIONAL, stance=Stance.ADVOCATE),
            ["manage closely: national influence, advocate"],
        ),
        (kol("x", days_since_contact=42), ["check-in overdue by 12 days"]),
        (kol("x", days_since_contact=None), ["never contacted"]),
        (
            kol("x", open_followups=2, overdue_followups=2, max_followup_overdue_days=9),
            ["2 follow-ups overdue (oldest by 9 days)"],
        ),
        (kol("x", open_objectives=3), ["3 plan objectives open"]),
        (kol("x", has_plan=False), ["no engagement plan"]),
        (kol("x", days_since_contact=27), ["check-in due in 3 days"]),
    ],
)
def test_reasons_in_plain_words(situation: KolSituation, reasons: list[str]) -> None:
    (priority,) = rank([situation], W)
    for reason in reasons:
        assert reason in priority.reasons
    if situation.unreported_ae_hours_left is not None:
        assert priority.reasons[0] == reasons[0]


def test_next_checkin_due_in_days() -> None:
    (priority,) = rank([kol("x", days_since_contact=42)], W)
    assert priority.next_checkin_due_in_days == -12


situations = st.builds(
    KolSituation,
    kol_id=st.uuids().map(str),
    name=st.sampled_from(["Dr A", "Dr B", "Dr C"]),
    influence=st.sampled_from(list(Influence)),
    stance=st.sampled_from(list(Stance)),
    stage=st.none() | st.sampled_from(list(EngagementStage)),
    lifecycle_phase=st.none() | st.sampled_from(list(LifecyclePhase)),
    cadence_days=st.none() | st.integers(1, 120),
    days_since_contact=st.none() | st.integers(0, 900),
    open_followups=st.integers(0, 5),
    overdue_followups=st.integers(0, 5),
    max_followup_overdue_days=st.integers(0, 400),
    unreported_ae_hours_left=st.none() | st.floats(-100, 24),
    open_objectives=st.integers(0, 4),
    has_plan=st.booleans(),
)


@given(st.lists(situations, max_size=30))
def test_rank_is_a_permutation_and_adverse_events_come_first(group: list[KolSituation]) -> None:
    ranked = rank(group, W)
    assert sorted(p.kol_id for p in ranked) == sorted(s.kol_id for s in group)
    ae_ids = {s.kol_id for s in group if s.unreported_ae_hours_left is not None}
    flags = [p.kol_id in ae_ids for p in ranked]
    assert flags == sorted(flags, reverse=True)


def test_weights_from_a_settings_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        '[priority]\nnever_contacted = 99\n[priority.segment.launch]\n"monitor" = 1.5\n'
    )
    weights = load_weights(path)
    assert weights.never_contacted == 99
    assert weights.segment[LifecyclePhase.LAUNCH][Segment.MONITOR] == 1.5
    assert weights.segment[LifecyclePhase.LAUNCH][Segment.MANAGE_CLOSELY] == 42


def test_a_missing_settings_file_gives_defaults(tmp_path: Path) -> None:
    assert load_weights(tmp_path / "none.toml") == PriorityWeights()


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[priority]\nnever_contactd = 3\n", "priority.never_contactd"),
        ("[priority]\nnever_contacted = 'lots'\n", "priority.never_contacted"),
        ("[priority.segment.relaunch]\nmonitor = 1\n", "priority.segment.relaunch"),
        ("[priority\n", "not valid TOML"),
    ],
)
def test_bad_settings_name_the_file_and_key(tmp_path: Path, text: str, names: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as caught:
        load_weights(path)
    assert str(path) in str(caught.value) and names in str(caught.value)


def test_the_documented_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(WEIGHTS_TOML_EXAMPLE)
    assert load_weights(path).checkin_overdue_per_cadence == 30


@pytest.mark.parametrize(
    ("influence", "stance", "stage", "segment"),
    [
        (
            i,
            s,
            None,
            (
                Segment.MANAGE_CLOSELY
                if high and interest
                else Segment.KEEP_SATISFIED
                if high
                else Segment.KEEP_INFORMED
                if interest
                else Segment.MONITOR
            ),
        )
        for i in Influence
        for s in Stance
        for high in [i in (Influence.GLOBAL, Influence.NATIONAL)]
        for interest in [s in (Stance.ADVOCATE, Stance.NEGATIVE)]
    ]
    + [
        (Influence.REGIONAL, Stance.ADVOCATE, EngagementStage.GROWING, Segment.MANAGE_CLOSELY),
        (Influence.REGIONAL, Stance.NEUTRAL, EngagementStage.GROWING, Segment.KEEP_SATISFIED),
        (Influence.REGIONAL, Stance.ADVOCATE, EngagementStage.PLATEAU, Segment.KEEP_INFORMED),
        (Influence.LOCAL, Stance.ADVOCATE, EngagementStage.GROWING, Segment.KEEP_INFORMED),
    ],
)
def test_segment_grid(
    influence: Influence, stance: Stance, stage: EngagementStage | None, segment: Segment
) -> None:
    assert segment_for(influence, stance, stage) is segment


def test_phase_mixes_sum_to_one_and_launch_favours_manage_closely() -> None:
    for mix in PHASE_MIX.values():
        assert sum(mix.values()) == pytest.approx(1.0)
    assert (
        PHASE_MIX[LifecyclePhase.LAUNCH][Segment.MANAGE_CLOSELY]
        > PHASE_MIX[LifecyclePhase.PLATEAU][Segment.MANAGE_CLOSELY]
    )


def test_actual_mix() -> None:
    mix = actual_mix([Segment.MONITOR, Segment.MONITOR, Segment.MANAGE_CLOSELY, Segment.MONITOR])
    assert mix[Segment.MONITOR] == 0.75 and mix[Segment.KEEP_SATISFIED] == 0
