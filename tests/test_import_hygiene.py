"""Domain, store, sync and services never import Textual: the UI sits on top, never under."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import msl_tui
import msl_tui.services

UI_FREE = [
    "msl_tui.models",
    "msl_tui.store",
    "msl_tui.clock",
    "msl_tui.demo",
    "msl_tui.locations",
    "msl_tui.settings",
]
UI_FREE += [f"msl_tui.services.{m.name}" for m in pkgutil.iter_modules(msl_tui.services.__path__)]
try:
    import msl_tui.sync

    UI_FREE += ["msl_tui.sync"] + [
        f"msl_tui.sync.{m.name}" for m in pkgutil.iter_modules(msl_tui.sync.__path__)
    ]
except ImportError:  # pragma: no cover - the sync layer is optional in old checkouts
    pass


def test_non_ui_modules_never_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {UI_FREE!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"textual imported: {result.stdout.strip()}"


def test_the_list_covers_the_services() -> None:
    assert "msl_tui.services.priority" in UI_FREE
    assert "msl_tui.services.language" in UI_FREE
