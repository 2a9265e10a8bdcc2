"""The ranked KOL list: store aggregates in, ranked and filtered rows out. No Textual.

Screens ask ``KolListService.load`` (in a worker) for rows; filtering, sorting and the
search box all go through ``ListQuery`` so the same rules serve every view and test.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, overload

from msl_tui.models.enums import EngagementStage, Influence, LifecyclePhase, Segment, Stance
from msl_tui.models.rules import AE_REPORT_WINDOW
from msl_tui.services.priority import KolSituation, Priority, PriorityWeights, rank, score
from msl_tui.store import StoreError, situation

# The store (and the models it builds records with) loads once the first page is on
# screen: at launch that page is read through a ``situation.FirstPageReader``.
if TYPE_CHECKING:
    from msl_tui.store import Store

SORT_KEYS = (
    "rank",
    "name",
    "institution",
    "influence",
    "stance",
    "segment",
    "last",
    "due",
    "followups",
)


@dataclass(frozen=True, slots=True)
class KolRow:
    """One line of the KOL list, ready to render."""

    rank: int
    kol_id: str
    name: str
    institution: str
    specialty: str
    influence: Influence
    stance: Stance
    segment: Segment
    stage: EngagementStage | None
    territory: str
    therapeutic_areas: tuple[str, ...]
    last_contact: date | None
    next_due: date | None
    open_followups: int
    overdue_followups: int
    ae_hours_left: float | None
    score: float
    reasons: tuple[str, ...]
    words: str = ""  # what the filter matches: " word word ...", folded

    @property
    def due_label(self) -> str:
        """Due date with an overdue mark that does not rely on colour."""
        if self.next_due is None:
            return "-" if self.last_contact else "now"
        return self.next_due.isoformat()

    def due_flag(self, today: date) -> str:
        if self.next_due is None:
            return ""
        days = (self.next_due - today).days
        if days < 0:
            return f"! {-days}d over"
        if days <= 7:
            return f"in {days}d"
        return ""


@dataclass(frozen=True)
class ListQuery:
    text: str = ""
    segment: Segment | None = None
    influence: Influence | None = None
    territory: str | None = None
    therapeutic_area: str | None = None
    due_this_week: bool = False
    sort: str = "rank"
    descending: bool = False

    def with_(self, **changes: Any) -> ListQuery:
        return replace(self, **changes)


@dataclass
class ListResult:
    rows: list[KolRow]
    total: int
    territories: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    exact: bool = True  # False: a first page guessed from older scores, ranking follows
    partial: bool = False  # the first page only: the whole ranking follows


# Ranking builds these for every KOL: a dict lookup, not the enum's own search by value.
_INFLUENCES: dict[str, Influence] = {m.value: m for m in Influence}
_STANCES: dict[str, Stance] = {m.value: m for m in Stance}
_STAGES: dict[str, EngagementStage] = {m.value: m for m in EngagementStage}
_PHASES: dict[str, LifecyclePhase] = {m.value: m for m in LifecyclePhase}


def _parse_day(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def _parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _situation(row: dict[str, Any], now: datetime) -> KolSituation:
    """A kept situation on the day of ``now``: the clock-driven parts computed here."""
    today = now.date()
    last = _parse_instant(row["last_contact"]) if row["last_contact"] else None
    today_text = today.isoformat()
    dues: list[str] = row["followup_dues"]
    overdue = sum(1 for due in dues if due < today_text)  # ISO days sort as strings
    oldest = _parse_day(dues[0]) if overdue else None
    return KolSituation(
        kol_id=row["kol_id"],
        name=row["name"],
        influence=_INFLUENCES[row["influence"]],
        stance=_STANCES[row["stance"]],
        stage=_STAGES[row["stage"]] if row["stage"] else None,
        lifecycle_phase=_PHASES[row["lifecycle_phase"]] if row["lifecycle_phase"] else None,
        cadence_days=row["cadence_days"],
        days_since_contact=(today - last.date()).days if last else None,
        open_followups=row["open_followups"],
        overdue_followups=overdue,
        max_followup_overdue_days=max(0, (today - oldest).days) if oldest else 0,
        unreported_ae_hours_left=_ae_hours(row, now),
        open_objectives=row["open_objectives"],
        has_plan=row["plan_id"] is not None,
    )


def _ae_hours(row: dict[str, Any], now: datetime) -> float | None:
    if not row["ae_pending_since"]:
        return None
    due = _parse_instant(row["ae_pending_since"]) + AE_REPORT_WINDOW
    return (due - now).total_seconds() / 3600


NOTE_PREFIX_MIN = 3


def _terms(text: str) -> list[str]:
    from msl_tui.store import fts_terms  # the store's own rule (loaded once it is open)

    return fts_terms(_fold(text))


def _notes_searched(terms: list[str]) -> bool:
    return all(len(t) >= NOTE_PREFIX_MIN for t in terms)


class KolListService:
    """The ranked list from the situation the store keeps per KOL (store/situation.py).

    The first page comes from the scores kept for today, with only the KOLs whose score
    cannot be trusted (touched since, an AE pending) scored again: launch reads about a
    page, not the store. The whole ranking (for scrolling and filtering) is then scored
    from the kept situations, once per data change, and its scores kept for the day.
    """

    def __init__(
        self,
        store: Store | None,
        weights: PriorityWeights | None = None,
        *,
        early: situation.FirstPageReader | None = None,
    ) -> None:
        """``store`` None: it is still opening (``attach`` gives it); the first page is read
        through ``early`` meanwhile, and whatever needs the store waits for it."""
        self._store = store
        self._early = early
        self._opened = threading.Event()
        self._open_error: BaseException | None = None
        if store is not None:
            self._opened.set()
        # Called (from a worker or the screen's mount) when the list needs the store before
        # any page can be shown: nothing kept to read a first page from.
        self.on_store_wanted: Callable[[], None] | None = None
        self.weights = weights or PriorityWeights()
        self.weights_key = self.weights.key()
        self._ranked: list[KolRow] | None = None
        self._ranked_day: date | None = None
        self._choices: tuple[list[str], list[str]] = ([], [])  # territories, areas
        # The rows whose own words the last typed text matched (notes aside): typing on
        # narrows them, not the whole list.
        self._last_text: tuple[list[KolRow], list[str], list[KolRow]] | None = None
        self._by_id: tuple[list[KolRow] | None, dict[str, KolRow]] = (None, {})
        # What recent texts matched, for this ranking (backspacing asks for them again).
        self._seen: dict[tuple[str, ...], list[KolRow]] = {}
        self._seen_ranked: list[KolRow] | None = None
        # Texts whose notes matched nothing, for this ranking: no note matches a text that
        # extends one of them either, so typing on needs no search (nor the store).
        self._unnoted: list[tuple[str, ...]] = []
        self._filter_lock = threading.Lock()
        # Two workers asking at once (a keystroke during the first ranking) rank once.
        self._lock = threading.Lock()
        self._warm = False  # warm_search ran
        self._version = 0  # invalidations so far
        self._first_page: ListResult | None = None  # the last exact first page

    @property
    def store(self) -> Store:
        """The open store; in a worker, waits for it while it opens."""
        if not self._opened.is_set():
            self._opened.wait()
        if self._store is None:
            raise StoreError(f"the store could not be opened: {self._open_error}")
        return self._store

    def attach(self, store: Store) -> None:
        """The store has opened: what waited for it goes on; the early reader is done."""
        self._store = store
        self._opened.set()
        if self._early is not None:
            self._early.close()
            self._early = None

    def not_opened(self, error: BaseException) -> None:
        """The store did not open: what waits for it fails with ``error``'s words."""
        self._open_error = error
        self._opened.set()

    def warm_search(self) -> None:
        """Read the notes' full-text index once, ahead of the first filter that searches
        notes: its first query paid about 10 ms loading the index (a word from the third
        letter on, while the MSL waits). Once per service; a busy store is skipped."""
        if self._warm or self.store.server:
            return
        self._warm = True
        with contextlib.suppress(StoreError, sqlite3.Error):
            self.store.search_note_kol_ids("qqqqqq", limit=1)

    def invalidate(self) -> None:
        self._version += 1  # a ranking being built now read the store before this change
        self._ranked = None
        self._first_page = None
        self._last_text = None
        self._by_id = (None, {})

    @property
    def ready(self) -> bool:
        """The whole ranking is in memory: filters answer without reading the store."""
        return self._ranked is not None

    @property
    def ranking_token(self) -> int | None:
        """Changes each time the whole ranking is built again (None until it is)."""
        return None if self._ranked is None else id(self._ranked)

    def first_page(self, limit: int, now: datetime | None = None) -> ListResult | None:
        """The top ``limit`` rows, fast. ``exact`` in the result says whether they are the
        final ranking (else a first guess from an older day's scores). None when nothing
        is kept yet: rank everything instead."""
        now = now or datetime.now(UTC)
        day = now.date().isoformat()
        if self._store is None and self._early is not None:
            try:
                top, stale, total = self._early.first_rows(day, self.weights_key, limit)
            except sqlite3.Error:
                top, stale, total = [], None, 1  # the whole opening will say what is wrong
        else:
            top, stale, total = situation.first_rows(self.store, day, self.weights_key, limit)
        candidates = top + (stale or [])
        if not candidates and total:
            if self._store is None and self.on_store_wanted is not None:
                self.on_store_wanted()  # nothing to show before it: open it now
            return None
        scored = [(score(_situation(r, now), self.weights), r) for r in candidates]
        scored.sort(key=lambda pr: (-pr[0].score, pr[0].name, pr[0].kol_id))
        rows = [self._row(n, p, r, now) for n, (p, r) in enumerate(scored[:limit], start=1)]
        page = ListResult(rows=rows, total=total, exact=stale is not None, partial=True)
        self._first_page = page if page.exact else None
        return page

    def early_page(self, limit: int, now: datetime) -> ListResult | None:
        """At a plain launch, before the store has opened: the first page, read while the
        app loaded (``FirstPageReader.read_ahead``). None otherwise."""
        if self._store is not None or self._early is None:
            return None
        return self.first_page(limit, now)

    def first_answer(self, query: ListQuery, now: datetime | None = None) -> ListResult | None:
        """While the whole ranking is on its way: the rows of the exact first page that
        ``query`` keeps. In rank order they are the first rows of its whole answer, as
        the page is the top of the ranking. None without an exact page, or for another
        order than the ranking's."""
        page = self._first_page
        if page is None or query.sort != "rank" or query.descending:
            return None
        rows = page.rows
        terms = _terms(query.text)
        if terms:
            noted: set[str] = set()
            if _notes_searched(terms):
                noted = set(self.store.search_note_kol_ids(" ".join(terms)))
            rows = _matching(rows, terms, noted)
        today = (now or datetime.now(UTC)).date()
        rows = [r for r in rows if _passes(r, query, today)]
        return ListResult(rows=rows, total=page.total, partial=True)

    def ranked(self, now: datetime) -> list[KolRow]:
        with self._lock:
            if self._ranked is None or self._ranked_day != now.date():
                version = self._version
                ranked = self._rank_all(now)
                self._choices = (
                    sorted({r.territory for r in ranked if r.territory}),
                    sorted({a for r in ranked for a in r.therapeutic_areas}),
                )
                # Kept only if nothing changed while it was built (about 1 s at 20,000
                # KOLs): kept after a save's invalidate, it was every later load's answer
                # (a follow-up ticked meanwhile still open, QA). The next load ranks again.
                if version == self._version:
                    self._ranked, self._ranked_day = ranked, now.date()
                return ranked
            return self._ranked

    def _rank_all(self, now: datetime) -> list[KolRow]:
        kept, rev = situation.all_rows(self.store)
        by_id = {r["kol_id"]: r for r in kept}
        priorities = rank((_situation(r, now) for r in kept), self.weights)
        day = now.date().isoformat()
        if not self.store.read_only and any(
            r["score"] != p.score or r["score_day"] != day
            for p in priorities
            for r in (by_id[p.kol_id],)
        ):
            # A cache only: a busy store (an import running) keeps the old one, and so
            # does a full disk (SQLite's own error, not a StoreError: the ranking was never
            # shown and every key typed at launch stayed held; QA).
            with contextlib.suppress(StoreError, sqlite3.OperationalError):
                situation.save_scores(
                    self.store,
                    day,
                    self.weights_key,
                    rev,
                    ((p.kol_id, p.score) for p in priorities),
                )
        return [
            self._row(position, p, by_id[p.kol_id], now)
            for position, p in enumerate(priorities, start=1)
        ]

    @staticmethod
    def _row(position: int, p: Priority, row: dict[str, Any], now: datetime) -> KolRow:
        last = _parse_instant(row["last_contact"]) if row["last_contact"] else None
        next_due = None
        if row["cadence_days"] and last is not None:
            next_due = last.date() + timedelta(days=row["cadence_days"])
        today_text = now.date().isoformat()
        return KolRow(
            rank=position,
            kol_id=p.kol_id,
            name=row["name"],
            institution=row["institution"] or "",
            specialty=row["specialty"] or "",
            influence=_INFLUENCES[row["influence"]],
            stance=_STANCES[row["stance"]],
            segment=p.segment,
            stage=_STAGES[row["stage"]] if row["stage"] else None,
            territory=row["territory"] or "",
            therapeutic_areas=_areas(row["therapeutic_areas"]),
            last_contact=last.date() if last else None,
            next_due=next_due,
            open_followups=row["open_followups"],
            overdue_followups=sum(1 for due in row["followup_dues"] if due < today_text),
            ae_hours_left=_ae_hours(row, now),
            score=p.score,
            reasons=p.reasons,
            words=_words(row),
        )

    @overload
    def _text_filter(self, ranked: list[KolRow], terms: list[str]) -> list[KolRow]: ...

    @overload
    def _text_filter(
        self, ranked: list[KolRow], terms: list[str], *, search: bool
    ) -> list[KolRow] | None: ...

    def _text_filter(
        self, ranked: list[KolRow], terms: list[str], *, search: bool = True
    ) -> list[KolRow] | None:
        """Rows whose profile words (in memory) or visit notes (full-text index) hold
        every term as a word prefix. Notes are searched from the third letter on: a one-
        or two-letter prefix matches most notes and costs the index a full scan. Without
        ``search``, None when the notes would have to be searched."""
        key = tuple(terms)
        if self._seen_ranked is not ranked:
            self._seen, self._seen_ranked, self._unnoted = {}, ranked, []
        if key in self._seen:
            return self._seen[key]  # erasing back to a text typed a moment ago
        notes = _notes_searched(terms) and not any(_extends(terms, t) for t in self._unnoted)
        if notes and not search:
            return None
        worded = self._word_matches(ranked, terms)
        matched = worded
        if notes:
            noted = set(self.store.search_note_kol_ids(" ".join(terms)))
            matched = self._with_noted(ranked, worded, terms, noted)
            if not noted and len(self._unnoted) < 64:
                self._unnoted.append(key)
        if len(self._seen) >= 64:
            self._seen.pop(next(iter(self._seen)))
        self._seen[key] = matched
        return matched

    def _word_matches(self, ranked: list[KolRow], terms: list[str]) -> list[KolRow]:
        """The rows whose own words match, narrowed from the last text's when the new
        one extends it (a longer prefix of each word, or a word more: a subset of what
        matched before). Apart from the notes, so a third letter, the first to search
        notes, still narrows what two letters matched instead of all 50,000 rows."""
        candidates = ranked
        last = self._last_text
        if last is not None and last[0] is ranked and _extends(terms, last[1]):
            candidates = last[2]
        worded = _matching(candidates, terms, set())
        self._last_text = (ranked, terms, worded)
        return worded

    def _with_noted(
        self, ranked: list[KolRow], worded: list[KolRow], terms: list[str], noted: set[str]
    ) -> list[KolRow]:
        """``worded`` with the rows whose notes matched, in ranking order (as ``_matching``
        over the whole ranking keeps them); rows are in rank order, ranks increasing."""
        if not noted:
            return worded
        if self._by_id[0] is not ranked:
            self._by_id = (ranked, {r.kol_id: r for r in ranked})
        by_id = self._by_id[1]
        extra = [
            row
            for row in (by_id.get(kol_id) for kol_id in noted)
            if row is not None and not _matches(row.words, terms)
        ]
        return sorted([*worded, *extra], key=_rank) if extra else worded

    def load(self, query: ListQuery, now: datetime | None = None) -> ListResult:
        now = now or datetime.now(UTC)
        rows = ranked = self.ranked(now)
        terms = _terms(query.text)
        if terms:
            with self._filter_lock:  # workers of earlier keystrokes may still be running
                rows = self._text_filter(ranked, terms)
        return self._result(ranked, rows, query, now.date())

    def answer_now(self, query: ListQuery, now: datetime | None = None) -> ListResult | None:
        """``load``'s answer when memory alone gives it, for a keystroke to show at once:
        None when it would read the store (the ranking is not ready, or notes must be
        searched), sort (another order than the ranking's), weigh each row's dates (due in
        7 days: about 50 ms over 50,000 KOLs), or wait (another keystroke's worker is
        filtering)."""
        now = now or datetime.now(UTC)
        ranked = self._ranked
        if ranked is None or self._ranked_day != now.date():
            return None
        if query.sort != "rank" or query.descending or query.due_this_week:
            return None
        rows: list[KolRow] | None = ranked
        terms = _terms(query.text)
        if terms:
            if not self._filter_lock.acquire(blocking=False):
                return None
            try:
                rows = self._text_filter(ranked, terms, search=False)
            finally:
                self._filter_lock.release()
        if rows is None:
            return None
        return self._result(ranked, rows, query, now.date())

    def _result(
        self, ranked: list[KolRow], rows: list[KolRow], query: ListQuery, today: date
    ) -> ListResult:
        """The text's rows with the other filters and the order applied."""
        territories, areas = self._choices
        if query.with_(text="", sort="rank", descending=False) != ListQuery():
            rows = [r for r in rows if _passes(r, query, today)]
        if query.sort != "rank" or query.descending:
            rows = _sorted(rows, query)  # the ranking is in rank order already
        return ListResult(rows=rows, total=len(ranked), territories=territories, areas=areas)


@functools.lru_cache(maxsize=4096)
def _areas(raw: str | None) -> tuple[str, ...]:
    """A KOL's therapeutic areas: few distinct lists, each decoded once."""
    return tuple(json.loads(raw or "[]"))


def _words(row: dict[str, Any]) -> str:
    """The words a filter matches by prefix: name, institution, specialty, tags."""
    text = " ".join(
        [
            row["name"] or "",
            row["institution"] or "",
            row["specialty"] or "",
            " ".join(json.loads(row["tags"] or "[]")),
            row["profile_note"] or "",
        ]
    )
    return " " + " ".join(sorted(set(_WORD.findall(_fold(text)))))


# A run of letters and digits: what ``fts_terms`` keeps (``[^\W_]`` is ``str.isalnum``),
# found in C instead of a character at a time (ranking 50,000 KOLs spent most of its time
# splitting their words).
_WORD = re.compile(r"[^\W_]+")


def _fold(text: str) -> str:
    """Lowercase without accents, as the full-text index compares words."""
    if text.isascii():
        return text.lower()  # ASCII: NFKD leaves it as it is
    # lower, not casefold: the index (unicode61) keeps ß as ß, and casefold made it "ss",
    # so a note's "Großhadern" was found by no spelling (QA).
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _matches(words: str, terms: list[str]) -> bool:
    """Every typed term starts some word (as the full-text index's prefix query does)."""
    return all(f" {t}" in words for t in terms)


def _matching(rows: list[KolRow], terms: list[str], noted: set[str]) -> list[KolRow]:
    """The rows, in order, whose notes matched (``noted``) or whose words ``_matches``.
    Without notes, one term at a time over what the last one kept: a substring test per
    row in a comprehension, not a generator per row (a first letter at 50,000 KOLs)."""
    if noted:
        return [r for r in rows if r.kol_id in noted or _matches(r.words, terms)]
    for term in terms:
        needle = f" {term}"
        rows = [r for r in rows if needle in r.words]
    return rows


def _extends(terms: Sequence[str], old: Sequence[str]) -> bool:
    """Every row (or note) ``terms`` match, ``old`` matches too: each old term is the
    start of the new term in its place (a longer prefix of the same word), and words
    typed after them only narrow further."""
    return len(terms) >= len(old) and all(
        new.startswith(was) for new, was in zip(terms, old, strict=False)
    )


def _rank(row: KolRow) -> int:
    return row.rank


def _passes(row: KolRow, q: ListQuery, today: date) -> bool:
    if q.segment is not None and row.segment is not q.segment:
        return False
    if q.influence is not None and row.influence is not q.influence:
        return False
    if q.territory and row.territory != q.territory:
        return False
    if q.therapeutic_area and q.therapeutic_area not in row.therapeutic_areas:
        return False
    if q.due_this_week:
        never_met = row.next_due is None and row.last_contact is None
        due_soon = never_met or (
            row.next_due is not None and row.next_due <= today + timedelta(days=7)
        )
        if not (due_soon or row.ae_hours_left is not None):
            return False
    return True


_INFLUENCE_ORDER = {i: n for n, i in enumerate(Influence)}
_STANCE_ORDER = {s: n for n, s in enumerate(Stance)}
_SEGMENT_ORDER = {s: n for n, s in enumerate(Segment)}


def _sorted(rows: Sequence[KolRow], q: ListQuery) -> list[KolRow]:
    from msl_tui.services.kols import family_name_key  # with the models: not for launch

    key = q.sort if q.sort in SORT_KEYS else "rank"
    funcs: dict[str, Any] = {
        "rank": lambda r: r.rank,
        "name": lambda r: family_name_key(r.name),
        "institution": lambda r: r.institution.lower(),
        "influence": lambda r: (_INFLUENCE_ORDER[r.influence], r.rank),
        "stance": lambda r: (_STANCE_ORDER[r.stance], r.rank),
        "segment": lambda r: (_SEGMENT_ORDER[r.segment], r.rank),
        "last": lambda r: r.last_contact or date.min,
        "due": lambda r: r.next_due or date.min,
        "followups": lambda r: (-r.open_followups, r.rank),
    }
    return sorted(rows, key=funcs[key], reverse=q.descending)
