"""`msl seed-demo` into a new file: built under a temporary name without a journal, then synced
and renamed, so the store appears whole or not at all; and the fast generator's shortcuts
give exactly the numbers and ids of the standard library's."""

from __future__ import annotations

import random
import sqlite3
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from msl_tui import demo
from msl_tui.cli import main
from msl_tui.store import Store


def test_a_new_store_appears_whole_with_its_usual_journal(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = CliRunner().invoke(main, ["seed-demo", "--db", str(db), "--kols", "30"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db"]  # no temporary left
    assert db.stat().st_mode & 0o077 == 0  # private, as a store made by open is
    conn = sqlite3.connect(db)
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    conn.close()
    store = Store.open(db)
    assert store.count_all() > 30
    assert store.get_meta("device_id") == store.device_id
    store.close()


def test_a_seed_that_fails_halfway_leaves_no_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = demo.seed_demo

    def failing(store: Store, **kwargs: object) -> demo.DemoSummary:
        def progress(n: int) -> None:
            if store.db.conn.in_transaction:  # rows written, not committed
                raise OSError("disk I/O error")

        return real(store, **{**kwargs, "progress": progress})  # type: ignore[arg-type]

    monkeypatch.setattr(demo, "seed_demo", failing)
    db = tmp_path / "demo.db"
    result = CliRunner().invoke(main, ["seed-demo", "--db", str(db), "--kols", "30"])
    assert result.exit_code != 0
    assert list(tmp_path.iterdir()) == []


def test_an_existing_empty_store_is_seeded_in_place(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    made = Store.open(db)
    device = made.device_id
    made.close()
    result = CliRunner().invoke(main, ["seed-demo", "--db", str(db), "--kols", "5"])
    assert result.exit_code == 0, result.output
    store = Store.open(db)
    assert store.device_id == device and store.count_all() > 5
    store.close()


def test_the_fast_random_gives_the_standard_numbers() -> None:
    fast, standard = demo._Rng(42), random.Random(42)
    items = list(range(17))
    for _ in range(2000):
        assert fast.choice(items) == standard.choice(items)
        assert fast.randint(-3, 40) == standard.randint(-3, 40)
        assert fast.random() == standard.random()


def test_uuid_text_is_what_uuid_writes() -> None:
    rng = random.Random(9)
    for bits in [0, 2**128 - 1, *(rng.getrandbits(128) for _ in range(500))]:
        assert demo.uuid4_text(bits) == str(uuid.UUID(int=bits, version=4))
