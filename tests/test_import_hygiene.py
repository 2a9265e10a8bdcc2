"""Domain, store, sync and services never import Textual nor the screens: the UI sits on top,
never under; screens know the app only through its small typed context."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import msl_tui
import msl_tui.services

ROOT = Path(__file__).resolve().parent.parent

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


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any level (inside functions and TYPE_CHECKING too)."""
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _layer(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / "msl_tui" / f).rglob("*.py"))


def test_the_domain_the_store_and_the_services_know_nothing_of_screens() -> None:
    # Read from the source, so an import inside a function or under TYPE_CHECKING counts too.
    for path in _layer("models", "store", "services", "sync"):
        bad = {m for m in _imports(path) if m.startswith(("msl_tui.screens", "msl_tui.app"))}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_screens_depend_on_the_small_app_context_not_the_app_class() -> None:
    # kol_actions is the app's own mixin (actions every screen offers), not a screen.
    for path in _layer("screens", "widgets"):
        if path.name == "kol_actions.py":
            continue
        assert "msl_tui.app" not in _imports(path), f"{path.relative_to(ROOT)} imports the app"
