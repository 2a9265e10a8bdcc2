"""User settings from settings.toml (see locations.settings_path). Missing file: defaults.

theme = "textual-dark"      # or "textual-light"
[capture]
dayfirst = true             # 03/04 means 3 April
[priority]                  # see services/priority.py
[retention]
drafts_days = 30            # unsent drafts older than this are removed
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

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


@functools.cache
def _file_schema() -> Any:
    """What settings.toml may hold: a typo in a key is an error, not a silent default.
    Built (pydantic loaded) only when there is a file: a launch without one needs neither."""
    from pydantic import BaseModel, ConfigDict, Field

    class Capture(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        dayfirst: bool = True

    class Retention(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        # Unsent drafts older than this many days are removed (see services/retention.py).
        drafts_days: Annotated[int, Field(ge=1, le=3650)] = 30

    class SettingsFile(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        theme: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")] = "textual-dark"
        capture: Capture = Field(default_factory=Capture)
        priority: dict[str, Any] = Field(default_factory=dict)  # checked by load_weights
        retention: Retention = Field(default_factory=Retention)

    return SettingsFile


def load_settings(path: Path | None = None) -> Settings:
    path = path or locations.settings_path()
    if not path.exists():
        return Settings()
    import tomllib  # only when there is a file: its parser costs a launch ~10 ms

    where = printable(path, 160)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{where}: not valid TOML ({printable(exc, 120)})") from exc
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{where}: not UTF-8 text") from exc
    except OSError as exc:
        raise SettingsError(f"{where}: cannot be read ({exc.strerror})") from exc
    from pydantic import ValidationError

    from msl_tui.models.problems import describe

    try:
        parsed = _file_schema().model_validate(data)
    except ValidationError as exc:
        raise SettingsError(f"{where}: {describe(exc)}") from None
    try:
        weights = load_weights(path)
    except ValueError as exc:
        raise SettingsError(printable(exc, 300)) from exc
    return Settings(
        theme=parsed.theme,
        dayfirst=parsed.capture.dayfirst,
        weights=weights,
        drafts_days=parsed.retention.drafts_days,
    )
