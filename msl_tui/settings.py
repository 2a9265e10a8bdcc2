"""User settings from settings.toml (see locations.settings_path). Missing file: defaults.

theme = "textual-dark"      # or "textual-light"
[capture]
dayfirst = true             # 03/04 means 3 April
[priority]                  # see services/priority.py
[retention]
drafts_days = 30            # unsent drafts older than this are removed
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from msl_tui import locations
from msl_tui.safe_text import printable
from msl_tui.services.priority import PriorityWeights, load_weights


@dataclass(frozen=True)
class Settings:
    theme: str = "textual-dark"
    dayfirst: bool = True
    weights: PriorityWeights = field(default_factory=PriorityWeights)
    drafts_days: int = 30


class SettingsError(ValueError):
    """The settings file cannot be used; the message names the file and the problem."""


def load_settings(path: Path | None = None) -> Settings:
    path = path or locations.settings_path()
    if not path.exists():
        return Settings()
    where = printable(path, 160)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{where}: not valid TOML ({printable(exc, 120)})") from exc
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{where}: not UTF-8 text") from exc
    except OSError as exc:
        raise SettingsError(f"{where}: cannot be read ({exc.strerror})") from exc
    capture = data.get("capture", {})
    dayfirst = capture.get("dayfirst", True) if isinstance(capture, dict) else None
    if not isinstance(dayfirst, bool):
        raise SettingsError(f"{where}: capture.dayfirst must be true or false")
    theme = data.get("theme", "textual-dark")
    if not isinstance(theme, str):
        raise SettingsError(f"{where}: theme must be a string")
    retention = data.get("retention", {})
    drafts_days = retention.get("drafts_days", 30) if isinstance(retention, dict) else None
    if not isinstance(drafts_days, int) or isinstance(drafts_days, bool) or drafts_days < 1:
        raise SettingsError(
            f"{where}: retention.drafts_days must be a whole number of days (1 or more)"
        )
    try:
        weights = load_weights(path)
    except ValueError as exc:
        raise SettingsError(printable(exc, 300)) from exc
    return Settings(theme=theme, dayfirst=dayfirst, weights=weights, drafts_days=drafts_days)
