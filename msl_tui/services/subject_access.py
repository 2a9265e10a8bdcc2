"""A subject-access export: everything this store holds about one KOL, as JSON (complete,
for a machine) and Markdown (readable, for the person who asked).

"Everything" means the KOL's profile, plans, visits and follow-ups (deleted ones too: a
deleted record is still held), unsent drafts, merge conflicts, and the change history,
which keeps earlier values of every field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from msl_tui.locations import create_private_file, private_temp_path, publish
from msl_tui.models import EngagementPlan, FollowUp, Interaction, Kol, SyncedRecord
from msl_tui.plurals import plural
from msl_tui.safe_text import printable
from msl_tui.store import erasure as erasures
from msl_tui.store import sync_log
from msl_tui.store.codec import dump_fields
from msl_tui.store.store import Store
from msl_tui.sync.merge import stamp_iso
from msl_tui.timestamps import iso, utcnow

_SECTIONS = (
    ("plan", EngagementPlan, "plans", "Engagement plans"),
    ("interaction", Interaction, "interactions", "Visits and other interactions"),
    ("followup", FollowUp, "followups", "Follow-ups"),
)


class SubjectAccessError(ValueError):
    """The export cannot be written; the message says why."""


def _record(record: SyncedRecord) -> dict[str, Any]:
    return {"id": record.id, **dump_fields(record)}


def gather(store: Store, kol_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything held about the KOL, as one JSON-ready dict."""
    kol = store.get(Kol, kol_id)
    if kol is None:
        raise SubjectAccessError(f"no KOL with id {kol_id} in this store")
    profile = store.get_profile()
    with store.transaction(write=False):  # one consistent snapshot
        owned = erasures.records_of_kol(store, kol_id)
        data: dict[str, Any] = {
            "about": f"Everything msl-tui holds about {kol.name} in one store",
            "generated_at": iso(now or utcnow()),
            "store": {
                "file": str(store.path) if store.path else ":memory:",
                "device": store.device_id,
                "msl": profile.msl_id if profile else None,
            },
            "kol": _record(kol),
        }
        for entity_name, model, key, _ in _SECTIONS:
            found = [store.get(model, record_id) for record_id in sorted(owned[entity_name])]
            data[key] = [_record(r) for r in found if r is not None]
        data["drafts"] = [
            {"id": d["id"], "updated_at": d["updated_at"], "payload": d["payload"]}
            for d in store.list_drafts()
            if d["kol_id"] == kol_id
        ]
        ids_by_entity = {name: ids for name, ids in owned.items()}
        data["conflicts"] = [
            {k: c[k] for k in ("entity", "record_id", "field", "kept_value", "other_value")}
            | {"detected_at": c["detected_at"], "resolved_at": c["resolved_at"]}
            for c in sync_log.list_conflicts(store, open_only=False)
            if c["record_id"] in ids_by_entity.get(c["entity"], ())
        ]
        history = []
        for name, ids in owned.items():
            for rows in sync_log.changes_for_records(store, name, sorted(ids)).values():
                for row in rows:
                    if row["patch"] == erasures.MARKER:
                        continue
                    history.append(
                        {
                            "at": stamp_iso(row["hlc"]),
                            "entity": name,
                            "record_id": row["record_id"],
                            "device": row["device_id"],
                            "author": row["author"] or "",
                            "fields": json.loads(row["patch"]),
                        }
                    )
        data["history"] = sorted(history, key=lambda h: (h["at"], h["entity"], h["record_id"]))
    return data


# -- Markdown -------------------------------------------------------------------------------


def _value(value: Any) -> str:
    if isinstance(value, str):
        return "\n".join(printable(line, None) for line in value.split("\n"))
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _fields(record: dict[str, Any], skip: Iterable[str] = ()) -> list[str]:
    out = []
    for name, value in record.items():
        if name in skip or value in (None, "", [], {}):
            continue
        text = _value(value)
        if "\n" in text:
            quoted = "\n".join(f"  > {line}" for line in text.splitlines())
            out.append(f"- **{name}**:\n{quoted}")
        else:
            out.append(f"- **{name}**: {text}")
    return out


def to_markdown(data: dict[str, Any]) -> str:
    kol = data["kol"]
    lines = [
        f"# Data held about {printable(kol['name'], None)}",
        "",
        f"{data['about']}, written {data['generated_at']} (UTC) from store "
        f"`{data['store']['file']}` (device {data['store']['device']}). "
        "The JSON file beside this one holds the same data in full.",
        "",
        "## Profile",
        "",
        *_fields(kol),
    ]
    for _, _, key, title in _SECTIONS:
        lines += ["", f"## {title} ({len(data[key])})"]
        for record in data[key]:
            head = record.get("occurred_at") or record.get("period_start") or record.get("action")
            lines += ["", f"### {printable(head, 120)}", "", *_fields(record)]
    lines += ["", f"## Unsent drafts ({len(data['drafts'])})"]
    for draft in data["drafts"]:
        lines += ["", f"### Draft saved {draft['updated_at']}", "", *_fields(draft["payload"])]
    lines += ["", f"## Merge conflicts ({len(data['conflicts'])})"]
    for c in data["conflicts"]:
        lines += ["", f"### {c['entity']} {c['record_id']}: {c['field']}", "", *_fields(c)]
    lines += [
        "",
        f"## Change history ({plural(len(data['history']), 'change')})",
        "",
        "Every change recorded to these records, with the values it set.",
    ]
    for h in data["history"]:
        who = printable(h["author"] or h["device"], 60)
        lines += ["", f"### {h['at']}: {h['entity']} {h['record_id'][:8]} by {who}", ""]
        lines += _fields(h["fields"])
    return "\n".join(lines) + "\n"


# -- writing --------------------------------------------------------------------------------


@dataclass
class Written:
    json_path: Path
    markdown_path: Path
    data: dict[str, Any]

    def line(self) -> str:
        counts = ", ".join(
            plural(len(self.data[key]), noun)
            for key, noun in (
                ("plans", "plan"),
                ("interactions", "interaction"),
                ("followups", "follow-up"),
                ("drafts", "draft"),
                ("conflicts", "conflict"),
                ("history", "change"),
            )
        )
        return (
            f"wrote {printable(self.json_path, None)} and {printable(self.markdown_path, None)} "
            f"({counts}); they hold personal data: hand them over securely"
        )


def output_paths(out: Path) -> tuple[Path, Path]:
    """FILE.json and FILE.md for ``--out FILE`` (a .json or .md suffix given is replaced)."""
    base = out.with_suffix("") if out.suffix in (".json", ".md") else out
    return base.with_name(base.name + ".json"), base.with_name(base.name + ".md")


def write_export(
    store: Store, kol_id: str, out: Path, *, force: bool = False, now: datetime | None = None
) -> Written:
    json_path, md_path = output_paths(out)
    if not json_path.parent.is_dir():
        raise SubjectAccessError(f"folder {printable(json_path.parent, 160)} does not exist")
    taken = [p for p in (json_path, md_path) if p.exists() or p.is_symlink()]
    if taken and not force:
        raise SubjectAccessError(
            f"{printable(taken[0], 160)} already exists: name another file, or --force"
        )
    data = gather(store, kol_id, now=now)
    texts = {
        json_path: json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n",
        md_path: to_markdown(data),
    }
    temps: list[Path] = []
    try:
        for path, text in texts.items():
            tmp = private_temp_path(path)
            temps.append(tmp)
            with create_private_file(tmp) as handle:
                handle.write(text.encode("utf-8"))
                handle.flush()
        for path, tmp in zip(texts, temps, strict=True):
            try:
                publish(tmp, path, replace=force)
            except FileExistsError:
                raise SubjectAccessError(
                    f"{printable(path, 160)} already exists: name another file, or --force"
                ) from None
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
    return Written(json_path, md_path, data)
