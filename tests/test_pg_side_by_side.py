"""Several importers at once on a PostgreSQL store give the store one importer gives."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from field_bundles import canonical_dump, weekly_bundles

from msl_tui.models import Kol
from msl_tui.store import Store, sync_log
from msl_tui.sync.importer import import_bundle
from msl_tui.sync.side_by_side import import_one

MSL = Path(sys.executable).parent / "msl"


@pytest.fixture(scope="module")
def weekly(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return weekly_bundles(tmp_path_factory.mktemp("weekly"))


def _waiting_on_a_lock(url: str, count: int = 1) -> Callable[[], bool]:
    def check() -> bool:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock' "
                "and datname = current_database()"
            ).fetchone()
        return row is not None and row[0] >= count

    return check


def _wait_for(condition: Callable[[], bool], thread: threading.Thread) -> None:
    """Until ``condition`` holds (the thread must still be working meanwhile)."""
    while not condition():
        assert thread.is_alive(), "the other importer finished instead of waiting"
        thread.join(0.02)


def test_four_processes_give_the_store_one_process_gives(pg_server, weekly: list[Path]) -> None:
    one = pg_server.create_database()
    assert (
        subprocess.run([MSL, "--db", one, "import", *weekly], capture_output=True).returncode == 0
    )
    four = pg_server.create_database()
    # The first bundle creates the shared KOL; the rest arrive in any order at once.
    subprocess.run([MSL, "--db", four, "import", weekly[0]], check=True, capture_output=True)
    rest = weekly[1:]
    procs = [
        subprocess.Popen(
            [MSL, "--db", four, "import", *rest[n::4]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate()
        assert proc.returncode == 0, err.decode()
    a, b = Store.open(one, read_only=True), Store.open(four, read_only=True)
    dump_one, dump_four = canonical_dump(a), canonical_dump(b)
    assert dump_one == dump_four
    assert dump_one["open_conflicts"], "the laptops' edits of one KOL are in conflict"
    a.close()
    b.close()


def test_a_merge_waits_for_another_merge_of_the_same_record(
    pg_url: str, weekly: list[Path]
) -> None:
    setup = Store.open(pg_url)
    import_bundle(setup, weekly[0])
    shared = setup.list_kols()[0]
    setup.close()
    holder, other = Store.open(pg_url), Store.open(pg_url)
    finished: list[str] = []

    def second() -> None:
        report = import_one(other, weekly[1])  # edits the shared KOL
        finished.append(str(report.tables["kols"].updated))

    with holder.merging(), holder.transaction():
        sync_log.lock_records(holder, "kol", [shared.id])
        thread = threading.Thread(target=second)
        thread.start()
        _wait_for(_waiting_on_a_lock(pg_url), thread)
        assert finished == []  # it waits for the record, not for the whole store
    thread.join()
    assert finished == ["1"]
    holder.close()
    other.close()


def test_merges_of_different_records_do_not_wait_for_each_other(
    pg_url: str, weekly: list[Path]
) -> None:
    holder, other = Store.open(pg_url), Store.open(pg_url)
    kol = Kol(name="Dr Nobody Else")
    with holder.merging(), holder.transaction():
        sync_log.lock_records(holder, "kol", [kol.id])
        report = import_one(other, weekly[0])  # would hang here if it waited for holder
    assert report.tables["kols"].inserted > 0
    holder.close()
    other.close()


def test_an_ordinary_write_waits_for_merges_to_finish(pg_url: str, weekly: list[Path]) -> None:
    holder, writer = Store.open(pg_url), Store.open(pg_url)
    saved: list[str] = []

    def write() -> None:
        saved.append(writer.save(Kol(name="Dr Late Writer")).id)

    with holder.merging(), holder.transaction():
        import_bundle(holder, weekly[0])
        thread = threading.Thread(target=write)
        thread.start()
        _wait_for(_waiting_on_a_lock(pg_url), thread)
        assert saved == []
    thread.join()
    assert len(saved) == 1
    holder.close()
    writer.close()


def test_an_export_waits_for_merges_in_flight_so_its_mark_skips_nothing(
    pg_url: str, weekly: list[Path], tmp_path: Path
) -> None:
    # Change rowids come from a sequence and merges commit in any order: an export that
    # moved its mark past a merge still at work would never send that merge's changes.
    from msl_tui.sync.export import export_bundle

    setup = Store.open(pg_url)
    import_bundle(setup, weekly[0])
    setup.close()
    holder, exporter = Store.open(pg_url), Store.open(pg_url)
    results: list[int] = []

    def export() -> None:
        with exporter.settled():
            result = export_bundle(exporter, tmp_path / "out.mslsync", sign=False)
        results.append(result.total)

    with holder.merging(), holder.transaction():
        import_bundle(holder, weekly[1])
        thread = threading.Thread(target=export)
        thread.start()
        _wait_for(_waiting_on_a_lock(pg_url), thread)
        assert results == []
    thread.join()
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("select count(*) from changes").fetchone()
    assert row is not None and results == [row[0]]  # the merge's changes went out too
    holder.close()
    exporter.close()


def test_a_merge_the_server_stops_for_a_deadlock_is_run_again(
    pg_url: str, weekly: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two merges that lock in opposite orders (here: the test holds a plan, then wants a
    # KOL the import locked first). The server breaks the circle by stopping one; the
    # import it stopped rolls back whole and is run again once the way is clear.
    from msl_tui.sync import side_by_side
    from msl_tui.sync.bundle import BundleReader

    attempts: list[Path] = []

    def counted(*args, **kwargs):
        attempts.append(args[1])
        return import_bundle(*args, **kwargs)

    monkeypatch.setattr(side_by_side, "import_bundle", counted)

    with BundleReader(weekly[0]) as reader:
        first = {p.table: next(iter(reader.lines(p)))[1]["id"] for p in reader.manifest.parts}
    holder, importer = Store.open(pg_url), Store.open(pg_url)
    holder.db.execute("set deadlock_timeout = '20s'")  # the importer is the one to notice
    reports: list[int] = []

    def run_import() -> None:
        reports.append(import_one(importer, weekly[0]).tables["kols"].inserted)

    with holder.merging(), holder.transaction():
        sync_log.lock_records(holder, "plan", [first["plan"]])
        thread = threading.Thread(target=run_import)
        thread.start()
        _wait_for(_waiting_on_a_lock(pg_url), thread)  # it holds its KOLs, waits for the plan
        sync_log.lock_records(holder, "kol", [first["kol"]])  # the circle
    thread.join()
    assert reports == [4] and len(attempts) == 2  # stopped once, then whole
    assert importer.count(Kol) == 4
    holder.close()
    importer.close()


def test_an_encrypted_weekly_bundle_merges_beside_the_others(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its manifest is sealed until the import decrypts it: its size stands in for its count.
    from click.testing import CliRunner
    from sync_helpers import add_kol, add_visit, make_store

    from msl_tui.cli import main
    from msl_tui.sync import side_by_side

    def keys(db: str, *args: str) -> str:
        result = CliRunner().invoke(main, ["--db", db, "keys", *args])
        assert result.exit_code == 0, result.stderr
        return result.stdout

    [line] = [x for x in keys(pg_url).splitlines() if "age recipient" in x]
    laptop = make_store(tmp_path / "ana.db", "ana", "laptop-ana")
    add_visit(laptop, add_kol(laptop, "Dr Ida Berg"), notes="asked about dosing")
    laptop.close()
    keys(str(tmp_path / "ana.db"), "--recipient", "head office", line.rsplit(" ", 1)[1])
    store = Store.open(tmp_path / "ana.db")
    from msl_tui.sync.export import export_bundle

    bundle = export_bundle(store, tmp_path / "out.mslsync").path
    store.close()
    assert bundle is not None and bundle.read_bytes().startswith(b"age-encryption.org/")
    assert 0 < side_by_side.declared_changes(bundle) <= side_by_side.MERGE_BUDGET
    merged: list[bool] = []
    server = Store.open(pg_url)
    real = server.merging

    def watched():
        merged.append(True)
        return real()

    monkeypatch.setattr(server, "merging", watched)
    report = import_one(server, bundle)
    assert merged == [True] and report.tables["interactions"].inserted == 1
    server.close()


def test_merges_touching_one_kol_take_turns_at_its_situation(
    pg_url: str, weekly: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A KOL's kept situation is computed by one merge at a time, each from the rows the
    other committed: the second waits, and is not run again."""
    from msl_tui.store import situation
    from msl_tui.store.pg import record_key
    from msl_tui.sync import side_by_side

    setup = Store.open(pg_url)
    import_bundle(setup, weekly[0])
    shared = setup.list_kols()[0]
    setup.close()
    runs: list[Path] = []
    real = side_by_side.import_bundle

    def counted(store: Store, path: Path, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(path)
        return real(store, path, **kwargs)

    monkeypatch.setattr(side_by_side, "import_bundle", counted)
    holder, other = Store.open(pg_url), Store.open(pg_url)
    thread = threading.Thread(target=lambda: import_one(other, weekly[1]))  # the shared KOL
    with holder.merging(), holder.transaction():
        holder.db.lock_keys([record_key("kol_situation", shared.id)])  # type: ignore[attr-defined]
        thread.start()
        _wait_for(_waiting_on_a_lock(pg_url), thread)
    thread.join()
    assert runs == [weekly[1]]  # waited, then went through once
    kept = situation.kept(other)
    with other._lock:
        fresh = situation.compute(other.db.conn, None)
    assert kept == sorted(fresh, key=lambda r: r["kol_id"])
    holder.close()
    other.close()
