"""Every `msl` command, for real, against each bad environment a laptop can be in.

A store another msl is writing (busy), a full disk, a read-only store file, a read-only
folder, another program's SQLite database, a file that is no database, a missing folder, a
folder given as the store. In each: a command that must write leaves in at most three lines
on stderr ("msl: error: ..." naming the problem), with a non-zero exit and no traceback; a
command that only reads works where reading is possible; and the store file (or the foreign
file) is byte-for-byte what it was.

Mounts (tmpfs, read-only binds) need root or CAP_SYS_ADMIN; where they are refused those
environments are skipped with the reason.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from msl_tui.cli import main
from msl_tui.store import Store, sync_log

MSL = shutil.which("msl", path=str(Path(sys.executable).parent)) or "msl"
KEY = "ab" * 32
# Short waits for the lock: the busy store never frees it while the commands run.
ENV = {"MSL_BUSY_TIMEOUT_MS": "100"}
HOLD_LOCK = (
    "import sqlite3, sys\n"
    "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "conn.execute('BEGIN IMMEDIATE')\n"
    "print('held', flush=True)\n"
    "sys.stdin.read()\n"
)


def _cli(*args: str) -> None:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output


@dataclass
class Scene:
    """The good inputs: a store with data, a key and an open conflict; an empty store (a
    profile, no records) for the commands that want one; a bundle and a roster to import."""

    store: Path
    empty: Path
    bundle: Path
    roster: Path
    conflict_id: int


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    folder = tmp_path_factory.mktemp("scene")
    a, b, c, empty = (folder / f"{n}.db" for n in ("a", "b", "c", "empty"))
    _cli("--db", str(a), "init", "--name", "Ana")
    _cli("--db", str(b), "init", "--name", "Ana")
    _cli("--db", str(c), "init", "--name", "Bob")
    _cli("--db", str(empty), "init", "--name", "Ana")
    roster = folder / "roster.csv"
    roster.write_text("name,city\nDr Mira Holt,York\n", encoding="utf-8")
    _cli("--db", str(a), "import-roster", str(roster))
    _cli("--db", str(a), "export", "--out", str(folder / "1.mslsync"))
    _cli("--db", str(b), "import", str(folder / "1.mslsync"))
    # The same field changed on both sides: b ends with an open conflict.
    (folder / "leeds.csv").write_text("name,city\nDr Mira Holt,Leeds\n", encoding="utf-8")
    (folder / "hull.csv").write_text("name,city\nDr Mira Holt,Hull\n", encoding="utf-8")
    _cli("--db", str(a), "import-roster", str(folder / "leeds.csv"))
    _cli("--db", str(b), "import-roster", str(folder / "hull.csv"))
    _cli("--db", str(a), "export", "--out", str(folder / "2.mslsync"))
    _cli("--db", str(b), "import", str(folder / "2.mslsync"))
    _cli("--db", str(b), "keys")
    roster.write_text("name,city\nDr Oskar Lind,Stockholm\n", encoding="utf-8")
    (folder / "bob.csv").write_text("name\nDr Ines Vale\n", encoding="utf-8")
    _cli("--db", str(c), "import-roster", str(folder / "bob.csv"))
    _cli("--db", str(c), "export", "--out", str(folder / "bob.mslsync"))
    store = Store.open(b)
    [conflict] = sync_log.list_conflicts(store)
    store.close()
    return Scene(b, empty, folder / "bob.mslsync", roster, int(conflict["id"]))


@dataclass
class Place:
    """One bad environment: where the stores are, where outputs go, which commands can
    still work there (readers), and words one of which the error must use."""

    store: Path
    empty: Path
    out: Path
    words: tuple[str, ...]
    readers: frozenset[str] = frozenset()
    watched: list[Path] = field(default_factory=list)


@dataclass
class Command:
    name: str
    args: Callable[[Scene, Place], list[str]]
    own: tuple[str, ...] = ()  # its own refusal, met before the environment matters


COMMANDS = [
    Command(
        "init", lambda s, p: ["--db", str(p.empty), "init", "--name", "Ana", "--territory", "North"]
    ),
    Command(
        "seed-demo",
        lambda s, p: ["--db", str(p.empty), "seed-demo", "--kols", "2", "--years", "0.1"],
    ),
    Command("export", lambda s, p: ["--db", str(p.store), "export", "--out", f"{p.out}/n.mslsync"]),
    Command(
        "export --full",
        lambda s, p: ["--db", str(p.store), "export", "--full", "--out", str(p.out)],
    ),
    Command("import", lambda s, p: ["--db", str(p.store), "import", str(s.bundle)]),
    Command(
        "import --dry-run",
        lambda s, p: ["--db", str(p.store), "import", "--dry-run", str(s.bundle)],
    ),
    Command("import-roster", lambda s, p: ["--db", str(p.store), "import-roster", str(s.roster)]),
    Command("report", lambda s, p: ["--db", str(p.store), "report", "--out", f"{p.out}/reports"]),
    Command("keys", lambda s, p: ["--db", str(p.store), "keys"]),
    Command("keys --trust", lambda s, p: ["--db", str(p.store), "keys", "--trust", "bob", KEY]),
    Command("conflicts", lambda s, p: ["--db", str(p.store), "conflicts"]),
    Command(
        "conflicts resolve",
        lambda s, p: ["--db", str(p.store), "conflicts", "resolve", str(s.conflict_id), "other"],
    ),
    Command(
        "note",
        lambda s, p: ["--db", str(p.store), "note", "zzz"],
        own=("no KOL matches", "no KOL name in"),
    ),
    Command("msl (the app)", lambda s, p: ["--db", str(p.store)], own=("needs a terminal",)),
]
READERS = frozenset({"import --dry-run", "report", "keys", "conflicts"})


# -- the environments ---------------------------------------------------------------------


def _mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here ({result.stderr.strip() or 'not permitted'})")


def _umount(target: Path) -> None:
    if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def _copy_stores(scene: Scene, folder: Path) -> tuple[Path, Path]:
    store, empty = folder / "msl.db", folder / "empty.db"
    shutil.copy(scene.store, store)
    shutil.copy(scene.empty, empty)
    return store, empty


@pytest.fixture
def busy(scene: Scene, tmp_path: Path) -> Iterator[Place]:
    store, empty = _copy_stores(scene, tmp_path)
    holders = []
    for db in (store, empty):
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        holders.append(holder)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    yield Place(store, empty, tmp_path / "out", ("busy",), READERS, [store, empty])
    for holder in holders:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


@pytest.fixture
def full_disk(scene: Scene, tmp_path: Path) -> Iterator[Place]:
    disk = tmp_path / "disk"
    disk.mkdir()
    _mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk))
    try:
        store, empty = _copy_stores(scene, disk)
        (disk / "out").mkdir()
        with (disk / "filler").open("wb") as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError:
                pass
        # Reading still works (nothing needs room); the report is written on this disk.
        readers = READERS - {"report"}
        yield Place(store, empty, disk / "out", ("full", "no space"), readers, [store, empty])
    finally:
        _umount(disk)


@pytest.fixture
def read_only_file(scene: Scene, tmp_path: Path) -> Iterator[Place]:
    store, empty = _copy_stores(scene, tmp_path)
    # Root writes through file permissions: a read-only bind mount of the files holds.
    for db in (store, empty):
        _mount("--bind", str(db), str(db))
        subprocess.run(["mount", "-o", "remount,bind,ro", str(db)], check=True)
    try:
        yield Place(store, empty, tmp_path / "out", ("read-only",), READERS, [store, empty])
    finally:
        for db in (store, empty):
            _umount(db)


@pytest.fixture
def read_only_folder(scene: Scene, tmp_path: Path) -> Iterator[Place]:
    folder = tmp_path / "media"
    folder.mkdir()
    _mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder))
    try:
        store, empty = _copy_stores(scene, folder)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield Place(store, empty, tmp_path / "out", ("read-only",), READERS, [store, empty])
    finally:
        _umount(folder)


@pytest.fixture
def foreign_database(tmp_path: Path) -> Place:
    other = tmp_path / "crm.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("create table contacts(name text)")
    conn.execute("insert into contacts values ('Dr Who')")
    conn.commit()
    conn.close()
    return Place(other, other, tmp_path / "out", ("not an msl-tui store",), watched=[other])


@pytest.fixture
def not_a_database(tmp_path: Path) -> Place:
    notes = tmp_path / "notes.txt"
    notes.write_text("dear diary\n" * 100)
    return Place(notes, notes, tmp_path / "out", ("not an msl-tui store",), watched=[notes])


@pytest.fixture
def missing_folder(tmp_path: Path) -> Place:
    db = tmp_path / "no" / "such" / "msl.db"
    return Place(db, db, tmp_path / "out", ("does not exist", "no store"))


@pytest.fixture
def folder_as_store(tmp_path: Path) -> Place:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    return Place(folder, folder, tmp_path / "out", ("folder",))


ENVIRONMENTS = [
    "busy",
    "full_disk",
    "read_only_file",
    "read_only_folder",
    "foreign_database",
    "not_a_database",
    "missing_folder",
    "folder_as_store",
]


# -- the test -----------------------------------------------------------------------------


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MSL, *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **ENV},
    )


def _problems(command: Command, place: Place, result: subprocess.CompletedProcess[str]) -> str:
    """What is wrong with one command's run, or '' if nothing."""
    if "Traceback" in result.stderr + result.stdout:
        return f"a traceback:\n{result.stderr[-2000:]}"
    if command.name in place.readers:
        return "" if result.returncode == 0 else f"a reader failed: {result.stderr.strip()}"
    if result.returncode == 0:
        return f"succeeded where it must not: {result.stdout.strip()[:300]}"
    lines = result.stderr.strip().splitlines()
    if not 1 <= len(lines) <= 3 or not all(line.startswith("msl") for line in lines):
        return f"stderr is not one to three msl lines: {result.stderr!r}"
    if not any(word in result.stderr for word in (*place.words, *command.own)):
        return f"the error does not say {' / '.join(place.words)!r}: {lines[0]}"
    return ""


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_command_in_a_bad_environment(
    environment: str, scene: Scene, request: pytest.FixtureRequest
) -> None:
    place: Place = request.getfixturevalue(environment)
    place.out.mkdir(exist_ok=True)
    before = {path: _digest(path) for path in place.watched}
    folders = {folder: _listing(folder) for folder in {p.parent for p in place.watched}}
    # Independent runs: none of them may write here, so they can go side by side.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda c: _run(c.args(scene, place)), COMMANDS))
    problems = [
        f"msl {command.name}: {problem}"
        for command, result in zip(COMMANDS, results, strict=True)
        if (problem := _problems(command, place, result))
    ]
    for path, digest in before.items():
        if _digest(path) != digest:
            problems.append(f"{path.name} changed")
    if environment in ("foreign_database", "not_a_database"):
        for folder, names in folders.items():
            if _listing(folder) != names:
                problems.append(f"files appeared beside {place.store.name}: {_listing(folder)}")
    if environment == "missing_folder":
        assert not (place.store.parent.parent).exists(), "a missing folder was created"
    leftovers = [p.name for p in place.out.rglob("*.tmp-*")] if place.out.exists() else []
    if leftovers:
        problems.append(f"temporary files left behind: {leftovers}")
    assert not problems, "\n".join(problems)


def test_a_foreign_database_is_byte_identical_after_report(tmp_path: Path) -> None:
    """The case from the issue: `msl report` once added 22 tables and switched it to WAL."""
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("create table t(x)")
    conn.commit()
    conn.close()
    before = _digest(other)
    result = _run(["--db", str(other), "report", "--out", str(tmp_path / "r")])
    assert result.returncode == 1 and "not an msl-tui store" in result.stderr
    assert _digest(other) == before
    conn = sqlite3.connect(other)
    assert conn.execute("pragma journal_mode").fetchone()[0] == "delete"
    assert [r[0] for r in conn.execute("select name from sqlite_master")] == ["t"]
    conn.close()
    assert not (tmp_path / "r").exists()


def test_an_empty_file_may_become_a_store_but_is_not_read_as_one(tmp_path: Path) -> None:
    empty = tmp_path / "made-by-mktemp"
    empty.write_bytes(b"")
    report = _run(["--db", str(empty), "report", "--out", str(tmp_path / "r")])
    assert report.returncode == 1 and "empty" in report.stderr
    assert empty.read_bytes() == b""
    made = _run(["--db", str(empty), "init", "--name", "Ana"])
    assert made.returncode == 0, made.stderr
    assert empty.stat().st_mode & 0o777 == 0o600
    assert _run(["--db", str(empty), "keys"]).returncode == 0


def test_a_read_only_command_does_not_upgrade_an_older_store(tmp_path: Path) -> None:
    from sqlite_utils import Database

    from msl_tui.store.migrations import migrations

    older = tmp_path / "older.db"
    db = Database(older)
    migrations.apply(db, stop_before=migrations._migrations[-1].name)
    db.close()
    before = _digest(older)
    for args in (["report", "--out", str(tmp_path / "r")], ["conflicts"], ["keys"]):
        result = _run(["--db", str(older), *args])
        assert result.returncode == 1 and "older msl-tui" in result.stderr, result.stderr
    assert _digest(older) == before
    assert _run(["--db", str(older), "init", "--name", "Ana"]).returncode == 0  # a writer may
    assert _run(["--db", str(older), "keys"]).returncode == 0
