"""Typed messages the workers post back to the UI thread."""

from __future__ import annotations

from textual.message import Message

from msl_tui.services.kol_list import ListResult


class ListLoaded(Message):
    """A ranked, filtered KOL list is ready to render."""

    def __init__(self, result: ListResult, generation: int) -> None:
        super().__init__()
        self.result = result
        self.generation = generation


class DataChanged(Message):
    """Something was saved or imported: views showing store data should re-query."""
