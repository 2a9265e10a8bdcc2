"""QA (qastore): a plain launch against the states a store can be in, and what changes
between the read-only peek at its first page and its whole opening (msl_tui/entry.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from msl_tui import entry
from msl_tui.app import MslApp
from msl_tui.services.launch import StoreOpening, peek, release_collector

MSL = str(Path(sys.executable).parent / "msl")


def _msl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MSL, *args], capture_output=True, text=True, env=env or dict(os.environ), timeout=120
    )


@pytest.fixture(autouse=True)
def _own_places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MSL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MSL_SETTINGS", str(tmp_path / "settings.toml"))
    monkeypatch.delenv("MSL_DB", raising=False)
    monkeypatch.delenv("MSL_DEBUG", raising=False)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two MSLs' stores with KOLs, made once by the real command."""
    where = tmp_path_factory.mktemp("stores")
    env = dict(os.environ, MSL_DATA_DIR=str(where / "data"), MSL_SETTINGS=str(where / "s.toml"))
    made = {}
    for name, who, seed in (("ann", "Ann Field", "1"), ("bob", "Bob Other", "7")):
        path = where / f"{name}.db"
        assert _msl("init", "--name", who, "--db", str(path), env=env).returncode == 0
        seeded = _msl(
            "seed-demo", "--db", str(path), "--kols", "12", "--years", "1", "--seed", seed, env=env
        )
        assert seeded.returncode == 0, seeded.stderr
        made[name] = path
    return made


def _copy(source: Path, to: Path) -> Path:
    shutil.copy(source, to)
    return to


def _opening(path: Path, before_open: object = None) -> tuple[StoreOpening, list[str]]:
    """What entry.main builds for a plain launch; ``before_open(path)`` runs at the moment
    the whole opening starts (between the peek and the opening)."""
    said: list[str] = []
    seen = entry.identity(path)
    assert seen is not None

    def open_store():  # type: ignore[no-untyped-def]
        if callable(before_open):
            before_open(path)
        return entry._open(path, said, seen, peeked)

    peeked: list[str] = []
    opening = peek(path, open_store)
    assert opening is not None, "a ready store is peeked at"
    peeked.append(opening.device_id)
    return opening, said


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(20):
        await pilot.pause(0.05)


async def test_q_at_once_quits_without_a_traceback(stores: dict[str, Path], tmp_path: Path) -> None:
    # `q` typed as the first page shows quit while the header, filter field and key bar
    # were being mounted: Textual's MountError / NoMatches('HeaderTitle') traceback.
    opening, _ = _opening(_copy(stores["ann"], tmp_path / "msl.db"))
    app = MslApp(None, opening=opening, settings=opening.settings)
    try:
        async with app.run_test(size=(120, 36)) as pilot:  # raises what the app met
            await pilot.press("q")
            await _settle(pilot)
    finally:
        release_collector()
    assert app.return_code in (0, None)


async def test_store_removed_before_opening_says_so_without_a_traceback(
    stores: dict[str, Path], tmp_path: Path
) -> None:
    path = _copy(stores["ann"], tmp_path / "msl.db")
    opening, _ = _opening(path, before_open=os.unlink)
    app = MslApp(None, opening=opening, settings=opening.settings)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await _settle(pilot)
    finally:
        release_collector()
    assert "removed, moved or replaced" in str(app.open_error)
    assert not path.exists(), "nothing is created in its place"


async def test_store_overwritten_in_place_by_another_msls_is_refused(
    stores: dict[str, Path], tmp_path: Path
) -> None:
    # `cp bob.db msl.db` writes into the same file (same device and inode): the identity
    # check passed, and Bob's KOLs came up under Ann's name, `n` writing on Bob's first KOL.
    path = _copy(stores["ann"], tmp_path / "msl.db")

    def overwrite(target: Path) -> None:
        with open(target, "r+b") as into:
            into.truncate(0)
            into.write(stores["bob"].read_bytes())

    opening, _ = _opening(path, before_open=overwrite)
    assert opening.title == "Ann Field"
    app = MslApp(None, opening=opening, settings=opening.settings)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("n")
            await _settle(pilot)
            assert app.open_error is not None
    finally:
        release_collector()
    assert "removed, moved or replaced" in str(app.open_error)


def test_a_store_at_a_path_that_is_not_utf8_opens_again(
    stores: dict[str, Path], tmp_path: Path
) -> None:
    # msl creates a store at such a path (the first run), but every later opening went
    # through the read-only URI, which could not encode it: "text that is not valid
    # Unicode" at each start, for a store msl itself had made.
    raw = os.fsencode(tmp_path) + b"/st\xffre.db"
    path = Path(os.fsdecode(raw))
    shutil.copy(stores["ann"], path)
    env = dict(os.environ, MSL_DB=os.fsdecode(raw))
    listed = _msl("conflicts", env=env)  # read-only: through the read-only URI
    assert listed.returncode == 0, listed.stderr
    assert peek(path, lambda: None) is not None  # type: ignore[arg-type,return-value]


async def test_a_full_disk_still_shows_the_ranking_and_the_keys_typed(
    stores: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a full disk (tmpfs of 2 MB, filled) the store opens and reads, but keeping the
    # day's scores (a cache) fails with SQLite's "database or disk is full": the ranking
    # was never shown ("loading…" for good) and every key typed stayed held, unanswered.
    import sqlite3

    from textual.widgets import Input

    from msl_tui.store import situation

    def full(*args: object, **kwargs: object) -> bool:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(situation, "save_scores", full)
    opening, _ = _opening(_copy(stores["ann"], tmp_path / "msl.db"))
    app = MslApp(None, opening=opening, settings=opening.settings)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("slash", "d", "r")
            for _ in range(60):
                await pilot.pause(0.05)
                if app.kol_list.ready and not app._held_keys:
                    break
            assert app.kol_list.ready, "the whole ranking is shown"
            assert app.screen.query_one(Input).value == "dr"
    finally:
        release_collector()
        if app._store is not None:
            app.store.close()


def _damage_the_kept_situations(path: Path) -> None:
    """A page of the kept KOL situations turned to noise (a bad sector), the rest intact."""
    import sqlite3

    conn = sqlite3.connect(path)
    size = conn.execute("pragma page_size").fetchone()[0]
    pages = [
        n
        for (n,) in conn.execute(
            "select pageno from dbstat where name = 'kol_situation' order by pageno"
        )
    ]
    conn.close()
    with open(path, "r+b") as file:
        file.seek((pages[-1] - 1) * size)
        file.write(b"\x0d" + b"\xff" * 7)


async def test_a_damaged_store_at_launch_is_one_line_not_a_traceback(
    stores: dict[str, Path], tmp_path: Path
) -> None:
    # The ranking's worker met SQLite's "database disk image is malformed": Textual's
    # traceback, its locals showing KOL names and rows, and exit status 0.
    path = _copy(stores["ann"], tmp_path / "msl.db")
    _damage_the_kept_situations(path)
    opening, _ = _opening(path)
    app = MslApp(None, opening=opening, settings=opening.settings)
    try:
        async with app.run_test(size=(120, 36)) as pilot:  # raises what the app met
            await pilot.press("slash", "d")
            await _settle(pilot)
    finally:
        release_collector()
    assert app.return_code == 1
    from msl_tui.store.database import describe_sqlite_error

    assert isinstance(app.open_error, Exception)
    import sqlite3

    assert isinstance(app.open_error, sqlite3.DatabaseError)
    assert "damaged" in describe_sqlite_error(app.open_error, path)


async def test_a_store_busy_with_an_import_ranks_without_waiting_for_the_lock(
    stores: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process holds the write lock (an `msl import` at work). Keeping the day's
    # scores is a cache, yet the ranking waited the whole busy timeout for the lock
    # before it was shown, and the keys typed at launch waited with it (5 s by default).
    # With a timeout no launch sits out, the list must still be ranked and answer.
    from textual.widgets import Input

    monkeypatch.setenv("MSL_BUSY_TIMEOUT_MS", "60000")
    path = _copy(stores["ann"], tmp_path / "msl.db")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "c.execute('begin immediate'); print('held', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "held"
        opening, _ = _opening(path)
        app = MslApp(None, opening=opening, settings=opening.settings)
        try:
            async with app.run_test(size=(120, 36)) as pilot:
                await pilot.press("slash", "d", "r")
                for _ in range(200):  # not a timing: the lock is held throughout
                    await pilot.pause(0.05)
                    if app.kol_list.ready and not app._held_keys:
                        break
                ranked = app.kol_list.ready
                typed = app.screen.query_one(Input).value if ranked else None
                holder.stdin.close()  # (a worker still waiting for the lock ends now)
                assert ranked, "ranked while the other writer holds the lock"
                assert typed == "dr"
        finally:
            release_collector()
            if app._store is not None:
                app.store.close()
    finally:
        if not holder.stdin.closed:
            holder.stdin.close()
        holder.wait(timeout=30)


@pytest.mark.parametrize("value", ["-x", "a=b", "~/msl.db", "nodir/msl.db"])
def test_a_first_run_answered_with_nothing_leaves_no_store(tmp_path: Path, value: str) -> None:
    # MSL_DB with a typo (quoted, so `~` stays a letter): the first run made the store,
    # its WAL files and any folder on the way before asking the name; no answer (no
    # terminal, or ctrl+c) left them all behind: a folder named `~` in the working one.
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, MSL_DB=value)
    done = subprocess.run(
        [MSL], cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "no MSL yet" in done.stderr or "terminal" in done.stderr
    assert list(work.iterdir()) == []


def test_a_named_pipe_named_like_the_store_is_refused_not_waited_on(tmp_path: Path) -> None:
    # `msl --db FIFO` opened the pipe to look for an encrypted store's header and waited
    # for ever for someone to write into it (nothing on screen, ctrl+c the only way out).
    pipe = tmp_path / "msl.db"
    os.mkfifo(pipe)
    done = _msl("--db", str(pipe), "conflicts")  # (a hang fails on the helper's timeout)
    assert done.returncode == 1
    assert "not a regular file" in done.stderr
    plain = subprocess.run(
        [MSL, "--db", str(pipe)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert plain.returncode == 1
    assert "not a regular file" in plain.stderr
