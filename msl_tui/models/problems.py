"""Validation errors in words a person reads: the field, then what is wrong with it.

pydantic's own messages ("Input should be a valid integer, unable to parse string as an
integer") are written for programmers; these are written for the people who see them.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from msl_tui.safe_text import printable

_WORDS: dict[str, str] = {
    "missing": "is missing",
    "extra_forbidden": "is not a field here",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "string_unicode": "must be text (it holds a broken character)",
    "string_too_short": "must not be empty",
    "string_too_long": "is too long (at most {max_length} characters)",
    "string_pattern_mismatch": "is not in the expected form",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "datetime_type": "must be a date and time",
    "datetime_parsing": "must be a date and time",
    "datetime_from_date_parsing": "must be a date and time",
    "date_type": "must be a date",
    "date_parsing": "must be a date",
    "date_from_datetime_parsing": "must be a date",
    "date_from_datetime_inexact": "must be a date without a time",
    "enum": "must be one of: {expected}",
    "literal_error": "must be one of: {expected}",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "decimal_parsing": "must be an amount",
    "decimal_type": "must be an amount",
    "decimal_max_digits": "has too many digits",
    "decimal_max_places": "has too many decimal places",
    "too_long": "is too long (at most {max_length})",
    "uuid_parsing": "must be a record id",
    "none_required": "must be empty",
}


def _where(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    return printable(".".join(parts), 80) or "record"


def error_words(err: Any) -> str:
    """One pydantic error (an ``errors()`` item) as words, without the field."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "value_error":
        message = str(ctx.get("error", err.get("msg", "")))
        return printable(message.removeprefix("Value error, "), 160)
    template = _WORDS.get(kind)
    if template is None:
        return "is not valid"
    try:
        return template.format(**{k: printable(v, 80) for k, v in ctx.items()})
    except (KeyError, IndexError):
        return template.split(" {")[0]


def describe(exc: ValidationError, prefix: tuple[str, ...] = ()) -> str:
    """The first problem of a validation error as ``field: words`` (``prefix`` names the
    field when a single value was validated on its own)."""
    err = exc.errors()[0]
    return f"{_where((*prefix, *err['loc']))}: {error_words(err)}"
