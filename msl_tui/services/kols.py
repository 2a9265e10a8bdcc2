"""Adding a KOL by hand, and how names sort. No Textual.

Head office owns the master list, but an MSL meets people before the next roster arrives
(a rising regional voice, a new investigator): they are added here and travel with the
next export like any other record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from msl_tui.models import Influence, Kol, Stance
from msl_tui.models.base import typed_text
from msl_tui.services.segments import STANCE_WORDS
from msl_tui.store import Store

NAME_MAX = 200
TEXT_MAX = 500
AREA_MAX = 60

# Words before a name that are not part of it, and credentials after it.
TITLES = frozenset(
    {"dr", "prof", "professor", "mr", "mrs", "ms", "mx", "miss", "sir", "dame", "assoc", "a/prof"}
)
SUFFIXES = frozenset(
    {"md", "phd", "mbbs", "frcp", "pharmd", "mph", "do", "jr", "sr", "ii", "iii", "iv", "msc"}
)


class KolEditError(ValueError):
    """A typed value that cannot be used; ``field`` is the form field it belongs beside."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", name.strip()) if w]


def family_name_key(name: str) -> tuple[str, str]:
    """Sort key: family name (last word, titles and credentials aside), then given names.

    "Dr Amara Aldane" sorts under A for Aldane, "Prof. Jo van Dyke, MD" under D for Dyke.
    """
    words = _words(name)
    while words and words[0].lower().rstrip(".") in TITLES:
        words = words[1:]
    while len(words) > 1 and (
        words[-1].lower().replace(".", "") in SUFFIXES or words[-1].isdigit()
    ):
        words = words[:-1]
    if not words:
        return ("", name.casefold())
    return (words[-1].casefold(), " ".join(words[:-1]).casefold())


def _text(values: Mapping[str, Any], field: str, label: str, limit: int = TEXT_MAX) -> str:
    clean = " ".join(typed_text(str(values.get(field, ""))).split())
    if len(clean) > limit:
        raise KolEditError(field, f"{label} is too long: keep it under {limit} characters")
    return clean


def read_areas(text: str) -> list[str]:
    """Therapeutic areas typed as a comma-separated list: "oncology, lung cancer"."""
    areas: list[str] = []
    for part in typed_text(text).split(","):
        area = " ".join(part.split())
        if not area:
            continue
        if len(area) > AREA_MAX:
            raise KolEditError(
                "areas", f"Each area must be under {AREA_MAX} characters: separate them by commas"
            )
        if area.casefold() not in {a.casefold() for a in areas}:
            areas.append(area)
    return areas


def _choice(kind: Any, value: Any, field: str, what: str, words: Mapping[Any, str]) -> Any:
    text = str(value or "").strip().casefold()
    for member in kind:
        if text in (member.value.casefold(), words.get(member, "").casefold()):
            return member
    raise KolEditError(field, f"Choose the {what} from the list")


# Model field -> (form field key, the words the form uses for it).
_FORM_FIELDS = {
    "name": ("name", "The name"),
    "institution": ("institution", "The institution"),
    "specialty": ("specialty", "The specialty"),
    "territory": ("territory", "The territory"),
    "therapeutic_areas": ("areas", "A therapeutic area"),
}


def _plain_error(exc: ValidationError) -> KolEditError:
    """The model's refusal placed beside the field it concerns, in words."""
    err = exc.errors()[0]
    field, label = next(
        (_FORM_FIELDS[str(p)] for p in err["loc"] if str(p) in _FORM_FIELDS),
        ("name", "One of the details"),
    )
    reason = str((err.get("ctx") or {}).get("error", ""))
    if reason.startswith("text "):
        return KolEditError(field, f"{label} {reason.removeprefix('text ')}")
    return KolEditError(field, f"{label} cannot be saved as typed")


def add_kol(store: Store, values: Mapping[str, Any]) -> Kol:
    """Validate what was typed and save a new KOL; raises KolEditError in plain words."""
    name = _text(values, "name", "The name", NAME_MAX)
    if not name:
        raise KolEditError("name", "Type the KOL's name, e.g. Dr Ada Roe")
    institution = _text(values, "institution", "The institution")
    kol_fields = {
        "name": name,
        "institution": institution,
        "specialty": _text(values, "specialty", "The specialty"),
        "territory": _text(values, "territory", "The territory"),
        "influence": _choice(
            Influence, values.get("influence", "local"), "influence", "influence", {}
        ),
        "stance": _choice(
            Stance, values.get("stance", "unknown"), "stance", "stance", STANCE_WORDS
        ),
        "therapeutic_areas": read_areas(str(values.get("areas", ""))),
    }
    for other in store.find_kols_by_name(name, limit=20):
        if other.name.casefold() == name.casefold() and (
            other.institution.casefold() == institution.casefold()
        ):
            where = f" at {other.institution}" if other.institution else ""
            raise KolEditError("name", f"{other.name}{where} is already in your list")
    try:
        kol = Kol(**kol_fields)
    except ValidationError as exc:  # a last guard; the reads above say it in plain words
        raise _plain_error(exc) from exc
    return store.save(kol)
