"""The matrix reads on its own: axis labels, and a visible reason why each KOL sits where
they do; the same stance words on the list, the matrix and in help."""

from __future__ import annotations

from textual.widgets import OptionList

from msl_tui.models import EngagementStage, Influence, Stance
from msl_tui.screens.help import help_text
from msl_tui.screens.matrix import MatrixScreen
from msl_tui.services.segments import STANCE_WORDS, why_cell
from tests.app_helpers import fixed_store, make_app, wait_for


def test_why_cell_separates_two_regional_advocates() -> None:
    growing = why_cell(Influence.REGIONAL, Stance.ADVOCATE, EngagementStage.GROWING)
    steady = why_cell(Influence.REGIONAL, Stance.ADVOCATE, EngagementStage.PLATEAU)
    assert growing.startswith("Manage closely") and "growing relationship" in growing
    assert steady.startswith("Keep informed") and "relationship stage: plateau" in steady


async def test_axes_are_labelled_and_the_highlighted_kol_says_why() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MatrixScreen))
        screen = app.screen
        assert isinstance(screen, MatrixScreen)
        await wait_for(pilot, lambda: bool(screen.rows_by_id))
        axes = " ".join(str(w.render()) for w in screen.query(".axis-x, .axis-y, .axis-corner"))
        # One vocabulary with help: the axis is interest (critics are high interest too).
        for words in ("interest →", "influence ↑", "advocate or critic", "neutral or unknown"):
            assert words in axes
        assert "advocacy" not in axes and "high interest" in help_text()
        # Two regional advocates in different cells: the labels and the why line differ.
        regional_advocates = [
            r
            for r in screen.rows_by_id.values()
            if r.influence is Influence.REGIONAL and r.stance is Stance.ADVOCATE
        ]
        cells = {r.segment for r in regional_advocates}
        assert len(cells) == 2, "the demo should hold a growing and a steady regional advocate"
        seen: dict[str, str] = {}
        for cell in screen.query(OptionList):
            cell.focus()
            for index in range(cell.option_count):
                option = cell.get_option_at_index(index)
                row = screen.rows_by_id[option.id or ""]
                if row in regional_advocates and row.segment.value not in seen:
                    cell.highlighted = index
                    await pilot.pause(0.05)
                    why = str(screen.query_one("#why").render())
                    assert row.name in why and "(regional, advocate" in str(option.prompt)
                    seen[row.segment.value] = why
        assert len(set(seen.values())) == 2
        assert any("growing" in why for why in seen.values())


def test_help_uses_the_same_stance_words() -> None:
    text = help_text()
    for word in ("critic", "advocate", "neutral"):
        assert word in text
    assert "negative" not in text.replace("negative feedback", "")
    assert set(STANCE_WORDS.values()) == {"advocate", "neutral", "critic", "unknown"}
