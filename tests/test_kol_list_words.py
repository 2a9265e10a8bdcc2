"""The words a list filter matches, split the fast way: the same words as the definition
(``fts_terms`` of the folded text), for any text a roster or a store can hold."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from msl_tui.models import Influence, Segment, Stance
from msl_tui.services import kol_list
from msl_tui.store.store import fts_terms


def _folded(text: str) -> str:
    # lower, not casefold: as the notes' index compares words (ß stays ß; QA qafilter)
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _defined(row: dict[str, object]) -> str:
    parts = [row["name"], row["institution"], row["specialty"]]
    text = " ".join([*(str(p or "") for p in parts), " ".join(json.loads(str(row["tags"])))])
    text = f"{text} {row['profile_note'] or ''}"
    return " " + " ".join(sorted(set(fts_terms(_folded(text), limit=None))))


texts = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["Zoë Ångström", "Straße", "李小龙", "İstanbul", "ﬁne", "e\u0301cole", "a_b-c", "Ⅻ ½ ²"]
)


@settings(max_examples=400, deadline=None)
@given(texts, texts, st.none() | texts, st.lists(texts, max_size=3), st.none() | texts)
def test_fast_words_are_the_defined_words(
    name: str, institution: str, specialty: str | None, tags: list[str], note: str | None
) -> None:
    row = {
        "name": name,
        "institution": institution,
        "specialty": specialty,
        "tags": json.dumps(tags),
        "profile_note": note,
    }
    assert kol_list._words(row) == _defined(row)
    assert kol_list._fold(name) == _folded(name)


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, max_size=30), st.lists(st.text("abcdeéü ", max_size=6), max_size=3))
def test_matching_one_term_at_a_time_keeps_the_rows_every_term_matches(
    names: list[str], typed: list[str]
) -> None:
    rows = [replace(_row_with(n), words=kol_list._words(_raw(n))) for n in names]
    terms = fts_terms(kol_list._fold(" ".join(typed)))
    expected = [r for r in rows if kol_list._matches(r.words, terms)]
    assert kol_list._matching(rows, terms, set()) == expected


def _raw(name: str) -> dict[str, object]:
    return {"name": name, "institution": "", "specialty": "", "tags": "[]", "profile_note": ""}


def _row_with(name: str) -> kol_list.KolRow:
    return kol_list.KolRow(
        rank=1,
        kol_id=name,
        name=name,
        institution="",
        specialty="",
        influence=Influence.LOCAL,
        stance=Stance.NEUTRAL,
        segment=Segment.MONITOR,
        stage=None,
        territory="",
        therapeutic_areas=(),
        last_contact=None,
        next_due=None,
        open_followups=0,
        overdue_followups=0,
        ae_hours_left=None,
        score=0.0,
        reasons=(),
    )
