"""Bundles encrypted to their readers (age): the round trip MSL -> head office -> MSL, each
refusal in one line with the store byte-identical, and interop with the standard `age` tool.

The CLI paths run the real `msl` command in a subprocess, as a user would.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pyrage
import pytest
from sync_helpers import add_kol, add_visit, make_store

from msl_tui.sync import crypto
from msl_tui.sync.bundle import BundleError, BundleReader, Limits
from msl_tui.sync.export import export_bundle
from msl_tui.sync.importer import ImportError_, import_bundle

MSL = shutil.which("msl", path=str(Path(sys.executable).parent)) or "msl"
AGE = shutil.which("age")
NAME = "Dr Mira Holt"
NOTE = "asked about renal dosing in the elderly"
SOMEONE = str(pyrage.x25519.Identity.generate().to_public())


def msl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MSL, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "MSL_BUSY_TIMEOUT_MS": "100"},
    )


def ok(*args: str | Path) -> str:
    result = msl(*args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def age_recipient(db: Path) -> str:
    [line] = [x for x in ok("--db", db, "keys").splitlines() if "age recipient" in x]
    recipient = line.rsplit(" ", 1)[1]
    assert recipient.startswith("age1")
    return recipient


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Pair:
    """An MSL and head office that know each other's age recipient; the MSL has a KOL and a
    visit, and its last export is an encrypted bundle."""

    ana: Path
    ho: Path
    bundle: Path
    folder: Path


@pytest.fixture(scope="module")
def pair_template(tmp_path_factory: pytest.TempPathFactory) -> Pair:
    """Made once per module (six `msl` runs); each test works on a copy of its files."""
    folder = tmp_path_factory.mktemp("pair")
    ana, ho = folder / "ana.db", folder / "ho.db"
    store = make_store(ana, "ana", "laptop-ana")
    add_visit(store, add_kol(store, NAME), notes=NOTE)
    store.close()
    ok("--db", ho, "init", "--name", "Head Office")
    ok("--db", ana, "keys", "--recipient", "head office", age_recipient(ho))
    ok("--db", ho, "keys", "--recipient", "ana", age_recipient(ana))
    said = ok("--db", ana, "export", "--out", folder / "out")
    assert "encrypted to head office, this store" in said
    [bundle] = (folder / "out").glob("*.mslsync")
    return Pair(ana, ho, bundle, folder)


@pytest.fixture
def pair(pair_template: Pair, tmp_path: Path) -> Pair:
    shutil.copytree(pair_template.folder, tmp_path, dirs_exist_ok=True)  # modes kept

    def here(path: Path) -> Path:
        return tmp_path / path.relative_to(pair_template.folder)

    return Pair(
        here(pair_template.ana), here(pair_template.ho), here(pair_template.bundle), tmp_path
    )


def test_round_trip_msl_to_head_office_and_back_encrypted_both_ways(pair: Pair) -> None:
    ok("--db", pair.ana, "keys", "--require-encryption")
    ok("--db", pair.ho, "keys", "--require-encryption")
    raw = pair.bundle.read_bytes()
    assert raw.startswith(b"age-encryption.org/v1\n")
    assert NAME.encode() not in raw and b"renal" not in raw and b"PK\x03\x04" not in raw
    assert stat.S_IMODE(pair.bundle.stat().st_mode) == 0o600

    took = ok("--db", pair.ho, "import", pair.bundle)
    assert "(encrypted): imported" in took and "KOLs: 1 inserted" in took
    assert "visits: 1 inserted" in took

    roster = pair.folder / "roster.mslsync"
    said = ok("--db", pair.ho, "export", "--roster", "--for", "ana", "--out", roster)
    assert "encrypted to ana, this store" in said
    assert NAME.encode() not in roster.read_bytes()
    back = ok("--db", pair.ana, "import", roster)
    assert "(encrypted): imported" in back and "KOLs: 0 inserted" in back
    # The sender can re-read its own bundle: it is encrypted to the store itself too.
    assert "already imported" not in ok("--db", pair.ana, "import", "--dry-run", pair.bundle)
    # Nothing decrypted is left behind, neither beside the stores nor where bundles went.
    leftovers = [p.name for p in pair.folder.rglob("*") if "scratch" in p.name or ".tmp-" in p.name]
    assert leftovers == []


def _other_store_bundle(pair: Pair) -> Path:
    """A bundle encrypted to someone who is not head office."""
    eve = pair.folder / "eve.db"
    ok("--db", eve, "init", "--name", "Eve")
    ok("--db", pair.ana, "keys", "--no-recipient", "head office")
    ok("--db", pair.ana, "keys", "--recipient", "eve", age_recipient(eve))
    ok("--db", pair.ana, "export", "--full", "--out", pair.folder / "eve.mslsync")
    return pair.folder / "eve.mslsync"


def _truncated(pair: Pair) -> Path:
    out = pair.folder / "cut.mslsync"
    raw = pair.bundle.read_bytes()
    out.write_bytes(raw[: len(raw) - 40])
    return out


def _cut_in_header(pair: Pair) -> Path:
    out = pair.folder / "head.mslsync"
    out.write_bytes(pair.bundle.read_bytes()[:60])
    return out


def _tampered(pair: Pair) -> Path:
    out = pair.folder / "tampered.mslsync"
    raw = bytearray(pair.bundle.read_bytes())
    raw[len(raw) // 2 + 100] ^= 0x01  # one bit in the encrypted payload
    out.write_bytes(bytes(raw))
    return out


def _tampered_header(pair: Pair) -> Path:
    out = pair.folder / "header.mslsync"
    raw = pair.bundle.read_bytes()
    out.write_bytes(raw.replace(b"-> X25519 ", b"-> X25519 A", 1))
    return out


def _plain_where_required(pair: Pair) -> Path:
    ok("--db", pair.ho, "keys", "--require-encryption")
    out = pair.folder / "plain.mslsync"
    said = ok("--db", pair.ana, "export", "--full", "--plain", "--out", out)
    assert "not encrypted (--plain)" in said
    return out


REFUSALS = {
    "addressed to someone else": (_other_store_bundle, "encrypted for other readers"),
    "truncated": (_truncated, "does not decrypt"),
    "cut in its header": (_cut_in_header, "cut short"),
    "tampered payload": (_tampered, "does not decrypt"),
    "tampered header": (_tampered_header, "does not decrypt"),
    "plain where encryption is required": (_plain_where_required, "is not encrypted"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_each_refusal_is_one_line_and_the_store_is_byte_identical(pair: Pair, case: str) -> None:
    make, words = REFUSALS[case]
    bundle = make(pair)
    before = digest(pair.ho)
    result = msl("--db", pair.ho, "import", bundle)
    assert result.returncode == 1
    assert result.stdout == "" and "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"msl: error: {bundle}: ") and words in line, line
    assert "pyrage" not in line.lower()
    assert digest(pair.ho) == before
    assert not Path(f"{pair.ho}-wal").exists() or Path(f"{pair.ho}-wal").stat().st_size == 0
    assert not [p for p in pair.folder.iterdir() if "scratch" in p.name]


def test_a_store_without_recipients_exports_plain_and_says_so(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    add_kol(make_store(db, "ana", "laptop-a"), NAME)
    said = ok("--db", db, "export", "--out", tmp_path / "a.mslsync")
    assert "not encrypted: no recipients" in said
    assert zipfile.is_zipfile(tmp_path / "a.mslsync")


def test_keys_shows_both_public_keys_and_the_rules(pair: Pair) -> None:
    shown = ok("--db", pair.ana, "keys").splitlines()
    assert shown[0].startswith("this store (ana) signing key: ")
    assert shown[1].startswith("this store (ana) age recipient: age1")
    assert f"recipient head office: {age_recipient(pair.ho)}" in shown
    assert "exports: encrypted to head office, this store" in shown
    assert "imports: encrypted or plain bundles" in shown
    ok("--db", pair.ana, "keys", "--require-encryption")
    assert "imports: encrypted bundles only" in ok("--db", pair.ana, "keys")
    ok("--db", pair.ana, "keys", "--allow-plain")
    assert "imports: encrypted or plain bundles" in ok("--db", pair.ana, "keys")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--recipient", "ho", "age1notakey"], "is not an age recipient"),
        (["--recipient", "ho", SOMEONE.upper()], "is not an age recipient"),
        (["--recipient", "ho", "ab" * 32], "is not an age recipient"),
        (["--recipient", "", SOMEONE], "needs a name"),
        (["--recipient", "ho\x1b[2J", SOMEONE], "not a short line of plain text"),
        (["--no-recipient", "nobody"], "no recipient named 'nobody'"),
        (["--require-encryption", "--allow-plain"], "contradict"),
        (["--recipient", "This Store", SOMEONE], "is how msl names this store"),
    ],
)
def test_bad_key_commands_are_one_line_and_change_nothing(
    pair: Pair, args: list[str], words: str
) -> None:
    before = digest(pair.ana)
    result = msl("--db", pair.ana, "keys", *args)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert words in line, line
    assert digest(pair.ana) == before


def test_a_store_is_not_its_own_listed_recipient(pair: Pair) -> None:
    before = digest(pair.ana)
    result = msl("--db", pair.ana, "keys", "--recipient", "me", age_recipient(pair.ana))
    assert result.returncode == 1 and "this store's own recipient" in result.stderr
    assert digest(pair.ana) == before


def test_export_identity_is_private_and_never_replaces_a_file(pair: Pair) -> None:
    key = pair.folder / "ho.key"
    said = ok("--db", pair.ho, "keys", "--export-identity", key)
    assert f"wrote {key}" in said
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    lines = key.read_text().splitlines()
    assert lines[-1].startswith("AGE-SECRET-KEY-1")
    assert f"# public key: {age_recipient(pair.ho)}" in lines
    again = msl("--db", pair.ho, "keys", "--export-identity", key)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert key.read_text().splitlines() == lines
    # The identity the file holds decrypts what was sent to head office.
    identity = pyrage.x25519.Identity.from_str(lines[-1])
    assert pyrage.decrypt(pair.bundle.read_bytes(), [identity]).startswith(b"PK")


def test_the_decrypted_size_is_bounded(tmp_path: Path) -> None:
    store = make_store(tmp_path / "a.db", "ana", "laptop-a")
    add_kol(store, NAME, profile_note="x" * 5000)
    crypto.add_recipient(store, "ho", crypto.recipient_of(pyrage.x25519.Identity.generate()))
    bundle = export_bundle(store, tmp_path / "out").path
    assert bundle is not None
    with (
        pytest.raises(BundleError, match="decrypts to more than 1000 bytes"),
        crypto.readable_bundle(store, bundle, limits=Limits(max_file=1000)),
    ):
        pass
    assert not [p for p in tmp_path.iterdir() if "scratch" in p.name]


def test_the_api_refuses_a_bundle_for_another_store_as_a_bundle_problem(tmp_path: Path) -> None:
    a = make_store(tmp_path / "a.db", "ana", "laptop-a")
    add_kol(a, NAME)
    crypto.add_recipient(a, "ho", crypto.recipient_of(pyrage.x25519.Identity.generate()))
    bundle = export_bundle(a, tmp_path / "out").path
    b = make_store(tmp_path / "b.db", "bob", "laptop-b")
    with pytest.raises(ImportError_, match="encrypted for other readers") as refused:
        import_bundle(b, bundle)  # type: ignore[arg-type]
    assert not refused.value.store_failed  # the bundle is refused, the store is fine
    assert b.list_kols() == []


# -- interop with the standard age tool -----------------------------------------------------


@pytest.fixture
def age() -> str:
    if AGE is None:
        pytest.skip(
            "the `age` command is not installed (CI installs Debian's `age` package; "
            "here apt-get was not available)"
        )
    return AGE


def test_age_decrypts_a_bundle_with_the_exported_identity(age: str, pair: Pair) -> None:
    key = pair.folder / "ho.key"
    ok("--db", pair.ho, "keys", "--export-identity", key)
    plain = pair.folder / "plain.zip"
    subprocess.run([age, "-d", "-i", str(key), "-o", str(plain), str(pair.bundle)], check=True)
    with BundleReader(plain) as reader:  # a whole, signed bundle
        assert reader.signed_by is not None
        assert reader.manifest.source_name == "ana"


@pytest.mark.parametrize("armor", [False, True], ids=["binary", "armored"])
def test_a_bundle_encrypted_by_age_imports(age: str, pair: Pair, armor: bool) -> None:
    ok("--db", pair.ho, "import", pair.bundle)
    plain = pair.folder / "plain.mslsync"
    ok("--db", pair.ho, "export", "--full", "--plain", "--out", plain)
    sealed = pair.folder / "sealed.mslsync"
    armour = ["-a"] if armor else []
    subprocess.run(
        [age, *armour, "-r", age_recipient(pair.ana), "-o", str(sealed), str(plain)], check=True
    )
    took = ok("--db", pair.ana, "import", sealed)
    assert "(encrypted): imported" in took and "KOLs: 0 inserted, 0 updated, 1 unchanged" in took


HOLD_LOCK = (
    "import sqlite3, sys\n"
    "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "conn.execute('BEGIN IMMEDIATE')\n"
    "print('held', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_keys_of_a_store_made_before_encryption_show_even_when_it_is_busy(
    tmp_path: Path,
) -> None:
    """A store from before age identities has only a signing key; `msl keys` makes the
    identity when it can write, and shows what there is when another msl holds the lock."""
    db = tmp_path / "old.db"
    ok("--db", db, "init", "--name", "Ana")
    ok("--db", db, "keys")
    store = make_store(db, "ana", "laptop-a")
    store.db.execute("delete from meta where key = ?", [crypto.IDENTITY_META])
    store.db.conn.commit()
    store.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        busy = msl("--db", db, "keys")
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert busy.returncode == 0, busy.stderr
    assert "signing key: " in busy.stdout.splitlines()[0]
    assert busy.stdout.splitlines()[1].endswith(
        "age recipient: none yet (made once this store can be written)"
    )
    assert age_recipient(db).startswith("age1")  # made now that the store is free


async def test_the_sync_screen_exports_and_imports_encrypted_bundles(tmp_path: Path) -> None:
    from textual.app import App
    from textual.widgets import Input, Static

    from msl_tui.screens.sync import SyncScreen

    class Harness(App[None]):
        def __init__(self, store: object) -> None:
            super().__init__()
            self.store = store

        def on_mount(self) -> None:
            self.push_screen(SyncScreen())

    ana = make_store(tmp_path / "ana.db", "ana", "laptop-ana")
    ho = make_store(tmp_path / "ho.db", "head.office", "hq-1", role="head office")
    add_kol(ana, NAME)
    crypto.add_recipient(ana, "head office", crypto.recipient_of(crypto.identity(ho)))  # type: ignore[arg-type]
    for store, work in ((ana, "export"), (ho, "import")):
        app = Harness(store)
        async with app.run_test(size=(120, 40)) as pilot:
            if work == "export":
                app.screen.query_one("#export-folder", Input).value = str(tmp_path / "out")
                await pilot.press("f2")
            else:
                [bundle] = (tmp_path / "out").glob("*.mslsync")
                await pilot.click("#import-file")
                app.screen.query_one("#import-file", Input).value = str(bundle)
                await pilot.press("enter")
                await app.workers.wait_for_complete()
                await pilot.pause()
                await pilot.press("f4")
            await app.workers.wait_for_complete()
            await pilot.pause()
            status = str(app.screen.query_one("#sync-status", Static).render())
            if work == "export":
                assert "encrypted to head office, this store" in status
            else:
                assert "(encrypted): imported" in status
    assert [k.name for k in ho.list_kols()] == [NAME]
