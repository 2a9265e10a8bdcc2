"""Two helpers for a big write into a PostgreSQL store (see ``PgDatabase.bulk``).

``CopyLane``: COPYs run in order on one helper thread while the import checks the next
batches, so the server stores rows beside Python's work instead of after it. At most
``depth`` batches wait, so memory stays flat whatever the bundle's size.

``Written``: what a store holding the store alone (no merge beside it) wrote into its change
log since the big write began, as a Bloom filter. A record of a table that held no row and
no change when the write began can be held now only if this transaction wrote a change of
it: every row and conflict the merge writes comes from changes written with it. So a key
the filter has never seen is proven absent, and the merge need not ask the server (a
question waits for every COPY in flight). A "maybe" is asked as before.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

# Records: 2**27 bits (16 MiB), 4 bits a record; after a million records about 1 id in
# 1,000,000 is a false "maybe", which costs one question.
_BITS = 1 << 27
_MASK = _BITS - 1
_MIX = 0x9E3779B97F4A7C15  # spreads a hash's bits again for the third and fourth bit
# Changes: one bit per sequence number of each device, over at most this span.
_SEQ_SPAN = 1 << 28


class Written:
    """Records (``(entity, id)``) and changes (``(device, seq)``) written in this
    transaction. ``maybe_records`` and ``maybe_seqs`` never drop one that was added."""

    def __init__(self) -> None:
        self._bits = bytearray(_BITS >> 3)
        self._seqs: dict[str, _Seqs] = {}
        # Tables and devices with nothing stored when the write began (True), or with
        # something (False); asked once each.
        self.empty: dict[str, bool] = {}

    def add(self, rows: Sequence[Sequence[Any]], at: tuple[int, int, int, int]) -> None:
        """Change rows whose entity, record id, device and seq are at these positions."""
        e, r, d, s = at
        bits = self._bits
        for row in rows:
            h = hash(row[r]) ^ hash(row[e])
            g = (h * _MIX) >> 17
            for slot in (h & _MASK, (h >> 32) & _MASK, g & _MASK, (g >> 27) & _MASK):
                bits[slot >> 3] |= 1 << (slot & 7)
        by_device: dict[str, list[Any]] = {}
        for row in rows:
            by_device.setdefault(row[d], []).append(row[s])
        for device, seqs in by_device.items():
            self._seqs.setdefault(device, _Seqs()).add(seqs)

    def maybe_records(self, entity: str, ids: Iterable[str]) -> list[str]:
        """The ids that may have been added (every one that was, and very rarely another)."""
        bits = self._bits
        salt = hash(entity)
        out = []
        for i in ids:
            h = hash(i) ^ salt
            g = (h * _MIX) >> 17
            for slot in (h & _MASK, (h >> 32) & _MASK, g & _MASK, (g >> 27) & _MASK):
                if not bits[slot >> 3] >> (slot & 7) & 1:
                    break
            else:
                out.append(i)
        return out

    def maybe_seqs(self, device: str, seqs: Sequence[int]) -> list[int]:
        known = self._seqs.get(device)
        return known.maybe(seqs) if known is not None else []


class _Seqs:
    """One device's sequence numbers, a bit each from the lowest seen (exact). A span wider
    than ``_SEQ_SPAN``, or a number that is not an int, gives up: every one is a maybe."""

    def __init__(self) -> None:
        self.base = 0
        self.bits = bytearray()
        self.wide = False

    def add(self, seqs: list[Any]) -> None:
        if self.wide:
            return
        if not all(type(s) is int for s in seqs):
            self.wide = True
            return
        low, high = min(seqs), max(seqs)
        if not self.bits:
            self.base = low
        if low < self.base:
            grow = (self.base - low + 7) // 8
            self.bits[:0] = bytes(grow)
            self.base -= grow * 8
        if high - self.base >= _SEQ_SPAN:
            self.wide, self.bits = True, bytearray()
            return
        need = (high - self.base) // 8 + 1
        if need > len(self.bits):
            self.bits.extend(bytes(need - len(self.bits)))
        bits, base = self.bits, self.base
        for s in seqs:
            offset = s - base
            bits[offset >> 3] |= 1 << (offset & 7)

    def maybe(self, seqs: Sequence[int]) -> list[int]:
        if self.wide:
            return list(seqs)
        bits, base, end = self.bits, self.base, len(self.bits) * 8
        return [
            s
            for s in seqs
            if type(s) is not int  # never added as a bit: asked, as before
            or (0 <= s - base < end and bits[(s - base) >> 3] >> ((s - base) & 7) & 1)
        ]


class CopyLane:
    """COPYs on one helper thread, in the order given; the caller waits only when it needs
    the connection (``drain``) or when ``depth`` COPYs wait already."""

    def __init__(self, run: Callable[[str, Sequence[Sequence[Any]]], None], depth: int) -> None:
        self._run = run
        # The queue counts its jobs itself (``unfinished_tasks``, raised as a job goes in,
        # lowered by the helper as it ends one). A count of its own, raised before a ``put``
        # that waits for room, stayed raised when Ctrl-C interrupted that wait: the job never
        # ran, and the rollback's ``drain`` waited for it for ever.
        self._jobs: queue.Queue[tuple[str, Sequence[Sequence[Any]]] | None] = queue.Queue(depth)
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.cancelled = False  # the transaction is being undone: run nothing more

    @property
    def busy(self) -> bool:
        return self._jobs.unfinished_tasks > 0

    def submit(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="msl-copy", daemon=True)
            self._thread.start()
        self._jobs.put((sql, rows))

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if self.error is None and not self.cancelled:
                    self._run(*job)
            except BaseException as exc:  # raised in the caller's thread, at its next use
                self.error = exc
            finally:
                self._jobs.task_done()

    def drain(self) -> None:
        """Wait until every COPY given has run (or been skipped after an error)."""
        self._jobs.join()

    def close(self) -> None:
        if self._thread is not None:
            self.cancelled = True
            self.drain()
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
