"""A quick check for records already written in their canonical form (an import's common case).

``canonical_validator(model)`` builds, from the model's own pydantic-core schema, a validator
that runs in pydantic-core alone: each field's Python check (text grammars, UUIDs, instants
and days in range, newlines) is replaced by a pattern or constraint that accepts only values
the model would accept *and store unchanged* (no padding to strip, no CR to turn into LF, an
instant already ``YYYY-MM-DDTHH:MM:SSZ``), and every other leaf is strict (no coercion).
A record's data fields have no defaults here (an omitted one is refused), nor have nested
records', which must also list their fields in the model's order: then the JSON text the
model writes is the text that came. The model-level checks (a plan's period in order, an AE
reported after day zero) run as the model's own code.

So what it accepts, the model accepts with the same values and the same canonical JSON; what
it refuses goes to the model, which gives the verdict and its words. The range bounds are
taken when the validator is built: a date the moving "3 years ahead" limit has since let in
is only refused here (and then accepted by the model). A model with a part this module does
not know gets no quick check (``None``): it is validated by the model alone.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_core import SchemaValidator, core_schema

from msl_tui.models import base

# Characters one-line and multi-line text may not hold (base._BAD_ONE_LINE/_BAD_MULTILINE in
# Rust regex syntax). Lone surrogates need no range: pydantic-core cannot read them as text and
# refuses them, so the model gives its verdict. Multi-line text also may not hold CR and the
# Unicode separators here: the model would turn them into LF (not canonical, or not stored
# as sent).
_BAD_ONE = (
    r"\x00-\x1f\x7f-\x9f\x{200b}-\x{200f}\x{2028}\x{2029}\x{202a}-\x{202e}"
    r"\x{2060}-\x{2069}\x{feff}\x{e0000}-\x{e007f}"
)
_BAD_MULTI = r"\x00-\x08\x0b-\x1f\x7f-\x9f\x{202a}-\x{202e}\x{2066}-\x{2069}\x{2028}\x{2029}"
_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# From 1970 (the models' earliest), days that exist in every year (29 February goes to the model).
_DAY = (
    r"(?:19[7-9][0-9]|2[0-9]{3})-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    r"|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
)
_INSTANT = rf"^{_DAY}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$"
_AMOUNT = r"^(?:0|[1-9][0-9]{0,6})\.[0-9]{2}$"
_STAMP = base.STAMP_RE.pattern.replace(r"\Z", "$")


M = TypeVar("M", bound=BaseModel)
# A pydantic-core schema node: its TypedDicts do not allow the rewriting done here.
Node = Any


class Unsupported(Exception):
    """A part of a schema with no quick equivalent: the model gets no quick check."""


def text_pattern(*, multiline: bool, strip: bool) -> str:
    """A pattern for text the models accept and store as it is (one line or several; with
    no white space at either end, when the model would strip it)."""
    bad = _BAD_MULTI if multiline else _BAD_ONE
    if not strip:
        return rf"^[^{bad}]*$"
    # Unpadded: the model strips Unicode white space (Rust's trim, which is ``\s`` here).
    return rf"^(?:[^{bad}\s](?:[^{bad}]*[^{bad}\s])?)?$"


def _text(schema: Node, *, multiline: bool) -> Node:
    """A text grammar's whole subtree (strip, lengths, newlines, the character check)."""
    found: dict[str, Any] = {"strip": False, "min_length": 0, "max_length": None}

    def collect(node: Node) -> None:
        kind = node["type"]
        if kind == "str":
            if set(node) - {"type", "strip_whitespace", "min_length", "max_length", "metadata"}:
                raise Unsupported(str(node))
            found["strip"] |= bool(node.get("strip_whitespace"))
            for key in ("min_length", "max_length"):
                if key in node:
                    found[key] = node[key]
        elif kind == "chain":
            for step in node["steps"]:
                collect(step)
        elif kind in ("function-after", "function-before", "function-wrap"):
            fn = node["function"]["function"]
            name = getattr(getattr(fn, "func", fn), "__name__", "")
            if isinstance(fn, functools.partial) and name in (
                "min_length_validator",
                "max_length_validator",
            ):
                found.update(fn.keywords)
            elif fn is not base._unix_newlines and "_apply_constraint" not in name:
                raise Unsupported(name)
            collect(node["schema"])
        else:
            raise Unsupported(kind)

    collect(schema)
    return core_schema.str_schema(
        pattern=text_pattern(multiline=multiline, strip=found["strip"]),
        min_length=found["min_length"] or None,
        max_length=found["max_length"],
        strict=True,
    )


def _parsed(pattern: str, parse: Any, then: Node) -> Node:
    return core_schema.chain_schema(
        [
            core_schema.str_schema(pattern=pattern, strict=True),
            core_schema.no_info_plain_validator_function(parse),
            then,
        ]
    )


# Checks translated above: met anywhere else (another inner type), there is no quick check.
_TRANSLATED = frozenset(
    {
        base._one_line,
        base._multiline,
        base._valid_uuid,
        base._valid_stamp,
        base._instant_in_range,
        base._day_in_range,
        base._not_far_future_date,
        base._unix_newlines,
    }
)


class _Builder:
    def __init__(self, now: float) -> None:
        # The bounds the models check, as they are at ``now``: later they are only wider.
        self.latest = datetime.fromtimestamp(int(now) + base._FUTURE_LIMIT_S, UTC)
        self.last_day = date.fromtimestamp(now) + timedelta(days=base.FUTURE_LIMIT_DAYS)

    def after(self, node: Node, top: bool) -> Node:
        fn = node["function"]["function"]
        inner = node["schema"]
        if fn is base._one_line:
            return _text(inner, multiline=False)
        if fn is base._multiline:
            return _text(inner, multiline=True)
        if fn is base._valid_uuid and inner == {"type": "str"}:
            return core_schema.str_schema(pattern=_UUID, strict=True)
        if fn is base._valid_stamp and inner == {"type": "str"}:
            return core_schema.str_schema(pattern=_STAMP, strict=True)
        if fn is base._instant_in_range and inner.get("type") == "datetime":
            return _parsed(
                _INSTANT,
                datetime.fromisoformat,  # "Z" reads as UTC, as the model stores it
                core_schema.datetime_schema(strict=True, le=self.latest),
            )
        if fn in (base._day_in_range, base._not_far_future_date) and inner == {"type": "date"}:
            return _parsed(
                f"^{_DAY}$",
                date.fromisoformat,
                core_schema.date_schema(strict=True, le=self.last_day),
            )
        if getattr(fn, "__name__", "") == "_cents" and inner.get("type") == "decimal":
            # An amount as the model writes it ("25.00"); the model's own check then runs.
            decimal = {k: v for k, v in inner.items() if k != "metadata"}
            return {
                **node,
                "schema": core_schema.chain_schema(
                    [core_schema.str_schema(pattern=_AMOUNT, strict=True), decimal]
                ),
            }
        if node["function"]["type"] != "no-info" or fn in _TRANSLATED:
            raise Unsupported(getattr(fn, "__name__", repr(fn)))
        # A model-level or field check of the model's own (it checks, it does not rewrite a
        # canonical value): it runs as it is, on the strictly read value.
        return {**node, "schema": self.walk(inner, top and inner.get("type") == "model")}

    def walk(self, node: Node, top: bool = False) -> Node:
        kind = node.get("type")
        if kind == "function-after":
            return self.after(node, top)
        if kind == "model":
            fields = node["schema"]
            cls = node["cls"]
            if (
                fields.get("type") != "model-fields"
                or fields.get("computed_fields")
                or node.get("config", {}).get("extra_fields_behavior") != "forbid"
                or cls.__pydantic_post_init__
                or cls.__private_attributes__
            ):
                raise Unsupported("model")
            out = {}
            for name, field in fields["fields"].items():
                inner = field["schema"]
                if inner.get("type") == "default":
                    # Data fields must be sent; the sync fields a patch does not carry keep
                    # their defaults, as in the model. (Nested ones must all be sent: an
                    # older sender's nested record without today's fields goes to the model.)
                    keep = top and name in ("id", "device_id", "hlc", "updated_at")
                    inner = (
                        _cheap_default({**inner, "schema": self.walk(inner["schema"])})
                        if keep
                        else self.walk(inner["schema"])
                    )
                else:
                    inner = self.walk(inner)
                out[name] = {**field, "schema": inner}
            checked = {**fields, "fields": out, "extra_behavior": "forbid"}
            if top:
                return {**node, "schema": checked}
            # A schema of type "model" would not do here: pydantic-core swaps in the class's
            # own, lax validator. The record is made from its checked fields instead.
            return core_schema.no_info_wrap_validator_function(_Nested(cls, list(out)), checked)
        if kind == "nullable":
            return {**node, "schema": self.walk(node["schema"])}
        if kind == "list":
            return {**node, "items_schema": self.walk(node["items_schema"]), "strict": True}
        if kind in ("int", "bool"):
            return {**node, "strict": True}
        if kind == "str":
            if node.get("strip_whitespace") or set(node) - {"type", "pattern", "metadata"}:
                raise Unsupported("str")
            return {**node, "strict": True}
        if kind == "enum" and node.get("sub_type") == "str":
            return node  # by value: the text is the canonical form
        raise Unsupported(str(kind))


_SECOND = (0, datetime.fromtimestamp(0, UTC))


def _now_to_the_second() -> datetime:
    """``utcnow()`` (now in UTC, to the second), made once a second: an import gives each of
    a million records the time it was made, and most of them share their second."""
    global _SECOND
    now = int(time.time())
    second, made = _SECOND
    if now != second:
        _SECOND = now, made = now, datetime.fromtimestamp(now, UTC)
    return made


def _cheap_default(node: Node) -> Node:
    if node.get("default_factory") is base.utcnow:
        return {**node, "default_factory": _now_to_the_second}
    return node


def _instance(cls: type[M], values: dict[str, Any], fields_set: set[str]) -> M:
    """The model instance pydantic makes from checked fields (as ``model_construct`` does)."""
    record = cls.__new__(cls)
    _set = object.__setattr__
    _set(record, "__dict__", values)
    _set(record, "__pydantic_fields_set__", fields_set)
    _set(record, "__pydantic_extra__", None)
    _set(record, "__pydantic_private__", None)
    return record


class _Nested:
    """A nested record: an object with every field, in the model's order (then its JSON text
    is the model's), checked by the quick field schema, made an instance of its class."""

    def __init__(self, cls: type[BaseModel], order: list[str]) -> None:
        self.cls = cls
        self.order = order

    def __call__(self, value: Any, handler: Any) -> BaseModel:
        if type(value) is not dict or list(value) != self.order:
            raise ValueError("not in the canonical form")
        values, _extra, fields_set = handler(value)
        return _instance(self.cls, values, fields_set)


class CanonicalValidator:
    """Validates a record's fields in pydantic-core, then makes the model instance the way
    pydantic does and runs the model's own model-level checks on it. (A schema of type
    "model" would not do: pydantic-core swaps in the class's own, lax validator.)"""

    def __init__(self, model: type[M], schema: Node, checks: list[Any]) -> None:
        self.model = model
        self.fields = SchemaValidator(schema)
        self.checks = checks
        # A patch: the record's fields without its id (``instance`` is given it), as a typed
        # dict, which pydantic-core checks about three times as fast as model fields (the
        # fields set is then the patch's keys and the id: every other field has a default).
        fields = {**schema["fields"]}
        fields["id"] = {
            **fields["id"],
            "schema": core_schema.with_default_schema(
                fields["id"]["schema"]["schema"], default=None
            ),
        }
        self.patch_schema: Node = core_schema.typed_dict_schema(
            {
                name: core_schema.typed_dict_field(
                    field["schema"], required=field["schema"]["type"] != "default"
                )
                for name, field in fields.items()
            },
            extra_behavior="forbid",
            strict=True,
        )

    def validate(self, data: Node) -> Any:
        """The record, or ValidationError / ValueError when it is not plainly canonical."""
        values, _extra, fields_set = self.fields.validate_python(data)
        return self.instance(values, fields_set)

    def instance(self, values: dict[str, Any], fields_set: set[str]) -> Any:
        """The record from its checked fields, the model's own record-level checks run on it
        (ValueError when one refuses it)."""
        record = _instance(self.model, values, fields_set)
        for check in self.checks:
            record = check(record)
        return record


def _build(model: type[BaseModel], now: float) -> CanonicalValidator | None:
    if model.__pydantic_post_init__ or model.__private_attributes__:
        return None
    schema: Node = dict(model.__pydantic_core_schema__)
    checks: list[Any] = []
    # The model's own checks of the whole record, outermost last.
    while schema.get("type") == "function-after":
        function = schema["function"]
        if function["type"] != "no-info":
            return None
        checks.insert(0, function["function"])
        schema = schema["schema"]
    if schema.get("type") != "model" or schema.get("cls") is not model:
        return None
    try:
        fields = _Builder(now).walk(schema, top=True)["schema"]
    except Unsupported:
        return None

    return CanonicalValidator(model, fields, checks)


_BUILT: dict[type[BaseModel], tuple[float, CanonicalValidator | None]] = {}


def canonical_validator(model: type[BaseModel]) -> CanonicalValidator | None:
    """The quick check for ``model``'s canonical records. Rebuilt each hour, as its bounds
    move, and at once if the clock went back (its bounds must never be ahead of the model's)."""
    now = time.time()
    built = _BUILT.get(model)
    if built is None or not built[0] <= now < built[0] + 3600:
        built = _BUILT[model] = (now, _build(model, now))
    return built[1]
