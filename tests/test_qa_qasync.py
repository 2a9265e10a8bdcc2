"""QA session qasync: big imports, export, seed-demo, amending a visit's time and channel,
reports on a full disk. Each test holds a problem found by using the app, or a promise the
speed work of the day could have broken."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from msl_tui.app import MslApp
from msl_tui.models import Channel, Interaction
from msl_tui.models.msl import MslProfile
from msl_tui.screens.amend import AmendScreen
from msl_tui.services.adverse_events import local_stamp
from msl_tui.services.kols import add_kol
from msl_tui.services.visit import new_visit, submit
from msl_tui.settings import Settings
from msl_tui.store.store import Store
from tests.app_helpers import type_text

MSL = [str(Path(sys.executable).parent / "msl")]


def _store(path: Path) -> Store:
    store = Store.open(path)
    store.set_profile(MslProfile(msl_id="ana.field", name="Ana Field", device_id=store.device_id))
    return store


def _visit(store: Store, now: datetime, notes: str) -> Interaction:
    kol = add_kol(store, {"name": "Dr Rosa Roe", "institution": "St Elsewhere"})
    draft = new_visit(store, kol.id, now - timedelta(minutes=1))
    draft.notes = notes
    return submit(store, draft, now)


# -- amending a visit's time: an adverse event it reveals starts at the corrected time ------


async def test_amend_moving_the_time_and_revealing_an_ae_puts_day_zero_at_the_visit(
    tmp_path: Path,
) -> None:
    """The visit was logged two days late (the MSL wrote it up on Friday for Wednesday's
    visit) and the correction adds the rash the KOL mentioned. Day zero is the visit: the
    corrected time, not the wrong one, or the 24-hour window reads 'on time' while the
    event is already two days old (it was the time being replaced)."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    store = _store(tmp_path / "s.db")
    visit = _visit(store, now, "Discussed the registry design.")
    real = (now - timedelta(days=2)).replace(hour=10, minute=0)
    app = MslApp(store, now=lambda: now, settings=Settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.push_screen(AmendScreen("Dr Rosa Roe", visit))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AmendScreen)
        text = screen.query_one("#amend-text")
        text.insert(" She said a patient had a severe rash after the first dose.")  # type: ignore[attr-defined]
        when = screen.query_one("#amend-when")
        when.value = local_stamp(real)  # type: ignore[attr-defined]
        reason = screen.query_one("#amend-reason")
        reason.value = "logged on the wrong day"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")  # yes, it is an adverse event
        await pilot.pause()
    saved = store.get(Interaction, visit.id)
    assert saved is not None and saved.adverse_event is not None
    assert saved.occurred_at == real.astimezone(UTC)
    assert saved.amendments[-1].previous_occurred_at == visit.occurred_at
    assert saved.adverse_event.day_zero == saved.occurred_at
    assert saved.adverse_event.due_at() < now  # already late: the visit was 2 days ago
    store.close()


# -- reports on a full disk: one line, old reports kept --------------------------------------


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MSL, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


@pytest.mark.skipif(
    os.geteuid() != 0 or sys.platform != "linux", reason="mounts a small tmpfs (root, Linux)"
)
def test_report_on_a_full_disk_is_one_line_and_leaves_the_folder_as_it_was(
    tmp_path: Path,
) -> None:
    """The workbook's writer wraps ENOSPC in its own FileCreateError: msl said 'unexpected
    FileCreateError' and Python printed a ZipFile traceback at exit."""
    db = tmp_path / "demo.db"
    assert _run("seed-demo", "--db", str(db), "--kols", "150", "--years", "2").returncode == 0
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)])
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        out = disk / "reports"
        result = _run("report", "--db", str(db), "--out", str(out))
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [
            "msl: error: no space left on the disk: free some space and try again"
        ]
        assert sorted(p.name for p in out.iterdir()) == []  # nothing half-written
    finally:
        subprocess.run(["umount", str(disk)])


# -- a big import, killed, then imported again: search finds its words -----------------------


def test_a_big_import_killed_halfway_leaves_the_store_and_search_as_before(
    tmp_path: Path,
) -> None:
    source, target = tmp_path / "demo.db", tmp_path / "mine.db"
    assert _run("seed-demo", "--db", str(source), "--kols", "400", "--years", "2").returncode == 0
    bundle = tmp_path / "all.mslsync"
    assert (
        _run("export", "--full", "--no-sign", "--db", str(source), "--out", str(bundle)).returncode
        == 0
    )
    assert _run("init", "--name", "Zoë Ärmel", "--db", str(target)).returncode == 0
    # Killed as soon as it has written rows (the first batch is in the WAL, uncommitted).
    proc = subprocess.Popen(
        [*MSL, "import", str(bundle), "--db", str(target)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wal = Path(str(target) + "-wal")
    while proc.poll() is None and (not wal.exists() or wal.stat().st_size < 2_000_000):
        pass
    proc.kill()
    proc.wait()
    conn = sqlite3.connect(target)
    try:
        triggers = {
            r[0] for r in conn.execute("select name from sqlite_master where type = 'trigger'")
        }
        count = conn.execute("select count(*) from interactions").fetchone()[0]
    finally:
        conn.close()
    assert {"kols_ai", "interactions_ai"} <= triggers
    assert count in (
        0,
        sqlite3.connect(source).execute("select count(*) from interactions").fetchone()[0],
    )
    result = _run("import", str(bundle), "--db", str(target))
    assert result.returncode == 0, result.stderr
    store = Store.open(target)
    demo = Store.open(source)
    try:
        word_rows = demo.db.conn.execute(
            "select kol_id, notes from interactions where notes != '' limit 50"
        ).fetchall()
        for kol_id, notes in word_rows:
            word = max(notes.split(), key=len).strip(".,;:()\"'")
            assert kol_id in store.search_kol_ids(word), word
        conn = store.db.conn
        conn.execute("insert into interactions_fts(interactions_fts) values ('integrity-check')")
        conn.execute("insert into kols_fts(kols_fts) values ('integrity-check')")
    finally:
        store.close()
        demo.close()


def test_amend_channel_only_keeps_the_earlier_channel(tmp_path: Path) -> None:
    """A phone call logged as in person: the channel alone is corrected, with a reason."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    store = _store(tmp_path / "s.db")
    visit = _visit(store, now, "Discussed the registry design.")
    from msl_tui.services.visit import amend

    phone = next(c for c in Channel if c is not visit.channel)
    saved = amend(store, visit.id, visit.notes, "was a call", now, channel=phone)
    assert saved.channel is phone
    assert saved.amendments[-1].previous_channel is visit.channel
    assert saved.amendments[-1].previous_occurred_at is None
    store.close()


def _visit_with_ae(store: Store, now: datetime) -> Interaction:
    kol = add_kol(store, {"name": "Dr Rosa Roe", "institution": "St Elsewhere"})
    draft = new_visit(store, kol.id, now - timedelta(minutes=1))
    draft.notes = "She said a patient had a severe rash after the first dose."
    draft.ae_confirmed = "yes"
    visit = submit(store, draft, now)
    assert visit.adverse_event is not None
    assert visit.adverse_event.day_zero == visit.occurred_at
    return visit


def test_moving_a_visit_moves_the_day_zero_it_set_so_lateness_shows(tmp_path: Path) -> None:
    """Written up on Friday for Wednesday's visit, the AE reported on Friday: once the time
    is corrected, the report is 2 days after day zero (late), not 'on time'."""
    from msl_tui.services.adverse_events import report_status
    from msl_tui.services.visit import amend, mark_ae_reported

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    store = _store(tmp_path / "s.db")
    visit = _visit_with_ae(store, now)
    mark_ae_reported(store, visit.id, now, "PV-1")
    real = now - timedelta(days=2)
    saved = amend(store, visit.id, visit.notes, "logged on the wrong day", now, occurred_at=real)
    assert saved.adverse_event is not None
    assert saved.adverse_event.day_zero == real
    assert saved.adverse_event.reported_at == now
    assert "late" in report_status(saved.adverse_event, now)
    store.close()


def test_moving_a_visit_after_its_ae_report_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    from msl_tui.services.visit import VisitError, amend, mark_ae_reported

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    store = _store(tmp_path / "s.db")
    visit = _visit_with_ae(store, now - timedelta(days=2))
    reported = now - timedelta(days=1)
    before = mark_ae_reported(store, visit.id, reported, "PV-1")
    with pytest.raises(VisitError) as caught:
        amend(store, visit.id, visit.notes, "wrong day", now, occurred_at=now - timedelta(hours=1))
    assert caught.value.field == "when"
    assert store.get(Interaction, visit.id) == before
    store.close()


def test_a_day_zero_the_msl_set_apart_from_the_visit_stays(tmp_path: Path) -> None:
    """Day zero typed by hand (learned of the event before the visit, by phone) is not the
    visit's time: moving the visit leaves it."""
    from msl_tui.services.visit import amend

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    store = _store(tmp_path / "s.db")
    visit = _visit_with_ae(store, now)
    assert visit.adverse_event is not None
    earlier = now - timedelta(days=3)
    event = {**visit.adverse_event.model_dump(), "day_zero": earlier}
    visit = store.save(visit.evolve(adverse_event=event))
    saved = amend(store, visit.id, visit.notes, "time", now, occurred_at=now - timedelta(hours=5))
    assert saved.adverse_event is not None and saved.adverse_event.day_zero == earlier
    store.close()


async def test_the_list_and_its_filter_show_what_the_sync_screen_imported(tmp_path: Path) -> None:
    """Imported from the app's sync screen (F3, F4), then back to the list: it still showed
    the KOLs from before and the filter found none of the imported notes' words (the list
    keeps its ranking in memory and nobody told it) until the app was restarted."""
    from textual.widgets import DataTable, Input

    from msl_tui.screens.sync import SyncScreen

    demo, bundle = tmp_path / "demo.db", tmp_path / "demo.mslsync"
    assert _run("seed-demo", "--db", str(demo), "--kols", "30", "--years", "1").returncode == 0
    assert (
        _run("export", "--full", "--no-sign", "--db", str(demo), "--out", str(bundle)).returncode
        == 0
    )
    source = Store.open(demo)
    kol_id, notes = source.db.conn.execute(
        "select kol_id, notes from interactions where length(notes) > 40 limit 1"
    ).fetchone()
    source.close()
    word = max(notes.split(), key=len).strip(".,;:()\"'")
    store = _store(tmp_path / "mine.db")
    add_kol(store, {"name": "Dr Rosa Roe", "institution": "St Elsewhere"})
    app = MslApp(store, settings=Settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one(DataTable).row_count == 1
        await pilot.press("s")
        await pilot.pause()
        sync = app.screen
        assert isinstance(sync, SyncScreen)
        sync.query_one("#import-file", Input).value = str(bundle)
        await pilot.press("f3")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("f4")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert store.db.conn.execute("select count(*) from kols").fetchone()[0] == 31
        await pilot.press("escape")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one(DataTable).row_count == 31
        await pilot.press("slash")
        await type_text(pilot, word)
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = {row.kol_id for row in app.screen.rows}  # type: ignore[attr-defined]
        assert kol_id in shown, word
    store.close()


def test_a_folder_in_a_reports_place_stops_the_swap_before_any_file_changes(
    tmp_path: Path,
) -> None:
    """A folder named insights.csv in the reports folder: the new AEs and transfers of value
    were swapped in, then the swap stopped (insights, feedback, coverage left from last
    week), and the error named a temporary file."""
    small, big = tmp_path / "small.db", tmp_path / "big.db"
    assert _run("seed-demo", "--db", str(small), "--kols", "20", "--years", "1").returncode == 0
    assert _run("seed-demo", "--db", str(big), "--kols", "60", "--years", "2").returncode == 0
    out = tmp_path / "reports"
    assert _run("report", "--db", str(small), "--out", str(out)).returncode == 0
    (out / "insights.csv").unlink()
    (out / "insights.csv").mkdir()
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    result = _run("report", "--db", str(big), "--out", str(out))
    assert result.returncode == 1
    assert result.stderr.strip() == f"msl: error: {out / 'insights.csv'} is a folder"
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before


def test_amending_to_a_time_out_of_range_says_why(tmp_path: Path) -> None:
    """'The visit time: check the visit time.' said nothing about 1969."""
    from msl_tui.services.visit import VisitError, amend

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    store = _store(tmp_path / "s.db")
    visit = _visit(store, now, "Discussed the registry design.")
    with pytest.raises(VisitError) as caught:
        amend(
            store,
            visit.id,
            visit.notes,
            "typo",
            now,
            occurred_at=datetime(1969, 12, 31, 10, tzinfo=UTC),
        )
    assert caught.value.field == "when"
    assert "1970" in caught.value.message
    store.close()
