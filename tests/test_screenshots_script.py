"""The README's screenshots come from a script; running it keeps it from rotting."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "export_screenshots.py"


def svg_text(path: Path) -> str:
    words = re.findall(r">([^<>]+)</text>", path.read_text())
    return " ".join(html.unescape(w).replace("\xa0", " ") for w in words)


MAIN_SCREENS = [
    "kol-list",
    "segment-matrix",
    "kol-page",
    "pre-call-brief",
    "ae-report",
    "engagement-plan",
    "visit-capture",
    "sync",
    "help",
    "field-view",
]


def test_the_script_has_a_shot_of_every_main_screen() -> None:
    code = (
        "import sys; sys.path.insert(0, 'scripts'); import export_screenshots as e; "
        "print(' '.join(e.SHOTS))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == sorted(MAIN_SCREENS)


@pytest.mark.long
def test_the_script_writes_the_shots_whose_steps_only_it_takes(tmp_path: Path) -> None:
    # The other screens are rendered by the snapshot tests; these depend on the script's own
    # steps (a leading question typed, a sync preview) or have no snapshot (the field view).
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), "visit-capture", "sync", "field-view"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.stem for p in tmp_path.glob("*.svg")) == ["field-view", "sync", "visit-capture"]
    assert "leading" in svg_text(tmp_path / "visit-capture.svg")  # the language hint shows
    assert "dry run" in svg_text(tmp_path / "sync.svg")


def test_the_readme_shows_the_committed_screenshots() -> None:
    readme = (ROOT / "README.md").read_text()
    for svg in sorted((ROOT / "screenshots").glob("*.svg")):
        assert f"screenshots/{svg.name}" in readme
    assert sorted(p.stem for p in (ROOT / "screenshots").glob("*.svg")) == sorted(MAIN_SCREENS)
