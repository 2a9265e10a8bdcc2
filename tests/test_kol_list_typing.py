"""A filter typed a key at a time answers exactly what the whole text answers at once.

The list narrows the last text's rows when the new text extends it, merges the KOLs whose
notes match, and answers from memory alone when it can (``answer_now``, on the keystroke
itself); after every key the rows (and their order) must be those a fresh service
computes from the whole ranking for that text."""

from __future__ import annotations

import pytest

from msl_tui.models import Segment
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
    typing.ranked(FIXED_NOW)
    for text in _keys(typed):
        query = ListQuery(text=text, sort=sort)
        # As the list asks: from memory at once if it can, else in a worker.
        answer = typing.answer_now(query, FIXED_NOW) or typing.load(query, FIXED_NOW)
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


def test_memory_answers_unless_the_notes_or_another_order_are_needed(store: Store) -> None:
    service = KolListService(store)
    assert service.answer_now(ListQuery(text="ab"), FIXED_NOW) is None  # not ranked yet
    service.ranked(FIXED_NOW)
    for text in ("", "o", "ou"):  # under three letters: the notes are not searched
        assert service.answer_now(ListQuery(text=text), FIXED_NOW) is not None
    assert service.answer_now(ListQuery(text="out"), FIXED_NOW) is None  # notes: a worker's
    assert service.answer_now(ListQuery(text="ou", sort="name"), FIXED_NOW) is None
    assert service.answer_now(ListQuery(text="ou", due_this_week=True), FIXED_NOW) is None
    segment = service.answer_now(ListQuery(text="ou", segment=Segment.MONITOR), FIXED_NOW)
    fresh = KolListService(store).load(ListQuery(text="ou", segment=Segment.MONITOR), FIXED_NOW)
    assert segment is not None and segment.rows == fresh.rows
    service.load(ListQuery(text="out"), FIXED_NOW)
    assert service.answer_now(ListQuery(text="out"), FIXED_NOW) is not None  # seen
    assert service.answer_now(ListQuery(text="outc"), FIXED_NOW) is None  # notes may match
    service.load(ListQuery(text="qqz"), FIXED_NOW)  # no note holds it
    for text in ("qqzx", "qqzx b", "qqzxy bc"):  # nor any text that extends it
        assert service.answer_now(ListQuery(text=text), FIXED_NOW) is not None
    assert service.answer_now(ListQuery(text="qqa"), FIXED_NOW) is None
