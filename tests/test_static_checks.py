"""Lint, format and type checks run with the tests, so one command proves them all."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name
    if found.exists():
        return str(found)
    other = shutil.which(name)
    if other is None:
        pytest.fail(f"{name} is not installed: install the test extra (pip install -e '.[test]')")
    return other


# Every folder of ours that holds Python; those not yet created are skipped.
CODE = [d for d in ("msl_tui", "tests", "benchmarks", "scripts") if (ROOT / d).is_dir()]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_lint_is_clean() -> None:
    result = _run(_tool("ruff"), "check", *CODE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _run(_tool("ruff"), "format", "--check", *CODE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = _run(_tool("mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


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
    for path in _layer("models", "store", "services", "sync"):
        bad = {
            m
            for m in _imports(path)
            if m.split(".")[0] == "textual" or m.startswith(("msl_tui.screens", "msl_tui.app"))
        }
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_screens_depend_on_the_small_app_context_not_the_app_class() -> None:
    # kol_actions is the app's own mixin (actions every screen offers), not a screen.
    for path in _layer("screens", "widgets"):
        if path.name == "kol_actions.py":
            continue
        assert "msl_tui.app" not in _imports(path), f"{path.relative_to(ROOT)} imports the app"
