"""Erasing a KOL on request (right to erasure): checks, one transaction, then the file.

What is removed: the KOL, its plans, visits and follow-ups (rows, full-text entries,
conflicts, drafts) and the payloads of their changes in the log. What stays is one erasure
record with no personal data: the KOL's id, when, a reason category, who erased it and on
which device. It travels with every export, and every store that imports it erases the
same KOL. The bytes leave the store file too (secure_delete, VACUUM, a truncating WAL
checkpoint).

An erasure is refused while the KOL has an adverse event not yet reported: the company
owes pharmacovigilance that report (within a business day), and erasing it first would
destroy it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from msl_tui.models import Kol
from msl_tui.plurals import plural
from msl_tui.store import erasure as erasures
from msl_tui.store.store import Store, fts_terms
from msl_tui.sync.wire import ERASURE_REASONS
from msl_tui.timestamps import iso, utcnow

REASON_WORDS = {
    "request": "the person asked to be erased",
    "objection": "the person objected to being profiled",
    "consent-withdrawn": "the person withdrew consent",
    "no-longer-needed": "the data is no longer needed",
    "unlawful": "the data was held unlawfully",
    "legal-obligation": "a legal obligation requires it",
}
assert set(REASON_WORDS) == set(ERASURE_REASONS)
_TITLES = re.compile(r"^(dr|prof|professor|mr|mrs|ms|mx|sir|dame)\.?$", re.IGNORECASE)


class ErasureError(ValueError):
    """The KOL cannot be erased now; the message says why and what to do."""


@dataclass
class ErasureResult:
    kol_id: str
    name: str
    counts: dict[str, int] = field(default_factory=dict)
    scrubbed: bool = True
    mentions: int = 0  # other KOLs' visit notes that still name the person

    def lines(self) -> list[str]:
        removed = ", ".join(
            plural(self.counts.get(table, 0), noun)
            for table, noun in (
                ("interactions", "visit"),
                ("plans", "plan"),
                ("followups", "follow-up"),
                ("drafts", "draft"),
            )
        )
        out = [
            f"erased {self.name} ({self.kol_id}): {removed}; the erasure goes out with "
            "the next export, and every store that imports it erases the same KOL"
        ]
        if not self.scrubbed:
            out.append("the store was busy: the erased bytes leave the file at its next start")
        if self.mentions:
            out.append(
                f"{plural(self.mentions, 'note')} about other KOLs still mention "
                f"{self.name}: find them with the list's search and edit them by hand"
            )
        return out


def name_terms(name: str) -> list[str]:
    """The words of a name that identify the person (titles left out)."""
    return [w for w in fts_terms(name) if not _TITLES.match(w)]


def erase_kol(
    store: Store, kol_id: str, reason: str, *, now: datetime | None = None
) -> ErasureResult:
    """Erase one KOL everywhere in this store and record the erasure so it travels."""
    if reason not in REASON_WORDS:
        raise ErasureError(f"the reason must be one of: {', '.join(ERASURE_REASONS)}")
    done = erasures.get_erasure(store, kol_id)
    if done is not None:
        raise ErasureError(f"KOL {kol_id} was erased already, on {done['erased_at']}")
    kol = store.get(Kol, kol_id)
    if kol is None:
        raise ErasureError(f"no KOL with id {kol_id} in this store")
    terms = name_terms(kol.name)
    with store.transaction():
        pending = erasures.pending_adverse_events(store, kol_id)
        if pending:
            raise ErasureError(erasures.pending_events_words(store, kol_id, pending))
        counts = erasures.apply_erasure(
            store,
            kol_id,
            erased_at=iso(now or utcnow()),
            reason=reason,
            erased_by=store.author or store.device_id,
            device_id=store.device_id,
        )
        assert counts is not None
        mentions = erasures.notes_mentioning(store, terms) if terms else 0
    scrubbed = erasures.try_scrub(store)
    return ErasureResult(kol_id, kol.name, counts, scrubbed, mentions)
