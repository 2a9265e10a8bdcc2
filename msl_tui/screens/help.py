"""Help, written in msl_tui/help.md and shipped with the package.

The Markdown is drawn compactly: a key table is one line per row (keys in a fixed column),
a heading one line, so every key fits on two screens of an 80x24 terminal. Only the small
subset help.md uses is understood: ``##`` headings, ``| key | action |`` tables, ``-``
bullets, paragraphs, and inline `code` and **bold**.
"""

from __future__ import annotations

import re
from importlib.resources import files
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from msl_tui.widgets.footer import KeyFooter

KEY_COLUMN = 15
_INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*")


def help_text() -> str:
    return files("msl_tui").joinpath("help.md").read_text(encoding="utf-8")


def inline(text: str) -> Text:
    """`code` as a key, **bold** as bold; everything else plain (never markup)."""
    out = Text()
    last = 0
    for match in _INLINE.finditer(text):
        out.append(text[last : match.start()])
        if match[1] is not None:
            out.append(match[1], style="bold cyan")
        else:
            out.append(match[2], style="bold")
        last = match.end()
    out.append(text[last:])
    return out


def keys(cell: str) -> Text:
    """The key cell: each `key` in bold, alternatives separated by a slash."""
    found = re.findall(r"`([^`]+)`", cell)
    return Text(" / ".join(found), style="bold cyan") if found else inline(cell)


def _table(lines: list[str]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(width=KEY_COLUMN, no_wrap=True)
    table.add_column(ratio=1)
    for line in lines[2:]:  # the header row and the |---| line are for GitHub
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2:
            table.add_row(keys(cells[0]), inline(" | ".join(cells[1:])))
    return table


def render_help(markdown: str) -> list[RenderableType]:
    """The renderables help.md makes, in order."""
    parts: list[RenderableType] = []
    for block in re.split(r"\n\s*\n", markdown.strip()):
        lines = block.splitlines()
        first = lines[0]
        if first.startswith("# "):
            continue  # the screen's header already says Help
        if first.startswith("## "):
            parts.append(Text(first[3:], style="bold reverse"))
        elif first.startswith("|"):
            parts.append(_table(lines))
        elif first.startswith("- "):
            items = " ".join(lines).split("- ")[1:]
            bullets = Table.grid(padding=(0, 1))
            bullets.add_column(width=1)
            bullets.add_column(ratio=1)
            for item in items:
                bullets.add_row("•", inline(" ".join(item.split())))
            parts.append(bullets)
        else:
            parts.append(inline(" ".join(" ".join(lines).split())))
            parts.append(Text(""))
    return parts


class HelpScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "app.pop_screen", "Close help", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="help"):
            yield Static(Group(*render_help(help_text())), id="help-text")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = "Help"
        self.query_one("#help", VerticalScroll).focus()
