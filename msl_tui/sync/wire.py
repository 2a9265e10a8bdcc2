"""What a bundle may say, as strict pydantic models: the manifest and each change line.

Strict means: no coercion (a number is never read from a string, nor a string from a
number), no unknown keys, ASCII grammars for ids, stamps and sequence numbers within
SQLite's 64-bit range, bounded lengths, and printable one-line text for names. What passes
is exactly what the rest of the program expects; nothing else reaches the store.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import SchemaValidator, core_schema

from msl_tui.clock import DEVICE_PATTERN
from msl_tui.models.base import Instant, text_problem
from msl_tui.models.canonical import text_pattern
from msl_tui.models.problems import error_words
from msl_tui.safe_text import printable

MAX_SEQ = 2**63 - 1  # SQLite's INTEGER is a signed 64-bit number
MAX_SEEN = 256  # stamps one field's ``base`` may name
MAX_RANGE = 100_000_000  # sequence numbers one device may span in one bundle

DeviceId = Annotated[str, StringConstraints(pattern=rf"^{DEVICE_PATTERN}$")]
StampStr = Annotated[str, StringConstraints(pattern=rf"^[0-9]{{13}}-[0-9]{{4}}-{DEVICE_PATTERN}$")]
Seq = Annotated[int, Field(ge=1, le=MAX_SEQ)]
# [first, last]: a list, as JSON has no tuples (strict mode would refuse a list as a tuple).
SeqRange = Annotated[list[Seq], Field(min_length=2, max_length=2)]
Uuid = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
MslId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,200}$")]


def _one_line(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(f"text {problem}")
    return value


Author = Annotated[str, StringConstraints(max_length=200), AfterValidator(_one_line)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Source(_Wire):
    device: DeviceId
    msl_id: MslId | None = None
    role: Literal["msl", "head office"] | None = None


class PartEntry(_Wire):
    name: Annotated[str, StringConstraints(max_length=40)]
    table: Annotated[str, StringConstraints(max_length=40)]
    size: Annotated[int, Field(ge=0, le=MAX_SEQ)]
    count: Annotated[int, Field(ge=0, le=MAX_SEQ)]
    sha256: Sha256


class ManifestIn(_Wire):
    format: Annotated[int, Field(ge=1)]
    schema_: Annotated[int, Field(ge=1, alias="schema")]
    bundle_id: Uuid
    kind: Literal["msl-log", "roster", "full"]
    source: Source
    created: StampStr
    ranges: Annotated[dict[DeviceId, SeqRange], Field(max_length=100_000)]
    parts: Annotated[list[PartEntry], Field(max_length=16)]
    signer: Sha256 | None = None

    model_config = ConfigDict(populate_by_name=False)

    @model_validator(mode="after")
    def _ranges_in_order(self) -> ManifestIn:
        for device, (low, high) in self.ranges.items():
            if high < low or high - low >= MAX_RANGE:
                raise ValueError(f"the sequence range of {device} is not plausible")
        return self


Seen = Annotated[list[StampStr], Field(max_length=MAX_SEEN)]


class ChangeLine(_Wire):
    device: DeviceId
    seq: Seq
    hlc: StampStr
    id: Uuid
    patch: Annotated[dict[str, Any], Field(min_length=1)]
    base: dict[str, StampStr | Seen]
    author: Author

    @model_validator(mode="after")
    def _stamp_is_the_devices(self) -> ChangeLine:
        if self.hlc.split("-", 2)[2] != self.device:
            raise ValueError(f"stamp {self.hlc} was not issued by device {self.device}")
        return self


CHANGE_LINES: TypeAdapter[list[ChangeLine]] = TypeAdapter(list[ChangeLine])

_STRICT_KINDS = frozenset({"str", "int", "dict", "list", "union"})


def _strict(node: Any) -> Any:
    """A copy of a wire field's schema strict at every level (``ChangeLine`` is strict by
    its config, which a schema taken out of it does not carry)."""
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict) or "type" not in node:
        return node
    out = {k: _strict(v) for k, v in node.items()}
    if node["type"] in _STRICT_KINDS:
        out["strict"] = True
    return out


def change_line_validator(patch: Any) -> SchemaValidator:
    """One change line checked in one call, its patch by ``patch`` (a pydantic-core schema:
    a record's quick canonical check, msl_tui.models.canonical): a dict of the line's
    checked values, the patch as that schema's output.

    The wire's own field schemas, made strict; the author's Python check as the pattern of
    one-line text. It accepts only lines ``ChangeLine`` accepts, but for the stamp's device,
    which the caller compares; what it refuses goes the long way, for the words."""
    node = ChangeLine.__pydantic_core_schema__
    while node["type"] != "model":
        node = node["schema"]
    fields = {name: _strict(f["schema"]) for name, f in node["schema"]["fields"].items()}
    fields["author"] = core_schema.str_schema(
        pattern=text_pattern(multiline=False, strip=False), max_length=200, strict=True
    )
    fields["patch"] = patch
    return SchemaValidator(
        core_schema.typed_dict_schema(
            {name: core_schema.typed_dict_field(schema) for name, schema in fields.items()},
            extra_behavior="forbid",
            total=True,
            strict=True,
        )
    )


# Why a KOL was erased: a category, never free text (free text could name the person).
ErasureReason = Literal[
    "request",
    "objection",
    "consent-withdrawn",
    "no-longer-needed",
    "unlawful",
    "legal-obligation",
]
ERASURE_REASONS: tuple[str, ...] = get_args(ErasureReason)
IsoStamp = Annotated[
    str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
]


_INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)


def _erased_when(value: str) -> str:
    """An erasure's time is a real moment in the models' range (it is kept for good and
    shown in reports): not year 0001 or 9999."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value} is not a date") from None
    try:
        _INSTANT.validate_python(moment)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
    return value


class ErasureLine(_Wire):
    """One erased KOL: the id, when, why (a category), by whom and on which device."""

    kol: Uuid
    at: Annotated[IsoStamp, AfterValidator(_erased_when)]
    reason: ErasureReason
    # An MSL id (or empty), never free text: the record is kept for good and travels, so it
    # must not be able to carry personal data of its own.
    by: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{0,200}$")]
    device: DeviceId


ERASURE_LINES: TypeAdapter[list[ErasureLine]] = TypeAdapter(list[ErasureLine])


# What each grammar-checked value is, for "is not a ..." messages.
_KINDS = {
    "device": "a device id",
    "hlc": "a clock stamp",
    "created": "a clock stamp",
    "id": "a record id (UUID)",
    "bundle_id": "a bundle id (UUID)",
    "sha256": "a SHA-256 digest",
    "signer": "an Ed25519 public key",
    "msl_id": "an MSL id",
    "base": "a list of clock stamps",
    "kol": "a KOL id (UUID)",
    "at": "a time (YYYY-MM-DDTHH:MM:SSZ)",
}


_SCHEMA_TAG = re.compile(
    r"^(constrained-|function-|list\[|dict\[|union\[|tagged-union|json-or-python|"
    r"is-instance|nullable\[|str$|int$|float$|bool$)"
)


def wire_problem(exc: ValidationError) -> tuple[int | None, str]:
    """(index in the validated list or None, ``field: words``) for the first error."""
    err = exc.errors()[0]
    loc = list(err["loc"])
    index: int | None = None
    first = loc[0] if loc else None
    if isinstance(first, int):
        index = first
        loc.pop(0)
    # pydantic names the union branch it tried ("constrained-str"): not a place in the file.
    loc = [p for p in loc if not (isinstance(p, str) and _SCHEMA_TAG.match(p))]
    # Keys in the location may come from the file: printed escaped and cut.
    where = printable(".".join(str(p) for p in loc), 80) or "line"
    if err["type"] == "model_type" or (not loc and err["type"] == "dict_type"):
        where = "line"
        words = "is not a JSON object"
    elif loc and loc[-1] == "[key]":
        where = printable(".".join(str(p) for p in loc[:-2]), 80)
        words = f"{printable(repr(loc[-2]), 70)} is not a device id"
    elif err["type"] == "string_pattern_mismatch":
        named = next((str(p) for p in reversed(loc) if str(p) in _KINDS), None)
        words = f"is not {_KINDS[named]}" if named else "is not in the expected form"
    else:
        words = error_words(err)
    return index, f"{where}: {words}"
