"""The KOL's individual engagement plan: objectives, activities, cadence, phase, history.

Editing is keyboard-only. A value that does not validate is reported beside its field and
stays exactly as typed; nothing is saved until every field is valid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static

from msl_tui.messages import DataChanged
from msl_tui.models import EngagementPlan, LifecyclePhase, ObjectiveKind
from msl_tui.services.plan_progress import plan_progress
from msl_tui.services.plans import (
    PlanEditError,
    new_plan,
    plan_history,
    save_objective,
    toggle_activity,
    update_plan,
)

if TYPE_CHECKING:
    from msl_tui.app import MslApp


class PlanScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="plan.back"),
        Binding("e", "edit", "Edit objective", id="plan.edit"),
        Binding("a", "add", "Add objective", id="plan.add"),
        Binding("d", "activity_done", "Activity done", id="plan.activity"),
        Binding("ctrl+s", "save", "Save", id="plan.save"),
    ]

    def __init__(self, kol_id: str) -> None:
        super().__init__()
        self.current_kol_id = kol_id
        self.plan: EngagementPlan | None = None
        self.editing: str | None = None  # objective id, or None for a new one

    @property
    def msl_app(self) -> MslApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="plan-page"):
            yield Static("", id="plan-head")
            with Horizontal(classes="form-row"):
                yield Label("Cadence (days)")
                yield Input(id="cadence", restrict=r"\d*", max_length=3)
                yield Label("Phase")
                yield Select([(p.value, p) for p in LifecyclePhase], id="phase", allow_blank=False)
            yield Static("", id="plan-error", classes="error")
            yield Static("[b]Objectives[/b] (e edit · a add)", classes="section")
            yield DataTable(id="objectives", cursor_type="row")
            yield Static("[b]Activities[/b] (d marks done / not done)", classes="section")
            yield DataTable(id="activities", cursor_type="row")
            with Vertical(id="objective-form"):
                yield Static("[b]Objective[/b] (ctrl+s saves)", id="form-title")
                with Horizontal(classes="form-row"):
                    yield Select(
                        [(k.value, k) for k in ObjectiveKind], id="obj-kind", allow_blank=False
                    )
                    yield Input(placeholder="What both sides want to achieve", id="obj-description")
                with Horizontal(classes="form-row"):
                    yield Input(
                        placeholder="measure (interactions, survey score, milestone)",
                        id="obj-measure",
                        value="interactions",
                    )
                    yield Input(placeholder="target", id="obj-target", value="1")
                    yield Input(placeholder="due YYYY-MM-DD", id="obj-due")
                yield Static("", id="obj-error", classes="error")
            yield Static("", id="history")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#objectives", DataTable).add_columns(
            "Kind", "Objective", "Measure", "Target", "Due", "Progress"
        )
        self.query_one("#activities", DataTable).add_columns(
            "Activity", "Description", "Owner", "Due", "Done"
        )
        self.load()
        self.query_one("#objectives", DataTable).focus()

    def load(self) -> None:
        store = self.msl_app.store
        plan = store.current_plan(self.current_kol_id)
        if plan is None:
            plan = new_plan(store, self.current_kol_id, self.msl_app.now().date())
            self.msl_app.refresh_data()
        self.plan = plan
        self._render_plan()

    def _render_plan(self) -> None:
        assert self.plan is not None
        plan, store = self.plan, self.msl_app.store
        today = self.msl_app.now().date()
        kol = store.get_kol(plan.kol_id)
        progress = plan_progress(plan, store.interactions_for(plan.kol_id, limit=1000), today)
        self.sub_title = f"Plan: {kol.name if kol else ''}"
        self.query_one("#plan-head", Static).update(
            f"[b]{escape(kol.name if kol else '')}[/b] · {plan.period_start} to "
            f"{plan.period_end} · {plan.status.value}\n{progress.summary(today)}"
        )
        cadence = self.query_one("#cadence", Input)
        if not cadence.has_focus:
            cadence.value = str(plan.cadence_days)
        self.query_one("#phase", Select).value = plan.lifecycle_phase
        objectives = self.query_one("#objectives", DataTable)
        objectives.clear()
        for op in progress.objectives:
            o = op.objective
            objectives.add_row(
                o.kind.value,
                o.description,
                o.measure,
                str(o.target),
                o.due.isoformat() if o.due else "-",
                ("met · " if op.met else "") + op.label,
                key=o.id,
            )
        activities = self.query_one("#activities", DataTable)
        activities.clear()
        for a in plan.activities:
            activities.add_row(
                a.kind.value,
                a.description,
                a.owner.value,
                a.due.isoformat() if a.due else "-",
                a.done_on.isoformat() if a.done_on else "no",
                key=a.id,
            )
        edits = plan_history(store, plan.id)[:6]
        lines = [
            f"  {e.when:%Y-%m-%d %H:%M} {escape(e.author)}: {', '.join(e.fields) or 'created'}"
            for e in edits
        ]
        self.query_one("#history", Static).update("[b]Plan history[/b]\n" + "\n".join(lines))

    @on(DataChanged)
    def _data_changed(self) -> None:
        if self.plan is not None:
            self.plan = self.msl_app.store.current_plan(self.current_kol_id) or self.plan
            self._render_plan()

    # -- plan-level fields ------------------------------------------------------------------

    @on(Input.Submitted, "#cadence")
    def _cadence(self, event: Input.Submitted) -> None:
        self._save_plan_fields(cadence_days=event.value)

    @on(Select.Changed, "#phase")
    def _phase(self, event: Select.Changed) -> None:
        # Only the MSL's own choice counts: the select also reports values the screen set
        # (and a stale one from mounting), which must never rewrite the plan.
        if not event.select.has_focus or event.value != event.select.value:
            return
        if self.plan is not None and event.value != self.plan.lifecycle_phase:
            self._save_plan_fields(lifecycle_phase=event.value)

    def _save_plan_fields(self, **changes: Any) -> None:
        assert self.plan is not None
        error = self.query_one("#plan-error", Static)
        try:
            self.plan = update_plan(self.msl_app.store, self.plan, **changes)
        except PlanEditError as exc:
            error.update(f"! {exc.field}: {exc.message}")
            return
        error.update("")
        self.msl_app.refresh_data()

    # -- objectives -----------------------------------------------------------------------

    def _form_values(self) -> dict[str, Any]:
        due = self.query_one("#obj-due", Input).value.strip()
        return {
            "kind": self.query_one("#obj-kind", Select).value,
            "description": self.query_one("#obj-description", Input).value,
            "measure": self.query_one("#obj-measure", Input).value.strip() or "interactions",
            "target": self.query_one("#obj-target", Input).value.strip() or "1",
            "due": due or None,
        }

    def action_edit(self) -> None:
        table = self.query_one("#objectives", DataTable)
        if self.plan is None or not self.plan.objectives:
            self.action_add()
            return
        objective = self.plan.objectives[max(0, table.cursor_row)]
        self.editing = objective.id
        self.query_one("#obj-kind", Select).value = objective.kind
        self.query_one("#obj-description", Input).value = objective.description
        self.query_one("#obj-measure", Input).value = objective.measure
        self.query_one("#obj-target", Input).value = str(objective.target)
        self.query_one("#obj-due", Input).value = objective.due.isoformat() if objective.due else ""
        self.query_one("#form-title", Static).update("[b]Edit objective[/b] (ctrl+s saves)")
        self.query_one("#obj-description", Input).focus()

    def action_add(self) -> None:
        self.editing = None
        for field, value in (
            ("#obj-description", ""),
            ("#obj-measure", "interactions"),
            ("#obj-target", "1"),
            ("#obj-due", ""),
        ):
            self.query_one(field, Input).value = value
        self.query_one("#form-title", Static).update("[b]New objective[/b] (ctrl+s saves)")
        self.query_one("#obj-description", Input).focus()

    def action_save(self) -> None:
        if self.plan is None:
            return
        focused = self.focused
        if focused is not None and focused.id == "cadence":
            self._save_plan_fields(cadence_days=self.query_one("#cadence", Input).value)
            return
        error = self.query_one("#obj-error", Static)
        try:
            self.plan = save_objective(
                self.msl_app.store, self.plan, self._form_values(), self.editing
            )
        except PlanEditError as exc:
            # The typed values stay in their fields; only the message changes.
            error.update(f"! {exc.field}: {exc.message}")
            return
        error.update("")
        self.editing = None
        self.notify("Objective saved")
        self.msl_app.refresh_data()
        self.query_one("#objectives", DataTable).focus()

    def action_activity_done(self) -> None:
        table = self.query_one("#activities", DataTable)
        if self.plan is None or not self.plan.activities:
            return
        activity = self.plan.activities[max(0, table.cursor_row)]
        self.plan = toggle_activity(
            self.msl_app.store, self.plan, activity.id, self.msl_app.now().date()
        )
        self.msl_app.refresh_data()

    def action_back(self) -> None:
        self.app.pop_screen()
