"""Every filesystem location msl-tui uses, decided here and nowhere else.

Defaults follow the platform's conventions (platformdirs); each can be overridden by an
environment variable, and the database also by ``--db``.

| what            | default                              | override        |
|-----------------|--------------------------------------|-----------------|
| data folder     | user data dir / msl-tui              | MSL_DATA_DIR    |
| the MSL's store | <data folder>/msl.db                 | --db, MSL_DB    |
| the demo store  | <data folder>/demo.db                | MSL_DEMO_DB     |
| settings file   | user config dir / msl-tui/settings.toml | MSL_SETTINGS |
| exports         | <data folder>/exports                | --out           |
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "msl-tui"


def data_dir() -> Path:
    override = os.environ.get("MSL_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))


def default_db_path() -> Path:
    override = os.environ.get("MSL_DB")
    return Path(override) if override else data_dir() / "msl.db"


def demo_db_path() -> Path:
    override = os.environ.get("MSL_DEMO_DB")
    return Path(override) if override else data_dir() / "demo.db"


def settings_path() -> Path:
    override = os.environ.get("MSL_SETTINGS")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_NAME)) / "settings.toml"


def exports_dir() -> Path:
    return data_dir() / "exports"


def ensure_private_dir(path: Path) -> None:
    """Create a folder only its owner can read: KOL notes are personal data."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
