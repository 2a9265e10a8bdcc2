"""What an export writes, line by line: each change as stored (patch and base spliced, strings
quoted as json.dumps quotes them), whatever the chunking of the writer's helper thread, with
checksums and counts that the strict reader accepts."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from sync_helpers import add_kol, add_visit, make_store

from msl_tui.store import Store, sync_log
from msl_tui.store.codec import ENTITIES
from msl_tui.sync import bundle, export
from msl_tui.sync.bundle import BundleReader
from msl_tui.sync.export import export_bundle

AWKWARD = 'Dr Zoë "Ziggy" Ó\'Brien \\ 北京 😀'


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "ana.db"
    store = make_store(path, "ana", "laptop-a")
    for i in range(40):
        kol = add_kol(store, f"{AWKWARD} {i}", institution="Hôpital Saint-Éloi")
        add_visit(store, kol, notes=f"renal dosing {i}: “data gap”\n\ttab")
    store.close()
    return path


@pytest.mark.parametrize("chunk", [1, 200, 1 << 20])
def test_every_line_is_the_stored_change_whatever_the_chunks(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(bundle, "_CHUNK", chunk)  # 1: a chunk per line, through the thread

    store = Store.open(db)
    result = export_bundle(store, tmp_path / "out.mslsync", full=True)
    assert result.path is not None
    with BundleReader(result.path) as reader:  # sizes, counts and sha256 checked
        parts = {p.table: p for p in reader.manifest.parts}
        for entity in ENTITIES.values():
            stored = list(sync_log.iter_changes(store, entity.name))
            lines = [line for _n, line in reader.lines(parts[entity.name])]
            assert lines == [
                {
                    "device": row["device_id"],
                    "seq": row["seq"],
                    "hlc": row["hlc"],
                    "id": row["record_id"],
                    "patch": json.loads(row["patch"]),
                    "base": json.loads(row["base"] or "{}"),
                    "author": row["author"] or "",
                }
                for row in stored
            ]
    with zipfile.ZipFile(result.path) as raw:
        for line in raw.read("interactions.jsonl").splitlines():
            assert line.isascii()  # non-ASCII travels as \\u escapes, as json.dumps writes it
            row = json.loads(line)
            expected = (
                f'{{"device":{json.dumps(row["device"])},"seq":{row["seq"]},'
                f'"hlc":{json.dumps(row["hlc"])},"id":{json.dumps(row["id"])},'
            )
            assert line.startswith(expected.encode())
    store.close()


def test_progress_adds_up_to_every_change(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "_PROGRESS_STEP", 7)

    store = Store.open(db)
    steps: list[int] = []
    result = export_bundle(store, tmp_path / "out.mslsync", progress=steps.append)
    store.close()
    assert sum(steps) == result.total == 80
    assert max(steps) == 7


def test_a_failure_while_reading_the_store_leaves_no_part_behind(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle, "_CHUNK", 1)  # chunks already in the writer thread

    real = sync_log.iter_change_values

    def failing(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        yield from list(real(*args, **kwargs))[:3]  # type: ignore[arg-type]
        raise OSError("disk I/O error")

    monkeypatch.setattr(sync_log, "iter_change_values", failing)
    store = Store.open(db)
    with pytest.raises(OSError, match="disk I/O error"):
        export_bundle(store, tmp_path / "out", full=True)
    store.close()
    assert not any((tmp_path / "out").iterdir())


def test_changes_of_two_devices_out_of_order_and_awkward_authors_write_the_same_lines(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Changes merged in from another laptop sit between this one's, out of seq order, and
    # an author may hold anything: each line is still exactly the stored change, quoted as
    # json.dumps quotes it, and each device's range is its lowest and highest seq.
    monkeypatch.setattr(bundle, "_CHUNK", 1)  # a chunk per line, through both threads
    store = Store.open(db)
    kol_id = next(iter(store.db.query("select record_id from changes where entity = 'kol'")))
    for seq in (9, 2, 5):
        store.db.conn.execute(
            "insert into changes(device_id, seq, hlc, entity, record_id, patch, base, author) "
            "values ('laptop-b', ?, ?, 'kol', ?, '{\"name\":\"Dr B\"}', '', ?)",
            [seq, f"1700000000000-000{seq}-laptop-b", kol_id["record_id"], AWKWARD],
        )
    store.db.conn.commit()
    result = export_bundle(store, tmp_path / "out.mslsync", full=True, sign=False)
    assert result.path is not None
    stored = list(sync_log.iter_changes(store, "kol"))
    store.close()
    with BundleReader(result.path) as reader:  # sizes, counts and sha256 checked
        assert reader.manifest.ranges["laptop-b"] == [2, 9]
        assert reader.manifest.ranges["laptop-a"][0] == 1
    with zipfile.ZipFile(result.path) as raw:
        lines = raw.read("kols.jsonl").decode().splitlines()
    expected = [
        json.dumps(
            {
                "device": row["device_id"],
                "seq": row["seq"],
                "hlc": row["hlc"],
                "id": row["record_id"],
                "patch": "@patch@",
                "base": "@base@",
                "author": row["author"] or "",
            },
            separators=(",", ":"),
        )
        .replace('"@patch@"', row["patch"])
        .replace('"@base@"', row["base"] or "{}")
        for row in stored
    ]
    assert lines == expected
    assert len(lines) == 43
