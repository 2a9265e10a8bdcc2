"""Which records a big write into an empty store may have written so far.

A merge reads, for each batch, the stored changes, rows and open conflicts of the batch's
records. When the store held no record, change or conflict as the write began, only records
this write has written since can have any, and in a first full import most records arrive
once: the reads find nothing (at 1,000,000 visits they cost 9 s, most of it looking up
random ids out of the page cache). ``Written`` remembers every record id the write path
writes (rows, changes, conflicts) in a Bloom filter of 4 MiB: an id it never saw is certainly
not stored, so the merge skips reading it; an id it may have seen is read as before. A false
"may have" costs a read, never a wrong answer.
"""

from __future__ import annotations

from collections.abc import Iterable

_BITS = 25  # 2**25 bits: 4 MiB; at 2,000,000 ids about 1 in 80 is a needless read
_MASK = (1 << _BITS) - 1


class Written:
    def __init__(self) -> None:
        self.bits = bytearray(1 << (_BITS - 3))

    def add(self, record_ids: Iterable[str]) -> None:
        bits = self.bits
        for record_id in record_ids:
            # Two probes from one hash (str hashes are 64 bits, stable within a process).
            h = hash(record_id)
            a, b = h & _MASK, (h >> _BITS) & _MASK
            bits[a >> 3] |= 1 << (a & 7)
            bits[b >> 3] |= 1 << (b & 7)

    def may_hold(self, record_ids: Iterable[str]) -> list[str]:
        """The ids this write may have written (the others it certainly did not)."""
        bits = self.bits
        found = []
        for record_id in record_ids:
            h = hash(record_id)
            a, b = h & _MASK, (h >> _BITS) & _MASK
            if bits[a >> 3] & (1 << (a & 7)) and bits[b >> 3] & (1 << (b & 7)):
                found.append(record_id)
        return found
