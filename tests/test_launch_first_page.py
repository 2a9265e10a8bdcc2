"""A plain launch shows the list's first page before the store's whole opening: nothing
the first rows do not need is loaded by then (pydantic, click's commands, sync), the store
opens once they are on screen, and keys typed meanwhile act once it has, in order."""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from msl_tui.app import MslApp
from msl_tui.demo import DEMO_PROFILE, seed_demo
from msl_tui.entry import plain_launch
from msl_tui.screens.kol_list import WINDOW, KolListScreen
from msl_tui.services.kol_list import KolListService
from msl_tui.services.launch import FIRST_PAGE_ROWS, peek
from msl_tui.services.priority import PriorityWeights, _file_schema
from msl_tui.settings import Settings
from msl_tui.store import Store, situation
from msl_tui.store.database import peek_current
from tests.app_helpers import FIXED_NOW, wait_for
from tests.terminal import Terminal, eventually, require_tmux, run_msl

ROOT = Path(__file__).resolve().parent.parent

# Loaded after the first rows, never for them.
NOT_FOR_THE_FIRST_PAGE = (
    "pydantic",
    "pydantic_core",
    "click",
    "msl_tui.cli",
    "msl_tui.sync",
    "msl_tui.store.store",
    "msl_tui.models.base",
    "sqlite_utils",
    "dateutil",
    "cryptography",
)


def _seeded(path: Path, kols: int = 60) -> Path:
    store = Store.open(path)
    store.set_profile(DEMO_PROFILE)
    seed_demo(store, kols=kols, years=0.3, seed=7, now=FIXED_NOW)
    KolListService(store).ranked(FIXED_NOW)  # a session earlier today kept its ranking
    store.close()
    return path


def _cli_seeded(db: Path, kols: int) -> Path:
    """A store `msl seed-demo` made, ranked today as the launch before this one did."""
    seeded = run_msl("seed-demo", "--db", str(db), "--kols", str(kols), "--years", "0.5")
    assert seeded.returncode == 0, seeded.stderr
    store = Store.open(db)
    KolListService(store).ranked(datetime.now(UTC))
    store.close()
    return db


@pytest.mark.e2e
def test_a_plain_launch_draws_its_first_rows_without_models_click_or_sync(
    tmp_path: Path,
) -> None:
    require_tmux()
    db = _cli_seeded(tmp_path / "msl.db", kols=30)
    out = tmp_path / "modules.txt"
    probe = ROOT / "tests" / "launch_probe.py"
    terminal = Terminal(
        [sys.executable, str(probe), str(out), "--db", str(db)],
        env={"MSL_SETTINGS": str(tmp_path / "no-settings.toml")},
    )
    try:
        eventually(lambda: out.exists() and out.read_text().endswith("\n"), 60, "no first rows")
    finally:
        terminal.close()
    loaded = set(out.read_text().split())
    assert {"msl_tui.services.launch", "msl_tui.screens.kol_list"} <= loaded  # the quick path
    early = sorted(
        m for m in loaded if any(m == p or m.startswith(f"{p}.") for p in NOT_FOR_THE_FIRST_PAGE)
    )
    assert early == []


async def test_the_first_page_shows_then_the_store_opens_and_held_keys_act(
    tmp_path: Path,
) -> None:
    db = _seeded(tmp_path / "msl.db")
    gate = threading.Event()
    opened: list[Store] = []

    def open_store() -> Store:
        assert gate.wait(20)
        opened.append(Store.open(db))
        return opened[-1]

    opening = peek(db, open_store, FIXED_NOW)
    assert opening is not None and opening.title == DEMO_PROFILE.name
    app = MslApp(None, opening=opening, now=lambda: FIXED_NOW, settings=Settings())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, KolListScreen)
        assert screen.rows and screen.partial  # read ahead: there from the first frame
        assert not opened  # the first page, from the peek alone
        first = [r.kol_id for r in screen.rows]
        await pilot.click("#kols", offset=(8, 1))  # the highlighted row: its page needs the store
        assert app.screen is screen
        await pilot.press("slash", "d", "r")  # held until the store is open
        assert screen.query_state.text == ""
        gate.set()
        await wait_for(pilot, lambda: screen.query_state.text == "dr" and not screen._waiting())
        whole = KolListService(opened[0]).load(screen.query_state, FIXED_NOW)
        assert [r.kol_id for r in screen.rows] == [r.kol_id for r in whole.rows]
        ranked = KolListService(opened[0]).ranked(FIXED_NOW)
        assert [r.kol_id for r in ranked][: len(first)] == first  # the page was exact
    opened[0].close()


async def test_a_store_that_fails_to_open_closes_the_app_with_its_error(tmp_path: Path) -> None:
    db = _seeded(tmp_path / "msl.db")

    def refuse() -> Store:
        raise sqlite3.OperationalError("database is locked")

    opening = peek(db, refuse, FIXED_NOW)
    assert opening is not None
    app = MslApp(None, opening=opening, now=lambda: FIXED_NOW, settings=Settings())
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.open_error is not None)
    assert isinstance(app.open_error, sqlite3.OperationalError)


def test_the_peek_reads_the_first_page_the_store_would(tmp_path: Path) -> None:
    db = _seeded(tmp_path / "msl.db")
    conn = peek_current(db)
    assert conn is not None
    reader = situation.FirstPageReader(conn)
    store = Store.open(db)
    key = KolListService(store).weights_key
    day = FIXED_NOW.date().isoformat()
    assert reader.first_rows(day, key, 20) == situation.first_rows(store, day, key, 20)
    reader.close()
    store.close()


def test_the_usual_opening_for_anything_but_a_ready_msl_store(tmp_path: Path) -> None:
    never = tmp_path / "missing.db"
    assert peek(never, Store.open) is None  # created (and named) by the usual opening
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    assert peek(empty, Store.open) is None
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("create table t(x)").connection.commit()
    assert peek(foreign, Store.open) is None  # refused in words by the usual opening
    nobody = tmp_path / "nobody.db"
    Store.open(nobody).close()
    assert peek(nobody, Store.open) is None  # no MSL yet: asked on the terminal
    office = _seeded(tmp_path / "office.db")
    profile = json.loads(_meta(office, "profile"))
    _set_meta(office, "profile", json.dumps({**profile, "role": "head office"}))
    assert peek(office, Store.open) is None  # head office starts on the field view
    older = _seeded(tmp_path / "older.db")
    last = sqlite3.connect(older)
    last.execute(
        "delete from _sqlite_migrations where rowid = (select max(rowid) from _sqlite_migrations)"
    )
    last.commit()
    last.close()
    assert peek(older, Store.open) is None  # migrations are the usual opening's


def _meta(db: Path, key: str) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("select value from meta where key = ?", [key]).fetchone()[0])
    finally:
        conn.close()


def _set_meta(db: Path, key: str, value: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute("update meta set value = ? where key = ?", [value, key])
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {"MSL_DB": "/x/a.db"}, Path("/x/a.db")),
        (["--db", "/x/b.db"], {}, Path("/x/b.db")),
        (["--db=/x/c.db"], {"MSL_DB": "/x/a.db"}, Path("/x/c.db")),
        (["brief"], {}, None),
        (["--help"], {}, None),
        (["--version"], {}, None),
        (["--db", "/x/b.db", "brief"], {}, None),
        (["--db", "postgresql://u@h/d"], {}, None),
        (["--db", "host=h password=p"], {}, None),
        (["--db", ""], {}, None),
        (["--db"], {}, None),
        ([], {"MSL_DB": ""}, None),
    ],
)
def test_what_counts_as_a_plain_launch(
    args: list[str], env: dict[str, str], expected: Path | None
) -> None:
    assert plain_launch(args, env) == expected


def test_the_page_read_ahead_is_the_page_the_list_asks_for() -> None:
    assert FIRST_PAGE_ROWS == WINDOW


def test_the_kept_ranking_s_weights_key_is_what_it_was() -> None:
    # Scores are kept under a digest of the weights as JSON: the plain dataclass writes the
    # JSON the pydantic model wrote, so a kept ranking stays valid across the change.
    schema = _file_schema()
    assert PriorityWeights().as_json() == schema().model_dump_json()
    custom = schema.model_validate({"overdue_followup": 10, "segment": {"launch": {}}})
    weights = PriorityWeights(**{name: getattr(custom, name) for name in schema.model_fields})
    assert weights.as_json() == custom.model_dump_json()
    assert set(schema.model_fields) == set(PriorityWeights.__dataclass_fields__)
