"""App-wide actions on the current KOL, shared by keys and the command palette.

"Current" is the KOL the screen in front shows or highlights (its ``current_kol_id``): the
list's highlighted row, the KOL page, the brief. The KOL page also offers what is under its
cursor (``highlighted_visit``, ``highlighted_followup``) so a key acts on that row; from
anywhere else the MSL picks from a short list. Mixed into ``MslApp``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

# The app is built on these actions, and they act on a KOL only when asked: the services
# they call (and the date parser behind them) load then, not at every launch.
if TYPE_CHECKING:
    from msl_tui.app import MslApp
    from msl_tui.models import FollowUp, Interaction

# Where the app-wide `b` key is offered: where the MSL picks a KOL. Elsewhere the brief is in
# the command palette (which runs actions without this check).
BRIEF_KEY_SCREENS = frozenset({"KolListScreen", "KolPageScreen"})


# Choices fit one line of the pick dialog at 80 columns.
LABEL_WIDTH = 68


def _one_line(text: str, width: int = LABEL_WIDTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def _visit_label(visit: Interaction) -> str:
    from msl_tui.services.adverse_events import local_stamp

    return _one_line(
        f"{local_stamp(visit.occurred_at)} {visit.channel.value}: {visit.notes or '(no note)'}"
    )


def _ae_label(visit: Interaction) -> str:
    from msl_tui.services.adverse_events import local_stamp

    event = visit.adverse_event.event if visit.adverse_event else ""
    return _one_line(f"{local_stamp(visit.occurred_at)}: {event or 'event not described'}")


class KolActions:
    """The loops a KOL screen starts and the MSL must be able to finish from anywhere."""

    @property
    def _app(self) -> MslApp:
        return cast("MslApp", self)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "brief":
            return type(self._app.screen).__name__ in BRIEF_KEY_SCREENS
        return super().check_action(action, parameters)  # type: ignore[misc,no-any-return]

    # -- the palette's plan and roster entries, from whichever screen is showing --------

    def _on_screen(self, name: str) -> bool:
        """Run the screen's own action when it has one (it knows its cursor best)."""
        method = getattr(self._app.screen, f"action_{name}", None)
        if callable(method):
            method()
            return True
        return False

    def action_add_kol(self) -> None:
        if not self._on_screen("add_kol"):
            from msl_tui.screens.add_kol import add_kol_from

            add_kol_from(self._app, self._app)

    def _plan_then(self, then: str) -> None:
        if self._on_screen(then):
            return
        kol_id = self._current_kol()
        if kol_id is not None:
            from msl_tui.screens.plan import PlanScreen

            self._app.push_screen(PlanScreen(kol_id, then=then))

    def action_add_activity(self) -> None:
        self._plan_then("add_activity")

    def action_delete_objective(self) -> None:
        self._plan_then("delete_objective")

    def _current_kol(self) -> str | None:
        kol_id = getattr(self._app.screen, "current_kol_id", None)
        if not kol_id:
            self._app.notify("Highlight a KOL first", severity="warning", markup=False)
        return kol_id

    def _under_cursor(self, name: str) -> Any:
        getter = getattr(self._app.screen, name, None)
        return getter() if callable(getter) else None

    def _pick(
        self,
        title: str,
        options: list[tuple[str, str]],
        then: Callable[[str], None],
    ) -> None:
        from msl_tui.screens.pick import Pick

        if len(options) == 1:
            then(options[0][0])
            return

        def chosen(option_id: str | None) -> None:
            if option_id:
                then(option_id)

        self._app.push_screen(Pick(title, options), chosen)

    def _changed(self, message: str) -> None:
        self._app.notify(message, markup=False)
        self._app.refresh_data()

    # -- the brief -------------------------------------------------------------------------

    def action_brief(self) -> None:
        from msl_tui.screens.brief import BriefScreen

        kol_id = self._current_kol()
        if kol_id is None:
            return
        screen = self._app.screen
        if isinstance(screen, BriefScreen) and screen.current_kol_id == kol_id:
            return
        self._app.push_screen(BriefScreen(kol_id))

    # -- adverse events --------------------------------------------------------------------

    def action_mark_ae_reported(self) -> None:
        from msl_tui.services.adverse_events import ae_visits, pending_ae_visits
        from msl_tui.services.kol_page import get_visit, kol_name

        kol_id = self._current_kol()
        if kol_id is None:
            return
        store = self._app.store
        visit = self._under_cursor("highlighted_visit")
        if visit is not None and visit.adverse_event is not None:
            self._report(kol_id, visit)  # reported already: the dialog corrects it
            return
        pending = pending_ae_visits(store, kol_id)
        if not pending:
            name = kol_name(store, kol_id)
            more = (
                " To correct a report, highlight its visit on the KOL page and press r."
                if ae_visits(store, kol_id)
                else ""
            )
            self._app.notify(
                f"No adverse event waits to be reported for {name}.{more}", markup=False
            )
            return
        self._pick(
            "Which adverse event was reported?",
            [(v.id, _ae_label(v)) for v in pending],
            lambda visit_id: self._report(kol_id, get_visit(store, visit_id)),
        )

    def _report(self, kol_id: str, visit: Interaction) -> None:
        from msl_tui.screens.ae_report import AEReportDialog
        from msl_tui.services.adverse_events import report_status
        from msl_tui.services.kol_page import get_visit, kol_name

        def saved(done: bool | None) -> None:
            if done:
                fresh = get_visit(self._app.store, visit.id)
                assert fresh.adverse_event is not None
                status = report_status(fresh.adverse_event, self._app.now())
                self._changed(f"Adverse event {status}")

        name = kol_name(self._app.store, kol_id)
        self._app.push_screen(AEReportDialog(name, visit), saved)

    def action_ae_followup(self) -> None:
        from msl_tui.screens.ae_report import AEFollowUpDialog
        from msl_tui.services.adverse_events import ae_visits
        from msl_tui.services.kol_page import get_visit, kol_name

        kol_id = self._current_kol()
        if kol_id is None:
            return
        store = self._app.store
        name = kol_name(store, kol_id)

        def add(visit_id: str) -> None:
            def saved(done: bool | None) -> None:
                if done:
                    self._changed("Follow-up information added to the adverse event")

            self._app.push_screen(AEFollowUpDialog(name, get_visit(store, visit_id)), saved)

        visit = self._under_cursor("highlighted_visit")
        if visit is not None and visit.adverse_event is not None:
            add(visit.id)
            return
        visits = ae_visits(store, kol_id)
        if not visits:
            self._app.notify(f"No adverse event is recorded for {name}.", markup=False)
            return
        self._pick(
            "Follow-up information for which adverse event?",
            [(v.id, _ae_label(v)) for v in visits],
            add,
        )

    # -- visits ----------------------------------------------------------------------------

    def action_amend_visit(self) -> None:
        from msl_tui.screens.amend import AmendScreen
        from msl_tui.services.kol_page import amendable_visits, get_visit, kol_name

        kol_id = self._current_kol()
        if kol_id is None:
            return
        store = self._app.store
        name = kol_name(store, kol_id)

        def open_amend(visit_id: str) -> None:
            def saved(done: bool | None) -> None:
                if done:
                    self._changed("Visit amended; what it said before is kept beside it")

            self._app.push_screen(AmendScreen(name, get_visit(store, visit_id)), saved)

        visit = self._under_cursor("highlighted_visit")
        if visit is not None:
            open_amend(visit.id)
            return
        visits = amendable_visits(store, kol_id)
        if not visits:
            self._app.notify(f"No visit with {name} to amend yet.", markup=False)
            return
        self._pick("Amend which visit?", [(v.id, _visit_label(v)) for v in visits], open_amend)

    # -- follow-ups ------------------------------------------------------------------------

    def action_reopen_followup(self) -> None:
        from msl_tui.services.kol_page import done_followups, kol_name, set_followup_done

        kol_id = self._current_kol()
        if kol_id is None:
            return
        store = self._app.store

        def reopen(followup_id: str) -> None:
            followup = set_followup_done(store, followup_id, False, self._app.now())
            self._changed(f"Reopened: {followup.action}")

        followup: FollowUp | None = self._under_cursor("highlighted_followup")
        if followup is not None and followup.done:
            reopen(followup.id)
            return
        done = done_followups(store, kol_id)
        if not done:
            self._app.notify(
                f"No follow-up of {kol_name(store, kol_id)} is ticked done.", markup=False
            )
            return
        self._pick(
            "Reopen which follow-up?",
            [
                (
                    f.id,
                    _one_line(f"done {f.done_at:%Y-%m-%d}: {f.action}" if f.done_at else f.action),
                )
                for f in done
            ],
            reopen,
        )
