"""QA (qacli): the data paths changed on the day of the speed work, driven through `msl`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from msl_tui.store.schema_names import SCHEMA_VERSION

MSL = str(Path(sys.executable).parent / "msl")


def msl(*args: str, db: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MSL_DB": str(db)}
    done = subprocess.run(
        [MSL, "--db", str(db), *args], capture_output=True, text=True, env=env, timeout=300
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_changes_stored_by_an_older_msl_tui_are_known_again_not_different(tmp_path: Path) -> None:
    """Head office received a laptop's visits under an older msl-tui, whose adverse event had
    no ``followups`` yet: its change log holds the patch in that older form. After the
    upgrade the same changes arrive again (a full export; a relay): they are the same
    changes, so the bundle goes in with them counted unchanged, not refused as "already
    received with different content" (the refusal meant for a copied store file)."""
    # What an msl-tui before AE follow-ups stored for these changes.
    aged, done = _reimport_after(
        tmp_path,
        "update changes set patch = json_remove(patch, '$.adverse_event.followups') "
        "where entity = 'interaction' and json_extract(patch, '$.adverse_event') is not null",
    )
    assert aged > 0
    assert done.returncode == 0, done.stderr
    assert "different content" not in done.stderr
    assert "0 inserted, 0 updated" in done.stdout


def _reimport_after(tmp_path: Path, sql: str) -> tuple[int, subprocess.CompletedProcess[str]]:
    """A laptop's full export imported at the office, the office's stored changes altered by
    ``sql``, then a second full export imported there: the rows ``sql`` changed and the
    second import's run."""
    laptop, office = tmp_path / "laptop.db", tmp_path / "office.db"
    msl("seed-demo", "--kols", "5", db=laptop)
    first, second = tmp_path / "first.mslsync", tmp_path / "second.mslsync"
    msl("export", "--full", "--no-sign", "--out", str(first), db=laptop)
    msl("import", str(first), db=office)
    with sqlite3.connect(office) as conn:
        altered = conn.execute(sql).rowcount
    conn.close()
    msl("export", "--full", "--no-sign", "--out", str(second), db=laptop)
    return altered, msl("import", str(second), db=office, check=False)


def _older_store(path: Path, applied: int = 4) -> None:
    """A store as an msl-tui of ``applied`` migrations left it (before m005 and m006)."""
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    from msl_tui.store.migrations import migrations

    older = Migrations(migrations.name)
    older._migrations = list(migrations._migrations[:applied])
    conn = sqlite3.connect(path)
    older.apply(Database(conn))
    conn.close()
    os.chmod(path, 0o600)


def test_commands_opening_an_older_store_at_once_all_upgrade_it_or_wait(tmp_path: Path) -> None:
    """Two commands that open an older store at the same moment (the app and an import, two
    exports) both see its migrations pending: one upgrades it, the other waits for it and
    finds nothing left to do, instead of failing on the tables just made ("could not be
    used (the database reported a OperationalError)": table kol_situation already exists)."""
    for round_ in range(6):
        store = tmp_path / f"older{round_}.db"
        _older_store(store)
        runs = [
            subprocess.Popen(
                [
                    MSL,
                    "--db",
                    str(store),
                    "export",
                    "--full",
                    "--no-sign",
                    "--out",
                    str(tmp_path / f"r{round_}-{n}.mslsync"),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(3)
        ]
        for run in runs:
            _out, err = run.communicate(timeout=120)
            assert run.returncode == 0, err
            assert "could not be used" not in err
        with sqlite3.connect(store) as conn:
            names = [r[0] for r in conn.execute("select name from _sqlite_migrations")]
            assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        conn.close()
        assert len(names) == len(set(names)) == SCHEMA_VERSION  # each migration once


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_seed_demo_that_cannot_create_its_file_names_the_file_asked_for(tmp_path: Path) -> None:
    """seed-demo builds under a hidden temporary name: when that cannot be created, the one
    error line names the store the user asked for, not ``.qa.tmp-1a2b3c4d5e6f``."""
    target = Path("/proc/qa-seed.db")  # a folder where no file can be made, even by root
    done = msl("seed-demo", "--kols", "5", db=target, check=False)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert ".tmp-" not in done.stderr
    assert str(target) in done.stderr


def test_a_change_held_with_other_words_is_still_refused_as_reused(tmp_path: Path) -> None:
    """The older-form tolerance above does not hide a reused (device, seq): a stored change
    whose notes say something else still makes the same change arriving again refused."""
    changed, done = _reimport_after(
        tmp_path,
        "update changes set patch = json_set(patch, '$.notes', 'other words') "
        "where rowid = (select min(rowid) from changes where entity = 'interaction')",
    )
    assert changed == 1
    assert done.returncode == 1
    assert "already received with different content" in done.stderr


# Odd values for every leaf of a whole record: text with control, bidi, zero-width, separator
# and padding characters, lone surrogates; amounts in every spelling; days and instants far,
# early, unzoned or impossible; UUIDs not in canonical form; enums by name or case; numbers
# of the wrong type or out of range; lists and objects where a value goes.
_ODD: list[object] = [
    *("", " ", "a ", " a", "a\u00a0", "\u00a0a", "a\u3000", "a\u2028b", "a\u2029b", "a\rb"),
    *("a\r\nb", "a\nb", "a\tb", "a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\x9fb", "a\u200bb"),
    *("a\u200eb", "a\u202eb", "a\u2066b", "a\u2069b", "a\u2060b", "a\u2064b", "a\u2065b"),
    *("a\ufeffb", "a\U000e0001b", "\ud800", "a\udfffb", "a\u180eb", "\u1680a", "a\u205f"),
    *("a\x1c", "\x1ca", "e\u0301", "\uff21", "x" * 61, "x" * 201, "x" * 501, " " + "x" * 200),
    *("1E+2", "25.5", "25.50", "25.500", "0.00", "-0.00", "-1.00", "00.10", "1000000.00"),
    *("1000000.01", "9999999.99", "NaN", "Infinity", "+1.00", " 1.00", "1.00 ", "1.00\n"),
    *("1969-12-31", "1970-01-01", "2026-02-29", "2028-02-29", "2100-01-01", "9999-12-31"),
    *("0001-01-01", "2026-13-01", "2026-1-1", "20260101", "2026-01-01\n"),
    *("1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00"),
    *("2026-01-01T00:00:00", "2026-01-01T00:00:00.000Z", "2026-01-01T24:00:00Z"),
    *("2026-01-01T23:59:60Z", "2026-01-01t00:00:00z", "2026-01-01 00:00:00Z"),
    *("9999-12-31T23:59:59Z", "2029-11-27T00:00:00Z", "2026-01-01T00:00:00Z\n"),
    *("9531985D-5D9D-49F8-9818-E811892F902B", "{9531985d-5d9d-49f8-9818-e811892f902b}"),
    *("9531985d5d9d49f89818e811892f902b", "urn:uuid:9531985d-5d9d-49f8-9818-e811892f902b"),
    *("9531985d-5d9d-49f8-9818-e811892f902b\n", "00000000-0000-0000-0000-000000000000"),
    *("ONCOLOGY", "MSL", "msl", "draft", "submitted", "amended", "positive", "eur", "EURO"),
    *(0, 1, -1, 1.0, 0.0, True, False, None, 2**63, 10**30, 24 * 60 + 1, 731, 1.5, 25.5),
    *([], {}, ["a"], [1], [None], [True], {"a": 1}, [""], [" a"]),
]


def _whole_records(tmp_path: Path) -> dict[str, dict[str, object]]:
    """One change line per table from a demo export, the visit with every nested record."""
    import json
    import zipfile

    store, bundle = tmp_path / "demo.db", tmp_path / "demo.mslsync"
    msl("seed-demo", "--kols", "20", db=store)
    msl("export", "--full", "--no-sign", "--out", str(bundle), db=store)
    lines: dict[str, list[dict[str, object]]] = {}
    with zipfile.ZipFile(bundle) as z:
        for name, table in (
            ("kols.jsonl", "kol"),
            ("plans.jsonl", "plan"),
            ("interactions.jsonl", "interaction"),
            ("followups.jsonl", "followup"),
        ):
            lines[table] = [json.loads(t) for t in z.read(name).decode().splitlines()]
    visit: dict[str, Any] = next(
        v
        for v in lines["interaction"]
        if v["patch"]["adverse_event"]  # type: ignore[index]
    )
    patch = visit["patch"]
    patch["adverse_event"]["reported_at"] = patch["adverse_event"]["day_zero"]
    patch["adverse_event"]["followups"] = [
        {"at": patch["adverse_event"]["day_zero"], "by": "pv", "text": "case 12"}
    ]
    patch["feedback"] = {"sentiment": "negative", "about": "a", "root_cause": "b", "response": "c"}
    patch["med_info_request"] = {
        "question": "Off-label dose?",
        "unsolicited": True,
        "routed_to": "Medical Information",
    }
    patch["transfer_of_value"] = {
        "nature": "meal",
        "amount": "48.50",
        "currency": "EUR",
        "date": "2025-01-21",
        "recipient": "Dr Z",
        "product": "Imnuvax",
    }
    patch["status"] = "amended"
    patch["submitted_at"] = patch["occurred_at"]
    patch["amendments"] = [
        {
            "at": patch["occurred_at"],
            "by": "me",
            "reason": "typo",
            "previous_notes": "old\ttext\nline",
            "previous_occurred_at": None,
            "previous_channel": None,
        }
    ]
    patch["tags"] = ["a"]
    followup = next(f for f in lines["followup"] if f["patch"]["due"])  # type: ignore[index]
    return {
        "kol": lines["kol"][0],
        "plan": lines["plan"][0],
        "interaction": visit,
        "followup": followup,
    }


def test_quick_check_gives_the_models_verdict_for_odd_values_at_every_leaf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quick check of canonical records (models/canonical.py) accepts exactly what the
    model path accepts, storing the same text and record, and refuses with the same words:
    each odd value put at each leaf of a whole record, one at a time."""
    import copy
    import itertools
    import uuid

    from msl_tui.store.codec import ENTITIES
    from msl_tui.sync import importer
    from msl_tui.sync.wire import ChangeLine

    counter = itertools.count()
    # Ids the model makes for a nested record sent without one: the same on both sides.
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(counter) % 997, version=4))
    quick = importer.canonical_validator

    def verdict(entity: str, line: dict[str, object], fast: bool) -> tuple[object, ...]:
        nonlocal counter
        counter = itertools.count()
        monkeypatch.setattr(importer, "canonical_validator", quick if fast else lambda m: None)
        try:
            change = importer.checked_change(ENTITIES[entity], ChangeLine.model_validate(line))
        except importer.BundleError as exc:
            return ("refused", str(exc))
        record = change.record
        kept = None if record is None else record.model_dump(mode="json", exclude={"updated_at"})
        return ("accepted", change.patch_json, change.patch, kept)

    def leaves(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        found = [path] if path else []
        items = (
            value.items()
            if isinstance(value, dict)
            else enumerate(value)
            if isinstance(value, list)
            else ()
        )
        for key, inner in items:
            found += leaves(inner, (*path, key))
        return found

    checked = accepted = 0
    for entity, line in _whole_records(tmp_path).items():
        assert verdict(entity, line, True)[0] == "accepted"
        for path in leaves(line["patch"]):
            for odd in _ODD:
                spoiled: Any = copy.deepcopy(line)
                node = spoiled["patch"]
                for key in path[:-1]:
                    node = node[key]
                node[path[-1]] = copy.deepcopy(odd)
                fast, full = verdict(entity, spoiled, True), verdict(entity, spoiled, False)
                assert fast == full, (entity, path, odd)
                checked += 1
                accepted += fast[0] == "accepted"
    assert checked > 10_000 and accepted > 100


def test_two_seed_demo_runs_on_one_empty_store_do_not_both_write(tmp_path: Path) -> None:
    """`msl init` then two `msl seed-demo` at once (two terminals, a script run twice): one
    fills the store, the other refuses it as holding records. Before, both saw it empty and
    both wrote: 3,000 KOLs of two territories mixed in one store, and both said "wrote"."""
    for round_ in range(2):
        store = tmp_path / f"shared{round_}.db"
        msl("init", "--name", "Ann Lee", db=store)
        runs = [
            subprocess.Popen(
                [MSL, "--db", str(store), "seed-demo", "--kols", str(kols), "--seed", str(kols)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for kols in (400, 300)
        ]
        done = [(run, *run.communicate(timeout=300)) for run in runs]
        wrote = [
            kols
            for kols, (run, out, _err) in zip((400, 300), done, strict=True)
            if run.returncode == 0
        ]
        assert len(wrote) == 1, [(run.returncode, err) for run, _out, err in done]
        refused = [err for run, _out, err in done if run.returncode != 0]
        assert "already holds records" in refused[0]
        with sqlite3.connect(store) as conn:
            assert conn.execute("select count(*) from kols").fetchone()[0] == wrote[0]
        conn.close()
