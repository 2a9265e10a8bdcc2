"""Every bad bundle is refused whole: one line naming the file and the problem, a non-zero
exit, and the store file byte-for-byte as it was. Each bad file is generated here."""

from __future__ import annotations

import hashlib
import json
import stat
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sync_helpers import add_kol, add_visit, file_hash, make_store, part_entry, read_members

from msl_tui.cli import main
from msl_tui.sync import keys
from msl_tui.sync.bundle import TABLE_PARTS
from msl_tui.sync.export import export_bundle

# Writing a duplicate member name on purpose makes zipfile warn.
pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name")


class Case:
    """A good bundle's members, to be spoiled one way before being written out."""

    def __init__(self, members: dict[str, bytes]) -> None:
        self.manifest: dict[str, Any] = json.loads(members["manifest.json"])
        self.manifest["bundle_id"] = str(uuid.uuid4())
        self.parts = {n: d for n, d in members.items() if n.endswith(".jsonl")}
        self.extra: list[tuple[str, bytes]] = []
        self.raw_manifest: bytes | None = None
        self.signature: bytes | None = None
        self.stored = False

    def lines(self, part: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.parts[part].splitlines()]

    def set_lines(self, part: str, lines: list[Any]) -> None:
        self.parts[part] = b"".join(json.dumps(x).encode() + b"\n" for x in lines)

    def refresh(self) -> None:
        """Make the manifest agree with the parts (so the planted fault is the only one)."""
        self.manifest["parts"] = [
            part_entry(name, TABLE_PARTS.get(name, name), data) for name, data in self.parts.items()
        ]

    def write(self, path: Path) -> Path:
        method = zipfile.ZIP_STORED if self.stored else zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(path, "w", method) as zf:
            if self.manifest is not None:
                raw = self.raw_manifest or json.dumps(self.manifest).encode()
                zf.writestr("manifest.json", raw)
            if self.signature is not None:
                zf.writestr("manifest.sig", self.signature)
            for name, data in self.parts.items():
                zf.writestr(name, data)
            for name, data in self.extra:
                zf.writestr(name, data)
        return path


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("good")
    src = make_store(folder / "src.db", "ana", "dev-ana")
    kol = add_kol(src, "Dr Mira Holt", institution="St Olaf")
    add_visit(src, kol, "Talked about dosing in renal impairment.")
    path = export_bundle(src, folder, sign=False).path
    assert path is not None
    src.close()
    return {"path": path, "members": read_members(path)}


@pytest.fixture
def target(tmp_path: Path, good: dict[str, Any]) -> Path:
    """A store that already holds the good bundle (so reused sequence numbers can clash)."""
    db = tmp_path / "target.db"
    store = make_store(db, "head.office", "dev-ho", role="head office")
    store.close()
    result = CliRunner().invoke(main, ["--db", str(db), "import", str(good["path"])])
    assert result.exit_code == 0, result.output
    return db


def _count_plus_one(c: Case) -> None:
    c.refresh()
    c.manifest["parts"][0]["count"] += 1


def _checksum(c: Case) -> None:
    c.refresh()
    name = "interactions.jsonl"
    c.parts[name] = c.parts[name].replace(b"dosing", b"DOSING")


def _missing_part(c: Case) -> None:
    c.refresh()
    del c.parts["interactions.jsonl"]


def _unknown_table_member(c: Case) -> None:
    c.refresh()
    c.extra.append(("widgets.jsonl", b"{}\n"))


def _unknown_table_manifest(c: Case) -> None:
    c.refresh()
    c.manifest["parts"].append(part_entry("widgets.jsonl", "widget", b""))


def _newer_schema(c: Case) -> None:
    c.refresh()
    c.manifest["schema"] = 999


def _newer_format(c: Case) -> None:
    c.refresh()
    c.manifest["format"] = 99


def _member(name: str, data: bytes = b"x") -> Callable[[Case], None]:
    def spoil(c: Case) -> None:
        c.refresh()
        c.extra.append((name, data))

    return spoil


def _bomb(c: Case) -> None:
    c.refresh()
    zeros = b"0" * (20 * 2**20)
    c.parts["interactions.jsonl"] = zeros
    c.refresh()


def _edit_line(part: str, edit: Callable[[dict[str, Any]], None]) -> Callable[[Case], None]:
    def spoil(c: Case) -> None:
        lines = c.lines(part)
        edit(lines[0])
        c.set_lines(part, lines)
        c.refresh()

    return spoil


def _raw_line(part: str, raw: bytes) -> Callable[[Case], None]:
    def spoil(c: Case) -> None:
        c.parts[part] = raw
        c.refresh()

    return spoil


def _deep(c: Case) -> None:
    line = c.parts["kols.jsonl"].splitlines()[0]
    nested = b"[" * 1000 + b'"x"' + b"]" * 1000
    c.parts["kols.jsonl"] = line.replace(b'"tags":[]', b'"tags":' + nested) + b"\n"
    assert nested in c.parts["kols.jsonl"]
    c.refresh()


def _dup_in_bundle(c: Case) -> None:
    lines = c.lines("interactions.jsonl")
    c.set_lines("interactions.jsonl", [lines[0], lines[0]])
    c.refresh()


def _reused_seq(c: Case) -> None:
    _edit_line("interactions.jsonl", lambda x: x["patch"].update(notes="something else"))(c)


def _future(c: Case) -> None:
    def edit(x: dict[str, Any]) -> None:
        x["hlc"] = "4102444800000-0000-" + x["device"]

    _edit_line("kols.jsonl", edit)(c)


def _roster_with_visits(c: Case) -> None:
    c.refresh()
    c.manifest["kind"] = "roster"


def _extra_part(c: Case) -> None:
    c.refresh()
    c.manifest["parts"] = [p for p in c.manifest["parts"] if p["name"] != "kols.jsonl"]


def _size_lie(c: Case) -> None:
    c.refresh()
    c.manifest["parts"][0]["size"] += 5


def _no_manifest(c: Case) -> None:
    c.refresh()
    c.raw_manifest = None
    c.manifest = None  # type: ignore[assignment]


def _manifest_not_json(c: Case) -> None:
    c.refresh()
    c.raw_manifest = b"{'format': 1"


def _outside_range(c: Case) -> None:
    c.refresh()
    for span in c.manifest["ranges"].values():
        span[1] = span[0]


SPOILERS: dict[str, tuple[Callable[[Case], None], str]] = {
    "count mismatch": (_count_plus_one, "the manifest says"),
    "checksum mismatch": (_checksum, "checksum does not match"),
    "missing part": (_missing_part, "is missing"),
    "unknown table member": (_unknown_table_member, "unknown table 'widgets'"),
    "unknown table in manifest": (_unknown_table_manifest, "unknown table 'widget'"),
    "newer schema": (_newer_schema, "schema version 999 is newer"),
    "newer format": (_newer_format, "format 99 is newer"),
    "zip slip dotdot": (_member("../evil.jsonl"), "unsafe member name"),
    "zip slip absolute": (_member("/etc/evil"), "unsafe member name"),
    "backslash name": (_member("..\\evil.jsonl"), "unsafe member name"),
    "duplicate member": (_member("kols.jsonl", b""), "appears twice"),
    "unexpected member": (_member("readme.txt"), "unexpected member"),
    "zip bomb": (_bomb, "zip bomb"),
    "wrong type": (
        _edit_line("interactions.jsonl", lambda x: x["patch"].update(duration_min="long")),
        "duration_min",
    ),
    "unknown field": (
        _edit_line("kols.jsonl", lambda x: x["patch"].update(salary=1)),
        "'salary' is not a field of kol",
    ),
    "bad record id": (
        _edit_line("kols.jsonl", lambda x: x.update(id="../../etc")),
        "not a record id",
    ),
    "NaN": (
        _raw_line(
            "kols.jsonl",
            b'{"device":"dev-ana","seq":1,"hlc":"1700000000000-0000-dev-ana","id":'
            b'"6f1c1d4e-1111-4111-8111-111111111111","patch":{"name":NaN},"base":{},"author":""}\n',
        ),
        "NaN is not allowed",
    ),
    "duplicate keys": (
        _raw_line(
            "kols.jsonl",
            b'{"device":"dev-ana","seq":1,"seq":2,"hlc":"1700000000000-0000-dev-ana","id":'
            b'"6f1c1d4e-1111-4111-8111-111111111111","patch":{"name":"A"},"base":{},"author":""}\n',
        ),
        "duplicate JSON key 'seq'",
    ),
    "invalid utf-8": (_raw_line("kols.jsonl", b'{"device":"\xff"}\n'), "not UTF-8"),
    "no line end": (_raw_line("kols.jsonl", b'{"device":"dev-ana"}'), "no line end"),
    "not JSON": (_raw_line("kols.jsonl", b"device=dev-ana\n"), "invalid JSON"),
    "deep nesting": (_deep, "nested deeper than"),
    "duplicate change in bundle": (_dup_in_bundle, "appears twice in the bundle"),
    "reused device and seq": (_reused_seq, "already received with different content"),
    "clock far in the future": (_future, "ahead of this machine"),
    "roster carrying visits": (_roster_with_visits, "may not carry interactions"),
    "part not in manifest": (_extra_part, "not in the manifest"),
    "size lie": (_size_lie, "size does not match"),
    "no manifest": (_no_manifest, "manifest.json is missing"),
    "manifest not JSON": (_manifest_not_json, "invalid JSON"),
    "seq outside declared range": (_outside_range, "outside the manifest's ranges"),
}


def _run_import(db: Path, bundle: Path) -> Any:
    return CliRunner().invoke(main, ["--db", str(db), "import", str(bundle)])


def _assert_refused(db: Path, bundle: Path, fragment: str) -> None:
    before = file_hash(db)
    result = _run_import(db, bundle)
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(bundle) in lines[0]
    assert fragment in lines[0], lines[0]
    assert result.stdout == ""
    assert file_hash(db) == before
    assert not Path(str(db) + "-wal").exists() or Path(str(db) + "-wal").stat().st_size == 0


@pytest.mark.parametrize("name", list(SPOILERS))
def test_spoiled_bundle_is_refused(
    name: str, good: dict[str, Any], target: Path, tmp_path: Path
) -> None:
    spoil, fragment = SPOILERS[name]
    case = Case(good["members"])
    spoil(case)
    bundle = case.write(tmp_path / f"{name.replace(' ', '-')}.mslsync")
    _assert_refused(target, bundle, fragment)


def test_empty_file(target: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "empty.mslsync"
    bundle.write_bytes(b"")
    _assert_refused(target, bundle, "empty file")


def test_not_a_zip(target: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "notes.mslsync"
    bundle.write_text("Dear head office, here are my notes\n")
    _assert_refused(target, bundle, "not a readable zip")


def test_truncated_zip(target: Path, tmp_path: Path, good: dict[str, Any]) -> None:
    data = good["path"].read_bytes()
    bundle = tmp_path / "cut.mslsync"
    bundle.write_bytes(data[: len(data) // 2])
    _assert_refused(target, bundle, "not a readable zip")


def test_symlink_member(target: Path, tmp_path: Path, good: dict[str, Any]) -> None:
    case = Case(good["members"])
    del case.parts["followups.jsonl"]
    case.refresh()
    bundle = case.write(tmp_path / "link.mslsync")
    with zipfile.ZipFile(bundle, "a") as zf:
        info = zipfile.ZipInfo("followups.jsonl")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    _assert_refused(target, bundle, "is a link")


def test_hundred_megabyte_string(target: Path, tmp_path: Path, good: dict[str, Any]) -> None:
    """Written in 1 MiB chunks, stored (a compressed run would trip the bomb check first)."""
    bundle = tmp_path / "long.mslsync"
    head = b'{"device":"dev-ana","seq":1,"hlc":"1700000000000-0000-dev-ana","id":"x","patch":{"notes":"'
    chunk = b"a" * 2**20
    digest = hashlib.sha256(head)
    size = len(head) + 100 * len(chunk) + 3
    for _ in range(100):
        digest.update(chunk)
    digest.update(b'"}\n')
    manifest = json.loads(good["members"]["manifest.json"])
    manifest["bundle_id"] = str(uuid.uuid4())
    manifest["parts"] = [
        {
            "name": "kols.jsonl",
            "table": "kol",
            "size": size,
            "count": 1,
            "sha256": digest.hexdigest(),
        }
    ]
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        with zf.open("kols.jsonl", "w", force_zip64=True) as out:
            out.write(head)
            for _ in range(100):
                out.write(chunk)
            out.write(b'"}\n')
    _assert_refused(target, bundle, "longer than")


def _signed_case(good: dict[str, Any], key: Ed25519PrivateKey) -> Case:
    case = Case(good["members"])
    case.refresh()
    case.manifest["signer"] = key.public_key().public_bytes_raw().hex()
    case.raw_manifest = json.dumps(case.manifest).encode()
    case.signature = key.sign(case.raw_manifest).hex().encode()
    return case


def _pin(db: Path, name: str, key: Ed25519PrivateKey) -> None:
    public = key.public_key().public_bytes_raw().hex()
    result = CliRunner().invoke(main, ["--db", str(db), "keys", "--trust", name, public])
    assert result.exit_code == 0, result.output


def test_wrong_signing_key(target: Path, tmp_path: Path, good: dict[str, Any]) -> None:
    _pin(target, "ana", Ed25519PrivateKey.generate())
    bundle = _signed_case(good, Ed25519PrivateKey.generate()).write(tmp_path / "wrong.mslsync")
    _assert_refused(target, bundle, "signed with the wrong key for ana")


def test_unsigned_bundle_from_pinned_source(
    target: Path, tmp_path: Path, good: dict[str, Any]
) -> None:
    _pin(target, "ana", Ed25519PrivateKey.generate())
    case = Case(good["members"])
    case.refresh()
    _assert_refused(target, case.write(tmp_path / "unsigned.mslsync"), "is not signed")


def test_bundle_from_an_unpinned_source_when_keys_are_pinned(
    target: Path, tmp_path: Path, good: dict[str, Any]
) -> None:
    _pin(target, "bob", Ed25519PrivateKey.generate())
    bundle = _signed_case(good, Ed25519PrivateKey.generate()).write(tmp_path / "eve.mslsync")
    _assert_refused(target, bundle, "ana has no pinned key here")


def test_tampered_manifest(target: Path, tmp_path: Path, good: dict[str, Any]) -> None:
    key = Ed25519PrivateKey.generate()
    case = _signed_case(good, key)
    assert case.raw_manifest is not None
    case.raw_manifest = case.raw_manifest.replace(b'"msl-log"', b'"full"')
    _assert_refused(target, case.write(tmp_path / "tampered.mslsync"), "signature does not match")


def test_signed_bundle_from_pinned_key_goes_in(tmp_path: Path) -> None:
    src = make_store(tmp_path / "src.db", "ana", "dev-ana")
    add_kol(src, "Dr Ines Vale")
    public = keys.public_hex(keys.signing_key(src))  # type: ignore[arg-type]
    path = export_bundle(src, tmp_path / "out").path
    src.close()
    db = tmp_path / "ho.db"
    CliRunner().invoke(main, ["--db", str(db), "keys", "--trust", "ana", public])
    result = _run_import(db, path)  # type: ignore[arg-type]
    assert result.exit_code == 0, result.stderr
    assert "KOLs: 1 inserted" in result.stdout


def test_bad_file_is_set_aside_and_the_rest_go_in(
    target: Path, tmp_path: Path, good: dict[str, Any]
) -> None:
    src = make_store(tmp_path / "bob.db", "bob", "dev-bob")
    add_kol(src, "Dr Oskar Lind")
    fine = export_bundle(src, tmp_path / "in").path
    src.close()
    bad = tmp_path / "in" / "bad.mslsync"
    bad.write_text("not a zip")
    aside = tmp_path / "aside"
    result = CliRunner().invoke(
        main, ["--db", str(target), "import", str(bad), str(fine), "--set-aside", str(aside)]
    )
    assert result.exit_code == 1
    assert "KOLs: 1 inserted" in result.stdout
    assert "bad.mslsync" in result.stderr and "1 of 2 bundles refused" in result.stderr
    assert (aside / "bad.mslsync").exists()
    assert "not a readable zip" in (aside / "bad.mslsync.reason.txt").read_text()
    assert not bad.exists()
