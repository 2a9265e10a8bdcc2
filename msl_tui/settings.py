"""User settings from settings.toml (see locations.settings_path). Missing file: defaults.

theme = "textual-dark"      # or "textual-light"
[capture]
dayfirst = true             # 03/04 means 3 April
[priority]                  # see services/priority.py
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from msl_tui import locations
from msl_tui.services.priority import PriorityWeights, load_weights


@dataclass(frozen=True)
class Settings:
    theme: str = "textual-dark"
    dayfirst: bool = True
    weights: PriorityWeights = field(default_factory=PriorityWeights)


def load_settings(path: Path | None = None) -> Settings:
    path = path or locations.settings_path()
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from exc
    capture = data.get("capture", {})
    dayfirst = capture.get("dayfirst", True)
    if not isinstance(dayfirst, bool):
        raise ValueError(f"{path}: capture.dayfirst must be true or false")
    theme = data.get("theme", "textual-dark")
    if not isinstance(theme, str):
        raise ValueError(f"{path}: theme must be a string")
    return Settings(theme=theme, dayfirst=dayfirst, weights=load_weights(path))
