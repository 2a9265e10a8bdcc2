"""The command boundary: whatever a command raises leaves as one line in the user's words,
with exit status 1, never a traceback or a library's message."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel, ValidationError

from msl_tui.cli import main
from msl_tui.store import StoreError
from msl_tui.sync import reports


class _Visit(BaseModel):
    minutes: int


def _validation_error() -> ValidationError:
    try:
        _Visit.model_validate({"minutes": "half an hour"})
    except ValidationError as exc:
        return exc
    raise AssertionError("pydantic accepted text as minutes")


CASES = [
    (StoreError("the store x is busy: try again"), "the store x is busy: try again"),
    (sqlite3.OperationalError("database is locked"), "is busy (another msl is writing"),
    (sqlite3.OperationalError("database or disk is full"), "is full"),
    (sqlite3.OperationalError("attempt to write a readonly database"), "is read-only"),
    (sqlite3.DatabaseError("database disk image is malformed"), "is damaged"),
    (OSError(errno.ENOSPC, "No space left on device"), "no space left on the disk"),
    (OSError(errno.EROFS, "Read-only file system", "/media/usb/r.csv"), "/media/usb/r.csv"),
    ("\udcff".encode, "not valid Unicode"),
    (_validation_error(), "minutes: must be a whole number"),
    (RuntimeError("internal detail"), "unexpected RuntimeError"),
]


@pytest.mark.parametrize(("raised", "words"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_anything_raised_leaves_as_one_line(
    raised: object, words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "msl.db"
    assert CliRunner().invoke(main, ["--db", str(db), "init", "--name", "Ana"]).exit_code == 0

    def broken(*args: object, **kwargs: object) -> None:
        if callable(raised):
            raised()  # raises UnicodeEncodeError itself
        raise raised  # type: ignore[misc]

    monkeypatch.setattr(reports, "write_reports", broken)
    monkeypatch.delenv("MSL_DEBUG", raising=False)
    result = CliRunner().invoke(main, ["--db", str(db), "report", "--out", str(tmp_path / "r")])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    [line] = result.stderr.splitlines()
    assert line.startswith("msl: error: ") and words in line
    assert "internal detail" not in line and "Input should be" not in line


def test_msl_debug_shows_the_traceback_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "msl.db"
    CliRunner().invoke(main, ["--db", str(db), "init", "--name", "Ana"])

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal detail")

    monkeypatch.setattr(reports, "write_reports", broken)
    monkeypatch.setenv("MSL_DEBUG", "1")
    result = CliRunner().invoke(main, ["--db", str(db), "report", "--out", str(tmp_path / "r")])
    assert isinstance(result.exception, RuntimeError)
