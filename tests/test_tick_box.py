"""The AE panel's "forwarded" box: empty until ticked (QA 10 read an X as ticked)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from msl_tui.widgets.tick_box import TickBox
from tests.app_helpers import wait_for


class Harness(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.changes: list[bool] = []

    def compose(self) -> ComposeResult:
        yield TickBox("forwarded to pharmacovigilance")

    def on_checkbox_changed(self, event: TickBox.Changed) -> None:
        self.changes.append(event.value)


async def test_the_box_is_empty_until_ticked_and_says_so_when_ticked() -> None:
    app = Harness()
    async with app.run_test(size=(60, 5)) as pilot:
        box = app.query_one(TickBox)
        box.focus()
        assert str(box.render()).startswith("▐ ▌ forwarded")
        await pilot.press("space")
        await wait_for(pilot, lambda: str(box.render()).startswith("▐✓▌ forwarded"))
        assert box.value and app.changes == [True]  # still reports the change
        await pilot.press("space")
        await wait_for(pilot, lambda: str(box.render()).startswith("▐ ▌"))
