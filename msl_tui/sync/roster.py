"""KOL rosters kept in spreadsheets: `msl import-roster kols.csv --map "Full name=name"`.

All or nothing: every row is checked first and every rejected row is reported with its line
number; if any row is rejected nothing is written, so a half-loaded roster never has to be
untangled. A row updates the KOL with the same id (an ``id`` column) or, failing that, the
same name and institution; otherwise it creates one.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from msl_tui.models import Kol
from msl_tui.models.problems import describe
from msl_tui.plurals import plural
from msl_tui.safe_text import printable
from msl_tui.store.erasure import erased_kol_ids
from msl_tui.store.store import Store

LIST_FIELDS = {"therapeutic_areas", "strengths", "preferred_channels", "identified_by", "tags"}
MAPPABLE = [
    f
    for f in Kol.model_fields
    if f not in {"device_id", "hlc", "created_at", "updated_at", "deleted"}
]
MAX_ROWS = 200_000
MAX_PROBLEMS = 200


class RosterError(ValueError):
    """The roster was refused; ``problems`` holds one line per rejected row."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


@dataclass
class RosterResult:
    file: Path
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = (
            f"{printable(self.file, 120)}: {plural(self.created, 'KOL')} created, "
            f"{self.updated} updated, {self.unchanged} unchanged"
        )
        if self.ignored_columns:
            names = ", ".join(printable(c, 40) for c in self.ignored_columns[:20])
            more = len(self.ignored_columns) - 20
            text += f" (columns ignored: {names}{f' and {more} more' if more > 0 else ''})"
        return text


def _norm(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``["Full name=name", ...]`` -> {column: field}, fields checked against the KOL model."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise RosterError(f"--map {pair!r}: expected COLUMN=FIELD")
        if target.strip() not in MAPPABLE:
            raise RosterError(
                f"--map {pair!r}: {target.strip()!r} is not a KOL field "
                f"(one of: {', '.join(MAPPABLE)})"
            )
        mapping[column.strip()] = target.strip()
    return mapping


def _cell(name: str, raw: str) -> Any:
    text = raw.strip()
    if name in LIST_FIELDS:
        return [part.strip() for part in text.replace(",", ";").split(";") if part.strip()]
    return text


def _problem(exc: ValidationError) -> str:
    return describe(exc)


def _canonical_id(text: str) -> str | None:
    """A roster's id cell as the store writes ids (lower case), or None if it is not one."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc).lower()
    if "nul" in text:
        return "a NUL byte in the text"
    if "field larger" in text:
        return f"a cell longer than {csv.field_size_limit()} characters"
    return "unbalanced quotes or a broken line"


def import_roster(store: Store, path: Path, mapping: dict[str, str]) -> RosterResult:
    if not path.is_file():
        raise RosterError(f"{path}: no such file")
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise RosterError(f"{path}: cannot be read ({exc.strerror})") from exc
    result = RosterResult(path)
    problems: list[str] = []
    planned: list[Kol] = []
    with handle:
        try:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header:
                raise RosterError(f"{path}: empty file, expected a header row")
            columns: list[str | None] = []
            for column in header:
                target = mapping.get(column.strip())
                if target is None and _norm(column) in MAPPABLE:
                    target = _norm(column)
                columns.append(target)
                if target is None:
                    result.ignored_columns.append(column.strip())
            missing = set(mapping) - {c.strip() for c in header}
            if missing:
                raise RosterError(
                    f"{path}: --map names column {sorted(missing)[0]!r}, not in the header"
                )
            if "name" not in columns:
                raise RosterError(f"{path}: no column maps to name (use --map 'COLUMN=name')")
            if len([c for c in columns if c]) != len({c for c in columns if c}):
                raise RosterError(f"{path}: two columns map to the same KOL field")
            existing = {k.id: k for k in store.list_kols()}
            by_key = {(k.name.lower(), k.institution.lower()): k for k in existing.values()}
            seen_keys: dict[tuple[str, str], int] = {}
            # Two rows that land on one KOL (one id twice, or an id and the same KOL's
            # name and institution) would both be "created" or "updated" while the later
            # silently replaces the earlier: refused, naming the earlier line.
            targets: dict[str, int] = {}
            # An erased KOL stays erased: a row carrying their id would bring them back
            # under that very id (the erasure record exists to stop exactly that).
            erased = erased_kol_ids(store)
            for row in reader:
                line = reader.line_num
                if line > MAX_ROWS + 1:
                    raise RosterError(f"{path}: more than {MAX_ROWS} rows")
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    problems.append(
                        f"{path}:{line}: {len(row)} cells, the header has {len(header)}"
                    )
                    continue
                data = {t: _cell(t, v) for t, v in zip(columns, row, strict=True) if t}
                data = {k: v for k, v in data.items() if v not in ("", [])}
                current = None
                if data.get("id"):
                    record_id = _canonical_id(str(data["id"]))
                    if record_id is None:
                        problems.append(f"{path}:{line}: id: is not a record id (UUID)")
                        continue
                    data["id"] = record_id
                    if record_id in erased:
                        problems.append(
                            f"{path}:{line}: id: this KOL was erased from the store; leave "
                            "the id out to add them again as a new KOL"
                        )
                        continue
                    current = existing.get(record_id)
                    if current is None and store.get(Kol, record_id) is not None:
                        problems.append(
                            f"{path}:{line}: the KOL with this id was deleted; restore it in "
                            "the app, or leave the id out to add a new KOL"
                        )
                        continue
                key = (str(data.get("name", "")).lower(), str(data.get("institution", "")).lower())
                if current is None and "id" not in data:
                    current = by_key.get(key)
                if key in seen_keys:
                    problems.append(
                        f"{path}:{line}: same name and institution as line {seen_keys[key]}"
                    )
                    continue
                seen_keys[key] = line
                target = current.id if current is not None else data.get("id")
                if target is not None:
                    if target in targets:
                        how = "id" if "id" in data else "name, institution"
                        problems.append(
                            f"{path}:{line}: {how}: the same KOL as line {targets[target]}"
                        )
                        continue
                    targets[str(target)] = line
                try:
                    if current is None:
                        planned.append(Kol(**data))
                    else:
                        updated = current.evolve(**data)
                        if updated == current:
                            result.unchanged += 1
                        else:
                            planned.append(updated)
                except ValidationError as exc:
                    problems.append(f"{path}:{line}: {_problem(exc)}")
                if len(problems) >= MAX_PROBLEMS:
                    break
        except csv.Error as exc:
            raise RosterError(
                f"{path}:{reader.line_num}: not valid CSV ({_csv_problem(exc)})"
            ) from exc
        except UnicodeDecodeError as exc:
            raise RosterError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if problems:
        raise RosterError(
            f"{path}: {plural(len(problems), 'row')} rejected, nothing imported", problems
        )
    with store.transaction():
        for kol in planned:
            if kol.id in existing:
                result.updated += 1
            else:
                result.created += 1
            store.save(kol)
    return result
