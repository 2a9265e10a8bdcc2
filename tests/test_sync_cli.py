"""The sync commands end to end: exit codes, one-line errors, and --db / MSL_DB."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sync_helpers import add_kol, make_store

from msl_tui.cli import main
from msl_tui.models import Kol
from msl_tui.store import Store


def _run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def test_export_then_import_creates_the_target_store(tmp_path: Path) -> None:
    src = make_store(tmp_path / "a.db", "ana", "laptop-a")
    add_kol(src, "Dr Mira Holt")
    src.close()
    out = tmp_path / "out"
    result = _run("export", "--out", str(out), env={"MSL_DB": str(tmp_path / "a.db")})
    assert result.exit_code == 0, result.stderr
    [bundle] = out.glob("*.mslsync")
    target = tmp_path / "new" / "ho.db"
    assert not target.exists()
    result = _run("--db", str(target), "import", str(bundle))
    assert result.exit_code == 0, result.stderr
    assert [k.name for k in Store.open(target).list_kols()] == ["Dr Mira Holt"]
    again = _run("--db", str(target), "import", str(bundle))
    assert again.exit_code == 0 and "already imported" in again.stdout


def test_import_of_a_folder_takes_every_bundle_in_it(tmp_path: Path) -> None:
    for name in ("ana", "bob"):
        src = make_store(tmp_path / f"{name}.db", name, f"laptop-{name}")
        add_kol(src, f"Dr of {name}")
        src.close()
        assert (
            _run(
                "--db", str(tmp_path / f"{name}.db"), "export", "--out", str(tmp_path / "in")
            ).exit_code
            == 0
        )
    result = _run("--db", str(tmp_path / "ho.db"), "import", str(tmp_path / "in"))
    assert result.exit_code == 0, result.stderr
    assert sorted(k.name for k in Store.open(tmp_path / "ho.db").list_kols()) == [
        "Dr of ana",
        "Dr of bob",
    ]
    empty = _run("--db", str(tmp_path / "ho.db"), "import", str(tmp_path))
    assert empty.exit_code == 1 and "no .mslsync files" in empty.stderr


def test_export_from_a_missing_store_fails_in_one_line(tmp_path: Path) -> None:
    result = _run("--db", str(tmp_path / "none.db"), "export", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "no store at" in result.stderr


def test_roster_needs_for(tmp_path: Path) -> None:
    result = _run("--db", str(tmp_path / "x.db"), "export", "--roster")
    assert result.exit_code == 1 and "--roster and --for MSL go together" in result.stderr


def test_conflicts_are_listed_and_resolved_from_the_command_line(tmp_path: Path) -> None:
    a = make_store(tmp_path / "a.db", "ana", "laptop-a")
    b = make_store(tmp_path / "b.db", "ana", "laptop-b")
    kol = add_kol(a, "Dr Mira Holt")
    a.close()
    b.close()
    for src, dst in (("a", "b"),):
        _run("--db", str(tmp_path / f"{src}.db"), "export", "--out", str(tmp_path / "1"))
        [bundle] = (tmp_path / "1").glob("*.mslsync")
        assert _run("--db", str(tmp_path / f"{dst}.db"), "import", str(bundle)).exit_code == 0
    a, b = Store.open(tmp_path / "a.db"), Store.open(tmp_path / "b.db")
    a.save(kol.evolve(city="Leeds"))
    b.save(b.get(Kol, kol.id).evolve(city="York"))  # type: ignore[union-attr]
    a.close()
    b.close()
    _run("--db", str(tmp_path / "a.db"), "export", "--out", str(tmp_path / "2"))
    [bundle] = (tmp_path / "2").glob("*.mslsync")
    assert _run("--db", str(tmp_path / "b.db"), "import", str(bundle)).exit_code == 0
    listing = _run("--db", str(tmp_path / "b.db"), "conflicts")
    assert "city" in listing.stdout and "'Leeds'" in listing.stdout
    conflict_id = listing.stdout.split()[0].lstrip("#")
    done = _run("--db", str(tmp_path / "b.db"), "conflicts", "resolve", conflict_id, "other")
    assert done.exit_code == 0, done.stderr
    assert Store.open(tmp_path / "b.db").get(Kol, kol.id).city == "Leeds"  # type: ignore[union-attr]
    assert "no open conflicts" in _run("--db", str(tmp_path / "b.db"), "conflicts").stdout
    twice = _run("--db", str(tmp_path / "b.db"), "conflicts", "resolve", conflict_id, "kept")
    assert twice.exit_code == 1 and "already resolved" in twice.stderr


def test_keys_shows_and_pins(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    first = _run("--db", db, "keys")
    assert first.exit_code == 0 and first.stdout.startswith("this store")
    bad = _run("--db", db, "keys", "--trust", "ho", "not-a-key")
    assert bad.exit_code == 1 and "not an Ed25519 public key" in bad.stderr
    good = _run("--db", db, "keys", "--trust", "ho", "ab" * 32)
    assert f"trusted ho: {'ab' * 32}" in good.stdout
