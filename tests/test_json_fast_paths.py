"""The import's JSON done in C gives what the strict Python reader and encoder give, or steps
aside: the same verdict and value for every line, the same stored text for every value."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import uuid
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from msl_tui.models import EngagementPlan, FollowUp, Interaction, Kol
from msl_tui.models.canonical import canonical_validator
from msl_tui.store.codec import ENTITIES, ascii_json, dump_fields, encode_json, json_text
from msl_tui.sync import importer
from msl_tui.sync.bundle import (
    _UNSURE,
    BundleError,
    BundleReader,
    Limits,
    Part,
    quick_loads,
    strict_loads,
    strict_loads_slowly,
)
from msl_tui.sync.wire import ChangeLine

# -- reading one line ---------------------------------------------------------------------


def typed(value: Any) -> Any:
    """``value`` with every type spelled out: 1, 1.0 and True differ, and so do 0.0 and -0.0."""
    if isinstance(value, dict):
        return ("dict", [(k, typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, float):
        return ("float", repr(value), math.copysign(1, value))
    return (type(value).__name__, value)


def verdict(read: Any, raw: bytes) -> Any:
    try:
        return ("value", typed(read(raw)))
    except BundleError as exc:
        return ("refused", str(exc))


def assert_same_verdict(raw: bytes) -> None:
    """The reader with its C path gives what the strict Python reader gives; and the C path
    alone, when it answers, the same value."""
    slow = verdict(strict_loads_slowly, raw)
    assert verdict(strict_loads, raw) == slow
    quick = quick_loads(raw)
    if quick is not _UNSURE:
        assert slow == ("value", typed(quick))


HOSTILE = [
    b'{"a":1}',
    b'{"a":1}\n',
    b'{"n":18446744073709551615}',  # the largest 64-bit number: 20 digits, taken
    b'{"n":18446744073709551616}',  # beyond 64 bits, still 20 digits
    b'{"n":-9223372036854775809}',
    b'{"n":100000000000000000000}',  # 21 digits: refused
    b'{"n":-100000000000000000000}',
    b'{"n":1e999}',
    b'{"n":-1e999}',
    b'{"n":1e308}',
    b'{"n":-0.0}',
    b'{"n":-0}',
    b'{"n":0.00001}',
    b'{"n":1e-05}',
    b'{"n":1E2}',
    b'{"n":1.0}',
    b'{"n":1.50}',
    b'{"n":NaN}',
    b'{"n":Infinity}',
    b'{"n":01}',
    b'{"n":' + b"1" * 50 + b".5}",
    b'{"s":"\\u0000"}',
    b'{"s":"\\u001f\\b\\f\\n\\r\\t\\"\\\\/"}',
    b'{"s":"\\/"}',
    b'{"s":"\\u00e9"}',
    b'{"s":"\\u00E9"}',
    b'{"s":"\xc3\xa9"}',
    b'{"s":"\\ud83d\\ude00"}',
    b'{"s":"\xf0\x9f\x98\x80"}',
    b'{"s":"\\ud800"}',  # a lone surrogate: Python reads it, orjson does not
    b'{"s":"\\udfff\\ud800"}',
    b'{"s":"\xed\xa0\x80"}',  # a surrogate in UTF-8: not UTF-8
    b'{"s":"\x7f"}',
    b'{"s":"\\u007f"}',
    b'{"s":"\x01"}',  # a raw control character
    b'{"a":1,"a":2}',
    b'{"a":1,"a":1}',
    b'{"a":{"b":1,"b":1}}',
    b"\xef\xbb\xbf{}",
    b"{} x",
    b"{}{}",
    b"{}\n\n",
    b" {}",
    b"{}\r\n",
    b"\xa0{}",
    b'{"a" : 1}',
    b'{"a":1,}',
    b"[1,2]",
    b"1",
    b'"x"',
    b"null",
    b"",
    b"\n",
    b'{"s":"\xff"}',
    b'{"s":"\xc3"}',
    b"\xff\xfe{\x00}\x00",
    b"[" * 16 + b"]" * 16,
    b"[" * 17 + b"]" * 17,
    b'{"s":"' + b"[" * 40 + b'"}',  # brackets inside a string are not depth
    b"[" * 5000 + b"]" * 5000,
    b'{"a":[{"b":[{"c":[]}]}]}',
]


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_lines_get_the_strict_readers_verdict(raw: bytes) -> None:
    assert_same_verdict(raw)
    assert_same_verdict(raw + b"\n")


def test_lines_as_msl_tui_and_orjson_write_them_take_the_c_path() -> None:
    value = {"name": 'Dr Zoë "Z" Ó\'Brien \\ 北京 😀', "n": [1, -0.0, 2.5, None, True], "e": {}}
    for raw in (encode_json(value).encode(), orjson.dumps(value)):
        assert quick_loads(raw + b"\n") is not _UNSURE
        assert typed(quick_loads(raw)) == typed(value)


def test_the_depth_limit_is_the_strict_readers() -> None:
    limits = Limits(max_depth=3)
    assert strict_loads(b"[[[1]]]", limits) == [[[1]]]
    with pytest.raises(BundleError, match="nested deeper than 3"):
        strict_loads(b"[[[[1]]]]", limits)


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.sampled_from(["\x00", "\x7f", "\ud800", "é", "😀", "\u2028", '"', "\\"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


def _writings(value: Any) -> list[bytes]:
    out = [
        json.dumps(value, separators=(",", ":")).encode("utf-8", "surrogatepass"),
        json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"),
        json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8", "surrogatepass"
        ),
    ]
    with contextlib.suppress(orjson.JSONEncodeError):  # a lone surrogate, a huge integer
        out.append(orjson.dumps(value))
    return out


@settings(max_examples=400, deadline=None)
@given(json_values, st.data())
def test_written_values_and_their_spoilings_get_the_strict_readers_verdict(
    value: Any, data: st.DataObject
) -> None:
    for raw in _writings(value):
        assert_same_verdict(raw)
        assert_same_verdict(raw + b"\n")
        # One byte changed, inserted or removed somewhere: often still JSON, often not.
        at = data.draw(st.integers(0, len(raw)))
        byte = bytes([data.draw(st.integers(0, 255))])
        for spoiled in (raw[:at] + byte + raw[at + 1 :], raw[:at] + byte + raw[at:]):
            assert_same_verdict(spoiled + b"\n")
        assert_same_verdict(raw[:at] + raw[at + 1 :])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
@example(b'{"a":1,"a":1}')
@example(b"[" * 17 + b"]" * 17)
def test_any_bytes_get_the_strict_readers_verdict(raw: bytes) -> None:
    assert_same_verdict(raw)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(list(b'{}[]",:\\u0123456789.-+eEtrufalsn \n\xc3\xa9')), max_size=24)
)
def test_json_like_bytes_get_the_strict_readers_verdict(raw: list[int]) -> None:
    assert_same_verdict(bytes(raw))


# -- the text the store keeps --------------------------------------------------------------

float_free = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(-(2**64), 2**64),
        st.text(),
        st.characters(min_codepoint=0, max_codepoint=0x10FFFF),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=500, deadline=None)
@given(float_free)
@example({"a": 'Zoë "x" \\ 北京 😀 \x7f \x00 \n \u2028', "b": [2**63, 2**64, -(2**63) - 1]})
def test_the_c_encoder_writes_the_stored_text_of_any_value_without_floats(value: Any) -> None:
    assert json_text(value) == encode_json(value)


def test_ascii_json_leaves_ascii_alone_and_escapes_as_json_does() -> None:
    assert ascii_json(b'{"a":"b"}') == b'{"a":"b"}'
    every = "".join(map(chr, range(0x20, 0x800))) + "\U0001f600\U0010ffff\uffff"
    assert ascii_json(orjson.dumps(every)) == json.dumps(every).encode()


# -- reading a part in blocks ---------------------------------------------------------------


def _zip_with(tmp_path: Path, data: bytes, count: int, limits: Limits) -> BundleReader:
    """A reader over a part holding ``data`` (the manifest's figures as given), built without
    the constructor's checks, which other tests cover."""
    path = tmp_path / f"{uuid.uuid4().hex}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("kols.jsonl", data)
    reader = BundleReader.__new__(BundleReader)
    reader.limits = limits
    reader._handle = path.open("rb")
    reader.zip = zipfile.ZipFile(reader._handle)
    reader.infos = {i.filename: i for i in reader.zip.infolist()}
    return reader


def _line_by_line(data: bytes, part: Part, limits: Limits) -> list[Any]:
    """What a part's lines give read one ``readline`` at a time, with the checks the
    reader makes, in its order: the reference the block reader must match."""
    out: list[Any] = []
    digest = hashlib.sha256()
    size = count = 0
    member = io.BytesIO(data)
    try:
        while True:
            raw = member.readline(limits.max_line + 1)
            if not raw:
                break
            count += 1
            size += len(raw)
            if size > part.size:
                raise BundleError(f"{part.name} is longer than the manifest says")
            digest.update(raw)
            if len(raw) > limits.max_line:
                raise BundleError(f"{part.name} line {count}: longer than {limits.max_line} bytes")
            if not raw.endswith(b"\n"):
                raise BundleError(f"{part.name} line {count}: no line end (truncated?)")
            try:
                out.append((count, typed(strict_loads_slowly(raw, limits))))
            except BundleError as exc:
                raise BundleError(f"{part.name} line {count}: {exc}") from None
        if count != part.count:
            raise BundleError(f"{part.name} has {count} records, the manifest says {part.count}")
        if digest.hexdigest() != part.sha256:
            raise BundleError(f"{part.name} checksum does not match the manifest")
    except BundleError as exc:
        out.append(("refused", str(exc)))
    return out


lines = st.one_of(
    st.sampled_from([b'{"a":1}', b'{"a":[1,2]}', b"{}", b'{"a":1,"a":2}', b"[[[[1]]]]", b"x"]),
    st.integers(0, 30).map(lambda n: b'{"s":"' + b"x" * n + b'"}'),
    st.binary(max_size=12),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(lines, max_size=12),
    st.sampled_from([b"\n", b"", b"\r\n"]),
    st.integers(8, 40),
    st.integers(-3, 3),
    st.integers(-1, 1),
    st.booleans(),
)
def test_a_part_read_in_blocks_gives_what_reading_it_line_by_line_gives(
    tmp_path_factory: pytest.TempPathFactory,
    body: list[bytes],
    end: bytes,
    max_line: int,
    size_off: int,
    count_off: int,
    good_sum: bool,
) -> None:
    data = b"\n".join(body) + end if body else end
    limits = Limits(max_line=max_line, max_depth=3)
    real_count = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    part = Part(
        "kols.jsonl",
        "kol",
        max(len(data) + size_off, 0),
        max(real_count + count_off, 0),
        hashlib.sha256(data).hexdigest() if good_sum else "0" * 64,
    )
    reader = _zip_with(tmp_path_factory.mktemp("parts"), data, part.count, limits)
    got: list[Any] = []
    try:
        got.extend((n, typed(v)) for n, v in reader.lines(part))
    except BundleError as exc:
        got.append(("refused", str(exc)))
    finally:
        reader.close()
    assert got == _line_by_line(data, part, limits)


def test_a_long_part_is_read_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from msl_tui.sync import bundle

    monkeypatch.setattr(bundle, "_READ", 7)  # lines cut across many blocks
    body = b"".join(b'{"i":%d,"s":"%s"}\n' % (i, b"y" * (i % 13)) for i in range(300))
    part = Part("kols.jsonl", "kol", len(body), 300, hashlib.sha256(body).hexdigest())
    reader = _zip_with(tmp_path, body, 300, Limits())
    try:
        assert [v["i"] for _n, v in reader.lines(part)] == list(range(300))
    finally:
        reader.close()


# -- a whole change line in one check ------------------------------------------------------

KOL = "0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8"
NOW = datetime.now(UTC).replace(microsecond=0)
SAMPLES = {
    "kol": Kol(name="Dr Zoë Quick", tags=["renal"]),
    "plan": EngagementPlan(
        kol_id=KOL, period_start=date(2026, 1, 1), period_end=date(2026, 12, 31)
    ),
    "interaction": Interaction(kol_id=KOL, occurred_at=NOW, notes="Dosing\nand trials"),
    "followup": FollowUp(kol_id=KOL, action="Send the paper", due=date(2026, 3, 1)),
}


def _line(entity: str) -> dict[str, Any]:
    return {
        "device": "lap",
        "seq": 1,
        "hlc": "1795751352610-0000-lap",
        "id": SAMPLES[entity].id,
        "patch": dump_fields(SAMPLES[entity]),
        "base": {},
        "author": "ada",
    }


def _long_way(entity: str, obj: Any) -> Any:
    try:
        line = ChangeLine.model_validate(obj)
        change = importer.checked_change(ENTITIES[entity], line)
    except (BundleError, ValueError) as exc:
        return ("refused", str(exc))
    return _shown(change)


def _shown(change: Any) -> Any:
    record = change.record.model_dump() if change.record is not None else None
    if record is not None:
        record.pop("updated_at")  # now, when it was made
    return (
        change.entity, change.device, change.seq, change.hlc, change.record_id,
        typed(change.patch), typed(change.base), change.author, change.patch_json, record,
    )  # fmt: skip


@pytest.mark.parametrize("entity", list(SAMPLES))
def test_a_canonical_line_takes_the_one_call_check_with_the_long_ways_result(entity: str) -> None:
    quick = importer._quick_lines(ENTITIES[entity])
    assert quick is not None
    change = quick.change(_line(entity))
    assert change is not None
    assert _shown(change) == _long_way(entity, _line(entity))


spoilers = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 2**64), st.floats(), st.text(max_size=4),
    st.sampled_from(["", "lap", "1795751352610-0000-lap", "1795751352610-0000-other", KOL,
                     KOL.upper(), "2026-01-01T00:00:00Z", "2026-01-01", "\x00", "a\u202eb"]),
    st.lists(st.sampled_from(["1795751352610-0000-lap", "x", 1]), max_size=2),
    st.dictionaries(st.sampled_from(["notes", "tags", "nope", "name"]),
                    st.sampled_from(["1795751352610-0000-lap", 3, ["1795751352610-0001-b"]]),
                    max_size=2),
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    entity=st.sampled_from(list(SAMPLES)),
    where=st.sampled_from(["line", "patch"]),
    index=st.integers(0, 40),
    value=spoilers,
    how=st.sampled_from(["set", "drop", "last"]),
)
@example("kol", "line", 2, "1795751352610-0000-other", "set")  # another device's stamp
@example("kol", "line", 5, {"nope": "1795751352610-0000-lap"}, "set")  # base: no such field
@example("kol", "patch", 3, None, "last")  # the fields in another order
@example("plan", "patch", 3, "2027-01-01", "set")  # a period that ends before it starts
def test_a_spoiled_line_is_left_to_the_long_way_or_gets_its_result(
    entity: str, where: str, index: int, value: Any, how: str
) -> None:
    obj = _line(entity)
    target = obj if where == "line" else obj["patch"]
    name = list(target)[index % len(target)]
    if how == "drop":
        del target[name]
    elif how == "last":
        target[name] = target.pop(name)
    else:
        target[name] = value
    quick = importer._quick_lines(ENTITIES[entity])
    assert quick is not None
    change = quick.change(json.loads(json.dumps(obj)))  # as read from a file
    if change is not None:
        assert _shown(change) == _long_way(entity, obj)


def test_fields_in_another_order_and_a_base_naming_no_field_go_the_long_way() -> None:
    quick = importer._quick_lines(ENTITIES["kol"])
    assert quick is not None
    obj = _line("kol")
    obj["patch"] = dict(reversed(obj["patch"].items()))
    assert quick.change(obj) is None
    obj = _line("kol")
    obj["base"] = {"nope": "1795751352610-0000-lap"}
    assert quick.change(obj) is None
    obj = _line("kol")
    obj["hlc"] = "1795751352610-0000-other"  # a stamp another device issued
    assert quick.change(obj) is None


def test_no_one_call_check_without_the_quick_canonical_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(importer, "canonical_validator", lambda model: None)
    assert importer._quick_lines(ENTITIES["kol"]) is None
    assert canonical_validator(Kol) is not None


def test_an_import_puts_the_collectors_threshold_back(tmp_path: Path) -> None:
    import gc

    before = gc.get_threshold()
    with importer._rare_collections():
        with importer._rare_collections():
            assert gc.get_threshold()[0] >= 100_000
        assert gc.get_threshold()[0] >= 100_000
    assert gc.get_threshold() == before


# -- the row a record makes ----------------------------------------------------------------


def _row_the_long_way(entity: Any, fields: dict[str, Any]) -> list[Any]:
    """Each data column in turn, as the row builder made it before it was planned per entity."""
    out = []
    for name in entity.data_fields():
        value = fields[name]
        if name in entity.json_fields:
            if value is not None:
                value = "[]" if value == [] and type(value) is list else encode_json(value)
        elif type(value) is bool:
            value = int(value)
        out.append(value)
    return out


@pytest.mark.parametrize(
    "record",
    [
        *SAMPLES.values(),
        FollowUp(kol_id=KOL, action="Call back", done=True, deleted=True),
        Kol(name="Dr Ünï", tags=["a", "ü"], deleted=True),
    ],
)
def test_a_row_is_built_as_column_by_column(record: Any) -> None:
    from msl_tui.store.codec import ENTITY_BY_MODEL, record_row

    entity = ENTITY_BY_MODEL[type(record)]
    fields = dump_fields(record)
    row = record_row(entity, record, device="d", hlc="h", updated_at="u", field_stamps={})
    columns = len(entity.data_fields())
    assert row[:columns] == _row_the_long_way(entity, fields)
    assert [type(v) for v in row[:columns]] == [type(v) for v in _row_the_long_way(entity, fields)]


def _types_in(annotation: Any, seen: set[Any]) -> set[Any]:
    from typing import get_args

    from pydantic import BaseModel

    found = {annotation}
    for arg in get_args(annotation):
        found |= _types_in(arg, seen)
    if (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and annotation not in seen
    ):
        seen.add(annotation)
        for info in annotation.model_fields.values():
            found |= _types_in(info.annotation, seen)
    return found


def test_no_record_holds_a_float_anywhere() -> None:
    """Rows and change texts are written by orjson on the promise that a record's canonical
    fields hold no float (orjson writes some in other digits than json)."""
    from typing import Any as AnyType

    for entity in ENTITIES.values():
        found = _types_in(entity.model, set())
        assert float not in found and AnyType not in found, entity.name


def test_every_line_msl_tui_exports_is_read_in_c(tmp_path: Path) -> None:
    """An export writes json's compact ensure_ascii text (tests/test_export_lines.py): the
    C path takes every line of it, awkward text and nested records included."""
    from sync_helpers import add_kol, add_visit, make_store

    from msl_tui.models import Insight, InsightCategory
    from msl_tui.sync.export import export_bundle

    store = make_store(tmp_path / "ana.db", "ana", "laptop-a")
    for i in range(5):
        kol = add_kol(store, f'Dr Zoë "Z" Ó\'Brien \\ 北京 😀 {i}', tags=["ü", "a b"])
        add_visit(
            store,
            kol,
            notes="“data gap”\n\ttab",
            insights=[Insight(category=InsightCategory.UNMET_NEED, text="Ünmet 😀")],
        )
    result = export_bundle(store, tmp_path / "out.mslsync", full=True, sign=False)
    store.close()
    assert result.path is not None
    with zipfile.ZipFile(result.path) as raw:
        lines = [
            line
            for name in raw.namelist()
            if name.endswith(".jsonl")
            for line in raw.read(name).splitlines()
        ]
    assert len(lines) == 10
    for line in lines:
        assert quick_loads(line) is not _UNSURE
        assert typed(quick_loads(line)) == typed(strict_loads_slowly(line))
