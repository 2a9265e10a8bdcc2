"""Visit capture: a note in seconds, neutral prompts beside it, compliance in the flow.

The cursor starts in the note. Every pause in typing saves the draft (and so does leaving
the screen), so a crash, a kill or a flat battery loses nothing. Ctrl+S submits.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any, ClassVar

from rich.markup import escape
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import (
    Checkbox,
    Collapsible,
    Header,
    Input,
    Label,
    OptionList,
    Select,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

from msl_tui.models import Channel, InsightCategory, Sentiment
from msl_tui.models.enums import PromptPurpose
from msl_tui.screens.context import UsesAppContext
from msl_tui.screens.dialogs import PromptEditor, confirm_adverse_event, confirm_leave
from msl_tui.services.dates import DateParseError
from msl_tui.services.language import check_text, suggestion_for
from msl_tui.services.prompts import Prompt, suggest_prompts
from msl_tui.services.visit import (
    VisitDraft,
    VisitError,
    add_prompt,
    discard_draft,
    edit_prompt,
    load_or_new,
    my_prompts,
    needs_ae_answer,
    possible_adverse_events,
    read_when,
    remove_prompt,
    save_draft,
    submit,
)
from msl_tui.store import StoreError
from msl_tui.widgets.footer import KeyFooter
from msl_tui.widgets.tick_box import TickBox

# Narrower than this, When shares its line with nothing: beside Channel and Minutes (46
# columns) it was cut to 12 columns at 60, showing neither the whole date nor the time.
NARROW_BELOW = 76
# A pause this long in typing saves the draft: a crash loses at most this much typing.
DRAFT_DEBOUNCE_S = 0.15
# A draft save waits this long for another writer, then retries after DRAFT_RETRY_S.
DRAFT_WAIT_MS = 150
DRAFT_RETRY_S = 1.0

# Form field id -> VisitDraft attribute, for the plain text inputs.
TEXT_FIELDS = {
    "when": "when",
    "duration": "duration",
    "fb-about": "feedback_about",
    "fb-root": "feedback_root_cause",
    "fb-response": "feedback_response",
    "ae-patient": "ae_patient",
    "ae-reporter": "ae_reporter",
    "ae-product": "ae_product",
    "ae-event": "ae_event",
    "ae-reference": "ae_reference",
    "request": "request_question",
    "tov-nature": "tov_nature",
    "tov-amount": "tov_amount",
    "tov-currency": "tov_currency",
    "tov-recipient": "tov_recipient",
}
# The text fields of the first view; the others live in the sections mounted after it.
FIRST_VIEW_FIELDS = ("when", "duration")
# The words on screen for each field a refusal names.
FIELD_LABELS = {
    "when": "When",
    "duration": "Minutes",
    "channel": "Channel",
    "notes": "Note",
    "feedback": "Feedback",
    "insights": "Insight",
    "adverse event": "Adverse event",
    "request": "Unsolicited request",
    "transfer amount": "Transfer of value",
    "transfer of value": "Transfer of value",
    "follow-up": "Follow-up",
    "visit": "Visit",
}
# Form errors are reported against these widgets.
ERROR_TARGETS = {
    "when": "when",
    "duration": "duration",
    "channel": "channel",
    "notes": "notes",
    "feedback": "fb-about",
    "insights": "insight-text",
    "adverse event": "ae-event",
    "request": "request",
    "transfer amount": "tov-amount",
    "transfer of value": "tov-nature",
}


def _line(widget_id: str, placeholder: str = "", **kwargs: Any) -> Input:
    """A one-line field: compact, so labelled rows fit an 80x24 terminal."""
    return Input(id=widget_id, placeholder=placeholder, compact=True, **kwargs)


def _row(*widgets: Widget) -> Horizontal:
    return Horizontal(*widgets, classes="meta-row")


def _pair(label: str, widget: Widget, *, first: bool = False) -> tuple[Label, Widget]:
    return Label(label, classes="meta-label first" if first else "meta-label"), widget


def _feedback_fields() -> list[Widget]:
    sentiment = Select(
        [(s.value, s.value) for s in Sentiment], id="fb-sentiment", prompt="none", compact=True
    )
    category = Select(
        [(c.value, c.value) for c in InsightCategory],
        id="insight-category",
        allow_blank=False,
        compact=True,
    )
    return [
        _row(
            *_pair("Sentiment", sentiment, first=True),
            *_pair("About", _line("fb-about", "what it is about")),
        ),
        _row(
            *_pair("Root cause", _line("fb-root", "why, in their words"), first=True),
            *_pair("Response", _line("fb-response", "our next step")),
        ),
        _row(
            *_pair("Insight", category, first=True),
            _line("insight-text", "what they said (enter adds)"),
        ),
        Static("", id="insight-list"),
    ]


def _ae_fields() -> list[Widget]:
    return [
        Static("", id="ae-state"),
        _row(
            *_pair("Patient", _line("ae-patient", "age, sex..."), first=True),
            *_pair("Reporter", _line("ae-reporter", "who told you")),
        ),
        _row(
            *_pair("Product", _line("ae-product"), first=True),
            *_pair("Event", _line("ae-event", "what happened")),
        ),
        _row(
            TickBox("forwarded to pharmacovigilance", id="ae-forwarded"),
            *_pair("PV ref.", _line("ae-reference", "case reference")),
        ),
    ]


def _other_fields() -> list[Widget]:
    return [
        _row(
            *_pair(
                "Request",
                _line("request", "the unsolicited medical question, verbatim"),
                first=True,
            )
        ),
        _row(
            *_pair("Given", _line("tov-nature", "meal, honorarium, travel"), first=True),
            *_pair("Amount", _line("tov-amount", "48.50")),
            *_pair("Currency", _line("tov-currency", "EUR", max_length=3)),
        ),
        _row(*_pair("Recipient", _line("tov-recipient", "the KOL unless typed"), first=True)),
    ]


SECTIONS = {"feedback-box": _feedback_fields, "ae-box": _ae_fields, "other-box": _other_fields}


class CaptureScreen(UsesAppContext, Screen[str | None]):
    # The note has the cursor from the moment the screen is composed: Textual's default
    # gave it to the first field (When) until _start moved it, and keys typed fast after
    # `n` landed in the visit time (QA).
    AUTO_FOCUS = "#notes"
    BINDINGS: ClassVar[list[BindingType]] = [
        # Not priority bindings: keys typed just before must reach the note first.
        Binding("ctrl+s", "save", "Save & submit", id="capture.save"),
        Binding("escape", "leave", "Back", id="capture.back"),
        Binding("ctrl+o", "insert_prompt", "Insert prompt", id="capture.prompt"),
        Binding("ctrl+l", "next_prompt", "Next prompt", id="capture.next"),
        # The keys that move the cursor are priority bindings: they act as they arrive, so
        # the words typed right after them go to the field they open (keys typed before
        # are already on their way to the field they were typed in). Otherwise a fast
        # `f3 65 yo` put "65 yo" in the note (QA).
        Binding(
            "f2",
            "section('feedback-box', 'fb-sentiment')",
            "Feedback",
            id="capture.feedback",
            priority=True,
        ),
        Binding("f3", "section('ae-box', 'ae-patient')", "AE", id="capture.ae", priority=True),
        Binding(
            "f4",
            "section('other-box', 'request')",
            "Request/ToV",
            id="capture.other",
            priority=True,
        ),
        Binding("f5", "notes", "Note", id="capture.notes", priority=True),
        Binding("f8", "new_prompt", "My prompt", id="capture.my_prompt"),
        Binding("f9", "edit_prompt", "Edit prompt", id="capture.edit_prompt"),
    ]

    def __init__(self, kol_id: str, *, draft_id: str | None = None) -> None:
        super().__init__()
        self.current_kol_id = kol_id
        self.draft: VisitDraft | None = None
        self.restored = False
        self.prompts: list[Prompt] = []
        self._draft_timer: Timer | None = None
        self._store_trouble = False
        self._loading = True
        self._dirty = False
        self.objective_ids: set[str] = set()
        self._sections_started = False
        self._sections_ready = asyncio.Event()
        # What the styles were last worked out against (see _on_screen_resume).
        self._styled_for: tuple[object, ...] | None = None
        # What the objective and prompt lists show, so a new visit rebuilds them only when
        # they change (each rebuild restyles and lays out their items again).
        self._objective_choices: list[tuple[str, str]] = []
        self._prompts_shown: list[tuple[str, str]] = []

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        # Compact, labelled one-line fields: the note keeps the room, even at 80x24.
        with Vertical(id="visit-meta"):
            # When, then Channel and Minutes: side by side, or one under the other on a
            # narrow terminal, where the row cut the date (see _fit_width).
            with Horizontal(id="meta-top"):
                with Horizontal(id="when-cell"):
                    yield Label("When", classes="meta-label first")
                    yield Input(id="when", placeholder="yesterday 3pm, 21/11 14:30", compact=True)
                with Horizontal(id="channel-cell"):
                    yield Label("Channel", id="channel-label", classes="meta-label")
                    yield Select(
                        [(c.value, c.value) for c in Channel],
                        id="channel",
                        allow_blank=False,
                        compact=True,
                    )
                    yield Label("Minutes", classes="meta-label")
                    yield Input(
                        id="duration",
                        placeholder="30",
                        restrict=r"\d*",
                        max_length=4,
                        compact=True,
                    )
            with Horizontal(classes="meta-row"):
                yield Label("Objective", classes="meta-label first")
                yield Select([], id="objective", prompt="none", compact=True)
        with Horizontal(id="capture-body"):
            with Vertical(id="note-column"):
                yield TextArea(
                    id="notes", soft_wrap=True, show_line_numbers=False, highlight_cursor_line=False
                )
                yield Static("", id="hints")
                yield Static("", id="form-error", classes="error")
            with Vertical(id="prompt-column"):
                yield Static("[b]Neutral questions[/b] ctrl+o inserts", id="prompt-title")
                yield OptionList(id="prompts")
        # The three sections open on a key: their titles show at once, their fields are
        # mounted just after the first paint (see _mount_sections), so the note opens fast.
        with VerticalScroll(id="capture-extra"):
            # Each section's key in its title: at 80 columns the key bar cannot show them all.
            yield Collapsible(title="Feedback and insights · f2", id="feedback-box", collapsed=True)
            yield Collapsible(title="Adverse event · f3", id="ae-box", collapsed=True)
            yield Collapsible(
                title="Unsolicited request · transfer of value · f4", id="other-box", collapsed=True
            )
        yield KeyFooter()

    def on_mount(self) -> None:
        self._start()
        self.call_after_refresh(self._mount_sections)

    def _style_inputs(self) -> tuple[object, ...]:
        """What every style on this screen is worked out from, besides its own widgets'
        classes (whose changes restyle just those widgets, at once): the theme (a switch
        counts up `_css_update_count`), the stylesheet's sources (a screen opened since
        may have brought its own), and the app's classes and focus."""
        app = self.app
        return (
            app._css_update_count,
            len(app.stylesheet.source),
            frozenset(app.classes),
            app.app_focus,
        )

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual restyles every widget of a screen each time it is pushed (about 110
        # here, hidden sections included): a third of what opening this kept screen cost.
        # Nothing they are styled from changed since it was last shown, unless the theme,
        # the stylesheet or the app's classes did; then the full restyle happens as before.
        # (Screen's own handler runs after this one and reads refresh_styles.)
        self._fit_width()
        inputs = self._style_inputs()
        if event.refresh_styles and inputs == self._styled_for:
            event.refresh_styles = False
        self._styled_for = inputs

    def on_resize(self) -> None:
        self._fit_width()

    def _fit_width(self) -> None:
        # Checked on resume too: a kept screen misses the resizes made while it was away.
        self.set_class(self.app.size.width < NARROW_BELOW, "-narrow")

    def reopen(self, kol_id: str) -> None:
        """Start a new visit on this screen, kept from an earlier one (see MslApp.open_capture):
        nothing of the earlier visit stays, neither its draft, its form nor its undo history."""
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        self.save_draft_now()  # never needed in practice: the screen was left saved
        self.current_kol_id = kol_id
        self.draft = None
        self._dirty = False
        self._store_trouble = False
        self._loading = True
        for box in self.query(Collapsible):
            box.collapsed = True
        self.query_one("#capture-extra", VerticalScroll).scroll_home(animate=False)
        self.query_one("#form-error", Static).update("")
        self._start()

    def _start(self) -> None:
        store = self.msl_app.store
        # The visit time is fixed the moment capture opens, not when the note is finished.
        self.draft, self.restored = load_or_new(store, self.current_kol_id, self.msl_app.now())
        kol = store.get_kol(self.current_kol_id)
        plan = store.current_plan(self.current_kol_id)
        self.kol_stance = kol.stance if kol else None
        self.sub_title = f"Visit: {kol.name if kol else '?'}"
        objectives = plan.objectives if plan else []
        choices = [(o.description, o.id) for o in objectives]
        if choices != self._objective_choices:  # most visits in a row share none or a plan
            self.query_one("#objective", Select).set_options(choices)
            self._objective_choices = choices
        self.objective_ids = {o.id for o in objectives}
        self._fill_form(self.draft)
        if self._sections_ready.is_set():
            self._fill_sections(self.draft)
        self._check_when(self.query_one("#when", Input))
        self._loading = False
        self._refresh_prompts(first=True)  # a new visit starts at the best question
        self._refresh_hints()
        notes = self.query_one("#notes", TextArea)
        self.set_focus(notes)  # at once: the keys typed right after `n` go to the note
        notes.move_cursor(notes.document.end)
        if self.restored:
            self.notify("Your unsent note is back, exactly as you left it.")

    async def _mount_sections(self) -> None:
        """Mount the sections' fields (after the first paint, or at once when a key or a
        refusal needs one of them) and show the draft's values in them."""
        if self._sections_started:
            await self._sections_ready.wait()
            return
        self._sections_started = True
        try:
            for box_id, fields in SECTIONS.items():
                contents = self.query_one(f"#{box_id}", Collapsible).query_one(Collapsible.Contents)
                await contents.mount_all(fields())
            self.query_one("#tov-recipient")
        except NoMatches:
            return  # the screen closed (the app quit) while its sections were mounting
        self._sections_ready.set()
        if self.draft is not None:
            self._fill_sections(self.draft)

    def _fill_form(self, d: VisitDraft) -> None:
        for widget_id in FIRST_VIEW_FIELDS:
            self.query_one(f"#{widget_id}", Input).value = str(getattr(d, TEXT_FIELDS[widget_id]))
        self.query_one("#channel", Select).value = d.channel
        # An objective since removed from the plan is left blank rather than guessed.
        objective = self.query_one("#objective", Select)
        if d.objective_id in self.objective_ids:
            objective.value = d.objective_id
        else:
            objective.clear()  # nothing left from a visit before on this kept screen
        self.query_one("#notes", TextArea).text = d.notes

    def _fill_sections(self, d: VisitDraft) -> None:
        for widget_id, attr in TEXT_FIELDS.items():
            if widget_id not in FIRST_VIEW_FIELDS:
                self.query_one(f"#{widget_id}", Input).value = str(getattr(d, attr))
        sentiment = self.query_one("#fb-sentiment", Select)
        if d.feedback_sentiment:
            sentiment.value = d.feedback_sentiment
        else:
            sentiment.clear()
        self.query_one("#ae-forwarded", Checkbox).value = d.ae_forwarded
        self.query_one("#insight-text", Input).value = ""
        self._show_insights()
        self._show_ae_state()

    def _mounted_fields(self) -> tuple[str, ...]:
        return tuple(TEXT_FIELDS) if self._sections_ready.is_set() else FIRST_VIEW_FIELDS

    # -- keeping the draft -------------------------------------------------------------------

    def _changed(self) -> None:
        if self._loading or self.draft is None:
            return
        self._dirty = True
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_DEBOUNCE_S, self.save_draft_now)

    def _sync_from_widgets(self) -> None:
        """Read the form as it is now: a key pressed just before ctrl+s may not have been
        announced by its Changed message yet."""
        if self.draft is None or self._loading:
            return
        notes = self.query_one("#notes", TextArea).text
        if notes != self.draft.notes:
            self.draft.notes = notes
            self._dirty = True
        for widget_id in self._mounted_fields():
            attr = TEXT_FIELDS[widget_id]
            value = self.query_one(f"#{widget_id}", Input).value
            if value != getattr(self.draft, attr):
                setattr(self.draft, attr, value)
                self._dirty = True

    def save_draft_now(self, *, read_widgets: bool = True, last_chance: bool = False) -> None:
        """``last_chance``: msl is about to close (SIGTERM, SIGHUP): wait the store's whole
        busy timeout for another writer, not DRAFT_WAIT_MS. With the short wait, a kill
        while an import (or `sqlite3 STORE`) held the write lock closed msl at once and
        the words not yet saved were lost without a word (QA)."""
        if read_widgets and self.is_mounted:
            self._sync_from_widgets()
        if self.draft is None or not self._dirty:
            return
        try:
            save_draft(
                self.msl_app.store, self.draft, wait_ms=None if last_chance else DRAFT_WAIT_MS
            )
        except (StoreError, sqlite3.Error):
            # Another msl is writing (a long import) or the disk is full: the text stays
            # here, on screen and in memory, and saving is tried again shortly.
            if not self._store_trouble:
                self._store_trouble = True
                self.notify(
                    "The store is busy or full: your text is kept here and saved as soon as "
                    "it can be.",
                    severity="warning",
                    timeout=6,
                )
            if self.is_mounted:
                self.set_timer(DRAFT_RETRY_S, self.save_draft_now)
            return
        self._dirty = False
        if self._store_trouble:
            self._store_trouble = False
            self.notify("Draft saved.", timeout=2)

    def on_screen_suspend(self) -> None:
        self.save_draft_now()

    def on_unmount(self) -> None:
        # The widgets are gone by now; the draft already holds what they showed.
        self.save_draft_now(read_widgets=False)

    @on(TextArea.Changed, "#notes")
    def _notes_changed(self, event: TextArea.Changed) -> None:
        if self.draft is None:
            return
        self.draft.notes = event.text_area.text
        self._changed()
        self._refresh_hints()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if self.draft is None or event.input.id not in TEXT_FIELDS:
            return
        if getattr(self.draft, TEXT_FIELDS[event.input.id]) == event.value:
            return  # the form being filled, not a keystroke: nothing new to save
        setattr(self.draft, TEXT_FIELDS[event.input.id], event.value)
        self._changed()
        if event.input.id == "when":
            self._check_when(event.input)
        if event.input.id == "fb-root":
            self._refresh_prompts()

    def _check_when(self, widget: Input) -> None:
        """Advise as the date is typed (red border, the reading in the tooltip); the
        submit check is the one that refuses."""
        if self.draft is None:
            return
        try:
            when = read_when(
                self.draft, self.msl_app.now(), dayfirst=self.msl_app.settings.dayfirst
            )
        except DateParseError as exc:
            widget.add_class("-invalid")
            widget.tooltip = str(exc)
            return
        widget.remove_class("-invalid")
        widget.tooltip = when.strftime("%a %d %b %Y %H:%M")

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        # A stale event (the select's value at mount, since replaced) must not win.
        if self.draft is None or self._loading or event.value != event.select.value:
            return
        value = "" if event.value is Select.NULL else str(event.value)
        match event.select.id:
            case "channel" if value != self.draft.channel:
                self.draft.channel = value
            case "objective" if value != self.draft.objective_id:
                self.draft.objective_id = value
            case "fb-sentiment" if value != self.draft.feedback_sentiment:
                self.draft.feedback_sentiment = value
                self._refresh_prompts()
            case _:
                return  # another select, or the form being filled: nothing new to save
        self._changed()

    @on(Checkbox.Changed, "#ae-forwarded")
    def _forwarded(self, event: Checkbox.Changed) -> None:
        if self.draft is not None and not self._loading and event.value != self.draft.ae_forwarded:
            self.draft.ae_forwarded = event.value
            self._changed()
            self._show_ae_state()

    @on(Input.Submitted, "#insight-text")
    def _add_insight(self, event: Input.Submitted) -> None:
        if self.draft is None or not event.value.strip():
            return
        category = str(self.query_one("#insight-category", Select).value)
        self.draft.insights.append([category, event.value.strip()])
        event.input.value = ""
        self._show_insights()
        self._changed()

    def _show_insights(self) -> None:
        assert self.draft is not None
        if not self._sections_ready.is_set():
            return  # shown once the sections are mounted
        lines = [f"• {escape(c)}: {escape(t)}" for c, t in self.draft.insights]
        self.query_one("#insight-list", Static).update("\n".join(lines))

    # -- prompts and language hints ------------------------------------------------------

    def _refresh_prompts(self, *, first: bool = False) -> None:
        if self.draft is None:
            return
        negative_open = (
            self.draft.feedback_sentiment == Sentiment.NEGATIVE.value
            and not self.draft.feedback_root_cause.strip()
        )
        plan = self.msl_app.store.current_plan(self.current_kol_id)
        objective_kind = None
        if plan is not None:
            for o in plan.objectives:
                if o.id == self.draft.objective_id:
                    objective_kind = o.kind
        self.prompts = suggest_prompts(
            objective_kind=objective_kind,
            stance=self.kol_stance,
            negative_feedback_without_root_cause=negative_open,
            custom=my_prompts(self.msl_app.store),
            # The whole library, best first: the list scrolls, and own prompts must stay
            # reachable whatever their purpose.
            limit=10_000,
        )
        options = self.query_one("#prompts", OptionList)
        highlighted = None if first else options.highlighted
        shown = [(p.id, p.text) for p in self.prompts]
        if shown != self._prompts_shown:
            options.clear_options()
            options.add_options([Option(text, id=id_) for id_, text in shown])
            self._prompts_shown = shown
        options.highlighted = min(highlighted or 0, len(self.prompts) - 1) if self.prompts else None
        if negative_open:
            self.query_one("#prompt-title", Static).update(
                "[b]Negative feedback has no root cause yet[/b]: ask a neutral question"
            )
        else:
            self.query_one("#prompt-title", Static).update(
                "[b]Neutral questions[/b] ctrl+o inserts, f8 adds yours"
            )

    def _refresh_hints(self) -> None:
        if self.draft is None:
            return
        lines = []
        # A possible adverse event first: the hints area is short at 80x24 and the
        # 24-hour rule matters more than wording.
        mentions = possible_adverse_events(self.draft)
        if mentions and self.draft.ae_confirmed != "no":
            phrases = ", ".join(f"“{escape(m.phrase)}”" for m in mentions[:3])
            lines.append(f"possible adverse event: {phrases} (24 h to report)")
        for hint in check_text(self.draft.notes)[:3]:
            lines.append(
                f"{hint.kind}: “{escape(hint.phrase)}” — {escape(hint.message)}; "
                f"try: {escape(suggestion_for(self.draft.notes, hint))}"
            )
        self.query_one("#hints", Static).update("\n".join(lines))

    def action_next_prompt(self) -> None:
        options = self.query_one("#prompts", OptionList)
        if self.prompts:
            options.highlighted = ((options.highlighted or 0) + 1) % len(self.prompts)

    def action_insert_prompt(self) -> None:
        options = self.query_one("#prompts", OptionList)
        if not self.prompts or options.highlighted is None or self.draft is None:
            return
        self._insert(self.prompts[options.highlighted])

    @on(OptionList.OptionSelected, "#prompts")
    def _prompt_chosen(self, event: OptionList.OptionSelected) -> None:
        self._insert(self.prompts[event.option_index])

    def _insert(self, prompt: Prompt) -> None:
        assert self.draft is not None
        notes = self.query_one("#notes", TextArea)
        prefix = "" if not notes.text or notes.text.endswith("\n") else "\n"
        notes.move_cursor(notes.document.end)
        notes.insert(f"{prefix}Q: {prompt.text}\nA: ")
        if prompt.text not in self.draft.prompts_used:
            self.draft.prompts_used.append(prompt.text)
        notes.focus()
        self._changed()

    def action_new_prompt(self) -> None:
        def answered(result: tuple[str, str] | None) -> None:
            if result is None or not result[1].strip():
                return
            try:
                add_prompt(self.msl_app.store, result[0], result[1], self.msl_app.now())
            except VisitError as exc:
                self.notify(exc.message, severity="error")
                return
            self.notify("Your prompt is in the list.")
            self._refresh_prompts()

        self.app.push_screen(PromptEditor([p.value for p in PromptPurpose]), answered)

    def action_edit_prompt(self) -> None:
        options = self.query_one("#prompts", OptionList)
        if not self.prompts or options.highlighted is None:
            return
        prompt = self.prompts[options.highlighted]
        if prompt.builtin:
            self.notify("Built-in prompts are fixed: f8 adds your own.")
            return

        def answered(result: tuple[str, str] | None) -> None:
            if result is None:
                return
            try:
                if result[1].strip():
                    edit_prompt(self.msl_app.store, prompt.id, result[0], result[1])
                else:
                    remove_prompt(self.msl_app.store, prompt.id)
            except VisitError as exc:
                self.notify(exc.message, severity="error")
                return
            self._refresh_prompts()

        self.app.push_screen(
            PromptEditor([p.value for p in PromptPurpose], prompt.purpose.value, prompt.text),
            answered,
        )

    # -- adverse events ----------------------------------------------------------------------

    def _show_ae_state(self) -> None:
        assert self.draft is not None
        if not self._sections_ready.is_set():
            return  # shown once the sections are mounted
        state = {
            "yes": "Possible adverse event confirmed: day zero is the visit time. "
            + (
                "Forwarded to pharmacovigilance."
                if self.draft.ae_forwarded
                else "NOT yet forwarded: 24 hours from day zero."
            ),
            "no": "Mention reviewed: not an adverse event.",
            "": "No adverse event recorded.",
        }[self.draft.ae_confirmed]
        self.query_one("#ae-state", Static).update(state)

    def _ask_adverse_event(self, then_save: bool) -> None:
        assert self.draft is not None
        phrases = [m.phrase for m in possible_adverse_events(self.draft)]

        async def answered(answer: str | None) -> None:
            assert self.draft is not None
            await self._mount_sections()
            if answer in ("yes", "no"):
                self.draft.ae_confirmed = answer
                self._changed()
                self.save_draft_now()
                self._show_ae_state()
                self._refresh_hints()
            if answer == "yes":
                box = self.query_one("#ae-box", Collapsible)
                box.collapsed = False
                if not self.draft.ae_event:
                    self.query_one("#ae-event", Input).value = ", ".join(phrases)
                self.query_one("#ae-patient", Input).focus()
                self.notify("Record what is known, then ctrl+s. The 24-hour clock has started.")
            elif answer == "no" and then_save:
                self.action_save()

        self.app.push_screen(confirm_adverse_event(phrases), answered)

    async def action_section(self, box_id: str, first_field: str) -> None:
        """Open a section and put the cursor in its first field: no mouse needed."""
        await self._mount_sections()
        self.query_one(f"#{box_id}", Collapsible).collapsed = False
        # At once, not after the keys already queued (widget.focus() waits its turn).
        self.set_focus(self.query_one(f"#{first_field}"))

    def action_notes(self) -> None:
        self.set_focus(self.query_one("#notes", TextArea))

    # -- leaving -----------------------------------------------------------------------------

    def action_save(self) -> None:
        if self.draft is None:
            return
        self.save_draft_now()
        if needs_ae_answer(self.draft):
            self._ask_adverse_event(then_save=True)
            return
        error = self.query_one("#form-error", Static)
        try:
            saved = submit(
                self.msl_app.store,
                self.draft,
                self.msl_app.now(),
                dayfirst=self.msl_app.settings.dayfirst,
            )
        except (StoreError, sqlite3.Error):
            # Nothing was written; the visit stays in the form (and in memory).
            error.update(
                Text(
                    "! The store is busy (another msl is writing) or the disk is full: "
                    "your visit is kept here; press ctrl+s again in a moment."
                )
            )
            return
        except VisitError as exc:
            # Everything typed stays in the form and in the saved draft.
            label = FIELD_LABELS.get(exc.field, exc.field.capitalize())
            error.update(Text(f"! {label}: {exc.message}"))
            target = ERROR_TARGETS.get(exc.field)
            if target:
                self.call_later(self._show_field, target)
            return
        self._dirty = False
        self.draft = None
        self.notify("Visit saved.")
        self.msl_app.refresh_data()
        self.dismiss(saved.id)

    async def _show_field(self, widget_id: str) -> None:
        """Put the cursor on a refused field, opening its section."""
        await self._mount_sections()
        widget = self.query_one(f"#{widget_id}")
        for box in widget.ancestors:
            if isinstance(box, Collapsible):
                box.collapsed = False
        widget.focus()

    def action_leave(self) -> None:
        if self.draft is None or not self.draft.has_text():
            if self.draft is not None:
                discard_draft(self.msl_app.store, self.draft)
                self.draft = None
            self.dismiss(None)
            return
        self.save_draft_now()

        def answered(answer: str | None) -> None:
            if answer == "keep":
                self.notify("Kept as a draft: n on this KOL brings it back.")
                self.dismiss(None)
            elif answer == "discard" and self.draft is not None:
                discard_draft(self.msl_app.store, self.draft)
                self.draft = None
                self.dismiss(None)

        self.app.push_screen(confirm_leave(), answered)
