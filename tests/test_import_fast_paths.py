"""The import's shortcuts give exactly what the long way gives, or step aside."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from msl_tui.models import Kol
from msl_tui.models.base import FUTURE_LIMIT_DAYS
from msl_tui.store.codec import encode_json, encode_stamps, uniform_stamps
from msl_tui.sync.bundle import BundleError, strict_loads
from msl_tui.sync.importer import _same_text

names = st.sampled_from(["notes", "tags", "deleted", "a.b", "é", 'qu"ote', ""])
stamps = st.sampled_from(
    ["1795742508711-0088-dev-a", "1795742508712-0000-dev-b", 'bad"stamp', "ünï", ""]
)
values = st.one_of(stamps, st.lists(stamps, max_size=3))


@given(st.dictionaries(names, values, max_size=6), st.booleans())
def test_field_stamps_text_is_the_encoders(stamps_: dict[str, Any], same: bool) -> None:
    if same and stamps_:
        first = next(iter(stamps_.values()))
        stamps_ = dict.fromkeys(stamps_, first)
    assert encode_stamps(stamps_) == encode_json(stamps_)
    assert encode_stamps(stamps_) == encode_json(stamps_)  # the cached parts too


@given(st.lists(names, max_size=6, unique=True), stamps)
def test_one_stamp_for_every_field_is_the_encoders_text(keys: list[str], stamp: str) -> None:
    fields = dict.fromkeys(keys, 0)
    assert uniform_stamps(fields, stamp) == encode_json(dict.fromkeys(keys, stamp))
    assert uniform_stamps(fields, stamp) == encode_json(dict.fromkeys(keys, stamp))


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, -0.0, 1.0, 2.5]),
    st.text(max_size=3),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=2), st.dictionaries(st.text(max_size=2), inner, max_size=2)
    ),
    max_leaves=4,
)


@given(
    st.dictionaries(st.sampled_from("abc"), json_values, max_size=3),
    st.dictionaries(st.sampled_from("abc"), json_values, max_size=3),
)
def test_same_text_only_when_the_texts_are_the_same(
    raw: dict[str, Any], clean: dict[str, Any]
) -> None:
    if _same_text(raw, clean):
        assert encode_json(raw) == encode_json(clean)
    if _same_text(raw, raw):
        assert encode_json(raw) == encode_json(dict(raw))


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ({"a": 1}, {"a": True}),
        ({"a": 1}, {"a": 1.0}),
        ({"a": 0.0}, {"a": -0.0}),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
        ({"a": {"x": 1, "y": 2}}, {"a": {"y": 2, "x": 1}}),
    ],
)
def test_same_text_refuses_what_equality_hides(raw: dict[str, Any], clean: dict[str, Any]) -> None:
    assert raw == clean
    assert not _same_text(raw, clean)


def test_a_repeated_key_is_still_named() -> None:
    with pytest.raises(BundleError, match="duplicate JSON key 'b'"):
        strict_loads(b'{"a":{"b":1,"c":2,"b":3}}\n')
    assert strict_loads(b'{"a":{"b":1,"c":2}}\n') == {"a": {"b": 1, "c": 2}}


def test_ids_in_other_spellings_are_still_read_and_written_one_way() -> None:
    canonical = str(uuid.uuid4())
    for spelling in (canonical.upper(), "{" + canonical + "}", canonical.replace("-", "")):
        assert Kol(id=spelling, name="Dr A").id == canonical
    assert Kol(id=canonical, name="Dr A").id == canonical
    with pytest.raises(ValidationError, match="is not a UUID"):
        Kol(id=canonical[:-1] + "g", name="Dr A")


def test_the_future_bound_of_an_instant_is_unchanged() -> None:
    now = datetime.now(UTC)
    limit = timedelta(days=FUTURE_LIMIT_DAYS)
    assert Kol(name="Dr A", created_at=now + limit - timedelta(minutes=5)).created_at
    with pytest.raises(ValidationError, match=f"more than {FUTURE_LIMIT_DAYS} days ahead"):
        Kol(name="Dr A", created_at=now + limit + timedelta(minutes=5))
    with pytest.raises(ValidationError, match="is before 1970"):
        Kol(name="Dr A", created_at=datetime(1969, 12, 31, tzinfo=UTC))
