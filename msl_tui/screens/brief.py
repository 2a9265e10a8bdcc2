"""The pre-call brief on screen: the relationship reread in five minutes before a visit."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Header, Static

from msl_tui.messages import DataChanged
from msl_tui.screens.context import UsesAppContext
from msl_tui.services.adverse_events import local_stamp
from msl_tui.services.brief import Brief, build_brief
from msl_tui.widgets.footer import KeyFooter


def _t(text: str) -> Content:
    return Content(text)


def _section(title: str, lines: list[Content], empty: str) -> Content:
    body = lines or [Content.from_markup("  [dim]$e[/dim]", e=empty)]
    return Content("\n").join([Content.from_markup("[b]$t[/b]", t=title), *body])


def head_content(b: Brief) -> Content:
    who = ", ".join(v for v in (b.name, b.credentials) if v)
    place = ", ".join(v for v in (b.institution, b.city) if v)
    where = " · ".join(v for v in (b.specialty, place, b.segment) if v)
    lines = [
        Content.from_markup("[b]$who[/b]", who=who),
        _t(where),
        _t(f"Prefers: {b.channel_text} · {b.contact_text} · {b.due_text}"),
    ]
    for text in b.unreported_adverse_events:
        lines.append(
            Content.assemble(("Adverse event: ", "bold $error"), text, " (r marks it reported)")
        )
    return Content("\n").join(lines)


def visits_content(b: Brief) -> Content:
    lines = []
    for v in b.visits:
        line = Content.from_markup(
            "  [b]$when[/b] $channel, $minutes min: $summary",
            when=local_stamp(v.occurred_at),
            channel=v.channel,
            minutes=str(v.duration_min),
            summary=v.summary or "(no note)",
        )
        if v.amended:
            line += _t(" (amended)")
        if v.adverse_event:
            line += _t(f" · adverse event {v.adverse_event}")
        lines.append(line)
    return _section("Last visits", lines, "no visits yet")


def followups_content(b: Brief) -> Content:
    lines = []
    for f in b.open_followups:
        due = f"due {f.due}" if f.due else "no due date"
        if f.overdue_days:
            due = f"! {f.overdue_days}d overdue, {due}"
        lines.append(_t(f"  [ ] {f.action} ({due}; {f.owner})"))
    return _section(f"Open follow-ups ({len(b.open_followups)})", lines, "none open")


def objectives_content(b: Brief) -> Content:
    lines = [_t(f"  {b.plan_summary}")] if b.plan_summary else []
    lines += [
        _t(f"  [{'x' if o.met else ' '}] {o.kind}: {o.description} ({o.progress})")
        for o in b.objectives
    ]
    return _section("Objectives and progress", lines, "no engagement plan yet (p on the KOL page)")


def questions_content(b: Brief) -> Content:
    lines = [
        _t(
            f"  {q.text} (last asked {q.last_asked}"
            + (f", {q.times_asked} times)" if q.times_asked > 1 else ")")
        )
        for q in b.open_questions
    ]
    return _section("Questions asked before, still unanswered", lines, "none open")


def heard_content(b: Brief) -> Content:
    lines = [_t(f"  {h.on} {h.kind}: {h.text}") for h in b.heard]
    return _section("Heard recently", lines, "no insights or feedback recorded yet")


SECTIONS = (
    ("brief-head", head_content),
    ("brief-visits", visits_content),
    ("brief-followups", followups_content),
    ("brief-objectives", objectives_content),
    ("brief-questions", questions_content),
    ("brief-heard", heard_content),
)


class BriefScreen(UsesAppContext, Screen[None]):
    DEFAULT_CSS = """
    BriefScreen #brief {
        padding: 0 1;
    }
    BriefScreen #brief > Static {
        padding: 1 0 0 0;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="brief.back"),
        Binding("n", "note", "New note", id="brief.note"),
        Binding("k", "kol_page", "KOL page", id="brief.kol"),
        Binding("r", "mark_ae", "AE reported", id="brief.ae"),
    ]

    def __init__(self, kol_id: str) -> None:
        super().__init__()
        self.current_kol_id = kol_id
        self.brief: Brief | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="brief"):
            for widget_id, _ in SECTIONS:
                yield Static("Loading…" if widget_id == "brief-head" else "", id=widget_id)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#brief").focus()
        self.load()

    @work(thread=True, exclusive=True, group="brief")
    def load(self) -> None:
        brief = build_brief(self.msl_app.store, self.current_kol_id, self.msl_app.now())
        self.app.call_from_thread(self._show, brief)

    def _show(self, brief: Brief) -> None:
        self.brief = brief
        self.sub_title = f"Pre-call brief: {brief.name}"
        for widget_id, render in SECTIONS:
            self.query_one(f"#{widget_id}", Static).update(render(brief))
        self.refresh_bindings()

    @on(DataChanged)
    def _data_changed(self) -> None:
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "mark_ae":
            return bool(self.brief and self.brief.unreported_adverse_events)
        return True

    def action_mark_ae(self) -> None:
        self.msl_app.action_mark_ae_reported()

    def action_note(self) -> None:
        self.msl_app.open_capture(self.current_kol_id)

    def action_kol_page(self) -> None:
        from msl_tui.screens.kol_page import KolPageScreen

        # Opened from the KOL page: go back to it rather than stacking a second one.
        below = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else None
        if isinstance(below, KolPageScreen) and below.current_kol_id == self.current_kol_id:
            self.app.pop_screen()
        else:
            self.msl_app.open_kol(self.current_kol_id)
