"""A filter typed a key at a time answers exactly what the whole text answers at once.

The list narrows the last text's rows when the new text extends it, and merges the KOLs
whose notes match; after every key the rows (and their order) must be those a fresh
service computes from the whole ranking for that text."""

from __future__ import annotations

import pytest

from msl_tui.services.kol_list import KolListService, ListQuery, _matches
from msl_tui.store import Store
from tests.app_helpers import FIXED_NOW, fixed_store


@pytest.fixture(scope="module")
def store() -> Store:
    return fixed_store(kols=80, years=0.5)


def _keys(typed: str) -> list[str]:
    """Each text the field holds as ``typed`` is keyed in ("<" erases a letter)."""
    texts, text = [], ""
    for key in typed:
        text = text[:-1] if key == "<" else text + key
        texts.append(text)
    return texts


TYPED = [
    "trial data",  # notes from the third letter on, then a second word
    "phase iii<<<<<<<<<tri",  # typed, erased to nothing, typed again
    "st<<sto",
    "ma tri<<<<<<pha",
    "Zoë Ång",
    "dr  a b c",
    "bio<o<<iol",
    "outc pat reg",
]


@pytest.mark.parametrize("typed", TYPED)
@pytest.mark.parametrize("sort", ["rank", "name"])
def test_each_key_answers_what_the_whole_text_answers(store: Store, typed: str, sort: str) -> None:
    typing = KolListService(store)
    for text in _keys(typed):
        query = ListQuery(text=text, sort=sort)
        answer = typing.load(query, FIXED_NOW)
        fresh = KolListService(store).load(query, FIXED_NOW)
        assert [r.kol_id for r in answer.rows] == [r.kol_id for r in fresh.rows], text
        assert answer.total == fresh.total


def test_rows_found_by_their_notes_alone_keep_their_place(store: Store) -> None:
    """Biologics (a KOL's own words) and biomarkers (notes): one list, in rank order."""
    service = KolListService(store)
    for text in _keys("biol"):
        rows = service.load(ListQuery(text=text), FIXED_NOW).rows
    by_notes = [r for r in rows if not _matches(r.words, ["biol"])]
    assert by_notes and len(by_notes) < len(rows)
    assert rows[0] in by_notes  # merged in among the others, not after them
    assert [r.rank for r in rows] == sorted(r.rank for r in rows)
