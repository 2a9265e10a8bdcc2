"""One KOL: profile, plan progress, follow-ups to tick, and the timeline of contacts.

Follow-ups keep their place while the page is open: a row ticked done stays under the cursor
(marked done) so a second `x` undoes it, and a row reopened from Done stays there. They move
to their section the next time the page opens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Header, ListItem, ListView, Static

from msl_tui.messages import DataChanged
from msl_tui.models import FollowUp, Interaction
from msl_tui.screens.context import UsesAppContext
from msl_tui.services.adverse_events import local_stamp, report_status
from msl_tui.services.kol_page import KolPage, load_kol_page, toggle_followup
from msl_tui.services.segments import lifecycle_words, stage_words, stance_word
from msl_tui.widgets.footer import KeyFooter

OPEN, DONE = "open", "done"


def _enum_list(values: list) -> str:  # type: ignore[type-arg]
    return ", ".join(v.value for v in values) or "-"


def profile_text(page: KolPage) -> Content:
    k = page.kol
    lines = [
        Content.from_markup(
            "[b]$name[/b] $cred · $specialty · $where",
            name=k.name,
            cred=k.credentials,
            specialty=k.specialty,
            # No dangling comma when the city (or the institution) is not known.
            where=", ".join(part for part in (k.institution, k.city) if part),
        ),
        Content.from_markup(
            "Segment: [b]$segment[/b] ($influence influence, $stance) · $stage"
            " · territory $territory",
            segment=page.segment.value,
            influence=k.influence.value,
            stance=stance_word(k.stance),
            stage=stage_words(k.stage),
            territory=k.territory or "-",
        ),
        Content(
            f"Strengths: {_enum_list(k.strengths)} · prefers: {_enum_list(k.preferred_channels)}"
        ),
        Content(
            f"Identified by: {_enum_list(k.identified_by)}"
            + (f" ({k.identification_note})" if k.identification_note else "")
        ),
        Content(
            f"Areas: {', '.join(k.therapeutic_areas) or '-'} · tags: {', '.join(k.tags) or '-'}"
        ),
    ]
    if k.profile_note:
        lines.append(Content(k.profile_note))
    return Content("\n").join(lines)


def plan_text(page: KolPage, today: date) -> Content:
    if page.plan is None or page.progress is None:
        return Content.from_markup("[b]Engagement plan[/b]: none yet. Press p to create one.")
    plan, progress = page.plan, page.progress
    lines = [
        Content.from_markup(
            "[b]Engagement plan[/b] $start to $end · $phase · check-in every $days days",
            start=str(plan.period_start),
            end=str(plan.period_end),
            phase=lifecycle_words(plan.lifecycle_phase),
            days=str(plan.cadence_days),
        ),
        Content(progress.summary(today)),
    ]
    for op in progress.objectives:
        mark = "[x]" if op.met else "[ ]"
        o = op.objective
        lines.append(Content(f"  {mark} {o.kind.value}: {o.description} ({op.label})"))
    return Content("\n").join(lines)


def interaction_text(i: Interaction, now: datetime) -> Content:
    head = Content.from_markup(
        "[b]$when[/b] $channel, $minutes min",
        when=local_stamp(i.occurred_at),
        channel=i.channel.value,
        minutes=str(i.duration_min),
    )
    if i.amendments:
        head += Content(f" · amended {len(i.amendments)}x")
    lines = [head, Content(f"  {i.notes}")]
    for insight in i.insights:
        lines.append(Content(f"  insight ({insight.category.value}): {insight.text}"))
    if i.feedback:
        fb = i.feedback
        lines.append(
            Content(
                f"  feedback {fb.sentiment.value}: {fb.about or '-'}"
                + (f"; root cause: {fb.root_cause}" if fb.root_cause else "")
                + (f"; response: {fb.response}" if fb.response else "")
            )
        )
    if i.adverse_event:
        ae = i.adverse_event
        status = report_status(ae, now)
        style = "bold $error" if ae.reported_at is None or "late:" in status else "bold"
        lines.append(
            Content.assemble(
                "  ",
                ("adverse event", style),
                f": {ae.event or 'event not described'} — {status}",
            )
        )
        for follow in ae.followups:
            lines.append(Content(f"    follow-up {local_stamp(follow.at)}: {follow.text}"))
    if i.med_info_request:
        lines.append(Content(f"  unsolicited request: {i.med_info_request.question}"))
    if i.transfer_of_value:
        t = i.transfer_of_value
        lines.append(Content(f"  transfer of value: {t.nature} {t.amount} {t.currency}"))
    for amendment in i.amendments:
        was = [
            f"time {local_stamp(amendment.previous_occurred_at)}"
            if amendment.previous_occurred_at
            else "",
            f"channel {amendment.previous_channel.value}" if amendment.previous_channel else "",
        ]
        moved = "; ".join(w for w in was if w)
        lines.append(
            Content(
                f"  earlier ({local_stamp(amendment.at)[:10]}, {amendment.reason}): "
                + (f"{moved}; " if moved else "")
                + f"text: {amendment.previous_notes}"
            )
        )
    return Content("\n").join(lines)


class KolPageScreen(UsesAppContext, Screen[None]):
    DEFAULT_CSS = """
    KolPageScreen #timeline {
        height: auto;
    }
    KolPageScreen #timeline > ListItem {
        padding: 0 0 1 0;
    }
    KolPageScreen #done-followups {
        height: auto;
        max-height: 8;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="kol.back"),
        Binding("n", "note", "Note", id="kol.note"),
        Binding("p", "plan", "Plan", id="kol.plan"),
        Binding("b", "app.brief", "Brief", id="kol.brief"),
        Binding("x,space", "tick", "Tick", id="kol.tick", tooltip="Tick the follow-up done"),
        # The same keys on a done follow-up, named for what they do there.
        Binding("x,space", "reopen", "Reopen", id="kol.reopen", tooltip="Reopen the follow-up"),
        Binding("a", "amend", "Amend", id="kol.amend", tooltip="Amend the highlighted visit"),
        Binding("r", "report_ae", "AE reported", id="kol.ae"),
        Binding("i", "ae_followup", "AE info", id="kol.ae_followup"),
    ]

    def __init__(self, kol_id: str) -> None:
        super().__init__()
        self.current_kol_id = kol_id
        self.page: KolPage | None = None
        self.rows: dict[str, list[FollowUp]] = {OPEN: [], DONE: []}
        # Where each follow-up was first shown while this page is open, and (for Done) the
        # order it was shown in: toggling never moves a row from under the cursor.
        self._section: dict[str, str] = {}
        self._done_order: dict[str, float] = {}
        self.visits: list[Interaction] = []
        # Rebuilding the timeline awaits mounts: one render at a time, or items double.
        self._render_lock = asyncio.Lock()

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="kol-page"):
            yield Static("Loading…", id="profile")
            yield Static("", id="plan-summary")
            yield Static("", id="open-title", classes="section")
            yield DataTable(id="followups", cursor_type="row")
            yield Static("", id="done-title", classes="section")
            yield DataTable(id="done-followups", cursor_type="row")
            yield Static("", id="timeline-title", classes="section")
            yield ListView(id="timeline")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        # The action last: on a narrow terminal it is the column that gets cut.
        self.query_one("#followups", DataTable).add_columns("Due", "State", "Owner", "Action")
        self.query_one("#done-followups", DataTable).add_columns(
            "Done on", "State", "Owner", "Action"
        )
        self.query_one("#followups", DataTable).focus()
        self.load()

    @work(thread=True, exclusive=True, group="kol-page")
    def load(self) -> None:
        page = load_kol_page(self.msl_app.store, self.current_kol_id, self.msl_app.now())
        self.app.call_from_thread(self._render_page, page)  # type: ignore[arg-type]

    async def _render_page(self, page: KolPage) -> None:
        async with self._render_lock:
            await self._render_page_now(page)

    async def _render_page_now(self, page: KolPage) -> None:
        self.page = page
        self.sub_title = page.kol.name
        now = self.msl_app.now()
        self.query_one("#profile", Static).update(profile_text(page))
        self.query_one("#plan-summary", Static).update(plan_text(page, now.date()))
        self._render_followups(page.followups, now.date())
        await self._render_timeline(page.interactions, now)
        self.refresh_bindings()

    # -- follow-ups -----------------------------------------------------------------------

    def _render_followups(self, followups: list[FollowUp], today: date) -> None:
        for f in followups:
            section = self._section.setdefault(f.id, DONE if f.done else OPEN)
            if section == DONE and f.id not in self._done_order:
                self._done_order[f.id] = -(f.done_at.timestamp() if f.done_at else 0.0)
        open_rows = [f for f in followups if self._section[f.id] == OPEN]
        open_rows.sort(key=lambda f: (f.due or date.max, f.action.lower(), f.id))
        done_rows = [f for f in followups if self._section[f.id] == DONE]
        done_rows.sort(key=lambda f: (self._done_order[f.id], f.id))

        def open_cells(f: FollowUp) -> tuple[str, ...]:
            if f.done:
                state = "done ✓ (x reopens)"
            elif f.due and f.due < today:
                state = f"! {(today - f.due).days}d overdue"
            else:
                state = "open"
            return (str(f.due or "-"), state, f.owner.value, f.action)

        def done_cells(f: FollowUp) -> tuple[str, ...]:
            state = "done" if f.done else "reopened (x ticks done)"
            done_on = f"{f.done_at:%Y-%m-%d}" if f.done_at else "-"
            return (done_on, state, f.owner.value, f.action)

        self._fill("#followups", OPEN, open_rows, open_cells)
        self._fill("#done-followups", DONE, done_rows, done_cells)

        still_open = sum(1 for f in open_rows if not f.done)
        just_done = len(open_rows) - still_open
        title = f"[b]Open follow-ups ({still_open})[/b] · x ticks the highlighted one done"
        if just_done:
            title += f" · {just_done} just ticked: x again reopens"
        self.query_one("#open-title", Static).update(Content.from_markup(title))
        done_count = sum(1 for f in done_rows if f.done)
        done_title = f"[b]Done ({done_count})[/b] · x reopens the highlighted one"
        self.query_one("#done-title", Static).update(Content.from_markup(done_title))

    def _fill(
        self,
        selector: str,
        section: str,
        rows: list[FollowUp],
        cells: Callable[[FollowUp], tuple[str, ...]],
    ) -> None:
        table = self.query_one(selector, DataTable)
        before = self.rows[section]
        under_cursor = (
            before[table.cursor_row].id if before and 0 <= table.cursor_row < len(before) else None
        )
        table.clear()
        for f in rows:
            table.add_row(*(Text(c) for c in cells(f)), key=f.id)  # Text: never markup
        self.rows[section] = rows
        ids = [f.id for f in rows]
        if under_cursor in ids:
            table.move_cursor(row=ids.index(under_cursor), animate=False)
        elif rows:
            table.move_cursor(row=min(max(table.cursor_row, 0), len(rows) - 1), animate=False)

    @property
    def followups(self) -> list[FollowUp]:
        """The rows of the open follow-ups table, in the order shown."""
        return self.rows[OPEN]

    def _focused_section(self) -> str | None:
        focused = self.focused
        if focused is not None and focused.id == "followups":
            return OPEN
        if focused is not None and focused.id == "done-followups":
            return DONE
        return None

    def highlighted_followup(self) -> FollowUp | None:
        """The follow-up under the cursor of the focused follow-up table."""
        section = self._focused_section()
        if section is None:
            return None
        table = self.query_one("#followups" if section == OPEN else "#done-followups", DataTable)
        rows = self.rows[section]
        return rows[table.cursor_row] if 0 <= table.cursor_row < len(rows) else None

    # -- timeline -------------------------------------------------------------------------

    async def _render_timeline(self, interactions: list[Interaction], now: datetime) -> None:
        timeline = self.query_one("#timeline", ListView)
        visits = [i for i in interactions if not i.deleted]
        count = f"{len(visits)} visit" + ("" if len(visits) == 1 else "s")
        title = f"[b]Timeline ({count}, newest first)[/b]"
        if visits:
            title += " · tab to it; a amends the highlighted visit"
            if any(v.adverse_event for v in visits):
                title += ", r marks its adverse event reported"
        self.query_one("#timeline-title", Static).update(Content.from_markup(title))
        if visits and [v.id for v in visits] == [v.id for v in self.visits]:
            # Same visits: redraw in place, so the highlight stays where it is.
            for item, visit in zip(timeline.query(ListItem), visits, strict=True):
                item.query_one(Static).update(interaction_text(visit, now))
            self.visits = visits
            return
        index = timeline.index
        highlighted = self.visits[index] if index is not None and index < len(self.visits) else None
        self.visits = visits
        await timeline.clear()
        if not visits:
            await timeline.append(ListItem(Static("No contacts yet. n writes the first note.")))
            return
        await timeline.extend(ListItem(Static(interaction_text(v, now))) for v in visits)
        ids = [v.id for v in visits]
        timeline.index = ids.index(highlighted.id) if highlighted and highlighted.id in ids else 0

    def highlighted_visit(self) -> Interaction | None:
        """The visit under the timeline's cursor, when the timeline has the focus."""
        timeline = self.query_one("#timeline", ListView)
        if not timeline.has_focus:
            return None
        index = timeline.index
        return self.visits[index] if index is not None and 0 <= index < len(self.visits) else None

    @on(ListView.Highlighted, "#timeline")
    def _visit_highlighted(self, event: ListView.Highlighted) -> None:
        # The page scrolls as a whole: bring the highlighted visit into view.
        if event.item is not None and event.list_view.has_focus:
            event.item.scroll_visible(animate=False)
        self.refresh_bindings()

    @on(DataChanged)
    def _data_changed(self) -> None:
        self.load()

    # -- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The footer follows the focus: 80 columns hold the keys of one part at a time.
        if action in ("tick", "reopen"):
            # One key toggles; the footer names what it does to the highlighted row.
            followup = self.highlighted_followup()
            return followup is not None and followup.done == (action == "reopen")
        if action == "amend":
            return bool(self.visits)
        if action == "report_ae":
            return any(v.adverse_event for v in self.visits)
        if action == "ae_followup":
            visit = self.highlighted_visit()
            return visit is not None and visit.adverse_event is not None
        return True

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()
        timeline = self.query_one("#timeline", ListView)
        if timeline.has_focus and timeline.highlighted_child is not None:
            # After the screen's own scroll to the focused widget, show the visit itself.
            self.call_after_refresh(timeline.highlighted_child.scroll_visible, animate=False)

    def action_note(self) -> None:
        self.msl_app.open_capture(self.current_kol_id)

    def action_plan(self) -> None:
        self.msl_app.open_plan(self.current_kol_id)

    def action_amend(self) -> None:
        self.msl_app.action_amend_visit()

    def action_report_ae(self) -> None:
        self.msl_app.action_mark_ae_reported()

    def action_ae_followup(self) -> None:
        self.msl_app.action_ae_followup()

    def action_reopen(self) -> None:
        self.action_tick()  # the toggle reopens a done follow-up

    def action_tick(self) -> None:
        followup = self.highlighted_followup()
        if followup is None:
            return
        saved = toggle_followup(self.msl_app.store, followup.id, self.msl_app.now())
        self.notify(("Done: " if saved.done else "Reopened: ") + saved.action, markup=False)
        self.msl_app.refresh_data()
