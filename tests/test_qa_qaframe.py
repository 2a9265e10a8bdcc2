"""QA (qaframe): a plain launch's first frame, keys typed before the store opened.

Keys typed while the store opens are held and replayed once it is open. They must act as
they would on a slow start (everything ready): the same KOL under the cursor."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from msl_tui import entry
from msl_tui.app import MslApp
from msl_tui.services.launch import peek
from msl_tui.store import Store
from tests.app_helpers import keys_acted, wait_for

KOLS = 300  # more than the first page (150 rows) the first frame shows


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("qaframe") / "seed.db"
    msl = Path(sys.executable).with_name("msl")
    subprocess.run(
        [str(msl), "seed-demo", "--db", str(path), "--kols", str(KOLS)],
        check=True,
        capture_output=True,
        env={**os.environ, "MSL_DATA_DIR": str(path.parent / "data")},
    )
    return path


def _copy(seeded: Path, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.db"
    shutil.copy(seeded, path)
    return path


def _fast_app(path: Path, gate: threading.Event) -> MslApp:
    """A plain launch whose store opens only once ``gate`` is set."""
    seen = entry.identity(path)
    assert seen is not None
    said: list[str] = []

    def slow_open() -> Store:
        gate.wait(30)
        return entry._open(path, said, seen)

    opening = peek(path, slow_open)
    assert opening is not None
    return MslApp(None, opening=opening, settings=opening.settings)


async def _settle(app: MslApp, pilot: Any) -> None:
    """The whole ranking on screen and every key typed acted on (no fixed pause)."""
    await wait_for(pilot, lambda: app._exit or (app._store is not None and app.kol_list.ready))
    await keys_acted(pilot, app, app.screen)


async def _compare(seeded: Path, tmp_path: Path, keys: list[str]) -> None:
    gate = threading.Event()
    fast = _fast_app(_copy(seeded, tmp_path, "fast"), gate)
    async with fast.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for key in keys:
            await pilot.press(key)  # held: the store is not open yet
        assert fast._store is None
        gate.set()
        await _settle(fast, pilot)
        fast_kol = fast.screen.current_kol_id  # type: ignore[attr-defined]
    slow = MslApp(Store.open(_copy(seeded, tmp_path, "slow"), create=False))
    async with slow.run_test(size=(100, 30)) as pilot:
        await _settle(slow, pilot)
        for key in keys:
            await pilot.press(key)
            await _settle(slow, pilot)
        slow_kol = slow.screen.current_kol_id  # type: ignore[attr-defined]
        rank = {r.kol_id: r.rank for r in slow.screen.rows}  # type: ignore[attr-defined]
    assert (fast_kol, rank.get(fast_kol)) == (slow_kol, rank.get(slow_kol))


async def test_ctrl_end_typed_at_launch_reaches_the_last_kol_not_the_first_pages(
    seeded: Path, tmp_path: Path
) -> None:
    # It went to the 150th KOL: the last row of the first page, replayed before the whole
    # ranking had come.
    await _compare(seeded, tmp_path, ["ctrl+end"])


async def test_end_typed_at_launch_reaches_the_last_kol(seeded: Path, tmp_path: Path) -> None:
    await _compare(seeded, tmp_path, ["pagedown", "down", "end"])


async def test_segment_then_week_typed_at_launch(seeded: Path, tmp_path: Path) -> None:
    await _compare(seeded, tmp_path, ["g", "w"])


async def test_pagedown_typed_at_launch(seeded: Path, tmp_path: Path) -> None:
    await _compare(seeded, tmp_path, ["pagedown"])


async def test_end_alone_typed_at_launch(seeded: Path, tmp_path: Path) -> None:
    await _compare(seeded, tmp_path, ["end"])


@pytest.mark.parametrize("key", ["q", "ctrl+q"])
async def test_quit_typed_before_the_store_opened_quits_at_once(
    seeded: Path, tmp_path: Path, key: str
) -> None:
    # Held with the other keys, it waited for the store and the whole ranking: over a
    # second on 20,000 KOLs before msl closed.
    gate = threading.Event()
    app = _fast_app(_copy(seeded, tmp_path, "quit"), gate)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press(key)
            assert app._store is None  # not opened, and no need to
            assert app.return_code == 0  # exiting already
    finally:
        gate.set()


async def test_q_typed_into_a_held_filter_is_a_letter(seeded: Path, tmp_path: Path) -> None:
    gate = threading.Event()
    app = _fast_app(_copy(seeded, tmp_path, "letter"), gate)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for key in ["slash", "q"]:
            await pilot.press(key)
        assert app.return_code is None
        gate.set()
        await _settle(app, pilot)
        assert app.screen.query_one("#filter").value == "q"  # type: ignore[attr-defined]


async def test_keys_held_at_launch_still_act_when_the_ranking_fails(
    seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The held keys wait for the whole ranking; a ranking that failed (a busy store, said
    # in a notice) must not keep them, and every key after them, held for ever.
    from msl_tui.services.kol_list import KolListService
    from msl_tui.store.errors import StoreError

    real_load = KolListService.load
    failed: list[bool] = []

    def load_once_busy(self: KolListService, *args: object, **kwargs: object) -> object:
        if not failed:
            failed.append(True)
            raise StoreError("database is locked")
        return real_load(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(KolListService, "load", load_once_busy)
    gate = threading.Event()
    app = _fast_app(_copy(seeded, tmp_path, "busy"), gate)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for key in ["slash", "z"]:
            await pilot.press(key)
        gate.set()
        await _settle(app, pilot)
        assert failed
        assert app.screen.query_one("#filter").value == "z"  # type: ignore[attr-defined]
