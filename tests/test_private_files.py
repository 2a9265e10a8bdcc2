"""Files that hold personal data are their owner's alone, whatever the umask: stores, bundles,
reports, set-aside bundles and their reasons are 0600; folders msl makes for them are 0700."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from msl_tui import locations

MSL = shutil.which("msl", path=str(Path(sys.executable).parent)) or "msl"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _msl(umask: int, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MSL, *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **env},
        preexec_fn=lambda: os.umask(umask),
    )


@pytest.mark.parametrize("umask", [0o022, 0o000], ids=["umask022", "umask000"])
def test_everything_msl_writes_is_private(tmp_path: Path, umask: int) -> None:
    env = {"MSL_DATA_DIR": str(tmp_path / "data")}
    db = tmp_path / "new" / "msl.db"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = _msl(umask, "--db", str(db), *args, env=env)
        assert result.returncode == 0, result.stderr
        return result

    run("init", "--name", "Ana Ruiz")
    (tmp_path / "kols.csv").write_text("name,city\nDr Mira Holt,York\n", encoding="utf-8")
    run("import-roster", str(tmp_path / "kols.csv"))
    run("export")  # into the default exports folder
    run("export", "--full", "--out", str(tmp_path / "usb" / "week"))
    run("report", "--out", str(tmp_path / "reports" / "nov"))
    bad = tmp_path / "inbox" / "bad.mslsync"
    bad.parent.mkdir()
    bad.parent.chmod(0o755)
    bad.write_text("not a zip")
    refused = _msl(umask, "--db", str(db), "import", str(bad), "--set-aside",
                   str(tmp_path / "aside" / "nov"), env=env)  # fmt: skip
    assert refused.returncode == 1

    files = [
        db,
        *(tmp_path / "data" / "exports").glob("*.mslsync"),
        *(tmp_path / "usb" / "week").glob("*.mslsync"),
        *(tmp_path / "reports" / "nov").glob("*.csv"),
        tmp_path / "reports" / "nov" / "head_office_reports.xlsx",
        tmp_path / "aside" / "nov" / "bad.mslsync",
        tmp_path / "aside" / "nov" / "bad.mslsync.reason.txt",
    ]
    assert len(files) == 1 + 1 + 1 + 13 + 1 + 2
    assert {f.name: oct(_mode(f)) for f in files} == {f.name: oct(0o600) for f in files}
    folders = [
        db.parent,
        tmp_path / "data",
        tmp_path / "data" / "exports",
        tmp_path / "usb",
        tmp_path / "usb" / "week",
        tmp_path / "reports",
        tmp_path / "reports" / "nov",
        tmp_path / "aside",
        tmp_path / "aside" / "nov",
    ]
    assert {str(f): oct(_mode(f)) for f in folders} == {str(f): oct(0o700) for f in folders}
    # A folder that was there already is the user's: msl does not change it.
    assert _mode(bad.parent) == 0o755


def test_a_private_file_is_private_even_under_a_hostile_umask(tmp_path: Path) -> None:
    old = os.umask(0o777)  # would leave no bits at all
    try:
        locations.ensure_private_dir(tmp_path / "a" / "b")
        with locations.create_private_file(tmp_path / "a" / "b" / "f") as handle:
            handle.write(b"x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "a") == _mode(tmp_path / "a" / "b") == 0o700
    assert _mode(tmp_path / "a" / "b" / "f") == 0o600


def test_a_private_file_never_replaces_one_or_follows_a_link(tmp_path: Path) -> None:
    existing = tmp_path / "there"
    existing.write_text("keep")
    with pytest.raises(FileExistsError):
        locations.create_private_file(existing)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OSError):
        locations.create_private_file(link)
    assert existing.read_text() == "keep" and not (tmp_path / "elsewhere").exists()


def test_publish_without_replace_refuses_a_taken_name(tmp_path: Path) -> None:
    final = tmp_path / "b.mslsync"
    final.write_text("first")
    tmp = locations.private_temp_path(final)
    tmp.write_text("second")
    with pytest.raises(FileExistsError):
        locations.publish(tmp, final)
    assert final.read_text() == "first" and tmp.exists()
    locations.publish(tmp, final, replace=True)
    assert final.read_text() == "second" and not tmp.exists()


def test_a_temporary_name_never_looks_like_a_bundle_or_a_report(tmp_path: Path) -> None:
    for name in ("msl-ana-msl-log-20261123T090000-1a2b3c4d.mslsync", "adverse_events.csv"):
        tmp = locations.private_temp_path(tmp_path / name)
        assert tmp.parent == tmp_path and tmp.name.startswith(".")
        assert not tmp.name.endswith((".mslsync", ".csv")) and ".tmp-" in tmp.name
