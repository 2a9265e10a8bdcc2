"""Guards a hostile tester found missing: the store is never taken for a bundle or an
output, an existing store is not silently handed to someone else, and MSL ids from names
in any script stay distinct."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sync_helpers import add_kol, file_hash, make_store

from msl_tui.cli import main, slug


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_the_store_is_not_imported_as_a_bundle_nor_set_aside(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    make_store(db, "ana", "dev-a").close()
    before = file_hash(db)
    result = _run("--db", str(db), "import", str(db), "--set-aside", str(tmp_path / "aside"))
    assert result.exit_code == 1
    assert "is the store itself" in result.stderr
    assert db.exists() and file_hash(db) == before
    assert not (tmp_path / "aside").exists()


def test_export_never_overwrites_the_store(tmp_path: Path) -> None:
    db = tmp_path / "s.mslsync"  # a store that happens to be named like a bundle
    store = make_store(db, "ana", "dev-a")
    add_kol(store, "Dr Mira Holt")
    store.close()
    before = file_hash(db)
    result = _run("--db", str(db), "export", "--out", str(db), "--force")
    assert result.exit_code == 1 and "is the store itself" in result.stderr
    assert file_hash(db) == before


def test_init_does_not_hand_a_store_to_someone_else_silently(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert _run("--db", str(db), "init", "--name", "Ana Silva").exit_code == 0
    before = file_hash(db)
    other = _run("--db", str(db), "init", "--name", "Bob Jones")
    assert other.exit_code == 1 and "belongs to Ana Silva" in other.stderr
    assert file_hash(db) == before
    assert (
        _run("--db", str(db), "init", "--name", "Ana Silva", "--territory", "North").exit_code == 0
    )
    assert _run("--db", str(db), "init", "--name", "Bob Jones", "--force").exit_code == 0


def test_report_out_naming_a_file_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    make_store(db, "ana", "dev-a").close()
    taken = tmp_path / "taken.txt"
    taken.write_text("x")
    result = _run("--db", str(db), "report", "--out", str(taken))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "is a file" in result.stderr


def test_msl_ids_from_names_in_any_script_stay_distinct() -> None:
    assert slug("Zoë Ångström") == "zoe.angstrom"
    assert slug("Ana Silva") == "ana.silva"
    ids = {slug(n) for n in ("李小龙", "王芳", "محمد علي", "Иван Петров")}
    assert len(ids) == 4 and "msl" not in ids
    assert slug("李小龙") == slug("李小龙")  # stable: the same MSL gets the same id


def test_a_pinned_name_must_be_one_a_bundle_can_carry(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    make_store(db, "ho", "dev-ho").close()
    key = "ab" * 32
    typo = _run("--db", str(db), "keys", "--trust", "ann field", key)
    assert typo.exit_code == 1 and "is not a sender name" in typo.stderr
    assert _run("--db", str(db), "keys", "--trust", "ann.field", key).exit_code == 0


def test_two_kols_of_one_name_are_never_picked_silently(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = make_store(db, "ana", "dev-a")
    add_kol(store, "Dr Hal Fairlow", institution="North Clinic")
    add_kol(store, "Dr Hal Fairlow", institution="South Hospital")
    store.close()
    result = _run("--db", str(db), "brief", "Dr Hal Fairlow")
    assert result.exit_code == 1
    assert "2 KOLs match" in result.stderr
    assert "North Clinic" in result.stderr and "South Hospital" in result.stderr


def test_init_can_make_a_head_office_store(tmp_path: Path) -> None:
    db = tmp_path / "ho.db"
    result = _run("--db", str(db), "init", "--name", "Head Office", "--head-office")
    assert result.exit_code == 0 and "head office" in result.stdout
    from msl_tui.store import Store

    store = Store.open(db)
    profile = store.get_profile()
    store.close()
    assert profile is not None and profile.role == "head office"


def test_other_connection_strings_are_refused_without_showing_them(tmp_path: Path) -> None:
    import os

    for db in (
        "postgresql+psycopg://ho:S3cretPW@localhost/msl",
        "host=localhost dbname=msl user=ho password=S3cretPW",
    ):
        result = _run("--db", db, "report", "--out", str(tmp_path / "r"))
        assert result.exit_code == 1
        assert "connection string" in result.stderr and "S3cretPW" not in result.stderr
    assert not any("S3cretPW" in name for name in os.listdir(tmp_path))
    assert not any("S3cretPW" in name for name in os.listdir("."))


def test_privacy_guards_from_the_hostile_tester(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A passphrase that is not text leaves no plain store behind; a secret key pasted as a
    recipient is never echoed; an erasure's 'by' cannot carry free text."""
    import pytest as _pytest
    from pydantic import ValidationError

    from msl_tui.sync.wire import ErasureLine

    db = tmp_path / "u2.db"
    monkeypatch.setenv("MSL_PASSPHRASE", "\udcff\udcfe")
    made = _run("--db", str(db), "init", "--name", "Ana", "--encrypt")
    assert made.exit_code == 1 and "passphrase" in made.stderr
    assert not db.exists()
    monkeypatch.delenv("MSL_PASSPHRASE")
    plain = tmp_path / "p.db"
    make_store(plain, "ana", "dev-a").close()
    secret = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
    echoed = _run("--db", str(plain), "keys", "--recipient", "ho", secret)
    assert echoed.exit_code == 1 and "AGE-SECRET" not in echoed.stderr
    line = {
        "kol": "a1c1b1a0-0000-4000-8000-000000000000",
        "at": "2026-11-01T10:00:00Z",
        "reason": "request",
        "by": "ana.silva",
        "device": "dev-a",
    }
    assert ErasureLine.model_validate(line).by == "ana.silva"
    with _pytest.raises(ValidationError):
        ErasureLine.model_validate({**line, "by": "Dr X, 12 Elm Street, born 1960"})


def test_a_reader_that_leaves_early_is_not_an_error(tmp_path: Path) -> None:
    """`msl keys | head -1`: the pipe closes before msl has written; no error line."""
    import subprocess
    import sys

    db = tmp_path / "s.db"
    make_store(db, "ana", "dev-a").close()
    msl = str(Path(sys.executable).with_name("msl"))
    proc = subprocess.Popen(
        [msl, "--db", str(db), "keys"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Broken pipe" not in err and "Traceback" not in err
