"""Every command and option of `msl` is documented in README.md (as sqlite-utils does)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from msl_tui.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, click.Command]]:
    ctx = click.Context(main)
    return [(name, main.get_command(ctx, name)) for name in main.list_commands(ctx)]  # type: ignore[misc]


@pytest.mark.parametrize("name", [name for name, _ in _commands()])
def test_command_is_documented(name: str) -> None:
    assert f"msl {name}" in README, f"`msl {name}` is not in README.md"


@pytest.mark.parametrize(
    ("name", "option"),
    [
        (name, opt)
        for name, command in [("", main), *_commands()]
        for param in command.params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--") and opt != "--help"
    ],
)
def test_option_is_documented(name: str, option: str) -> None:
    assert option in README, f"option {option} of `msl {name}`".replace("msl ` ", "msl`") + (
        " is not in README.md"
    )
