"""settings.toml is typed at the edge: a typo or a wrong type is one line naming the file
and the key, never a silent default."""

from __future__ import annotations

from pathlib import Path

import pytest

from msl_tui.settings import SettingsError, load_settings


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "none.toml")
    assert settings.dayfirst is True and settings.theme == "textual-dark"


def test_a_valid_file_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path, 'theme = "textual-light"\n[capture]\ndayfirst = false\n')
    settings = load_settings(path)
    assert settings.theme == "textual-light" and settings.dayfirst is False


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[capture]\ndayfirst = 1\n", "capture.dayfirst: must be true or false"),
        ('[capture]\ndayfirst = "yes"\n', "capture.dayfirst: must be true or false"),
        ("[capture]\ndayfrist = true\n", "capture.dayfrist: is not a field here"),
        ("colour = 1\n", "colour: is not a field here"),
        ("theme = 5\n", "theme: must be text"),
        ('theme = "x\\u001b]0;t"\n', "theme: is not in the expected form"),
        ("capture = 3\n", "capture: must be an object"),
    ],
)
def test_a_wrong_key_or_type_is_one_line(tmp_path: Path, text: str, words: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SettingsError) as error:
        load_settings(path)
    message = str(error.value)
    assert "\n" not in message and "\x1b" not in message
    assert message.startswith(str(path)) and words in message, message
