"""Head office on PostgreSQL: the same commands, the same merge, the same answer as SQLite."""

from __future__ import annotations

import csv
import shutil
import sqlite3
import sys
import zipfile
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from field_bundles import canonical_dump, field_bundles
from pg_helpers import PASSWORD_USER, PgServer
from sync_helpers import NOW

from msl_tui.cli import main
from msl_tui.models import Kol
from msl_tui.store import Store, StoreError
from msl_tui.store.codec import ENTITIES
from msl_tui.store.migrations import migrations
from msl_tui.store.store import BULK_ROWS
from msl_tui.sync.importer import import_bundle
from msl_tui.sync.reports import write_reports

MSL = Path(sys.executable).parent / "msl"


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _dump(url: str) -> dict:
    store = Store.open(url, read_only=True)
    try:
        return canonical_dump(store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    # Big enough that a server takes the rows through COPY (store.BULK_ROWS), not one by one.
    return field_bundles(tmp_path_factory.mktemp("field"), kols=40, years=1.0)


def test_the_schema_is_sqlites_column_for_column(pg_url: str) -> None:
    Store.open(pg_url).close()
    lite = sqlite3.connect(":memory:")
    from sqlite_utils import Database

    migrations.apply(Database(lite))
    with psycopg.connect(pg_url) as conn:
        for table in [e.table for e in ENTITIES.values()] + [
            "changes", "conflicts", "imported_bundles", "meta", "drafts", "prompts", "erasures"
        ]:  # fmt: skip
            lite_cols = [r[1] for r in lite.execute(f"pragma table_info({table})")]
            pg_cols = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns "
                    "where table_name = %s order by ordinal_position",
                    [table],
                )
            ]
            if table in ("changes", "erasures"):
                assert pg_cols[0] == "rowid"  # SQLite's is implicit; export orders by it
                pg_cols = pg_cols[1:]
            assert pg_cols == lite_cols, table


def test_same_bundles_give_the_same_store_and_reports_on_both_engines(
    pg_url: str, bundles: list[Path], tmp_path: Path
) -> None:
    lite = Store.open(tmp_path / "ho.db")
    pg = Store.open(pg_url)
    for bundle in bundles:
        assert import_bundle(lite, bundle).lines() == import_bundle(pg, bundle).lines()
    assert canonical_dump(lite) == canonical_dump(pg)
    lite_files = write_reports(lite, tmp_path / "lite", now=NOW)
    pg_files = write_reports(pg, tmp_path / "pg", now=NOW)
    assert [p.name for p, _ in lite_files] == [p.name for p, _ in pg_files]
    for (a, rows_a), (b, rows_b) in zip(lite_files, pg_files, strict=True):
        assert rows_a == rows_b and a.read_bytes() == b.read_bytes(), a.name
    dump = canonical_dump(pg)
    assert dump["open_conflicts"], "the scenario has a conflict to compare"
    assert len(dump["interactions"]) >= BULK_ROWS, "the COPY path is compared too"
    lite.close()
    pg.close()


def test_commands_work_on_a_postgresql_store(
    pg_url: str, bundles: list[Path], tmp_path: Path
) -> None:
    dry = _run("--db", pg_url, "import", "--dry-run", *map(str, bundles))
    assert dry.exit_code == 1 and "a dry run needs the store it would import into" in dry.stderr
    result = _run("--db", pg_url, "import", *map(str, bundles[:1]))
    assert result.exit_code == 0, result.stderr
    before = _dump(pg_url)
    dry = _run("--db", pg_url, "import", "--dry-run", *map(str, bundles[1:]))
    assert dry.exit_code == 0 and "dry run, nothing written" in dry.stdout
    assert _dump(pg_url) == before
    result = _run("--db", pg_url, "import", *map(str, bundles))
    assert result.exit_code == 0, result.stderr
    assert "in conflict" in result.stdout and "password" not in result.stdout
    again = _run("--db", pg_url, "import", str(bundles[0]))
    assert again.exit_code == 0 and "already imported" in again.stdout

    listed = _run("conflicts", "--db", pg_url)
    assert listed.exit_code == 0, listed.stderr
    first = listed.stdout.splitlines()[0]
    assert first.startswith("#") and "KOL Dr " in first  # the KOL by name, not by id
    settled = _run("conflicts", "resolve", "--db", pg_url, first[1:].split()[0], "other")
    assert settled.exit_code == 0, settled.stderr
    assert "other value kept" in settled.stdout

    out = tmp_path / "reports"
    report = _run("--db", pg_url, "report", "--out", str(out))
    assert report.exit_code == 0, report.stderr
    aes = list(csv.DictReader((out / "adverse_events.csv").open()))
    assert aes and all(row["day_zero"] for row in aes)

    roster = _run(
        "--db", pg_url, "export", "--roster", "--for", "demo.msl", "--out", str(tmp_path / "r")
    )
    assert roster.exit_code == 0, roster.stderr
    [bundle] = list((tmp_path / "r").glob("*.mslsync"))
    laptop = Store.open(tmp_path / "laptop.db")
    report_in = import_bundle(laptop, bundle)
    assert report_in.tables["kols"].inserted == 80  # both laptops' KOLs, met by demo.msl
    laptop.close()

    keys = _run("--db", pg_url, "keys")
    assert keys.exit_code == 0 and keys.stdout.startswith("this store")

    sheet = tmp_path / "kols.csv"
    sheet.write_text("name,institution,city\nDr Ida Berg,Rikshospitalet,Oslo\n")
    added = _run("--db", pg_url, "import-roster", str(sheet))
    assert added.exit_code == 0, added.stderr
    store = Store.open(pg_url, read_only=True)
    assert [k.city for k in store.list_kols() if k.name == "Dr Ida Berg"] == ["Oslo"]
    store.close()


def test_a_refused_bundle_leaves_the_server_store_as_it_was(
    pg_url: str, bundles: list[Path], tmp_path: Path
) -> None:
    store = Store.open(pg_url)
    import_bundle(store, bundles[0])
    before = canonical_dump(store)
    store.close()
    spoiled = tmp_path / "spoiled.mslsync"
    data = bytearray(bundles[1].read_bytes())
    data[len(data) // 2] ^= 0xFF
    spoiled.write_bytes(bytes(data))
    result = _run("--db", pg_url, "import", str(spoiled))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    store = Store.open(pg_url)
    assert canonical_dump(store) == before
    store.close()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgresql://msl@/msl?host=/nonexistent-folder", "no PostgreSQL server answers there"),
        ("postgresql://[broken", "is not a usable PostgreSQL address"),
    ],
)
def test_an_unreachable_server_is_one_line(url: str, words: str) -> None:
    result = _run("--db", url, "report", "--out", "/tmp/never-written")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and words in result.stderr
    assert "Traceback" not in result.output


def test_wrong_password_and_missing_database_are_one_line(pg_server: PgServer) -> None:
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(f"drop role if exists {PASSWORD_USER}")
        conn.execute(f"create role {PASSWORD_USER} login password 'right'")
    wrong = f"postgresql://{PASSWORD_USER}:wrong@/postgres?host={pg_server.socket_dir}"
    result = _run("--db", wrong, "import", "/nonexistent.mslsync")
    assert result.exit_code == 1 and "the server refused the password" in result.stderr
    assert "wrong" not in result.stderr  # the password is never shown
    missing = pg_server.url("no_such_database")
    result = _run("--db", missing, "conflicts")
    assert result.exit_code == 1 and "no such database" in result.stderr


def test_another_programs_database_is_refused_untouched(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("create table invoices (id int)")
    with pytest.raises(StoreError, match="tables of another program"):
        Store.open(pg_url)
    with psycopg.connect(pg_url) as conn:
        tables = [
            r[0]
            for r in conn.execute("select tablename from pg_tables where schemaname = 'public'")
        ]
    assert tables == ["invoices"]


def test_without_psycopg_a_url_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    result = _run("--db", "postgresql://ho@db.example/msl", "report", "--out", "/tmp/x")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        'msl: error: a PostgreSQL store needs psycopg: pip install "msl-tui[headoffice]"'
    )


def test_a_read_only_command_never_creates_the_schema(pg_url: str) -> None:
    result = _run("--db", pg_url, "report", "--out", "/tmp/never-written")
    assert result.exit_code == 1 and "no store at postgresql://" in result.stderr
    with psycopg.connect(pg_url) as conn:
        assert conn.execute(
            "select count(*) from pg_tables where schemaname = 'public'"
        ).fetchone() == (0,)


def test_kol_search_works_without_full_text_tables(pg_url: str) -> None:
    store = Store.open(pg_url)
    kol = store.save(Kol(name="Dr Åsa Lindqvist", institution="Karolinska"))
    store.save(Kol(name="Dr Per Holm", institution="Uppsala"))
    assert store.search_kol_ids("karol") == [kol.id]
    assert [k.id for k in store.find_kols_by_name("lindq")] == [kol.id]
    store.close()


def _erasable_kol(laptop: Path) -> tuple[str, str]:
    """A KOL of this laptop with no adverse event waiting to be reported (those cannot be
    erased yet): its id and name."""
    store = Store.open(laptop, read_only=True)
    pending = {
        r["kol_id"]
        for r in store.db.query(
            "select kol_id from interactions where ae_pending_since is not null"
        )
    }
    kol = next(k for k in sorted(store.list_kols(), key=lambda k: k.id) if k.id not in pending)
    store.close()
    return kol.id, kol.name


def test_an_erasure_travels_into_both_engines_alike(
    pg_url: str, bundles: list[Path], tmp_path: Path
) -> None:
    laptop = tmp_path / "a.db"
    shutil.copy(bundles[0].parent / "a.db", laptop)
    kol_id, _ = _erasable_kol(laptop)
    erased = _run("--db", str(laptop), "kol", "erase", kol_id, "--reason", "request", "--yes")
    assert erased.exit_code == 0, erased.stderr
    sent = _run("--db", str(laptop), "export", "--out", str(tmp_path / "out"))
    assert sent.exit_code == 0, sent.stderr
    [erasure] = list((tmp_path / "out").glob("*.mslsync"))
    lite, pg = Store.open(tmp_path / "ho.db"), Store.open(pg_url)
    for bundle in [*bundles, erasure]:
        assert import_bundle(lite, bundle).lines() == import_bundle(pg, bundle).lines()
    dump = canonical_dump(pg)
    assert dump == canonical_dump(lite)
    assert [e[0] for e in dump["erasures"]] == [kol_id]
    assert pg.get(Kol, kol_id) is None
    lite.close()
    pg.close()


def test_head_office_erases_on_the_server_and_the_erasure_goes_out(
    pg_url: str, bundles: list[Path], tmp_path: Path
) -> None:
    assert _run("--db", pg_url, "import", *map(str, bundles)).exit_code == 0
    kol_id, name = _erasable_kol(bundles[0].parent / "a.db")
    access = _run("--db", pg_url, "kol", "export", kol_id, "--out", str(tmp_path / "sar"))
    assert access.exit_code == 0, access.stderr  # a subject-access export first
    assert name in (tmp_path / "sar.md").read_text()
    erased = _run("--db", pg_url, "kol", "erase", kol_id, "--reason", "request", "--yes")
    assert erased.exit_code == 0, erased.stderr
    with psycopg.connect(pg_url) as conn:
        for table, column in (("kols", "name"), ("changes", "patch"), ("conflicts", "other_value")):
            found = conn.execute(
                f"select count(*) from {table} where strpos({column}, %s) > 0", [name]
            ).fetchone()
            assert found == (0,), table
        left = conn.execute("select count(*) from interactions where kol_id = %s", [kol_id])
        assert left.fetchone() == (0,)
    sent = _run("--db", pg_url, "export", "--full", "--out", str(tmp_path / "out"))
    assert sent.exit_code == 0, sent.stderr
    [bundle] = list((tmp_path / "out").glob("*.mslsync"))
    with zipfile.ZipFile(bundle) as zf:
        assert kol_id in zf.read("erasures.jsonl").decode()
        assert not any(name.encode() in zf.read(n) for n in zf.namelist())


def test_file_only_commands_say_so_for_a_server(pg_url: str) -> None:
    result = _run("--db", pg_url, "encrypt")
    assert result.exit_code == 1
    assert "msl encrypt is for a store file" in result.stderr and "PostgreSQL" in result.stderr
