"""`msl brief QUERY`: the pre-call brief as Markdown on stdout, for the car park."""

from __future__ import annotations

from pathlib import Path

import click

from msl_tui.cli import db_option, fail, main, open_store, resolve_db
from msl_tui.cli.kol_lookup import choose_kol
from msl_tui.safe_text import printable
from msl_tui.services.adverse_events import local_stamp
from msl_tui.services.brief import Brief, build_brief
from msl_tui.timestamps import utcnow


def _p(value: object) -> str:
    """Store text on one line, with anything that could drive the terminal escaped."""
    return printable(value, None)


def _list(items: list[str], empty: str) -> list[str]:
    return items or [f"- {empty}"]


def brief_markdown(brief: Brief) -> str:
    """The brief as Markdown; every value from the store passes through ``printable``."""
    who = ", ".join(_p(v) for v in (brief.name, brief.credentials) if v)
    where = " · ".join(
        _p(v)
        for v in (brief.specialty, ", ".join(x for x in (brief.institution, brief.city) if x))
        if v
    )
    lines = [f"# Pre-call brief: {who}", ""]
    if where:
        lines += [where, ""]
    lines += [
        f"- **Segment:** {_p(brief.segment)}",
        f"- **Prefers:** {_p(brief.channel_text)}",
        f"- **Contact:** {_p(brief.contact_text)}; {_p(brief.due_text)}",
    ]
    if brief.unreported_adverse_events:
        lines += ["", "## Adverse events not yet reported", ""]
        lines += [f"- {_p(text)}" for text in brief.unreported_adverse_events]

    lines += ["", "## Last visits", ""]
    visits = []
    for v in brief.visits:
        line = f"- {local_stamp(v.occurred_at)} · {_p(v.channel)}, {v.duration_min} min"
        line += f": {_p(v.summary) or '(no note)'}"
        if v.amended:
            line += " (amended)"
        if v.adverse_event:
            line += f" · adverse event {_p(v.adverse_event)}"
        visits.append(line)
    lines += _list(visits, "no visits yet")

    lines += ["", "## Open follow-ups", ""]
    followups = []
    for f in brief.open_followups:
        due = f"due {f.due}" if f.due else "no due date"
        if f.overdue_days:
            due += f", {f.overdue_days} days overdue"
        followups.append(f"- [ ] {_p(f.action)} ({due}; {_p(f.owner)})")
    lines += _list(followups, "none open")

    lines += ["", "## Objectives and progress", ""]
    if brief.plan_summary:
        lines += [_p(brief.plan_summary), ""]
    objectives = [
        f"- [{'x' if o.met else ' '}] {_p(o.kind)}: {_p(o.description)} ({_p(o.progress)})"
        for o in brief.objectives
    ]
    lines += _list(objectives, "no engagement plan objectives")

    lines += ["", "## Questions asked before, still unanswered", ""]
    questions = [
        f"- {_p(q.text)} (last asked {q.last_asked}"
        + (f", {q.times_asked} times)" if q.times_asked > 1 else ")")
        for q in brief.open_questions
    ]
    lines += _list(questions, "none open")

    lines += ["", "## Heard recently", ""]
    heard = [f"- {h.on} {_p(h.kind)}: {_p(h.text)}" for h in brief.heard]
    lines += _list(heard, "no insights or feedback recorded yet")
    return "\n".join(lines) + "\n"


@main.command()
@click.argument("query", nargs=-1, required=True)
@db_option
def brief(query: tuple[str, ...], db_path: Path | None) -> None:
    """Print the pre-call brief for the KOL whose name matches QUERY, as Markdown."""
    path = resolve_db(db_path)
    if not path.exists():
        fail(f"no store at {path}: run `msl init --name NAME` or pass --db")
    store = open_store(path, create=False, read_only=True)  # a brief only reads
    kol = choose_kol(store, " ".join(query))
    click.echo(brief_markdown(build_brief(store, kol.id, utcnow())), nl=False)
