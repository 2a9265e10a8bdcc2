"""The hybrid logical clock orders edits even when wall clocks disagree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msl_tui.clock import MAX_COUNTER, ClockError, HybridLogicalClock, Stamp


def test_stamps_never_go_backwards_when_the_wall_clock_does() -> None:
    walls = iter([1000, 2000, 1500, 1500, 3000])
    clock = HybridLogicalClock("a", wall=lambda: next(walls))
    stamps = [clock.tick() for _ in range(5)]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 5


def test_counter_overflow_borrows_a_millisecond() -> None:
    clock = HybridLogicalClock("a", wall=lambda: 1000)
    stamps = [clock.tick() for _ in range(MAX_COUNTER + 3)]
    assert stamps == sorted(stamps)
    assert stamps[-1].wall_ms == 1001


def test_observing_a_remote_stamp_moves_past_it() -> None:
    clock = HybridLogicalClock("a", wall=lambda: 1000)
    clock.observe(Stamp(5000, 7, "b"), max_skew_ms=10_000)
    assert clock.tick() > Stamp(5000, 7, "b")


def test_a_stamp_far_in_the_future_is_refused() -> None:
    clock = HybridLogicalClock("a", wall=lambda: 1000)
    with pytest.raises(ClockError, match="ahead"):
        clock.observe(Stamp(1000 + 3_600_001, 0, "b"), max_skew_ms=3_600_000)


@pytest.mark.parametrize("text", ["", "123-0000-a", "0000000001000-00001-a", "x" * 30])
def test_malformed_stamps_are_refused(text: str) -> None:
    with pytest.raises(ClockError):
        Stamp.parse(text)


stamps = st.builds(
    Stamp,
    st.integers(0, 9_999_999_999_999),
    st.integers(0, MAX_COUNTER),
    st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True),
)


@given(stamps, stamps)
def test_string_order_is_the_stamp_order(a: Stamp, b: Stamp) -> None:
    assert (str(a) < str(b)) == (a < b)


@given(stamps)
def test_stamps_round_trip_through_text(a: Stamp) -> None:
    assert Stamp.parse(str(a)) == a
