"""The KOL's individual engagement plan: objectives, activities, cadence, phase, history.

Editing is keyboard-only. `a`, `e` and `delete` act on the section that has the focus
(objectives or activities); the form opens under its table. A value that does not validate
is reported in plain words beside its field and stays exactly as typed; nothing is saved
until every field is valid. After a save the form closes, so a second ctrl+s never adds the
same objective twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Header, Input, Label, Select, Static

from msl_tui.messages import DataChanged
from msl_tui.models import (
    Activity,
    ActivityKind,
    EngagementPlan,
    LifecyclePhase,
    Objective,
    ObjectiveKind,
    OwnerRole,
)
from msl_tui.screens.context import UsesAppContext
from msl_tui.screens.dialogs import confirm_delete, confirm_discard
from msl_tui.services.dates import DUE_EXAMPLES
from msl_tui.services.plan_progress import plan_progress
from msl_tui.services.plans import (
    PlanEditError,
    delete_activity,
    delete_objective,
    new_plan,
    plan_history,
    save_activity,
    save_objective,
    set_cadence,
    set_lifecycle_phase,
    toggle_activity,
    toggle_objective_met,
)
from msl_tui.widgets.footer import KeyFooter

Section = Literal["objective", "activity"]
HISTORY_LINES = 8
NARROW = 100
# (key, label, width below NARROW columns: 0 hides the column, None sizes it to fit)
OBJECTIVE_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("kind", "Kind", None),
    ("description", "Objective", 28),
    ("measure", "Measure", 0),
    ("target", "Target", 0),
    ("due", "Due", None),
    ("progress", "Progress", None),
)
ACTIVITY_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("kind", "Activity", None),
    ("description", "Description", 24),
    ("owner", "Owner", 0),
    ("due", "Due", None),
    ("done", "Done", None),
)

# Form field -> the widget it is typed in, per form ("obj-…" or "act-…").
OBJECTIVE_FIELDS = ("kind", "owner", "description", "measure", "target", "due")
ACTIVITY_FIELDS = ("kind", "owner", "description", "due")
# Which error line (one under each form row) a field's message goes to.
ERROR_ROW = {
    "obj": {"kind": 1, "owner": 1, "description": 2, "measure": 3, "target": 3, "due": 3},
    "act": {"kind": 1, "owner": 1, "description": 2, "due": 3},
}


def _select(options: list[str], widget_id: str, width: int) -> Select[str]:
    select: Select[str] = Select(
        [(o, o) for o in options], id=widget_id, allow_blank=False, compact=True
    )
    select.styles.width = width
    return select


def _input(widget_id: str, placeholder: str = "", **kwargs: Any) -> Input:
    return Input(id=widget_id, placeholder=placeholder, compact=True, **kwargs)


def _field(label: str, widget: Widget, *, first: bool = False) -> ComposeResult:
    yield Label(label, classes="field-label first" if first else "field-label")
    yield widget


class PlanScreen(UsesAppContext, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="plan.back"),
        Binding("a", "add", "Add", id="plan.add"),
        Binding("e", "edit", "Edit", id="plan.edit"),
        Binding("delete", "delete", "Delete", id="plan.delete"),
        Binding("m", "objective_met", "Met", id="plan.met"),
        Binding("d", "activity_done", "Done", id="plan.activity"),
        Binding("ctrl+s", "save", "Save", id="plan.save"),
    ]

    def __init__(self, kol_id: str, *, then: str | None = None) -> None:
        """``then`` names an action to run once the plan shows (the palette's "Add
        activity" from the list opens the plan straight on the activity form)."""
        super().__init__()
        self.current_kol_id = kol_id
        self.then = then
        self.plan: EngagementPlan | None = None
        self.section: Section = "objective"  # the table `a`, `e` and `delete` act on
        self.form: Section | None = None  # the form open, if any
        self.editing: str | None = None  # the id the open form saves to (None: a new one)
        self.form_opened_with: Mapping[str, Any] = {}  # what esc compares with before asking
        self._narrow: bool | None = None  # the column set shown, None before the first

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="plan-page"):
            yield Static("", id="plan-head")
            with Horizontal(classes="plan-row"):
                yield from _field("Cadence (days)", _input("cadence", max_length=4), first=True)
                yield from _field(
                    "Product lifecycle", _select([p.value for p in LifecyclePhase], "phase", 16)
                )
            yield Static("", id="cadence-error", classes="error")
            yield Static(
                "[b]Objectives[/b]  a add · e edit · m met · del delete", classes="section"
            )
            yield DataTable(id="objectives", cursor_type="row")
            with Vertical(id="objective-form", classes="plan-form"):
                yield Static("", id="obj-title", classes="form-title")
                with Horizontal(classes="plan-row"):
                    yield from _field(
                        "Kind",
                        _select([k.value for k in ObjectiveKind], "obj-kind", 16),
                        first=True,
                    )
                    yield from _field(
                        "Owner", _select([o.value for o in OwnerRole], "obj-owner", 23)
                    )
                yield Static("", id="obj-error-1", classes="error")
                with Horizontal(classes="plan-row"):
                    yield from _field(
                        "Objective",
                        _input("obj-description", "what both sides want to achieve"),
                        first=True,
                    )
                yield Static("", id="obj-error-2", classes="error")
                with Horizontal(classes="plan-row"):
                    yield from _field(
                        "Measure", _input("obj-measure", "interactions, survey score"), first=True
                    )
                    yield from _field("Target", _input("obj-target", max_length=6))
                    yield from _field("Due", _input("obj-due", "next fri"))
                yield Static("", id="obj-error-3", classes="error")
            yield Static(
                "[b]Activities[/b]  a add · e edit · d done · del delete", classes="section"
            )
            yield DataTable(id="activities", cursor_type="row")
            with Vertical(id="activity-form", classes="plan-form"):
                yield Static("", id="act-title", classes="form-title")
                with Horizontal(classes="plan-row"):
                    yield from _field(
                        "Kind", _select([k.value for k in ActivityKind], "act-kind", 32), first=True
                    )
                    yield from _field(
                        "Owner", _select([o.value for o in OwnerRole], "act-owner", 23)
                    )
                yield Static("", id="act-error-1", classes="error")
                with Horizontal(classes="plan-row"):
                    yield from _field(
                        "What", _input("act-description", "e.g. spring advisory board"), first=True
                    )
                yield Static("", id="act-error-2", classes="error")
                with Horizontal(classes="plan-row"):
                    yield from _field("Due", _input("act-due", DUE_EXAMPLES), first=True)
                yield Static("", id="act-error-3", classes="error")
            yield Static("", id="history")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._set_columns()
        self.query_one("#objective-form").display = False
        self.query_one("#activity-form").display = False
        for line in self.query(".error"):
            line.display = False
        self.load()
        self.query_one("#objectives", DataTable).focus()
        if self.then:
            self.call_after_refresh(self.run_action, self.then)

    def load(self) -> None:
        store = self.msl_app.store
        plan = store.current_plan(self.current_kol_id)
        if plan is None:
            plan = new_plan(store, self.current_kol_id, self.msl_app.now().date())
            self.msl_app.refresh_data()
        self.plan = plan
        self._render_plan()

    # -- drawing -----------------------------------------------------------------------------

    def _set_columns(self) -> None:
        """Narrow terminals drop what progress repeats (measure, target) and the owner, so
        progress and done stay in view at 80 columns."""
        narrow = self.app.size.width < NARROW
        if narrow == self._narrow:
            return
        self._narrow = narrow
        for table_id, columns in (
            ("#objectives", OBJECTIVE_COLUMNS),
            ("#activities", ACTIVITY_COLUMNS),
        ):
            table = self.query_one(table_id, DataTable)
            table.clear(columns=True)
            for key, label, narrow_width in columns:
                if narrow and narrow_width == 0:
                    continue
                table.add_column(label, key=key, width=narrow_width if narrow else None)
        if self.plan is not None:
            self._render_plan()

    def on_resize(self) -> None:
        self._set_columns()

    def _cells(self, table_id: str, values: dict[str, Any]) -> list[Any]:
        columns = OBJECTIVE_COLUMNS if table_id == "#objectives" else ACTIVITY_COLUMNS
        return [values[key] for key, _, width in columns if not (self._narrow and width == 0)]

    def _render_plan(self) -> None:
        assert self.plan is not None
        plan, store = self.plan, self.msl_app.store
        today = self.msl_app.now().date()
        kol = store.get_kol(plan.kol_id)
        name = kol.name if kol else ""
        progress = plan_progress(plan, store.interactions_for(plan.kol_id, limit=1000), today)
        self.sub_title = f"Plan: {name}"
        self.query_one("#plan-head", Static).update(
            f"[b]{escape(name)}[/b] · {plan.period_start} to "
            f"{plan.period_end} · {plan.status.value}\n{progress.summary(today)}"
        )
        cadence = self.query_one("#cadence", Input)
        if not cadence.has_focus:
            cadence.value = str(plan.cadence_days)
        self.query_one("#phase", Select).value = plan.lifecycle_phase.value
        objectives = self.query_one("#objectives", DataTable)
        keep = self._cursor_key(objectives)
        objectives.clear()
        for op in progress.objectives:
            o = op.objective
            cells = {
                "kind": o.kind.value,
                "description": Text(o.description, no_wrap=True, overflow="ellipsis"),
                "measure": Text(o.measure),
                "target": str(o.target),
                "due": o.due.isoformat() if o.due else "-",
                "progress": ("met · " if op.met else "") + op.label,
            }
            objectives.add_row(*self._cells("#objectives", cells), key=o.id)
        self._restore_cursor(objectives, keep)
        activities = self.query_one("#activities", DataTable)
        keep = self._cursor_key(activities)
        activities.clear()
        for a in plan.activities:
            cells = {
                "kind": a.kind.value,
                "description": Text(a.description, no_wrap=True, overflow="ellipsis"),
                "owner": a.owner.value,
                "due": a.due.isoformat() if a.due else "-",
                "done": a.done_on.isoformat() if a.done_on else "no",
            }
            activities.add_row(*self._cells("#activities", cells), key=a.id)
        self._restore_cursor(activities, keep)
        lines = [
            f"  {e.when:%Y-%m-%d %H:%M} {escape(e.author)}: {escape(e.sentence)}"
            for e in plan_history(store, plan.id)[:HISTORY_LINES]
        ]
        self.query_one("#history", Static).update("[b]Plan history[/b]\n" + "\n".join(lines))

    @staticmethod
    def _cursor_key(table: DataTable[Any]) -> str | None:
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    @staticmethod
    def _restore_cursor(table: DataTable[Any], key: str | None) -> None:
        """Keep the cursor on the same row by id: rows move when one is added or deleted."""
        if key is None or table.row_count == 0:
            return
        try:
            table.move_cursor(row=table.get_row_index(key))
        except Exception:  # the row is gone (deleted): stay at the nearest position
            table.move_cursor(row=min(table.cursor_row, table.row_count - 1))

    @on(DataChanged)
    def _data_changed(self) -> None:
        if self.plan is not None:
            self.plan = self.msl_app.store.current_plan(self.current_kol_id) or self.plan
            self._render_plan()

    def on_descendant_focus(self) -> None:
        focused = self.focused
        if focused is None:
            return
        if focused.id == "activities" or "activity-form" in {a.id for a in focused.ancestors}:
            self.section = "activity"
        elif focused.id == "objectives" or "objective-form" in {a.id for a in focused.ancestors}:
            self.section = "objective"

    # -- plan-level fields ------------------------------------------------------------------

    @on(Input.Submitted, "#cadence")
    def _cadence(self, event: Input.Submitted) -> None:
        self._save_cadence()

    def _save_cadence(self) -> None:
        assert self.plan is not None
        try:
            self.plan = set_cadence(
                self.msl_app.store, self.plan, self.query_one("#cadence", Input).value
            )
        except PlanEditError as exc:
            self._set_error("cadence-error", exc.message)
            return
        self._set_error("cadence-error", "")
        self.notify(f"Check-in every {self.plan.cadence_days} days")
        self.msl_app.refresh_data()

    @on(Select.Changed, "#phase")
    def _phase(self, event: Select.Changed) -> None:
        # Only the MSL's own choice counts: the select also reports values the screen set
        # (and a stale one from mounting), which must never rewrite the plan.
        if not event.select.has_focus or event.value != event.select.value:
            return
        if self.plan is None or event.value == self.plan.lifecycle_phase.value:
            return
        try:
            self.plan = set_lifecycle_phase(self.msl_app.store, self.plan, event.value)
        except PlanEditError as exc:
            self._set_error("cadence-error", exc.message)
            return
        self.msl_app.refresh_data()

    # -- the forms ---------------------------------------------------------------------------

    def _prefix(self, section: Section) -> str:
        return "obj" if section == "objective" else "act"

    def _open_form(self, section: Section, item: Objective | Activity | None) -> None:
        self._close_form()
        prefix = self._prefix(section)
        self.section, self.form = section, section
        self.editing = item.id if item is not None else None
        values: dict[str, str] = {
            "kind": (
                ObjectiveKind.SCIENTIFIC.value
                if section == "objective"
                else ActivityKind.VISIT.value
            ),
            "owner": OwnerRole.MSL.value,
            "description": "",
            "measure": "interactions",
            "target": "1",
            "due": "",
        }
        if item is not None:
            values.update(
                kind=item.kind.value,
                owner=item.owner.value,
                description=item.description,
                due=item.due.isoformat() if item.due else "",
            )
            if isinstance(item, Objective):
                values.update(measure=item.measure, target=str(item.target))
        for field in OBJECTIVE_FIELDS if section == "objective" else ACTIVITY_FIELDS:
            widget = self.query_one(f"#{prefix}-{field}")
            if isinstance(widget, Select):
                widget.value = str(values[field])
            elif isinstance(widget, Input):
                widget.value = values[field]
        verb = "Edit" if item is not None else "New"
        self.query_one(f"#{prefix}-title", Static).update(
            f"[b]{verb} {section}[/b]  ctrl+s saves · esc cancels"
        )
        form = self.query_one(f"#{section}-form")
        form.display = True
        self.form_opened_with = self._form_values(section)
        self.query_one(f"#{prefix}-description", Input).focus()
        form.scroll_visible()

    def _close_form(self) -> None:
        if self.form is None:
            return
        prefix = self._prefix(self.form)
        self._show_error(prefix, None)
        self.query_one(f"#{self.form}-form").display = False
        table = self.query_one("#objectives" if self.form == "objective" else "#activities")
        self.form = None
        self.editing = None
        table.focus()

    def _form_values(self, section: Section) -> Mapping[str, Any]:
        prefix = self._prefix(section)
        values: dict[str, Any] = {}
        for field in OBJECTIVE_FIELDS if section == "objective" else ACTIVITY_FIELDS:
            widget = self.query_one(f"#{prefix}-{field}")
            values[field] = widget.value if isinstance(widget, Select | Input) else ""
        return values

    def _set_error(self, widget_id: str, message: str) -> None:
        # An empty error line takes no room: the form stays compact at 80x24.
        line = self.query_one(f"#{widget_id}", Static)
        line.update(Text(message))
        line.display = bool(message)

    def _show_error(self, prefix: str, error: PlanEditError | None) -> None:
        for row in (1, 2, 3):
            self._set_error(f"{prefix}-error-{row}", "")
        for widget in self.query(f".{prefix}-invalid"):
            widget.remove_class("-invalid", f"{prefix}-invalid")
        if error is None:
            return
        row = ERROR_ROW[prefix].get(error.field, 2)
        self._set_error(f"{prefix}-error-{row}", error.message)
        field = self.query(f"#{prefix}-{error.field}")
        if field:
            field.first().add_class("-invalid", f"{prefix}-invalid")
            field.first().focus()

    def _highlighted(self, section: Section) -> Objective | Activity | None:
        if self.plan is None:
            return None
        items: list[Any] = self.plan.objectives if section == "objective" else self.plan.activities
        table = self.query_one(
            "#objectives" if section == "objective" else "#activities", DataTable
        )
        if not items or not 0 <= table.cursor_row < len(items):
            return None
        key = self._cursor_key(table)
        return next((i for i in items if i.id == key), None)

    # -- actions -----------------------------------------------------------------------------

    def action_add(self) -> None:
        self._open_form(self.section, None)

    def action_add_objective(self) -> None:
        self._open_form("objective", None)

    def action_add_activity(self) -> None:
        self._open_form("activity", None)

    def action_edit(self) -> None:
        item = self._highlighted(self.section)
        if item is None:
            self.action_add()
        else:
            self._open_form(self.section, item)

    def action_save(self) -> None:
        if self.plan is None:
            return
        focused = self.focused
        if focused is not None and focused.id == "cadence":
            self._save_cadence()
            return
        if self.form is None:
            return  # nothing open: a second ctrl+s must not save anything again
        section, prefix = self.form, self._prefix(self.form)
        save = save_objective if section == "objective" else save_activity
        try:
            self.plan, saved_id = save(
                self.msl_app.store,
                self.plan,
                self._form_values(section),
                self.editing,
                self.msl_app.now().astimezone(),
                dayfirst=self.msl_app.settings.dayfirst,
            )
        except PlanEditError as exc:
            # The typed values stay in their fields; only the message changes.
            self._show_error(prefix, exc)
            return
        self.editing = saved_id  # should the form stay open, it edits this one from now on
        self.notify(f"{section.capitalize()} saved")
        self._close_form()
        self._render_plan()
        table = self.query_one(
            "#objectives" if section == "objective" else "#activities", DataTable
        )
        self._restore_cursor(table, saved_id)
        self.msl_app.refresh_data()

    def action_delete(self) -> None:
        self._delete(self.section)

    def action_delete_objective(self) -> None:
        self._delete("objective")

    def _delete(self, section: Section) -> None:
        item = self._highlighted(section)
        if item is None:
            self.notify(f"No {section} to delete here.")
            return
        label = item.description or item.kind.value

        def answered(answer: str | None) -> None:
            if answer != "delete" or self.plan is None:
                return
            remove = delete_objective if section == "objective" else delete_activity
            self.plan = remove(self.msl_app.store, self.plan, item.id)
            self.notify(f"Deleted {section} '{label}'")
            self.msl_app.refresh_data()

        self.app.push_screen(confirm_delete(f"{section} '{label}'"), answered)

    def action_objective_met(self) -> None:
        item = self._highlighted("objective")
        if self.plan is None or not isinstance(item, Objective):
            return
        self.plan = toggle_objective_met(
            self.msl_app.store, self.plan, item.id, self.msl_app.now().date()
        )
        self.msl_app.refresh_data()

    def action_activity_done(self) -> None:
        item = self._highlighted("activity")
        if self.plan is None or not isinstance(item, Activity):
            return
        self.plan = toggle_activity(
            self.msl_app.store, self.plan, item.id, self.msl_app.now().date()
        )
        self.msl_app.refresh_data()

    def action_add_kol(self) -> None:
        """The palette's "Add KOL" works here too."""
        from msl_tui.screens.add_kol import add_kol_from

        add_kol_from(self.app, self.msl_app)

    def action_back(self) -> None:
        if self.form is None:
            self.app.pop_screen()
            return
        # esc cancels the form first, then leaves the plan; typed text is not lost unasked.
        if self._form_values(self.form) == self.form_opened_with:
            self._close_form()
            return
        what = f"the {'new ' if self.editing is None else ''}{self.form}"

        def answered(answer: str | None) -> None:
            if answer == "discard":
                self._close_form()

        self.app.push_screen(confirm_discard(what), answered)
