"""The command palette: one entry per action, each one runnable."""

from __future__ import annotations

from msl_tui.app import MslApp
from msl_tui.commands import PALETTE
from tests.app_helpers import fixed_store, make_app, wait_for


def test_every_plain_palette_action_exists_on_the_app() -> None:
    for entry in PALETTE:
        if "." not in entry.action:
            assert hasattr(MslApp, f"action_{entry.action}"), entry.title


async def test_no_title_appears_twice_in_the_palette() -> None:
    app = make_app(fixed_store(kols=5))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        system = [command.title for command in app.get_system_commands(app.screen)]
        ours = [entry.title for entry in PALETTE]
        titles = [t.lower() for t in system + ours]
        assert len(titles) == len(set(titles)), titles
