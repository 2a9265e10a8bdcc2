"""The kept KOL situation: per live KOL, the facts ranking needs, in table ``kol_situation``.

Ranking 50,000 KOLs from a million interactions at every launch took seconds; these facts
change only when a record of that KOL is written, so they are kept, refreshed for the KOLs a
transaction touched just before it commits (``Store.transaction``), and read as they are.

Only facts that do not depend on the clock are stored (last contact, the open follow-ups'
due dates, the oldest unreported AE's day zero, the current plan, open objectives). The
score is a cache on top: ``score`` for ``score_day`` under the weights named in meta
``situation_weights``; a touched KOL's score is cleared, and the service recomputes what is
stale (see services/kol_list.py).

An objective counts the interactions of its own KOL only, so a write touching one KOL can
never change another's situation.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from msl_tui.store.store import Store

COLUMNS = (
    "kol_id",
    "name",
    "last_contact",
    "open_followups",
    "followup_dues",
    "ae_pending_since",
    "plan_id",
    "cadence_days",
    "lifecycle_phase",
    "open_objectives",
)
CHUNK = 500
BULK_ROWS = 200  # from this many rows, a server takes them through COPY (as store.py)


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _on_server(conn: Any) -> bool:
    """``conn`` is a ``PgDatabase``. Its module is looked up, not imported: a store file
    never loads it, and a server store has loaded it to open."""
    pg = sys.modules.get("msl_tui.store.pg")
    return pg is not None and isinstance(conn, pg.PgDatabase)


def _in(conn: Any, column: str, ids: Sequence[str]) -> Iterator[tuple[str, list[Any]]]:
    """``column IN (...)`` over ``ids``: on SQLite in slices under its parameter limit; on
    PostgreSQL (``conn`` is a ``PgDatabase``) one array parameter, one round trip."""
    if _on_server(conn):
        if ids:
            yield f"{column} = any(?)", [list(ids)]
        return
    for part in _chunks(ids):
        yield f"{column} in ({', '.join('?' for _ in part)})", list(part)


def compute(conn: Any, ids: Sequence[str] | None) -> list[dict[str, Any]]:
    """The situation of these KOLs (every live KOL when ``ids`` is None), from the record
    tables. Deleted or missing KOLs have none."""
    if ids is None:
        return _compute(conn, "", [])
    rows: list[dict[str, Any]] = []
    for clause, params in _in(conn, "kol_id", list(ids)):
        rows += _compute(conn, f" and {clause}", params)
    return rows


def _compute(conn: Any, only: str, params: list[str]) -> list[dict[str, Any]]:
    by_id = {
        kol_id: {
            "kol_id": kol_id,
            "name": name,
            "last_contact": None,
            "open_followups": 0,
            "followup_dues": [],
            "ae_pending_since": None,
            "plan_id": None,
            "cadence_days": None,
            "lifecycle_phase": None,
            "open_objectives": 0,
        }
        for kol_id, name in conn.execute(
            f"select id, name from kols where deleted = 0{only.replace('kol_id', 'id')}", params
        )
    }
    # Each KOL's latest visit from the end of its (kol_id, occurred_at) index: one row read
    # per KOL, where max() over the live visits read every visit row (for ``deleted``):
    # 1,000 KOLs of 1,000,000 visits took 25 s that way. The same value: the first live
    # visit from the end of the index has the largest time (NULL times left out, as max()
    # leaves them: PostgreSQL sorts them first when descending).
    for kol_id, last in conn.execute(
        "select k.id, (select i.occurred_at from interactions i "
        "where i.kol_id = k.id and i.deleted = 0 and i.occurred_at is not null "
        "order by i.occurred_at desc limit 1) "
        f"from kols k where k.deleted = 0{only.replace('kol_id', 'k.id')}",
        params,
    ):
        if kol_id in by_id:
            by_id[kol_id]["last_contact"] = last
    for kol_id, due in conn.execute(
        f"select kol_id, due from followups where done = 0 and deleted = 0{only}", params
    ):
        if kol_id in by_id:
            situation = by_id[kol_id]
            situation["open_followups"] += 1
            if due is not None:
                situation["followup_dues"].append(due)
    # Through the index of pending AEs (few rows): left to itself, SQLite's planner walks
    # the (kol_id, occurred_at) index for the grouping and reads every visit (29 s at
    # 1,000,000 visits). PostgreSQL's planner has statistics and no such clause.
    pending = "" if _on_server(conn) else " indexed by idx_interactions_ae_pending"
    for kol_id, since in conn.execute(
        f"select kol_id, min(ae_pending_since) from interactions{pending} "
        f"where ae_pending_since is not null and deleted = 0{only} group by kol_id",
        params,
    ):
        if kol_id in by_id:
            by_id[kol_id]["ae_pending_since"] = since
    objectives: dict[str, list[dict[str, Any]]] = {}
    # The current plan: the latest-starting one that is not closed (the last one read).
    for plan_id, kol_id, cadence, phase, raw in conn.execute(
        "select id, kol_id, cadence_days, lifecycle_phase, objectives from plans "
        f"where deleted = 0 and status != 'closed'{only} order by period_start, id",
        params,
    ):
        if kol_id in by_id:
            by_id[kol_id].update(plan_id=plan_id, cadence_days=cadence, lifecycle_phase=phase)
            objectives[kol_id] = json.loads(raw) if raw else []
    counted = [
        o["id"]
        for kol_objectives in objectives.values()
        for o in kol_objectives
        if o.get("measure") == "interactions" and not o.get("met_on")
    ]
    contacts: dict[tuple[str, str], int] = {}
    for clause, part in _in(conn, "objective_id", counted):
        for objective_id, kol_id, n in conn.execute(
            f"select objective_id, kol_id, count(*) from interactions where deleted = 0 "
            f"and {clause} group by objective_id, kol_id",
            part,
        ):
            contacts[(objective_id, kol_id)] = int(n)
    for kol_id, kol_objectives in objectives.items():
        by_id[kol_id]["open_objectives"] = sum(
            1
            for o in kol_objectives
            if not o.get("met_on")
            and not (
                o.get("measure") == "interactions"
                and contacts.get((o["id"], kol_id), 0) >= int(o.get("target", 1))
            )
        )
    for situation in by_id.values():
        situation["followup_dues"] = sorted(situation["followup_dues"])
    return list(by_id.values())


def _row(situation: dict[str, Any]) -> list[Any]:
    return [json.dumps(situation[c]) if c == "followup_dues" else situation[c] for c in COLUMNS]


def refresh(conn: Any, ids: Iterable[str] | None) -> None:
    """Recompute the kept situation of these KOLs (all when None); their scores go stale.
    The caller holds the transaction."""
    wanted = None if ids is None else sorted(set(ids))
    if wanted == []:
        return
    situations = compute(conn, wanted)
    if wanted is None:
        conn.execute("delete from kol_situation")
    else:
        for clause, part in _in(conn, "kol_id", wanted):
            conn.execute(f"delete from kol_situation where {clause}", part)
    # Whoever ranked from an older snapshot must not save those scores (save_scores).
    conn.execute(
        "insert into meta(key, value) values ('situation_rev', '1') on conflict(key) "
        "do update set value = cast(cast(meta.value as integer) + 1 as text)"
    )
    rows = [_row(s) for s in situations]
    if _on_server(conn) and len(rows) >= BULK_ROWS:
        conn.insert_rows("kol_situation", COLUMNS, rows)  # a server: COPY, not row by row
        return
    conn.executemany(
        f"insert into kol_situation ({', '.join(COLUMNS)}) "
        f"values ({', '.join('?' for _ in COLUMNS)})",
        rows,
    )


def kept(store: Store) -> list[dict[str, Any]]:
    """Every kept situation as stored (the property tests compare it with ``compute``)."""
    with store._lock:
        cursor = store.db.conn.execute(
            f"select {', '.join(COLUMNS)} from kol_situation order by kol_id"
        )
        return [_decode(dict(zip(COLUMNS, r, strict=True))) for r in cursor]


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row["followup_dues"] = json.loads(row["followup_dues"] or "[]")
    return row


# -- reading for the list -----------------------------------------------------------------

LIST_COLUMNS = (
    *(f"s.{c}" for c in COLUMNS),
    "k.institution",
    "k.specialty",
    "k.influence",
    "k.stance",
    "k.stage",
    "k.territory",
    "k.therapeutic_areas",
    "k.tags",
    "k.profile_note",
    "s.score",
    "s.score_day",
)
_NAMES = tuple(c.split(".")[1] for c in LIST_COLUMNS)
_SELECT = f"select {', '.join(LIST_COLUMNS)} from kol_situation s join kols k on k.id = s.kol_id"


def _list_rows(store: Store, where: str = "", params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    with store._lock:
        return _rows_from(store.db.conn, where, params)


def _rows_from(conn: Any, where: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    cursor = conn.execute(f"{_SELECT} {where}", list(params))
    return [_decode(dict(zip(_NAMES, r, strict=True))) for r in cursor]


def revision(store: Store) -> str:
    return store.get_meta("situation_rev") or "0"


def all_rows(store: Store) -> tuple[list[dict[str, Any]], str]:
    """Every live KOL's situation and list fields, with the revision they were read at."""
    with store._lock, store.transaction(write=False):
        return _list_rows(store), revision(store)


FirstRows = tuple[list[dict[str, Any]], list[dict[str, Any]] | None, int]


def first_rows(
    store: Store, day: str, weights_key: str, limit: int, *, max_stale: int = 2000
) -> FirstRows:
    """What the first page needs: the best ``limit`` rows by the score kept for ``day``
    under these weights, plus every row whose kept score cannot be trusted for ``day``
    (touched since, another day, an AE pending: its hours left move with the clock), and
    the live KOL count. Too many untrusted rows (a new day, new weights, a big import):
    the second item is None and the first holds the best ``limit`` by whatever score is
    kept, a first guess until the whole list is ranked again."""
    with store._lock, store.transaction(write=False):
        same_weights = store.get_meta("situation_weights") == weights_key
        return _first_rows(store.db.conn, same_weights, day, limit, max_stale)


class FirstPageReader:
    """``first_rows`` through a connection of its own (read-only, sqlite3's alone), before
    ``Store`` and the models it builds records with are loaded: at launch the first page is
    read with this while the store's whole opening waits until the page is on screen."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._ahead: tuple[tuple[str, str, int], threading.Thread, list[FirstRows]] | None = None

    def read_ahead(self, day: str, weights_key: str, limit: int) -> None:
        """Start reading ``first_rows(day, weights_key, limit)`` on a thread of its own:
        SQLite reads without the GIL, so the page is read while the app's modules load."""
        answer: list[FirstRows] = []

        def read() -> None:
            with contextlib.suppress(sqlite3.Error):  # asked again, the error is raised then
                answer.append(self._read(day, weights_key, limit, 2000))

        thread = threading.Thread(target=read, name="first-page", daemon=True)
        self._ahead = ((day, weights_key, limit), thread, answer)
        thread.start()

    def first_rows(
        self, day: str, weights_key: str, limit: int, *, max_stale: int = 2000
    ) -> FirstRows:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead[1].join()
            if ahead[0] == (day, weights_key, limit) and ahead[2]:
                return ahead[2][0]
        return self._read(day, weights_key, limit, max_stale)

    def _read(self, day: str, weights_key: str, limit: int, max_stale: int) -> FirstRows:
        with self._lock:
            self._conn.execute("begin")  # one snapshot for the counts and the rows
            try:
                kept = self._conn.execute(
                    "select value from meta where key = 'situation_weights'"
                ).fetchone()
                same_weights = kept is not None and kept[0] == weights_key
                return _first_rows(self._conn, same_weights, day, limit, max_stale)
            finally:
                self._conn.execute("commit")

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("select value from meta where key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _first_rows(conn: Any, same_weights: bool, day: str, limit: int, max_stale: int) -> FirstRows:
    total = conn.execute("select count(*) from kol_situation").fetchone()[0]
    if same_weights:
        stale_count = conn.execute(
            "select count(*) from kol_situation "
            "where score is null or score_day != ? or ae_pending_since is not null",
            [day],
        ).fetchone()[0]
        if stale_count <= max_stale:
            top = _rows_from(
                conn,
                "where s.score is not null and s.score_day = ? "
                "and s.ae_pending_since is null "
                "order by s.score desc, s.name, s.kol_id limit ?",
                [day, limit],
            )
            stale = _rows_from(
                conn,
                "where s.score is null or s.score_day != ? or s.ae_pending_since is not null",
                [day],
            )
            return top, stale, int(total)
    guess = _rows_from(
        conn,
        "where s.score is not null order by s.score desc, s.name, s.kol_id limit ?",
        [limit],
    )
    return guess, None, int(total)


def save_scores(
    store: Store, day: str, weights_key: str, rev: str, scores: Iterable[tuple[str, float]]
) -> bool:
    """Keep a whole ranking's scores for ``day``, unless a write changed any situation
    since ``rev`` was read (those scores would be wrong). True if kept.
    A cache: on a store busy with another writer (an import) it is not kept, at once.
    Waiting the busy timeout (5 s) for the lock held the whole ranking back, and the keys
    typed at launch with it (QA)."""
    with store.transaction(wait=False):
        if revision(store) != rev:
            return False
        store.db.conn.executemany(
            "update kol_situation set score = ?, score_day = ? where kol_id = ?",
            [(score, day, kol_id) for kol_id, score in scores],
        )
        store.set_meta("situation_weights", weights_key)
    return True
