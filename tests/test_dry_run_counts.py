"""A dry run counts what the import then does.

Random small bundles from two laptops that edit the same records several times (concurrent
edits: conflicts; deletes: tombstones), their lines shuffled (an edit before its creation:
waiting), imported in batches of a few lines so that a record's changes fall in several
batches: the dry run's report is the real import's on a copy of the store, and the dry run
writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sync_helpers import make_store, read_members, write_zip

from msl_tui.models import Interaction, Kol
from msl_tui.store import Store
from msl_tui.sync import importer
from msl_tui.sync.export import export_bundle
from msl_tui.sync.importer import ImportError_, import_bundle

TEXT = st.sampled_from(["renal", "dosing", "Leeds", "York", "trial data", "é ü 漢"])
# (laptop, what, which record, text)
OPS = st.lists(
    st.tuples(
        st.sampled_from("ab"),
        st.sampled_from(["city", "notes", "visit", "delete"]),
        st.integers(0, 5),
        TEXT,
    ),
    max_size=14,
)


def _edit(store: Store, what: str, index: int, text: str) -> None:
    kols = sorted(store.list_kols(), key=lambda k: k.id)
    if not kols:
        return
    kol = kols[index % len(kols)]
    visits = sorted(
        (v for v in store._select(Interaction, "kol_id = ?", [kol.id])), key=lambda v: v.id
    )
    if what == "city":
        store.save(kol.evolve(city=text))
    elif what == "visit" or not visits:
        store.save(
            Interaction(
                kol_id=kol.id,
                msl_id=store.author,
                occurred_at=datetime(2026, 11, 2, 10, tzinfo=UTC),
                notes=text,
            )
        )
    elif what == "notes":
        visit = visits[index % len(visits)]
        store.save(visit.evolve(notes=f"{visit.notes} {text}"))
    else:
        store.delete(Interaction if index % 2 else Kol, (visits[0] if index % 2 else kol).id)


def _shuffled(bundle: Path, out: Path, order: st.DataObject) -> Path:
    """The bundle with each part's lines in a drawn order (its manifest made to match,
    unsigned)."""
    members = read_members(bundle)
    manifest = json.loads(members["manifest.json"])
    for part in manifest["parts"]:
        lines = members[part["name"]].splitlines(keepends=True)
        data = b"".join(order.draw(st.permutations(lines)))
        members[part["name"]] = data
        part.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    manifest.pop("signer", None)
    members["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=True).encode()
    return write_zip(out, list(members.items()))


def _dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def _outcome(store: Store, bundle: Path, *, dry_run: bool) -> tuple[str, ...]:
    try:
        report = import_bundle(store, bundle, dry_run=dry_run)
    except ImportError_ as exc:
        return ("refused", str(exc))
    finally:
        store.close()
    return tuple(report.lines()[1:])  # the first line says "dry run" or "imported"


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kols=st.integers(1, 3),
    ops=OPS,
    ho_has_a=st.booleans(),
    ho_has_b=st.booleans(),
    shuffle=st.booleans(),
    batch=st.integers(1, 4),
    order=st.data(),
)
def test_the_dry_run_reports_what_the_import_does(
    tmp_path_factory, kols, ops, ho_has_a, ho_has_b, shuffle, batch, order
) -> None:
    folder = tmp_path_factory.mktemp("dry")
    a = make_store(folder / "a.db", "ana", "laptop-a")
    b = make_store(folder / "b.db", "ben", "laptop-b")
    ho = make_store(folder / "ho.db", "hq", "ho-server", role="head office")
    for i in range(kols):
        a.save(Kol(name=f"Dr Holt {i}", institution="St Elsewhere"))
    first = export_bundle(a, folder, full=True, sign=False).path
    assert first is not None
    import_bundle(b, first)
    if ho_has_a:
        import_bundle(ho, first)
    for laptop, what, index, text in ops:
        _edit(a if laptop == "a" else b, what, index, text)
    if ho_has_b:
        from_b = export_bundle(b, folder, full=True, sign=False).path
        assert from_b is not None
        import_bundle(ho, from_b)
    bundle = export_bundle(a, folder, full=True, sign=False).path
    assert bundle is not None
    if shuffle:
        bundle = _shuffled(bundle, folder / "shuffled.mslsync", order)
    for store in (a, b, ho):
        store.close()
    shutil.copy(folder / "ho.db", folder / "copy.db")
    before = _dump(folder / "ho.db")

    with mock.patch.object(importer, "BATCH", batch):
        dry = _outcome(Store.open(folder / "ho.db", read_only=True), bundle, dry_run=True)
        real = _outcome(Store.open(folder / "copy.db"), bundle, dry_run=False)
    assert dry == real
    assert _dump(folder / "ho.db") == before


def _two_batch_bundle(folder: Path) -> Path:
    laptop = make_store(folder / "laptop.db", "ana", "laptop-a")
    kol = laptop.save(Kol(name="Dr Holt", institution="St Elsewhere"))
    laptop.save(kol.evolve(city="Leeds"))
    bundle = export_bundle(laptop, folder, full=True, sign=False).path
    laptop.close()
    assert bundle is not None
    return bundle


def test_the_overlay_is_private_and_goes_away_also_on_ctrl_c(tmp_path, monkeypatch) -> None:
    import stat
    import tempfile

    bundle = _two_batch_bundle(tmp_path)
    make_store(tmp_path / "ho.db", "hq", "ho-server").close()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    seen: list[tuple[int, int]] = []

    def look(_done: int) -> None:
        for folder in scratch.iterdir():
            seen.append((stat.S_IMODE(folder.stat().st_mode), 0))
            for file in folder.iterdir():
                seen.append(
                    (stat.S_IMODE(folder.stat().st_mode), stat.S_IMODE(file.stat().st_mode))
                )

    def interrupt(_done: int) -> None:
        raise KeyboardInterrupt

    with mock.patch.object(importer, "BATCH", 1):
        store = Store.open(tmp_path / "ho.db", read_only=True)
        import_bundle(store, bundle, dry_run=True, progress=look)
        assert seen and set(seen) <= {(0o700, 0), (0o700, 0o600)} and (0o700, 0o600) in seen
        assert list(scratch.iterdir()) == []
        with pytest.raises(KeyboardInterrupt):
            import_bundle(store, bundle, dry_run=True, progress=interrupt)
        store.close()
    assert list(scratch.iterdir()) == []


def test_the_store_takes_writes_while_a_dry_run_reads_it(tmp_path) -> None:
    bundle = _two_batch_bundle(tmp_path)
    make_store(tmp_path / "ho.db", "hq", "ho-server").close()
    app = Store.open(tmp_path / "ho.db")  # the app, open beside the dry run

    def save_in_the_app(_done: int) -> None:
        app.save(Kol(name=f"Dr Lane {app.count(Kol)}", institution="Leeds General"))

    with mock.patch.object(importer, "BATCH", 1):
        store = Store.open(tmp_path / "ho.db", read_only=True)
        report = import_bundle(store, bundle, dry_run=True, progress=save_in_the_app)
        store.close()
    # Batch by batch, as the import counts: created, then updated; the app's KOLs, saved
    # after the dry run's snapshot, are not in it.
    assert (report.tables["kols"].inserted, report.tables["kols"].updated) == (1, 1)
    assert app.count(Kol) == 2
    app.close()


def test_the_dry_run_drops_what_an_erasure_in_the_same_bundle_drops(tmp_path) -> None:
    # The head office holds a KOL and a visit; the bundle erases the KOL and carries an edit
    # of the visit that does not name the KOL: the import erases the visit with its KOL and
    # drops the edit, and the dry run must say so (it erases nothing).
    from msl_tui.services.erasure import erase_kol

    a = make_store(tmp_path / "a.db", "ana", "laptop-a")
    b = make_store(tmp_path / "b.db", "ben", "laptop-b")
    ho = make_store(tmp_path / "ho.db", "hq", "ho-server", role="head office")
    kol = a.save(Kol(name="Dr Holt", institution="St Elsewhere"))
    visit = a.save(
        Interaction(
            kol_id=kol.id,
            msl_id="ana",
            occurred_at=datetime(2026, 11, 2, 10, tzinfo=UTC),
            notes="renal",
        )
    )
    first = export_bundle(a, tmp_path, full=True, sign=False).path
    assert first is not None
    import_bundle(ho, first)
    import_bundle(b, first)
    a.save(visit.evolve(notes="renal dosing"))
    erase_kol(b, kol.id, "request")
    b.save(Kol(name="Dr Lane", institution="Leeds General"))  # so that b has a bundle to send
    from_a = export_bundle(a, tmp_path, sign=False).path  # the edit alone
    from_b = export_bundle(b, tmp_path, full=True, sign=False).path
    assert from_a is not None and from_b is not None
    for store in (a, b, ho):
        store.close()
    # a's bundle with b's erasures in it
    members, theirs = read_members(from_a), read_members(from_b)
    manifest, their_manifest = (
        json.loads(members["manifest.json"]),
        json.loads(theirs["manifest.json"]),
    )
    erasures = next(p for p in their_manifest["parts"] if p["table"] == "erasure")
    members[erasures["name"]] = theirs[erasures["name"]]
    manifest["parts"].append(erasures)
    manifest["format"] = their_manifest["format"]
    manifest.pop("signer", None)
    members["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=True).encode()
    bundle = write_zip(tmp_path / "both.mslsync", list(members.items()))
    shutil.copy(tmp_path / "ho.db", tmp_path / "copy.db")

    dry = _outcome(Store.open(tmp_path / "ho.db", read_only=True), bundle, dry_run=True)
    real = _outcome(Store.open(tmp_path / "copy.db"), bundle, dry_run=False)
    assert real[-2:] == ("  erasures: 1 KOL erased here", "  1 change for erased KOLs dropped")
    assert [line.replace("would be erased", "erased here") for line in dry] == list(real)
