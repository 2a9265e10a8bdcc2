"""The README's screenshots come from a script; running it keeps it from rotting."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "export_screenshots.py"


def svg_text(path: Path) -> str:
    words = re.findall(r">([^<>]+)</text>", path.read_text())
    return " ".join(html.unescape(w).replace("\xa0", " ") for w in words)


def test_the_script_writes_every_main_screen(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    names = sorted(p.stem for p in tmp_path.glob("*.svg"))
    assert names == sorted(
        [
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
    )
    assert "leading" in svg_text(tmp_path / "visit-capture.svg")  # the language hint shows
    assert "dry run" in svg_text(tmp_path / "sync.svg")


def test_the_readme_shows_the_committed_screenshots() -> None:
    readme = (ROOT / "README.md").read_text()
    for svg in sorted((ROOT / "screenshots").glob("*.svg")):
        assert f"screenshots/{svg.name}" in readme
    assert list((ROOT / "screenshots").glob("*.svg")), "run scripts/export_screenshots.py"
