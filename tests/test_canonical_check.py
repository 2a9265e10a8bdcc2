"""The quick check of canonical records (msl_tui.models.canonical) gives the model's verdict.

An import checks a whole-record patch first in pydantic-core alone and falls back to the
model when that refuses. Over hostile values in every field, the change it makes (or the
words it refuses with) must be exactly what the model alone gives.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from msl_tui.models import (
    Activity,
    AdverseEvent,
    AEFollowUp,
    Amendment,
    EngagementPlan,
    Feedback,
    FollowUp,
    Insight,
    InsightCategory,
    Interaction,
    InteractionStatus,
    Kol,
    MedInfoRequest,
    Objective,
    Sentiment,
    TransferOfValue,
    canonical,
)
from msl_tui.store.codec import ENTITIES, dump_fields
from msl_tui.sync import importer
from msl_tui.sync.bundle import BundleError
from msl_tui.sync.wire import ChangeLine

KOL = "0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8"
NOW = datetime.now(UTC).replace(microsecond=0)
SAMPLES = {
    "kol": Kol(name="Dr Ada Quick", tags=["renal"]),
    "plan": EngagementPlan(
        kol_id=KOL, period_start=date(2026, 1, 1), period_end=date(2026, 12, 31)
    ),
    "interaction": Interaction(kol_id=KOL, occurred_at=NOW, notes="Dosing\nand trials"),
    "followup": FollowUp(kol_id=KOL, action="Send the paper", due=date(2026, 3, 1)),
}

# Characters the text grammars treat specially, and text around them.
ODD = [
    "\x00", "\t", "\n", "\r", "\r\n", "\x1b", "\x7f", "\x85", "\x9f", "\xa0", "\u1680",
    "\u200b", "\u200e", "\u2028", "\u2029", "\u202e", "\u2060", "\u2066", "\u3000", "\ufeff",
    "\ud800", "\udfff", "\U000e0001", "\U0001f600", "é", " ", "",
]  # fmt: skip
texts = st.one_of(
    st.lists(st.sampled_from([*ODD, "a", "Zz", "0"]), max_size=6).map("".join),
    st.text(max_size=8),  # any character but lone surrogates: mostly ones text may hold
    st.text(st.sampled_from(["a", " ", "\t", "\n", "\u00a0", "\u3000", "é"]), max_size=5),
)
instants = st.one_of(
    st.datetimes(
        min_value=datetime(1960, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
    st.sampled_from(
        [
            "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2024-02-29T12:00:00Z",
            "2023-02-29T12:00:00Z", "2026-04-31T00:00:00Z", "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z", "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00",
            "2026-01-01 00:00:00Z", "2026-01-01T00:00:00.5Z", "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:60Z", "2026-01-01t00:00:00z", "2026-01-01T00:00:00Z\n",
            "20260101T000000Z", "2026-W01-1T00:00:00Z",
            (NOW + timedelta(days=3 * 366 - 1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            (NOW + timedelta(days=3 * 366 + 1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ]
    ),
)  # fmt: skip
days = st.one_of(
    st.dates(min_value=date(1960, 1, 1), max_value=date(2040, 1, 1)).map(date.isoformat),
    st.sampled_from(
        [
            "1970-01-01", "1969-12-31", "2024-02-29", "2023-02-29", "2026-06-31", "20260101",
            "2026-01-01T00:00:00Z", "2026-1-1", "0001-01-01", "9999-12-31", "2026-01-01\n",
            (date.today() + timedelta(days=3 * 366)).isoformat(),
            (date.today() + timedelta(days=3 * 366 + 1)).isoformat(),
        ]
    ),
)  # fmt: skip
uuids = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: "{" + str(u) + "}"),
    st.uuids().map(lambda u: u.hex),
    st.just(KOL + "\n"),
)
amounts = st.sampled_from(
    ["25.00", "25.5", "25", "0.00", "-0.00", "1E+2", "1000000.00", "1000000.01", "01.00", "x"]
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 2000), st.floats(allow_nan=False), texts,
    st.sampled_from(["30", "30.0", "in person", "In person", "draft", "submitted", "local"]),
)  # fmt: skip
values = st.one_of(
    scalars,
    texts,
    instants,
    days,
    uuids,
    amounts,
    st.lists(st.one_of(scalars, texts), max_size=2),
    st.dictionaries(st.sampled_from(["sentiment", "about", "x"]), scalars, max_size=2),
    st.sampled_from([[], {}, [{}], None]),
)


def _line(entity: str, patch: dict[str, Any], record_id: str) -> ChangeLine:
    return ChangeLine.model_construct(
        device="lap",
        seq=1,
        hlc="1795751352610-0000-lap",
        id=record_id,
        patch=patch,
        base={},
        author="ada",
    )


def _verdict(entity: str, line: ChangeLine) -> tuple[Any, ...]:
    try:
        change = importer.checked_change(ENTITIES[entity], line)
    except BundleError as exc:
        return ("refused", str(exc))
    record = None  # a patch of some fields (one was dropped) makes no record here
    if change.record is not None:
        record = change.record.model_dump()
        record.pop("updated_at")  # now, when each was made
    return ("accepted", change.patch, list(change.patch), change.patch_json, record)


def _both(entity: str, line: ChangeLine, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The verdict with the quick check, and the model's alone. A nested record sent without
    its id gets a new random one from the model: the same ones on both sides here."""
    with monkeypatch.context() as m:
        ids = iter(range(1000))
        m.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(ids), version=4))
        quick = _verdict(entity, line)
        ids = iter(range(1000))
        m.setattr(importer, "canonical_validator", lambda model: None)
        exact = _verdict(entity, line)
    return quick, exact


@pytest.mark.parametrize("entity", list(SAMPLES))
def test_a_canonical_record_takes_the_quick_path(entity: str) -> None:
    record = SAMPLES[entity]
    patch = dump_fields(record)
    assert canonical.canonical_validator(type(record)) is not None
    assert importer._quick(ENTITIES[entity], patch, record.id) is not None


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# A nested record of defaults only: the model gives it a new random id.
@example(entity="plan", spoils=[(6, [{}])], record_id="c0ffee00-0000-4000-8000-000000000001")
@given(
    entity=st.sampled_from(list(SAMPLES)),
    spoils=st.lists(st.tuples(st.integers(0, 40), values), min_size=1, max_size=3),
    record_id=st.one_of(st.just("c0ffee00-0000-4000-8000-000000000001"), uuids),
)
def test_quick_and_model_give_the_same_verdict(
    entity: str,
    spoils: list[tuple[int, Any]],
    record_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patch = dump_fields(SAMPLES[entity])
    names = list(patch)
    for index, value in spoils:
        patch[names[index % len(names)]] = value
    quick, exact = _both(entity, _line(entity, patch, record_id), monkeypatch)
    assert quick == exact


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entity=st.sampled_from(list(SAMPLES)), data=st.data())
def test_same_verdict_on_text_instants_and_days_by_field(
    entity: str, data: st.DataObject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each field spoiled with values of its own kind (so the checks past the type run)."""
    patch = dump_fields(SAMPLES[entity])
    name = data.draw(st.sampled_from(list(patch)))
    kind = type(SAMPLES[entity]).model_fields[name].annotation
    text = str(kind)
    if "datetime" in text:
        value = data.draw(instants)
    elif "date" in text:
        value = data.draw(days)
    elif name.endswith("_id") or name == "id":
        value = data.draw(uuids)
    else:
        value = data.draw(texts)
    patch[name] = value
    quick, exact = _both(entity, _line(entity, patch, SAMPLES[entity].id), monkeypatch)
    assert quick == exact


def test_refusals_keep_the_models_words(monkeypatch: pytest.MonkeyPatch) -> None:
    patch = dump_fields(SAMPLES["kol"])
    patch["name"] = " Dr Ada Quick"
    quick, exact = _both("kol", _line("kol", patch, SAMPLES["kol"].id), monkeypatch)
    assert quick == exact
    assert quick[0] == "refused" and "is not written as msl-tui stores it" in quick[1]


CANONICAL_BUT_ODD = [
    ("kol", "name", "Dr Zoë\u00a0Ng 😀"),
    ("kol", "name", "x" * 200),
    ("kol", "city", ""),
    ("kol", "tags", ["a b", "ü" * 60]),
    ("kol", "strengths", ["trialist", "guideline author"]),
    ("kol", "profile_note", "line one\n\n\tindented\n"),
    ("interaction", "notes", " leading and trailing kept \n"),
    ("interaction", "notes", "x" * 100_000),
    ("interaction", "occurred_at", "1970-01-01T00:00:00Z"),
    ("interaction", "occurred_at", "2024-01-31T23:59:59Z"),
    ("interaction", "duration_min", 0),
    ("interaction", "duration_min", 1440),
    ("interaction", "channel", "phone/video"),
    ("followup", "due", "1970-01-01"),
    ("followup", "due", "2026-12-31"),
    ("followup", "due", None),
    ("plan", "cadence_days", 730),
]


@pytest.mark.parametrize(("entity", "name", "value"), CANONICAL_BUT_ODD)
def test_canonical_values_take_the_quick_path_with_the_models_result(
    entity: str, name: str, value: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch = dump_fields(SAMPLES[entity])
    patch[name] = value
    record_id = SAMPLES[entity].id
    assert importer._quick(ENTITIES[entity], patch, record_id) is not None
    quick, exact = _both(entity, _line(entity, patch, record_id), monkeypatch)
    assert quick == exact
    assert quick[0] == "accepted"


@pytest.mark.parametrize(
    ("entity", "name", "value"),
    [
        ("kol", "name", "x" * 201),
        ("kol", "name", "Dr\u202eAda"),
        ("kol", "name", "Dr Ada\ud800"),
        ("kol", "name", "\u3000Dr Ada"),
        ("kol", "tags", [" renal"]),
        ("kol", "stance", "Supportive"),
        ("interaction", "notes", "a\r\nb"),
        ("interaction", "notes", "x" * 100_001),
        ("interaction", "occurred_at", "1969-12-31T23:59:59Z"),
        ("interaction", "occurred_at", "2024-02-29T00:00:00Z"),  # valid: the model decides
        ("interaction", "occurred_at", "2099-01-01T00:00:00Z"),
        ("interaction", "duration_min", 30.0),
        ("interaction", "duration_min", True),
        ("interaction", "deleted", 0),
        ("interaction", "kol_id", KOL.upper()),
        ("followup", "due", "2024-02-29"),
        ("followup", "due", 0),
        ("plan", "period_end", "2025-12-31"),  # before period_start: the model's own check
    ],
)
def test_values_the_quick_check_leaves_to_the_model(
    entity: str, name: str, value: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch = dump_fields(SAMPLES[entity])
    patch[name] = value
    record_id = SAMPLES[entity].id
    assert importer._quick(ENTITIES[entity], patch, record_id) is None
    quick, exact = _both(entity, _line(entity, patch, record_id), monkeypatch)
    assert quick == exact


@pytest.mark.parametrize("entity", list(SAMPLES))
def test_the_quick_check_alone_refuses_unknown_and_missing_fields(entity: str) -> None:
    """The importer refuses unknown fields before; the quick check must not rely on it."""
    record = SAMPLES[entity]
    quick = canonical.canonical_validator(type(record))
    assert quick is not None
    data = {**dump_fields(record), "id": record.id}
    assert quick.validate(data).model_dump() == {
        **record.model_dump(),
        "updated_at": quick.validate(data).updated_at,
    }
    with pytest.raises(ValueError):
        quick.validate({**data, "nickname": "x"})
    with pytest.raises(ValueError):
        quick.validate({k: v for k, v in data.items() if k != "deleted"})


DAY = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
NESTED = {
    "interaction": Interaction(
        kol_id=KOL,
        occurred_at=DAY,
        notes="Asked about dosing",
        questions_asked=["Renal dosing?"],
        insights=[Insight(category=InsightCategory.DATA_GAP, text="No data in CKD 4")],
        feedback=Feedback(sentiment=Sentiment.POSITIVE, about="the trial"),
        adverse_event=AdverseEvent(
            day_zero=DAY,
            product="Drug X",
            reported_at=DAY + timedelta(hours=2),
            followups=[AEFollowUp(at=DAY + timedelta(days=1), text="Recovered\nfully")],
        ),
        med_info_request=MedInfoRequest(question="Use in children?"),
        transfer_of_value=TransferOfValue(
            nature="Honorarium",
            amount=Decimal("250.50"),
            currency="EUR",
            date=date(2026, 1, 5),
            recipient="Dr Ada Quick",
        ),
        status=InteractionStatus.AMENDED,
        submitted_at=DAY,
        amendments=[Amendment(at=DAY, reason="typo", previous_notes="Asked")],
        tags=["renal"],
    ),
    "plan": EngagementPlan(
        kol_id=KOL,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        objectives=[Objective(description="Share CKD data", due=date(2026, 6, 1))],
        activities=[Activity(description="Visit", done_on=date(2026, 2, 1))],
    ),
}


@pytest.mark.parametrize("entity", list(NESTED))
def test_nested_records_in_canonical_form_take_the_quick_path(
    entity: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = NESTED[entity]
    patch = dump_fields(record)
    assert importer._quick(ENTITIES[entity], patch, record.id) is not None
    quick, exact = _both(entity, _line(entity, patch, record.id), monkeypatch)
    assert quick == exact
    assert quick[0] == "accepted"


def _spoil(patch: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    *where, last = path
    for step in where:
        patch = patch[step]
    if value is _DROP:
        del patch[last]
    elif value is _FLIP:
        patch[last] = dict(reversed(list(patch[last].items())))
    else:
        patch[last] = value


_DROP, _FLIP = object(), object()


@pytest.mark.parametrize(
    ("entity", "path", "value"),
    [
        ("interaction", ("feedback",), _FLIP),  # keys in another order: the model writes its own
        ("interaction", ("feedback", "about"), _DROP),  # an older sender: default filled in
        ("interaction", ("feedback", "mood"), "x"),
        ("interaction", ("insights", 0, "category"), "Data gap"),
        ("interaction", ("transfer_of_value", "amount"), "250.5"),
        ("interaction", ("transfer_of_value", "amount"), 250.5),
        ("interaction", ("transfer_of_value", "amount"), "1000000.01"),
        ("interaction", ("transfer_of_value", "currency"), "eur"),
        ("interaction", ("adverse_event", "reported_at"), "2026-01-04T00:00:00Z"),
        ("interaction", ("adverse_event", "followups", 0, "text"), " "),
        ("interaction", ("med_info_request", "unsolicited"), False),
        ("interaction", ("amendments", 0, "previous_notes"), "a\r\nb"),
        ("plan", ("objectives", 0, "id"), _DROP),  # would get a new random id
        ("plan", ("objectives", 0, "target"), 0),
        ("plan", ("activities", 0, "done_on"), "2026-02-30"),
    ],
)
def test_nested_values_the_quick_check_leaves_to_the_model(
    entity: str, path: tuple[Any, ...], value: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = NESTED[entity]
    patch = dump_fields(record)
    _spoil(patch, path, value)
    assert importer._quick(ENTITIES[entity], patch, record.id) is None
    quick, exact = _both(entity, _line(entity, patch, record.id), monkeypatch)
    assert quick == exact


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaf_paths(v, (*path, k))]
    if isinstance(value, list) and value:
        return [p for i, v in enumerate(value) for p in _leaf_paths(v, (*path, i))]
    return [path]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entity=st.sampled_from(list(NESTED)), data=st.data())
def test_same_verdict_with_nested_values_spoiled(
    entity: str, data: st.DataObject, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = NESTED[entity]
    patch = dump_fields(record)
    for _ in range(data.draw(st.integers(1, 2))):
        path = data.draw(st.sampled_from(_leaf_paths(patch)))
        _spoil(patch, path, data.draw(st.one_of(values, st.just(_DROP))))
    quick, exact = _both(entity, _line(entity, patch, record.id), monkeypatch)
    assert quick == exact
