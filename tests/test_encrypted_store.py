"""An encrypted store (SQLCipher): created encrypted or converted both ways with every row
kept, readable only with its passphrase (MSL_PASSPHRASE, the OS keyring, or a prompt), a
wrong or missing one refused in one line with nothing changed, and the plain file's bytes
overwritten when it is replaced. Real `msl` runs, as a user would."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from msl_tui.store import Store, StoreError, cipher

pytest.importorskip("sqlcipher3", reason="the encrypted-store extra (SQLCipher) is not installed")

MSL = shutil.which("msl", path=str(Path(sys.executable).parent)) or "msl"
HERE = Path(__file__).resolve().parent
NAME = "Dr Zephyrine Quillfeather"
NO_KEYRING = "keyring.backends.fail.Keyring"
HOLD_LOCK = (
    "import sqlite3, sys\n"
    "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "conn.execute('BEGIN IMMEDIATE')\n"
    "print('held', flush=True)\n"
    "sys.stdin.read()\n"
)


def msl(*args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != cipher.PASSPHRASE_ENV}
    base.setdefault("PYTHON_KEYRING_BACKEND", NO_KEYRING)
    return subprocess.run(
        [MSL, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**base, "MSL_BUSY_TIMEOUT_MS": "100", **env},
    )


def ok(*args: str | Path, **env: str) -> str:
    result = msl(*args, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def one_line_error(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("msl: error: ") and words in line, line


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


PASS = {cipher.PASSPHRASE_ENV: "correct horse battery"}


@pytest.fixture(scope="module")
def encrypted_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An encrypted store made by msl itself, once; each test gets a copy of the file."""
    folder = tmp_path_factory.mktemp("template")
    db = folder / "ana.db"
    # Made before the per-test isolation applies: give msl a home of its own here too.
    home = {"MSL_DATA_DIR": str(folder / "data"), "MSL_SETTINGS": str(folder / "settings.toml")}
    said = ok("--db", db, "init", "--name", "Ana", "--encrypt", **PASS, **home)
    assert said.endswith(", encrypted\n")
    (folder / "kols.csv").write_text(f"name,city\n{NAME},York\n", encoding="utf-8")
    ok("--db", db, "import-roster", folder / "kols.csv", **PASS, **home)
    return db


@pytest.fixture
def encrypted(encrypted_template: Path, tmp_path: Path) -> Path:
    db = tmp_path / "ana.db"
    shutil.copyfile(encrypted_template, db)
    db.chmod(encrypted_template.stat().st_mode)
    return db


def test_an_encrypted_store_holds_no_readable_byte(encrypted: Path) -> None:
    raw = encrypted.read_bytes()
    assert not raw.startswith(b"SQLite format 3")
    assert b"Quillfeather" not in raw and b"quillfeather" not in raw
    assert oct(encrypted.stat().st_mode & 0o777) == "0o600"
    # Every command works with the passphrase: readers, writers, sync.
    assert NAME in ok("--db", encrypted, "brief", "quillfeather", **PASS)
    ok("--db", encrypted, "export", "--out", encrypted.parent / "b.mslsync", **PASS)
    ok("--db", encrypted, "report", "--out", encrypted.parent / "r", **PASS)
    ok("--db", encrypted, "keys", **PASS)


def test_it_is_a_standard_sqlcipher_file(encrypted: Path) -> None:
    from sqlcipher3 import dbapi2

    conn = dbapi2.connect(str(encrypted))
    conn.execute("PRAGMA key = 'correct horse battery'")
    assert conn.execute("select name from kols").fetchall() == [(NAME,)]
    conn.close()


@pytest.mark.parametrize(
    "command",
    [["keys"], ["report", "--out", "r"], ["kol", "erase", "quill", "--reason", "request", "--yes"]],
)
def test_a_wrong_passphrase_is_one_line_and_nothing_changes(
    encrypted: Path, command: list[str]
) -> None:
    before = digest(encrypted)
    result = msl("--db", encrypted, *command, **{cipher.PASSPHRASE_ENV: "wrong"})
    one_line_error(result, f"wrong passphrase for {encrypted}")
    assert digest(encrypted) == before
    assert not Path(f"{encrypted}-wal").exists()


def test_no_passphrase_at_all_says_where_one_comes_from(encrypted: Path) -> None:
    before = digest(encrypted)
    result = msl("--db", encrypted, "keys")
    one_line_error(result, "is encrypted: give its passphrase (MSL_PASSPHRASE")
    assert digest(encrypted) == before


def test_a_missing_keyring_refuses_remember_before_anything_changes(tmp_path: Path) -> None:
    db = tmp_path / "plain.db"
    ok("--db", db, "init", "--name", "Ana")
    before = digest(db)
    one_line_error(
        msl("--db", db, "encrypt", "--remember", **PASS), "no OS keyring is available here"
    )
    assert digest(db) == before
    fresh = tmp_path / "new.db"
    one_line_error(
        msl("--db", fresh, "init", "--name", "Ana", "--encrypt", "--remember", **PASS),
        "no OS keyring is available here",
    )
    assert not fresh.exists()


def test_a_remembered_passphrase_comes_from_the_keyring(tmp_path: Path) -> None:
    ring = {
        "PYTHON_KEYRING_BACKEND": "fake_keyring.FileKeyring",
        "PYTHONPATH": str(HERE),
        "MSL_TEST_KEYRING": str(tmp_path / "ring.json"),
    }
    db = tmp_path / "ana.db"
    ok("--db", db, "init", "--name", "Ana", "--encrypt", "--remember", **ring, **PASS)
    assert "correct horse battery" in (tmp_path / "ring.json").read_text()
    assert ok("--db", db, "keys", **ring).startswith("this store (ana)")  # no passphrase given
    ok("--db", db, "decrypt", **ring)
    assert "correct horse battery" not in (tmp_path / "ring.json").read_text()
    assert db.read_bytes().startswith(b"SQLite format 3\x00")
    assert ok("--db", db, "keys").startswith("this store (ana)")  # plain: nothing asked


def test_encrypt_then_decrypt_keeps_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "demo.db"
    ok("--db", db, "seed-demo", "--kols", "40", "--years", "1")

    def rows() -> dict[str, int]:
        store = Store.open(db, create=False, read_only=True)
        counts = {
            t: store.db.execute(f"select count(*) from {t}").fetchone()[0]
            for t in ("kols", "plans", "interactions", "followups", "changes", "meta")
        }
        counts["fts"] = store.db.execute(
            "select count(*) from interactions_fts where interactions_fts match 'data'"
        ).fetchone()[0]
        store.close()
        return counts

    before = rows()
    # A second name for the plain file: its bytes must be overwritten, not just unlinked.
    witness = tmp_path / "witness"
    os.link(db, witness)
    ok("--db", db, "encrypt", **PASS)
    assert witness.read_bytes().strip(b"\0") == b""
    monkeypatch.setenv(cipher.PASSPHRASE_ENV, PASS[cipher.PASSPHRASE_ENV])
    assert rows() == before
    ok("--db", db, "decrypt", **PASS)
    monkeypatch.delenv(cipher.PASSPHRASE_ENV)
    assert rows() == before


def test_a_store_in_use_is_not_converted(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    ok("--db", db, "init", "--name", "Ana")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        before = digest(db)
        result = msl("--db", db, "encrypt", **PASS)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert "nothing was changed" in line or "busy" in line, line
    assert digest(db) == before
    assert db.read_bytes().startswith(b"SQLite format 3\x00")
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


def test_init_encrypt_refuses_an_existing_store(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    ok("--db", db, "init", "--name", "Ana")
    before = digest(db)
    one_line_error(
        msl("--db", db, "init", "--name", "Ana", "--encrypt", **PASS), "`msl encrypt` encrypts"
    )
    assert digest(db) == before
    one_line_error(msl("--db", db, "decrypt", **PASS), "is not encrypted")


@pytest.mark.e2e
def test_the_app_asks_the_passphrase_on_its_first_screen(encrypted: Path) -> None:
    from tests.terminal import Terminal

    ring = {
        "PYTHON_KEYRING_BACKEND": "fake_keyring.FileKeyring",
        "PYTHONPATH": str(HERE),
        "MSL_TEST_KEYRING": str(encrypted.parent / "ring.json"),
    }
    before = digest(encrypted)
    terminal = Terminal([MSL, "--db", str(encrypted)], env=ring)
    try:
        terminal.wait_for("This store is encrypted: type its passphrase to open it.")
        terminal.type("not it")
        terminal.keys("Enter")
        terminal.wait_for("That passphrase does not open this store.")
        assert digest(encrypted) == before
        terminal.type(PASS[cipher.PASSPHRASE_ENV])
        terminal.keys("Tab", "Space", "BTab", "Enter")  # remember it, then open
        terminal.wait_for(NAME)
        terminal.keys("q")
    finally:
        terminal.close()
    assert "correct horse battery" in (encrypted.parent / "ring.json").read_text()
    again = Terminal([MSL, "--db", str(encrypted)], env=ring)
    try:
        assert "passphrase" not in again.wait_for(NAME)  # the keyring answered
        again.keys("q")
    finally:
        again.close()


def test_a_key_derived_ahead_opens_the_store_as_the_direct_one(
    encrypted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's start derives the key on a thread while Textual loads: the store then
    opens with that key, and a wrong passphrase still opens nothing."""
    monkeypatch.setenv(cipher.PASSPHRASE_ENV, PASS[cipher.PASSPHRASE_ENV])
    cipher._forget_key(encrypted)
    cipher.prefetch_key(encrypted)
    store = Store.open(encrypted)
    assert [k.name for k in store.list_kols()] == [NAME]
    store.close()
    cipher._forget_key(encrypted)
    monkeypatch.setenv(cipher.PASSPHRASE_ENV, "not the passphrase")
    cipher.prefetch_key(encrypted)
    with pytest.raises(StoreError):
        Store.open(encrypted)
    cipher._forget_key(encrypted)


# -- one passphrase however the keyboard composes it; keyrings that keep nothing ----------

COMPOSED = "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e"
DECOMPOSED = "cafe\u0301 cre\u0300me bru\u0302le\u0301e"  # the same words, e + accent


def test_a_passphrase_is_the_same_however_its_accents_were_typed(tmp_path: Path) -> None:
    db = tmp_path / "ana.db"
    ok("--db", db, "init", "--name", "Ana", "--encrypt", MSL_PASSPHRASE=DECOMPOSED)
    assert ok("--db", db, "keys", MSL_PASSPHRASE=COMPOSED).startswith("this store (ana)")
    assert ok("--db", db, "keys", MSL_PASSPHRASE=DECOMPOSED).startswith("this store (ana)")
    one_line_error(msl("--db", db, "keys", MSL_PASSPHRASE="cafe creme brulee"), "wrong passphrase")


def test_a_store_encrypted_before_normalising_still_opens_with_its_passphrase(
    tmp_path: Path,
) -> None:
    """SQLCipher itself keyed with the passphrase's bytes as typed (as msl-tui did before)."""
    plain = tmp_path / "plain.db"
    ok("--db", plain, "init", "--name", "Ana")
    old = tmp_path / "old.db"
    driver = cipher._driver()
    conn = driver.connect(str(plain))
    conn.execute("ATTACH DATABASE ? AS converted KEY ?", [str(old), DECOMPOSED])
    conn.execute("SELECT sqlcipher_export('converted')")
    conn.execute("DETACH DATABASE converted")
    conn.close()
    assert ok("--db", old, "keys", MSL_PASSPHRASE=DECOMPOSED).startswith("this store (ana)")
    ok("--db", old, "decrypt", MSL_PASSPHRASE=DECOMPOSED)  # and converts back
    assert old.read_bytes().startswith(b"SQLite format 3\x00")


def test_a_keyring_that_keeps_nothing_is_not_reported_as_remembering(tmp_path: Path) -> None:
    null = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    db = tmp_path / "plain.db"
    ok("--db", db, "init", "--name", "Ana")
    before = digest(db)
    one_line_error(
        msl("--db", db, "encrypt", "--remember", **null, **PASS), "no OS keyring is available"
    )
    assert digest(db) == before
