"""The hostile corpus: bundles whose checksums agree but whose content attacks the store.

Each case is a bundle an attacker (or a broken exporter) could write: forged clock stamps,
a forged identity, coerced values, patches that would spoil a stored record, a reused
bundle id, names that drive the terminal. Every one is refused by the real command line in
one clean line naming the file, with the store byte for byte as it was.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sync_helpers import (
    add_kol,
    add_visit,
    file_hash,
    make_store,
    part_entry,
    read_members,
    write_zip,
)

from msl_tui.cli import main
from msl_tui.models import EngagementPlan, FollowUp
from msl_tui.store import Store, sync_log
from msl_tui.store.codec import ENTITIES
from msl_tui.sync.bundle import WIRE_VERSION
from msl_tui.sync.export import export_bundle

SRC = "dev-ana"
TARGET = "dev-ho"
# Later than the fixture's own changes (so a planted change wins its merge), within the
# hour of clock skew an import accepts.
WALL = int((datetime.now(UTC) + timedelta(minutes=20)).timestamp() * 1000)


def stamp(n: int, device: str = SRC) -> str:
    return f"{WALL + n:013d}-0000-{device}"


class Bundle:
    """A bundle built line by line; ``write`` makes the manifest agree with the parts."""

    def __init__(self, base: dict[str, Any]) -> None:
        self.base = base
        self.lines: dict[str, list[Any]] = {}
        self.manifest: dict[str, Any] = {
            "format": 1,
            "schema": WIRE_VERSION,
            "bundle_id": str(uuid.uuid4()),
            "kind": "msl-log",
            "source": {"device": SRC, "msl_id": "ana", "role": "msl"},
            "created": stamp(999),
            "ranges": {},
            "parts": [],
        }
        self.raw_lines: dict[str, list[bytes]] = {}
        self.keep_ranges = False

    def change(
        self,
        entity: str,
        record_id: str,
        patch: Any,
        *,
        seq: int = 100,
        device: str = SRC,
        hlc: str | None = None,
        base: Any = None,
        author: Any = "ana",
        **extra: Any,
    ) -> dict[str, Any]:
        line = {
            "device": device,
            "seq": seq,
            "hlc": hlc if hlc is not None else stamp(seq, device),
            "id": record_id,
            "patch": patch,
            "base": base if base is not None else {},
            "author": author,
            **extra,
        }
        self.lines.setdefault(entity, []).append(line)
        return line

    def write(self, path: Path) -> Path:
        members = []
        entries = []
        ranges: dict[str, list[int]] = {}
        for entity, lines in self.lines.items():
            name = f"{ENTITIES[entity].table}.jsonl"
            data = b"".join(json.dumps(x).encode() + b"\n" for x in lines)
            data += b"".join(self.raw_lines.get(entity, []))
            for x in lines:
                if isinstance(x, dict) and isinstance(x.get("device"), str):
                    seq = x.get("seq")
                    if isinstance(seq, int) and not isinstance(seq, bool) and 1 <= seq < 2**63:
                        span = ranges.setdefault(x["device"], [seq, seq])
                        span[0], span[1] = min(span[0], seq), max(span[1], seq)
            members.append((name, data))
            entries.append(part_entry(name, entity, data))
        if not self.keep_ranges:
            self.manifest["ranges"] = ranges or {SRC: [100, 100]}
        self.manifest["parts"] = entries
        manifest = json.dumps(self.manifest).encode()
        return write_zip(path, [("manifest.json", manifest), *members])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Ana's store, exported once; the target store holds that bundle."""
    folder = tmp_path_factory.mktemp("hostile")
    src = make_store(folder / "src.db", "ana", SRC)
    kol = add_kol(src, "Dr Mira Holt", institution="St Olaf")
    visit = add_visit(
        src, kol, "Talked about dosing.", status="submitted", submitted_at=datetime.now(UTC)
    )
    today = datetime.now(UTC).date()
    plan = src.save(
        EngagementPlan(kol_id=kol.id, period_start=today, period_end=today + timedelta(days=90))
    )
    follow = src.save(FollowUp(kol_id=kol.id, action="Send the paper"))
    first = export_bundle(src, folder, sign=False).path
    assert first is not None
    src.close()
    db = folder / "target.db"
    make_store(db, "head.office", TARGET, role="head office").close()
    result = CliRunner().invoke(main, ["--db", str(db), "import", str(first)])
    assert result.exit_code == 0, result.output
    return {
        "db": db,
        "first": first,
        "kol": kol.id,
        "visit": visit.id,
        "plan": plan.id,
        "followup": follow.id,
    }


def _whole_kol(b: Bundle, **fields: Any) -> None:
    patch = {
        "name": "Dr New",
        "credentials": "",
        "specialty": "",
        "therapeutic_areas": [],
        "institution": "",
        "city": "",
        "region": "",
        "country": "",
        "territory": "",
        "influence": "local",
        "stance": "unknown",
        "strengths": [],
        "preferred_channels": [],
        "identified_by": [],
        "identification_note": "",
        "stage": "growing",
        "tags": [],
        "profile_note": "",
        "created_at": "2026-01-05T10:00:00Z",
        "deleted": False,
    }
    patch.update(fields)
    b.change("kol", str(uuid.uuid4()), patch)


def _kol(field: str, value: Any) -> Callable[[Bundle], None]:
    return lambda b: b.change("kol", b.base["kol"], {field: value})


def _visit(field: str, value: Any) -> Callable[[Bundle], None]:
    return lambda b: b.change("interaction", b.base["visit"], {field: value})


def _line(**overrides: Any) -> Callable[[Bundle], None]:
    def spoil(b: Bundle) -> None:
        line = b.change("kol", b.base["kol"], {"city": "Oslo"})
        line.update(overrides)

    return spoil


def _manifest(**overrides: Any) -> Callable[[Bundle], None]:
    def spoil(b: Bundle) -> None:
        b.change("kol", b.base["kol"], {"city": "Oslo"})
        b.manifest.update(overrides)
        if "ranges" in overrides:
            b.keep_ranges = True

    return spoil


def _source(**overrides: Any) -> Callable[[Bundle], None]:
    def spoil(b: Bundle) -> None:
        b.change("kol", b.base["kol"], {"city": "Oslo"})
        b.manifest["source"] = {**b.manifest["source"], **overrides}

    return spoil


def _own_device(seq: int, patch: dict[str, Any]) -> Callable[[Bundle], None]:
    return lambda b: b.change("kol", b.base["kol"], patch, seq=seq, device=TARGET)


def _raw(data: bytes) -> Callable[[Bundle], None]:
    def spoil(b: Bundle) -> None:
        b.lines.setdefault("kol", [])
        b.raw_lines["kol"] = [data]

    return spoil


ARABIC = "١٧٠٠٠٠٠٠٠٠٠٠٠"
FULLWIDTH = "１７００００００００００００"
OSC = "\x1b]0;owned\x07"

# name: (spoil, fragment the one-line refusal must contain)
CASES: dict[str, tuple[Callable[[Bundle], None], str]] = {
    # forged clock stamps
    "stamp in Arabic-Indic digits": (
        _line(hlc=f"{ARABIC}-0000-{SRC}"),
        "hlc: is not a clock stamp",
    ),
    "stamp in fullwidth digits": (
        _line(hlc=f"{FULLWIDTH}-0000-{SRC}"),
        "hlc: is not a clock stamp",
    ),
    "stamp with a trailing newline": (_line(hlc=stamp(100) + "\n"), "hlc: is not a clock stamp"),
    "stamp with 14 digits": (_line(hlc=f"1{WALL:013d}-0000-{SRC}"), "hlc: is not a clock stamp"),
    "stamp of another device": (_line(hlc=stamp(100, "dev-bob")), "was not issued by device"),
    "stamp as a number": (_line(hlc=WALL), "hlc: must be text"),
    "seen stamp in Arabic digits": (
        _line(base={"city": f"{ARABIC}-0000-{SRC}"}),
        "base.city",
    ),
    "seen stamps beyond 256": (_line(base={"city": [stamp(1)] * 257}), "base.city"),
    "seen stamp as a number": (_line(base={"city": 5}), "base.city"),
    "manifest stamp in Arabic digits": (
        _manifest(created=f"{ARABIC}-0000-{SRC}"),
        "manifest created: is not a clock stamp",
    ),
    # device ids and the bundle's source
    "device with a newline": (_line(device=SRC + "\n"), "is not a device id"),
    "device with ESC": (_line(device="dev\x1b[2J"), "is not a device id"),
    "device of 65 characters": (_line(device="d" * 65), "is not a device id"),
    "device in Cyrillic": (_line(device="dеv-ana"), "is not a device id"),
    "source name with a newline": (
        _source(msl_id="ana\nmsl: imported 1000 visits"),
        "manifest source.msl_id: is not an MSL id",
    ),
    "source name with an OSC sequence": (
        _source(msl_id=f"ana{OSC}"),
        "manifest source.msl_id: is not an MSL id",
    ),
    "source device with ESC": (_source(device=f"dev{OSC}"), "manifest source.device"),
    "source with an unknown key": (_source(email="x@y"), "source.email: is not a field here"),
    "source role unknown": (_source(role="admin"), "source.role"),
    "ranges key with a newline": (
        _manifest(ranges={SRC + "\n": [100, 100], SRC: [100, 100]}),
        "manifest ranges",
    ),
    # sequence numbers
    "sequence number 2**63": (_line(seq=2**63), "seq: must be at most"),
    "sequence number 0": (_line(seq=0), "seq: must be at least 1"),
    "sequence number as text": (_line(seq="100"), "seq: must be a whole number"),
    "sequence number as a float": (_line(seq=100.0), "seq: must be a whole number"),
    "sequence number true": (_line(seq=True), "seq: must be a whole number"),
    "range up to 2**63": (_manifest(ranges={SRC: [1, 2**63]}), "manifest ranges"),
    "range reversed": (_manifest(ranges={SRC: [200, 100]}), "manifest"),
    "range of three numbers": (_manifest(ranges={SRC: [1, 2, 3]}), "manifest ranges"),
    "range as text": (_manifest(ranges={SRC: ["1", "200"]}), "manifest ranges"),
    # this store's own identity
    "forged tombstone under our device": (
        _own_device(7, {"deleted": True}),
        "this store's own device id",
    ),
    "huge sequence under our device": (
        lambda b: b.change(
            "kol",
            b.base["kol"],
            {"city": "Oslo"},
            seq=2**63 - 1,
            device=TARGET,
            hlc=stamp(9, TARGET),
        ),
        "this store's own device id",
    ),
    # patches that would spoil a stored record
    "KOL name set to null": (_kol("name", None), "name"),
    "KOL name emptied": (_kol("name", ""), "name: must not be empty"),
    "follow-up action emptied": (
        lambda b: b.change("followup", b.base["followup"], {"action": "  "}),
        "action",
    ),
    # coerced values
    "visit time without a zone": (
        _visit("occurred_at", "2026-01-05T10:00:00"),
        "is not written as msl-tui stores it",
    ),
    "visit time as epoch seconds": (
        _visit("occurred_at", 1_767_600_000),
        "is not written as msl-tui stores it",
    ),
    "visit time with an offset": (
        _visit("occurred_at", "2026-01-05T10:00:00+02:00"),
        "is not written as msl-tui stores it",
    ),
    "visit time with microseconds": (
        _visit("occurred_at", "2026-01-05T10:00:00.123456Z"),
        "is not written as msl-tui stores it",
    ),
    "duration as text": (_visit("duration_min", "30"), "is not written as msl-tui stores it"),
    "duration as a float": (_visit("duration_min", 30.0), "is not written as msl-tui stores it"),
    "duration true": (_visit("duration_min", True), "is not written as msl-tui stores it"),
    "deleted as 1": (_kol("deleted", 1), "is not written as msl-tui stores it"),
    "name padded with spaces": (_kol("name", "  Dr Holt  "), "is not written as msl-tui stores it"),
    "record id in capitals": (
        lambda b: b.change("kol", b.base["kol"].upper(), {"city": "Oslo"}),
        "id: is not a record id",
    ),
    "record id in braces": (
        lambda b: b.change("kol", "{" + b.base["kol"] + "}", {"city": "Oslo"}),
        "id: is not a record id",
    ),
    "transfer of value dated by a number": (
        _visit(
            "transfer_of_value",
            {
                "nature": "meal",
                "amount": "20.00",
                "currency": "EUR",
                "date": 20000,
                "recipient": "Dr Holt",
                "product": "",
            },
        ),
        "transfer_of_value",
    ),
    "transfer of value amount as a float": (
        _visit(
            "transfer_of_value",
            {
                "nature": "meal",
                "amount": 20.5,
                "currency": "EUR",
                "date": "2026-01-05",
                "recipient": "Dr Holt",
                "product": "",
            },
        ),
        "transfer_of_value",
    ),
    "adverse event day zero as a number": (
        _visit("adverse_event", {"day_zero": 0}),
        "adverse_event",
    ),
    "whole KOL created at a naive time": (
        lambda b: _whole_kol(b, created_at="2026-01-05T10:00:00"),
        "created_at",
    ),
    "whole KOL with an unknown field": (lambda b: _whole_kol(b, salary=1), "salary"),
    "whole KOL with influence as a number": (lambda b: _whole_kol(b, influence=1), "influence"),
    # text that would break storage or the terminal
    "name with a lone surrogate": (_kol("name", "Dr \ud800"), "name"),
    "notes with a lone surrogate": (_visit("notes", "fine \udfff"), "notes"),
    "name with an OSC sequence": (_kol("name", f"Dr {OSC}Holt"), "control character"),
    "name with a newline": (_kol("name", "Dr\nHolt"), "control character"),
    "name with a bidi override": (_kol("name", "Dr \u202etloH"), "direction override"),
    "notes with a NUL": (_visit("notes", "a\x00b"), "control character"),
    "notes with ESC": (_visit("notes", "a\x1b[31mred"), "control character"),
    "notes of 100,001 characters": (_visit("notes", "x" * 100_001), "notes: is too long"),
    "tag of 61 characters": (_kol("tags", ["t" * 61]), "tags"),
    "author with a newline": (_line(author="ana\nmsl: ok"), "author"),
    "author of 201 characters": (_line(author="a" * 201), "author"),
    "author with a lone surrogate": (_line(author="\ud800"), "author"),
    "author as a number": (_line(author=7), "author: must be text"),
    "field name with ESC": (_kol(f"city{OSC}", "x"), "is not a field of kol"),
    # line shape
    "line with an extra key": (_line(sig="x"), "sig: is not a field here"),
    "line is an array": (_raw(b"[1, 2, 3]\n"), "is not a JSON object"),
    "line is a number": (_raw(b"7\n"), "is not a JSON object"),
    "empty patch": (lambda b: b.change("kol", b.base["kol"], {}), "patch"),
    "patch is a list": (lambda b: b.change("kol", b.base["kol"], ["city"]), "patch"),
    "seen stamps for an unknown field": (_line(base={"salary": stamp(1)}), "salary"),
    # manifest fields
    "bundle id in capitals": (
        _manifest(bundle_id=str(uuid.uuid4()).upper()),
        "bundle_id: is not a bundle id",
    ),
    "kind unknown": (_manifest(kind="everything"), "manifest kind"),
    "format as text": (_manifest(format="1"), "no format version"),
    "schema as text": (_manifest(schema=str(WIRE_VERSION)), "manifest schema"),
    "schema zero": (_manifest(schema=0), "manifest schema"),
    "signer in capitals": (_manifest(signer="AB" * 32), "manifest signer"),
}


def _refuse(db: Path, bundle: Path, fragment: str) -> None:
    before = file_hash(db)
    result = CliRunner().invoke(main, ["--db", str(db), "import", str(bundle)])
    assert result.exit_code != 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(bundle) in lines[0]
    assert fragment in lines[0], lines[0]
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "Traceback" not in result.stderr
    assert file_hash(db) == before


def _copy(db: Path, to: Path) -> Path:
    to.write_bytes(db.read_bytes())
    return to


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_bundle_is_refused(name: str, world: dict[str, Any], tmp_path: Path) -> None:
    spoil, fragment = CASES[name]
    bundle = Bundle(world)
    spoil(bundle)
    db = _copy(world["db"], tmp_path / "target.db")
    _refuse(db, bundle.write(tmp_path / "hostile.mslsync"), fragment)


def test_a_bundle_id_names_one_bundle(world: dict[str, Any], tmp_path: Path) -> None:
    """The same id again with the same bytes is a no-op; with other content it is refused."""
    db = _copy(world["db"], tmp_path / "target.db")
    again = CliRunner().invoke(main, ["--db", str(db), "import", str(world["first"])])
    assert again.exit_code == 0 and "already imported" in again.output
    with_id = Bundle(world)
    with_id.change("kol", world["kol"], {"city": "Oslo"})
    with_id.manifest["bundle_id"] = json.loads(
        __import__("zipfile").ZipFile(world["first"]).read("manifest.json")
    )["bundle_id"]
    _refuse(db, with_id.write(tmp_path / "same-id.mslsync"), "with other content")


def test_a_valid_change_still_goes_in(world: dict[str, Any], tmp_path: Path) -> None:
    """The corpus refuses for the planted reason only: the same bundle, unspoiled, imports."""
    bundle = Bundle(world)
    bundle.change("kol", world["kol"], {"city": "Oslo"}, seq=500, base={})
    path = bundle.write(tmp_path / "fine.mslsync")
    db = _copy(world["db"], tmp_path / "copy.db")
    result = CliRunner().invoke(main, ["--db", str(db), "import", str(path)])
    assert result.exit_code == 0, result.output
    store = Store.open(db)
    kol = store.get_kol(world["kol"])
    assert kol is not None and kol.city == "Oslo"
    store.close()


def test_own_changes_echoed_back_are_fine(tmp_path: Path) -> None:
    """A roster from head office carries the MSL's own changes: identical ones are known."""
    ana = make_store(tmp_path / "ana.db", "ana", SRC)
    kol = add_kol(ana, "Dr Own Echo")
    add_visit(ana, kol, "Visit one.")
    out = export_bundle(ana, tmp_path / "out", sign=False).path
    assert out is not None
    ho = make_store(tmp_path / "ho.db", "head.office", "dev-hq", role="head office")
    ho.close()
    ana.close()
    assert (
        CliRunner().invoke(main, ["--db", str(tmp_path / "ho.db"), "import", str(out)]).exit_code
        == 0
    )
    ho = Store.open(tmp_path / "ho.db")
    back = export_bundle(ho, tmp_path / "back", full=True, sign=False).path
    ho.close()
    assert back is not None
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "ana.db"), "import", str(back)])
    assert result.exit_code == 0, result.output


def test_the_corpus_is_large() -> None:
    from test_sync_bad_input import SPOILERS

    assert len(CASES) + len(SPOILERS) >= 100


def test_an_older_senders_record_goes_in_in_todays_form(
    world: dict[str, Any], tmp_path: Path
) -> None:
    """A sender that predates a nested field (the adverse event's follow-ups) is not
    refused for leaving it out; the store keeps the record in its own canonical form."""
    bundle = Bundle(world)
    day_zero = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    older = {"day_zero": day_zero, "patient": "", "reporter": "", "product": "",
             "event": "rash", "reported_at": None, "reference": ""}  # fmt: skip
    bundle.change("interaction", world["visit"], {"adverse_event": older}, seq=600)
    db = _copy(world["db"], tmp_path / "copy.db")
    result = CliRunner().invoke(
        main, ["--db", str(db), "import", str(bundle.write(tmp_path / "older.mslsync"))]
    )
    assert result.exit_code == 0, result.output
    store = Store.open(db)
    rows = list(store.db.query("select adverse_event from interactions"))
    store.close()
    assert json.loads(rows[0]["adverse_event"])["followups"] == []


@pytest.mark.parametrize(
    ("entity", "key", "patch"),
    [
        ("interaction", "visit", {"submitted_at": None}),
        ("plan", "plan", {"period_end": "2001-01-01"}),
    ],
)
def test_a_change_that_would_spoil_a_record_is_kept_as_a_conflict(
    world: dict[str, Any], tmp_path: Path, entity: str, key: str, patch: dict[str, Any]
) -> None:
    """Valid field by field, invalid as the record it makes: the stored row stays as it was
    and the change waits in the conflicts list (the result is the same in any import order)."""
    db = _copy(world["db"], tmp_path / "target.db")
    store = Store.open(db)
    before = dict(
        next(
            iter(
                store.db.query(f"select * from {ENTITIES[entity].table} where id = ?", [world[key]])
            )
        )
    )
    store.close()
    bundle = Bundle(world)
    bundle.change(entity, world[key], patch, seq=700)
    result = CliRunner().invoke(
        main, ["--db", str(db), "import", str(bundle.write(tmp_path / "spoil.mslsync"))]
    )
    assert result.exit_code == 0, result.output
    assert "1 in conflict" in result.output
    store = Store.open(db)
    after = dict(
        next(
            iter(
                store.db.query(f"select * from {ENTITIES[entity].table} where id = ?", [world[key]])
            )
        )
    )
    conflicts = sync_log.list_conflicts(store)
    store.close()
    field = next(iter(patch))
    assert after[field] == before[field]
    assert [(c["record_id"], c["field"]) for c in conflicts] == [(world[key], field)]


def test_a_number_of_thousands_of_digits_is_refused_in_one_line(
    world: dict[str, Any], tmp_path: Path
) -> None:
    bundle = Bundle(world)
    bundle.change("kol", world["kol"], {"city": "Oslo"})
    bundle.raw_lines["kol"] = [b'{"seq": ' + b"9" * 5000 + b"}\n"]
    db = _copy(world["db"], tmp_path / "target.db")
    _refuse(db, bundle.write(tmp_path / "digits.mslsync"), "a number of 5000 digits")


def test_a_huge_number_in_the_manifest_is_refused_in_one_line(
    world: dict[str, Any], tmp_path: Path
) -> None:
    bundle = Bundle(world)
    bundle.change("kol", world["kol"], {"city": "Oslo"})
    path = bundle.write(tmp_path / "manifest-digits.mslsync")
    members = read_members(path)
    manifest = members["manifest.json"].replace(b'"format": 1', b'"format": ' + b"1" * 5000)
    write_zip(
        path,
        [
            ("manifest.json", manifest),
            *((n, d) for n, d in members.items() if n != "manifest.json"),
        ],
    )
    db = _copy(world["db"], tmp_path / "target.db")
    _refuse(db, path, "digits")
