"""Help is a compact table: every key of every screen within two screens at 80x24, and
every key a screen binds is in it."""

from __future__ import annotations

import re

import pytest
from rich.console import Console, Group
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen

from msl_tui.screens.amend import AmendScreen
from msl_tui.screens.capture import CaptureScreen
from msl_tui.screens.help import HelpScreen, help_text, render_help
from msl_tui.screens.kol_list import KolListScreen
from msl_tui.screens.kol_page import KolPageScreen
from msl_tui.screens.matrix import MatrixScreen
from msl_tui.screens.plan import PlanScreen
from tests.app_helpers import fixed_store, make_app, wait_for


def key_rows(markdown: str) -> list[str]:
    """The action text of every key row of help.md, in order."""
    rows = [line for line in markdown.splitlines() if re.match(r"^\| `", line)]
    return [line.strip("|").split("|", 1)[1].strip() for line in rows]


async def test_every_key_fits_on_two_screens_at_80x24() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        scroll = app.screen.query_one("#help", VerticalScroll)
        visible = scroll.region.height
        console = Console(width=scroll.content_region.width, record=True, color_system=None)
        console.print(Group(*render_help(help_text())))
        lines = console.export_text().splitlines()
        last = key_rows(help_text())[-1]
        where = next(n for n, line in enumerate(lines) if last[:30] in line)
        assert where < 2 * visible, f"the last key is on line {where + 1} of {len(lines)}"


def test_keys_are_drawn_one_per_line_not_in_boxes() -> None:
    console = Console(width=78, record=True, color_system=None)
    console.print(Group(*render_help(help_text())))
    text = console.export_text()
    assert "┃" not in text and "│" not in text and "─" not in text
    assert "a / +           add a KOL" in text


# Binding key names -> how help writes them.
KEY_WORDS = {"slash": "/", "plus": "+", "escape": "esc", "delete": "del", "question_mark": "?"}


@pytest.mark.parametrize(
    "screen", [KolListScreen, KolPageScreen, PlanScreen, CaptureScreen, MatrixScreen, AmendScreen]
)
def test_every_key_a_screen_binds_is_in_help(screen: type[Screen[object]]) -> None:
    written = set(re.findall(r"`([^`]+)`", help_text()))
    for binding in screen.BINDINGS:
        assert isinstance(binding, Binding)
        for key in binding.key.split(","):
            assert KEY_WORDS.get(key, key) in written, f"{screen.__name__}: {key} is not in help"
