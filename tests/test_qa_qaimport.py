"""QA (qaimport): importing bundles and rosters, as a new user and as a hostile one.

Real `msl` runs in subprocesses, each on its own store in tmp_path."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

MSL = [str(Path(sys.executable).with_name("msl"))]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSL_")}
    env.update(
        MSL_DATA_DIR=str(tmp_path / "data"),
        MSL_SETTINGS=str(tmp_path / "settings.toml"),
        MSL_DEMO_DB=str(tmp_path / "demo.db"),
    )
    return env


def msl(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MSL, *args], capture_output=True, text=True, env=_env(tmp_path), timeout=120
    )


def _head_office(tmp_path: Path) -> Path:
    db = tmp_path / "ho.db"
    done = msl(tmp_path, "init", "--name", "HO", "--head-office", "--db", str(db))
    assert done.returncode == 0, done.stderr
    return db


def _kols(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute("select id, name, city from kols"))


KOL_ID = "11111111-1111-4111-8111-111111111111"


def test_roster_refuses_one_id_on_two_rows(tmp_path: Path) -> None:
    # Both rows were counted "created" while the second silently replaced the first.
    db = _head_office(tmp_path)
    csv = tmp_path / "roster.csv"
    csv.write_text(f"id,name,institution\n{KOL_ID},Dr A,Inst\n{KOL_ID},Dr B,Inst\n")
    done = msl(tmp_path, "import-roster", str(csv), "--db", str(db))
    assert done.returncode != 0
    assert f"{csv}:3: id: the same KOL as line 2" in done.stderr
    assert "nothing imported" in done.stderr
    assert _kols(db) == []


def test_roster_refuses_an_id_and_a_name_that_reach_one_kol(tmp_path: Path) -> None:
    # Row 2 renames the KOL by id, row 3 finds the same KOL by its old name: two
    # "updated", and the rename (Dr D, Paris) was lost without a word.
    db = _head_office(tmp_path)
    first = tmp_path / "first.csv"
    first.write_text(f"id,name,institution\n{KOL_ID},Dr C,Inst\n")
    assert msl(tmp_path, "import-roster", str(first), "--db", str(db)).returncode == 0
    second = tmp_path / "second.csv"
    second.write_text(f"id,name,institution,city\n{KOL_ID},Dr D,Inst,Paris\n,Dr C,Inst,Rome\n")
    done = msl(tmp_path, "import-roster", str(second), "--db", str(db))
    assert done.returncode != 0
    assert f"{second}:3: name, institution: the same KOL as line 2" in done.stderr
    assert _kols(db) == [(KOL_ID, "Dr C", "")]


def test_roster_does_not_bring_an_erased_kol_back(tmp_path: Path) -> None:
    # Rule: personal data. An erased KOL came back under the very id the erasure record
    # names, from an old spreadsheet.
    db = _head_office(tmp_path)
    csv = tmp_path / "roster.csv"
    csv.write_text(f"id,name,institution\n{KOL_ID},Dr C,Inst\n")
    assert msl(tmp_path, "import-roster", str(csv), "--db", str(db)).returncode == 0
    erased = msl(tmp_path, "kol", "erase", KOL_ID, "--db", str(db), "--reason", "request", "--yes")
    assert erased.returncode == 0, erased.stderr
    done = msl(tmp_path, "import-roster", str(csv), "--db", str(db))
    assert done.returncode != 0
    assert f"{csv}:2: id: this KOL was erased" in done.stderr
    assert _kols(db) == []
    # Without the id it is a new KOL, which the user chose to add.
    csv.write_text("name,institution\nDr C,Inst\n")
    assert msl(tmp_path, "import-roster", str(csv), "--db", str(db)).returncode == 0
    assert [k[0] for k in _kols(db)] != [KOL_ID]


def _laptop_with_a_late_edit(tmp_path: Path) -> Path:
    """A laptop's full export where one visit's edit comes 2,100 lines after its creation
    (past the import's batch of 2,000): an ordinary amended visit in a year's log."""
    from datetime import UTC, datetime, timedelta

    from msl_tui.models import Channel, Interaction, Kol, MslProfile
    from msl_tui.store import Store

    db = tmp_path / "laptop.db"
    store = Store.open(db)
    store.set_profile(MslProfile(msl_id="ana.field", name="Ana Field", device_id="ana-laptop"))
    kol = store.save(Kol(name="Dr Mira Holt", institution="St Elsewhere"))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    first = None
    for i in range(2100):
        visit = store.save(
            Interaction(
                kol_id=kol.id,
                msl_id="ana.field",
                occurred_at=start + timedelta(hours=i),
                channel=Channel.IN_PERSON,
                notes=f"visit {i} renal dosing",
            )
        )
        first = first or visit
    assert first is not None
    store.save(first.evolve(notes="visit 0 renal dosing, corrected"))
    store.close()
    bundle = tmp_path / "ana.mslsync"
    done = msl(tmp_path, "export", "--db", str(db), "--full", "--plain", "--out", str(bundle))
    assert done.returncode == 0, done.stderr
    return bundle


def test_dry_run_counts_what_the_import_then_does(tmp_path: Path) -> None:
    bundle = _laptop_with_a_late_edit(tmp_path)
    db = _head_office(tmp_path)
    dry = msl(tmp_path, "import", "--dry-run", "--db", str(db), str(bundle))
    real = msl(tmp_path, "import", "--db", str(db), str(bundle))
    assert dry.returncode == real.returncode == 0, dry.stderr + real.stderr
    assert "visits: 2100 inserted, 1 updated" in real.stdout
    assert dry.stdout.splitlines()[1:] == real.stdout.splitlines()[1:]


def _big_laptop_bundle(tmp_path: Path, visits: int = 5200) -> Path:
    """A laptop's full export big enough for an import's big-write path (5,000 changes and
    more) into an empty store: 100 KOLs and ``visits`` visits whose notes say 'renal'."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from msl_tui.models import Channel, Interaction, Kol, MslProfile
    from msl_tui.store import Store

    db = tmp_path / "big-laptop.db"
    store = Store.open(db)
    store.set_profile(MslProfile(msl_id="ana.field", name="Ana Field", device_id="ana-laptop"))
    kols = [Kol(name=f"Dr Holt {i}", institution=f"Hospital {i}") for i in range(100)]
    start = datetime(2024, 1, 1, tzinfo=UTC)

    def records():  # type: ignore[no-untyped-def]
        yield from kols
        for i in range(visits):
            yield Interaction(
                id=str(uuid.UUID(int=i + 1, version=4)),
                kol_id=kols[i % len(kols)].id,
                msl_id="ana.field",
                occurred_at=start + timedelta(hours=i),
                channel=Channel.IN_PERSON,
                notes=f"renal dosing visit {i}",
            )

    store.bulk_insert(records())
    store.close()
    bundle = tmp_path / "big.mslsync"
    done = msl(tmp_path, "export", "--db", str(db), "--full", "--plain", "--out", str(bundle))
    assert done.returncode == 0, done.stderr
    return bundle


def _rewritten(bundle: Path, out: Path, part: str, index: int, old: bytes, new: bytes) -> Path:
    """The bundle with one line of one part changed (its manifest made to match, unsigned:
    a store that pins no key takes it)."""
    import hashlib
    import json
    import zipfile

    with zipfile.ZipFile(bundle) as z:
        manifest = json.loads(z.read("manifest.json"))
        parts = {p["name"]: z.read(p["name"]) for p in manifest["parts"]}
    lines = parts[part].splitlines(keepends=True)
    assert old in lines[index]
    lines[index] = lines[index].replace(old, new, 1)
    parts[part] = b"".join(lines)
    for p in manifest["parts"]:
        data = parts[p["name"]]
        p.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    manifest.pop("signer", None)
    manifest["bundle_id"] = "0f0f0f0f-0000-4000-8000-000000000001"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
        z.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
    return out


def _dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [line for line in conn.iterdump() if "_sqlite_migrations" not in line]


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (b"1e400", "duration_min: the number 1e400 is out of range"),
        (b"1" * 30, "duration_min: a number of 30 digits"),
    ],
)
def test_a_number_refused_late_in_a_first_import_names_its_field(
    tmp_path: Path, number: bytes, words: str
) -> None:
    # The refusal named the file and line but not the field ("the number 1e400 is out of
    # range"); the empty store must stay exactly as it was, then take the good bundle.
    bundle = _big_laptop_bundle(tmp_path)
    bad = _rewritten(
        bundle, tmp_path / "bad.mslsync", "interactions.jsonl", 5100,
        b'"duration_min":30', b'"duration_min":' + number,
    )  # fmt: skip
    db = _head_office(tmp_path)
    before = _dump(db)
    done = msl(tmp_path, "import", "--db", str(db), str(bad))
    assert done.returncode != 0
    assert done.stderr.strip() == f"msl: error: {bad}: interactions.jsonl line 5101: {words}"
    assert _dump(db) == before
    good = msl(tmp_path, "import", "--db", str(db), str(bundle))
    assert good.returncode == 0, good.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from interactions").fetchone() == (5200,)
        found = conn.execute(
            "select count(*) from interactions_fts where interactions_fts match 'renal'"
        ).fetchone()
        assert found == (5200,)


async def test_sync_screen_progress_ends_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bar was sized for twice the bundle's changes (when an import read the file twice,
    # checking then merging); it reads it once now, so preview and import both ended at 50%.
    from textual.widgets import Input, ProgressBar

    from msl_tui.app import MslApp
    from msl_tui.screens.sync import SyncScreen
    from msl_tui.store import Store

    monkeypatch.setenv("MSL_SETTINGS", str(tmp_path / "settings.toml"))
    monkeypatch.setenv("MSL_DATA_DIR", str(tmp_path / "data"))
    bundle = _big_laptop_bundle(tmp_path, visits=300)
    store = Store.open(_head_office(tmp_path))
    app = MslApp(store)
    try:
        async with app.run_test(size=(140, 45)) as pilot:
            app.open_sync()
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, SyncScreen)
            screen.query_one("#import-file", Input).value = str(bundle)
            bar = screen.query_one(ProgressBar)
            for key in ("f3", "f4"):
                await pilot.press(key)
                await pilot.pause()
                for _ in range(500):  # the worker's end, however long this machine takes
                    if not screen.busy:
                        break
                    await pilot.pause(0.02)
                await app.workers.wait_for_complete()
                await pilot.pause()
                assert not screen.busy
                assert bar.total == 400  # 100 KOLs and 300 visits
                assert bar.progress == bar.total, key
    finally:
        store.close()


def test_copy_lane_drains_after_ctrl_c_while_waiting_for_room() -> None:
    # Ctrl-C in `msl import` on PostgreSQL, while the import waited for room in the COPY
    # queue: the job was counted but never queued, and the rollback's drain waited for it
    # for ever (the process hung; py-spy: CopyLane.drain under PgDatabase._discard).
    import signal
    import threading

    from msl_tui.store.pg_bulk import CopyLane

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")

    class Interrupted(Exception):
        pass

    def interrupted(signum: int, frame: object) -> None:
        raise Interrupted

    release = threading.Event()
    started = threading.Event()
    ran: list[str] = []

    def run(sql: str, rows: object) -> None:
        started.set()
        release.wait()
        ran.append(sql)

    lane = CopyLane(run, 1)
    lane.submit("first", [])
    started.wait()
    lane.submit("second", [])  # waits in the queue, which is full now
    main = threading.main_thread().ident
    assert main is not None

    def press_ctrl_c() -> None:
        # Once the main thread waits for room in the queue.
        while not lane._jobs.not_full._waiters:  # type: ignore[attr-defined]
            threading.Event().wait(0.001)
        signal.pthread_kill(main, signal.SIGINT)

    before = signal.signal(signal.SIGINT, interrupted)
    try:
        presser = threading.Thread(target=press_ctrl_c)
        presser.start()
        with pytest.raises(Interrupted):
            lane.submit("third", [])
        presser.join()
    finally:
        signal.signal(signal.SIGINT, before)
    lane.cancelled = True  # as the rollback does (PgDatabase._discard)
    release.set()
    drained = threading.Thread(target=lane.drain, daemon=True)
    drained.start()
    drained.join(60)  # a guard against hanging the suite, not a measure of time
    assert not drained.is_alive(), "drain waits for a COPY that was never queued"
    assert ran == ["first"]
    assert not lane.busy
    lane.close()


def test_notes_words_found_on_a_head_office_server(tmp_path: Path, pg_url: str) -> None:
    # The KOL list's filter asks the store for KOLs whose notes hold the typed words; on
    # PostgreSQL that was an FTS5 query ("match"), a syntax error: typing "walrus" in the
    # list of a head office on a server showed "could not be used (SyntaxError 42601)".
    from msl_tui.store import Store

    bundle = _big_laptop_bundle(tmp_path, visits=300)
    done = msl(tmp_path, "init", "--name", "HO", "--head-office", "--db", pg_url)
    assert done.returncode == 0, done.stderr
    done = msl(tmp_path, "import", "--db", pg_url, str(bundle))
    assert done.returncode == 0, done.stderr
    sqlite_db = _head_office(tmp_path)
    assert msl(tmp_path, "import", "--db", str(sqlite_db), str(bundle)).returncode == 0
    for where in (pg_url, sqlite_db):
        store = Store.open(where)
        try:
            assert len(store.search_note_kol_ids("renal")) == 100
            assert len(store.search_note_kol_ids("dosing ren")) == 100
            assert store.search_note_kol_ids("walrus") == []
        finally:
            store.close()
