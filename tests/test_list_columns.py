"""One long name must not push the list's other columns off the screen (hostile tester's
finding: a 45-character name hid 'Next due' and follow-ups at 120 columns)."""

from __future__ import annotations

from msl_tui.models import Kol
from msl_tui.screens.kol_list import KolListScreen
from tests.app_helpers import fixed_store, make_app, wait_for


async def test_a_long_name_is_cut_and_every_column_stays_visible() -> None:
    store = fixed_store(kols=12)
    long_name = "Prof " + " ".join(["Bartholomew-Featherstonehaugh"] * 6)
    store.save(Kol(name=long_name, institution="Somewhere General"))
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        screen = app.screen
        assert isinstance(screen, KolListScreen)
        table = screen.query_one("#kols")
        labels = [str(c.label) for c in table.columns.values()]  # type: ignore[attr-defined]
        assert any("due" in label.lower() for label in labels), labels
        columns = list(table.columns.values())  # type: ignore[attr-defined]
        due = next(i for i, c in enumerate(columns) if "due" in str(c.label).lower())
        # Everything up to the due date (where "AE 19h left" shows) fits the screen.
        right_edge = sum(c.get_render_width(table) for c in columns[: due + 1])
        assert right_edge <= 120, (right_edge, labels)
        row = next(r for r in screen.rows if r.name == long_name)
        screen.query_one("#kols").move_cursor(row=screen.rows.index(row))  # type: ignore[attr-defined]
        await pilot.pause()
        assert long_name in str(screen.query_one("#reasons").render())
