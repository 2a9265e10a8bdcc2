"""Add a KOL from the keyboard: a centred form, plain-word errors beside each field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.dom import NoScreen
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from msl_tui.models import Influence, Stance
from msl_tui.screens.context import AppContext, UsesAppContext
from msl_tui.screens.dialogs import Dialog, confirm_discard
from msl_tui.services.kols import KolEditError, add_kol
from msl_tui.services.segments import stance_word

# (field, label, placeholder) for the typed fields, in the order tab walks them.
TEXT_FIELDS = (
    ("name", "Name", "e.g. Dr Ada Roe"),
    ("institution", "Institution", "e.g. Nordvik University Hospital"),
    ("specialty", "Specialty", "e.g. Rheumatology"),
    ("territory", "Territory", "e.g. North-West"),
    ("areas", "Areas", "therapeutic areas, separated by commas"),
)


class FormField(Input):
    """A typed field of the form: escape cancels the form as it arrives, and keys that reach
    the field once the form is gone or covered go on to what has the cursor now.

    The form's escape is a binding, run once the key has bubbled up to the app: in a burst
    the keys typed after it reached the field first ("a", escape, "g" at the list typed "g"
    into the new KOL's name, and escape then asked whether to discard it, QA). Here escape
    acts in the order typed, as the list's FilterField does. (A Select list that is open has
    the cursor itself: its own escape closes it first.)
    """

    async def _on_key(self, event: events.Key) -> None:
        # (Input's own handler runs after this one unless prevent_default() is called.)
        # (The screen's focus, not has_focus: that one follows the Blur event, queued after
        # the keys of a burst.)
        try:
            here = self.app.screen is self.screen and self.screen.focused is self
        except NoScreen:  # the form has closed, its fields with it
            here = False
        if not here:
            # Typed after escape: keys for the list (the form has closed), or the answer to
            # "discard what you typed?" (the question covers the form).
            event.stop()
            event.prevent_default()
            self.app.post_message(events.Key(event.key, event.character))
            return
        if event.key == "escape":
            event.stop()
            event.prevent_default()
            await self.screen.run_action("cancel")


class AddKolScreen(UsesAppContext, Dialog[str | None]):
    """Dismisses with the new KOL's id, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save KOL", id="add_kol.save"),
        Binding("escape", "cancel", "Cancel", id="add_kol.cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="add-kol"):
            yield Static("[b]Add a KOL[/b]  ctrl+s saves · esc cancels", id="question")
            for field, label, placeholder in TEXT_FIELDS[:3]:
                yield from self._row(
                    label, FormField(id=f"kol-{field}", placeholder=placeholder, compact=True)
                )
                yield Static("", id=f"kol-{field}-error", classes="error")
            yield from self._row(
                "Influence",
                Select(
                    [(i.value, i.value) for i in Influence],
                    id="kol-influence",
                    value=Influence.LOCAL.value,
                    allow_blank=False,
                    compact=True,
                ),
            )
            yield from self._row(
                "Stance",
                Select(
                    [(stance_word(s), s.value) for s in Stance],
                    id="kol-stance",
                    value=Stance.UNKNOWN.value,
                    allow_blank=False,
                    compact=True,
                ),
            )
            yield Static("", id="kol-choice-error", classes="error")
            for field, label, placeholder in TEXT_FIELDS[3:]:
                yield from self._row(
                    label, FormField(id=f"kol-{field}", placeholder=placeholder, compact=True)
                )
                yield Static("", id=f"kol-{field}-error", classes="error")

    @staticmethod
    def _row(label: str, widget: Widget) -> ComposeResult:
        with Horizontal(classes="meta-row"):
            yield Label(label, classes="meta-label first")
            yield widget

    def on_mount(self) -> None:
        for line in self.query(".error"):
            line.display = False
        self.query_one("#kol-name", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        # Enter walks the form like tab; on the last field it saves.
        if event.input.id == f"kol-{TEXT_FIELDS[-1][0]}":
            self.action_save()
        else:
            self.focus_next()

    def _error(self, field: str | None, message: str = "") -> None:
        for line in self.query(".error"):
            line.display = False
        for widget in self.query(".-invalid"):
            widget.remove_class("-invalid")
        if field is None:
            return
        line_id = (
            f"kol-{field}-error" if field not in ("influence", "stance") else "kol-choice-error"
        )
        line = self.query_one(f"#{line_id}", Static)
        line.update(Text(message))
        line.display = True
        widget = self.query_one(f"#kol-{field}")
        widget.add_class("-invalid")
        widget.focus()

    def action_save(self) -> None:
        values = {
            field: self.query_one(f"#kol-{field}", Input).value for field, _, _ in TEXT_FIELDS
        }
        values["influence"] = str(self.query_one("#kol-influence", Select).value)
        values["stance"] = str(self.query_one("#kol-stance", Select).value)
        try:
            kol = add_kol(self.msl_app.store, values)
        except KolEditError as exc:
            self._error(exc.field, exc.message)  # what was typed stays in the form
            return
        self.dismiss(kol.id)

    def action_cancel(self) -> None:
        typed = any(
            self.query_one(f"#kol-{field}", Input).value.strip() for field, _, _ in TEXT_FIELDS
        )
        if not typed:
            self.dismiss(None)
            return

        def answered(answer: str | None) -> None:
            if answer == "discard":
                self.dismiss(None)

        self.app.push_screen(confirm_discard("the new KOL"), answered)


def add_kol_from(
    app: App[Any], context: AppContext, added: Callable[[str], None] | None = None
) -> None:
    """Open the form over any screen; a saved KOL is announced and the views re-rank."""

    def closed(kol_id: str | None) -> None:
        if not kol_id:
            return
        kol = context.store.get_kol(kol_id)
        # The name is the MSL's text, never markup: "[b]" or "[@click=...]" stay as typed.
        app.notify(
            f"{kol.name if kol else 'KOL'} added. n writes a note, enter opens.", markup=False
        )
        if added is not None:
            added(kol_id)
        context.refresh_data()

    app.push_screen(AddKolScreen(), closed)
