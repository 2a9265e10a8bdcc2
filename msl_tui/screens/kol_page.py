"""One KOL: profile, plan progress, open follow-ups to tick, and the timeline of contacts."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from msl_tui.messages import DataChanged
from msl_tui.models import FollowUp, Interaction
from msl_tui.services.kol_page import KolPage, load_kol_page, set_followup_done

if TYPE_CHECKING:
    from msl_tui.app import MslApp


def _enum_list(values: list) -> str:  # type: ignore[type-arg]
    return ", ".join(v.value for v in values) or "-"


def profile_text(page: KolPage) -> str:
    k = page.kol
    lines = [
        f"[b]{escape(k.name)}[/b] {escape(k.credentials)} · {escape(k.specialty)} · "
        f"{escape(k.institution)}, {escape(k.city)}",
        f"Segment: [b]{page.segment.value}[/b] ({k.influence.value} influence, "
        f"{k.stance.value}) · engagement {k.stage.value} · territory {escape(k.territory or '-')}",
        f"Strengths: {_enum_list(k.strengths)} · prefers: {_enum_list(k.preferred_channels)}",
        f"Identified by: {_enum_list(k.identified_by)}"
        + (f" ({escape(k.identification_note)})" if k.identification_note else ""),
        f"Areas: {escape(', '.join(k.therapeutic_areas) or '-')} · tags: "
        f"{escape(', '.join(k.tags) or '-')}",
    ]
    if k.profile_note:
        lines.append(escape(k.profile_note))
    return "\n".join(lines)


def plan_text(page: KolPage, today_iso: str) -> str:
    if page.plan is None or page.progress is None:
        return "[b]Engagement plan[/b]: none yet. Press p to create one."
    plan, progress = page.plan, page.progress
    from datetime import date

    lines = [
        f"[b]Engagement plan[/b] {plan.period_start} to {plan.period_end} · "
        f"{plan.lifecycle_phase.value} phase · check-in every {plan.cadence_days} days",
        progress.summary(date.fromisoformat(today_iso)),
    ]
    for op in progress.objectives:
        mark = "[x]" if op.met else "[ ]"
        lines.append(
            f"  {escape(mark)} {op.objective.kind.value}: {escape(op.objective.description)} "
            f"({op.label})"
        )
    return "\n".join(lines)


def interaction_text(i: Interaction) -> str:
    when = i.occurred_at.astimezone().strftime("%Y-%m-%d %H:%M")
    head = f"[b]{when}[/b] {i.channel.value}, {i.duration_min} min"
    if i.status.value == "amended":
        head += f" · amended {len(i.amendments)}x"
    lines = [head, f"  {escape(i.notes)}"]
    for insight in i.insights:
        lines.append(f"  insight ({insight.category.value}): {escape(insight.text)}")
    if i.feedback:
        fb = i.feedback
        lines.append(
            f"  feedback {fb.sentiment.value}: {escape(fb.about or '-')}"
            + (f"; root cause: {escape(fb.root_cause)}" if fb.root_cause else "")
            + (f"; response: {escape(fb.response)}" if fb.response else "")
        )
    if i.adverse_event:
        ae = i.adverse_event
        status = f"reported {ae.reported_at:%Y-%m-%d %H:%M}" if ae.reported_at else "NOT REPORTED"
        lines.append(f"  adverse event: {escape(ae.event or 'unspecified')} — {status}")
    if i.med_info_request:
        lines.append(f"  unsolicited request: {escape(i.med_info_request.question)}")
    if i.transfer_of_value:
        t = i.transfer_of_value
        lines.append(f"  transfer of value: {escape(t.nature)} {t.amount} {t.currency}")
    for amendment in i.amendments:
        lines.append(
            f"  earlier text ({amendment.at:%Y-%m-%d}, {escape(amendment.reason)}): "
            f"{escape(amendment.previous_notes)}"
        )
    return "\n".join(lines)


class KolPageScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="kol.back"),
        Binding("n", "note", "New note", id="kol.note"),
        Binding("p", "plan", "Plan", id="kol.plan"),
        Binding("x,space", "tick", "Tick follow-up", id="kol.tick"),
    ]

    def __init__(self, kol_id: str) -> None:
        super().__init__()
        self.current_kol_id = kol_id
        self.page: KolPage | None = None
        self.followups: list[FollowUp] = []

    @property
    def msl_app(self) -> MslApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="kol-page"):
            yield Static("Loading…", id="profile")
            yield Static("", id="plan-summary")
            yield Static("[b]Open follow-ups[/b] (x ticks done)", classes="section")
            yield DataTable(id="followups", cursor_type="row")
            yield Static("[b]Timeline[/b] (newest first)", classes="section")
            yield Static("", id="timeline")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#followups", DataTable)
        table.add_columns("Due", "Action", "Owner", "State")
        table.focus()
        self.load()

    @work(thread=True, exclusive=True, group="kol-page")
    def load(self) -> None:
        page = load_kol_page(self.msl_app.store, self.current_kol_id, self.msl_app.now())
        self.app.call_from_thread(self._render_page, page)

    def _render_page(self, page: KolPage) -> None:
        self.page = page
        self.sub_title = page.kol.name
        today = self.msl_app.now().date()
        self.query_one("#profile", Static).update(profile_text(page))
        self.query_one("#plan-summary", Static).update(plan_text(page, today.isoformat()))
        table = self.query_one("#followups", DataTable)
        cursor = table.cursor_row
        table.clear()
        self.followups = [f for f in page.followups if not f.done or f.done_at is not None][:50]
        self.followups = [f for f in self.followups if not f.done] + [
            f for f in self.followups if f.done
        ][:5]
        for f in self.followups:
            if f.done:
                state = "done"
            elif f.due and f.due < today:
                state = f"! {(today - f.due).days}d overdue"
            else:
                state = "open"
            table.add_row(f.due.isoformat() if f.due else "-", f.action, f.owner.value, state)
        if self.followups:
            table.move_cursor(row=min(max(cursor, 0), len(self.followups) - 1))
        timeline = "\n\n".join(interaction_text(i) for i in page.interactions) or "No contacts yet."
        self.query_one("#timeline", Static).update(timeline)

    @on(DataChanged)
    def _data_changed(self) -> None:
        self.load()

    def action_note(self) -> None:
        self.msl_app.open_capture(self.current_kol_id)

    def action_plan(self) -> None:
        self.msl_app.open_plan(self.current_kol_id)

    def action_tick(self) -> None:
        table = self.query_one("#followups", DataTable)
        if not self.followups or not 0 <= table.cursor_row < len(self.followups):
            return
        followup = self.followups[table.cursor_row]
        set_followup_done(self.msl_app.store, followup.id, not followup.done, self.msl_app.now())
        self.notify(("Done: " if not followup.done else "Reopened: ") + followup.action)
        self.msl_app.refresh_data()
