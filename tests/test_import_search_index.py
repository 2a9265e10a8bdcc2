"""A big import indexes notes a batch at a time: the index must end exactly as the per-row
triggers would have left it, and a refused import must leave index and triggers as they were."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from msl_tui.store import Store
from msl_tui.sync import importer
from msl_tui.sync.export import export_bundle
from msl_tui.sync.importer import ImportError_, import_bundle
from msl_tui.sync.merge import MergeError
from tests.sync_helpers import add_kol, add_visit, make_store

WORDS = ("renal", "dosing", "cohort", "biomarker", "rewritten")


def refuse_batch(monkeypatch: pytest.MonkeyPatch, number: int) -> None:
    """A big import in batches of two whose ``number``-th batch is refused by the merge:
    a refusal late in the import, after batches were written."""
    monkeypatch.setattr(importer, "BATCH", 2)
    monkeypatch.setattr(importer, "BIG_IMPORT", 1)
    real = importer.apply_batch
    calls = 0

    def failing_late(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == number:
            raise MergeError("refused for the test")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importer, "apply_batch", failing_late)


def _bundle(tmp_path: Path) -> Path:
    """A sender whose visits are created, then some rewritten: creation and rewrite of one
    visit land in different batches when batches are small."""
    a = make_store(tmp_path / "a.db", "alice", "dev-a")
    kols = [add_kol(a, f"Dr Renal {i}", profile_note=f"cohort {i}") for i in range(3)]
    visits = [add_visit(a, kols[i % 3], notes=f"{WORDS[i % 4]} note {i}") for i in range(12)]
    for visit in visits[::3]:
        a.save(visit.evolve(notes="rewritten after review"))
    path = export_bundle(a, tmp_path / "a.mslsync", full=True, sign=False).path
    a.close()
    return path


def _receiver(path: Path) -> Store:
    b = make_store(path, "bob", "dev-b")
    kol = add_kol(b, "Dr Own Renal")
    add_visit(b, kol, notes="renal own visit")  # rows of its own: rowids do not start at 1
    return b


def _index(store: Store) -> dict[str, list[tuple[str, str]]]:
    """What each word finds (text and writer: the receivers' own records differ in ids and stamps)."""
    conn = store.db.conn
    for table in ("kols_fts", "interactions_fts"):
        conn.execute(f"insert into {table}({table}) values ('integrity-check')")
    found = {}
    for word in WORDS:
        found[word] = sorted(
            conn.execute(
                "select i.notes, i.device_id from interactions_fts f join interactions i "
                "on i.rowid = f.rowid where interactions_fts match ?",
                [word],
            ).fetchall()
        )
        found["kol " + word] = sorted(
            conn.execute(
                "select k.name, k.device_id from kols_fts f join kols k on k.rowid = f.rowid "
                "where kols_fts match ?",
                [word],
            ).fetchall()
        )
    return found


def _triggers(store: Store) -> list[tuple[str, str]]:
    return sorted(
        store.db.conn.execute("select name, sql from sqlite_master where type = 'trigger'")
    )


def test_a_big_import_leaves_the_index_the_triggers_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _bundle(tmp_path)
    monkeypatch.setattr(importer, "BATCH", 2)
    by_row = _receiver(tmp_path / "row.db")
    by_batch = _receiver(tmp_path / "batch.db")
    triggers = _triggers(by_batch)
    monkeypatch.setattr(importer, "BIG_IMPORT", 10**9)
    import_bundle(by_row, bundle)
    monkeypatch.setattr(importer, "BIG_IMPORT", 1)
    import_bundle(by_batch, bundle)
    assert _index(by_batch) == _index(by_row)
    assert len(_index(by_batch)["rewritten"]) == 4
    assert _triggers(by_batch) == triggers
    # Later writes are indexed by the triggers again.
    add_visit(by_batch, add_kol(by_batch, "Dr Later"), notes="biomarker later")
    assert "biomarker later" in [notes for notes, _ in _index(by_batch)["biomarker"]]
    by_row.close()
    by_batch.close()


def test_a_refused_big_import_leaves_index_and_triggers_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _bundle(tmp_path)
    store = _receiver(tmp_path / "b.db")
    before, triggers = _index(store), _triggers(store)
    monkeypatch.setattr(importer, "BATCH", 2)
    monkeypatch.setattr(importer, "BIG_IMPORT", 1)
    calls = 0
    real = importer.apply_batch

    def failing_late(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 5:  # after batches were written and indexed
            raise MergeError("refused for the test")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importer, "apply_batch", failing_late)
    with pytest.raises(ImportError_, match="refused for the test"):
        import_bundle(store, bundle)
    assert _index(store) == before
    assert _triggers(store) == triggers
    store.close()
    with sqlite3.connect(tmp_path / "b.db") as conn:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)


def test_a_big_import_gives_back_the_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _bundle(tmp_path)
    store = _receiver(tmp_path / "b.db")
    before = store.db.conn.execute("pragma cache_size").fetchone()
    monkeypatch.setattr(importer, "BIG_IMPORT", 1)
    import_bundle(store, bundle)
    assert store.db.conn.execute("pragma cache_size").fetchone() == before
    store.close()


def _indexes(store: Store) -> list[tuple[str, str]]:
    return sorted(store.db.conn.execute("select name, sql from sqlite_master where type = 'index'"))


def _contents(store: Store) -> dict[str, list[tuple[object, ...]]]:
    conn = store.db.conn
    return {
        table: sorted(conn.execute(f"select * from {table}").fetchall(), key=repr)
        for table in ("kols", "interactions", "changes", "kol_situation")
    }


def test_a_big_import_into_an_empty_store_builds_its_indexes_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into an empty store a big import defers the secondary indexes: the store ends with
    the same indexes, rows and situations as an import written row by row."""
    bundle = _bundle(tmp_path)
    monkeypatch.setattr(importer, "BATCH", 2)
    by_row = make_store(tmp_path / "row.db", "bob", "dev-b")
    by_batch = make_store(tmp_path / "batch.db", "bob", "dev-b")
    indexes = _indexes(by_batch)
    monkeypatch.setattr(importer, "BIG_IMPORT", 10**9)
    import_bundle(by_row, bundle)
    monkeypatch.setattr(importer, "BIG_IMPORT", 1)
    import_bundle(by_batch, bundle)
    assert _indexes(by_batch) == indexes
    assert _contents(by_batch) == _contents(by_row)
    assert _index(by_batch) == _index(by_row)
    conn = by_batch.db.conn
    assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
    by_row.close()
    by_batch.close()


def test_a_refused_big_import_into_an_empty_store_keeps_its_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _bundle(tmp_path)
    store = make_store(tmp_path / "b.db", "bob", "dev-b")
    indexes = _indexes(store)
    refuse_batch(monkeypatch, 5)
    with pytest.raises(ImportError_, match="refused for the test"):
        import_bundle(store, bundle)
    assert _indexes(store) == indexes
    assert store.count_all() == 0
    store.close()
