"""Hybrid logical clock: orders edits across machines whose wall clocks disagree.

A stamp is ``WWWWWWWWWWWWW-CCCC-DEVICE``: thirteen digits of wall-clock milliseconds, a
four-digit counter and the writing device's id. Fixed-width fields make the plain string
order equal the (wall, counter, device) order, so SQL's ``max()`` picks the winner.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

# ASCII only: ``\d`` would admit other scripts' digits, which int() reads but which sort
# after every real stamp (a forged stamp would win every merge for ever). ``\Z``, not ``$``,
# which would let a trailing newline through.
DEVICE_PATTERN = r"[A-Za-z0-9_.:-]{1,64}"
STAMP_RE = re.compile(rf"^([0-9]{{13}})-([0-9]{{4}})-({DEVICE_PATTERN})\Z", re.ASCII)
DEVICE_RE = re.compile(rf"^{DEVICE_PATTERN}\Z", re.ASCII)
MAX_COUNTER = 9999


class ClockError(ValueError):
    """A stamp that is malformed or too far ahead of this machine's clock."""


@dataclass(frozen=True, slots=True, order=True)
class Stamp:
    wall_ms: int
    counter: int
    device: str

    def __str__(self) -> str:
        return f"{self.wall_ms:013d}-{self.counter:04d}-{self.device}"

    @classmethod
    def parse(cls, text: str) -> Stamp:
        match = STAMP_RE.match(text)
        if match is None:
            raise ClockError(f"malformed clock stamp {text!r}")
        return cls(int(match[1]), int(match[2]), match[3])


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class HybridLogicalClock:
    """Issues stamps that never go backwards, even if the wall clock does.

    ``observe`` folds in stamps seen from other devices so that a later local edit always
    sorts after what this device has already seen.
    """

    def __init__(self, device: str, last: Stamp | None = None, wall=now_ms) -> None:
        self.device = device
        self._wall = wall
        self._last_ms = last.wall_ms if last else 0
        self._counter = last.counter if last else 0
        self._lock = threading.Lock()

    def tick(self) -> Stamp:
        with self._lock:
            wall = self._wall()
            if wall > self._last_ms:
                self._last_ms, self._counter = wall, 0
            else:
                self._counter += 1
                if self._counter > MAX_COUNTER:
                    # Borrow a millisecond rather than overflow the fixed-width field.
                    self._last_ms, self._counter = self._last_ms + 1, 0
            return Stamp(self._last_ms, self._counter, self.device)

    def observe(self, remote: Stamp, max_skew_ms: int) -> None:
        """Advance past a remote stamp; refuse one from too far in the future."""
        with self._lock:
            wall = self._wall()
            if remote.wall_ms > wall + max_skew_ms:
                raise ClockError(
                    f"clock stamp {remote} is {(remote.wall_ms - wall) / 3_600_000:.1f} h "
                    "ahead of this machine"
                )
            if remote.wall_ms > self._last_ms:
                self._last_ms, self._counter = remote.wall_ms, remote.counter
            elif remote.wall_ms == self._last_ms:
                self._counter = max(self._counter, remote.counter)

    @property
    def last(self) -> Stamp:
        return Stamp(self._last_ms, self._counter, self.device)
