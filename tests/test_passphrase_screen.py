"""The app on an encrypted store nobody has given the passphrase of: it starts on the
passphrase screen. A wrong passphrase is one line under the field with the file untouched;
the right one opens the KOL list; "remember" keeps it in the OS keyring (a fake one here)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from textual.widgets._header import HeaderTitle

from msl_tui.app import MslApp
from msl_tui.demo import seed_demo
from msl_tui.screens.kol_list import KolListScreen
from msl_tui.screens.passphrase import EMPTY, WRONG, PassphraseScreen
from msl_tui.services.unlock import LockedStore, needs_passphrase, open_encrypted
from msl_tui.settings import Settings
from msl_tui.store import Store, cipher
from tests.app_helpers import FIXED_NOW, wait_for
from tests.fake_keyring import FileKeyring

pytest.importorskip("sqlcipher3", reason="the encrypted-store extra (SQLCipher) is not installed")

PASS = "correct horse battery"


@pytest.fixture
def encrypted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(cipher.PASSPHRASE_ENV, raising=False)
    db = tmp_path / "ana.db"
    store = Store.open(db)
    seed_demo(store, kols=12, years=0.5, seed=7, now=FIXED_NOW)
    store.close()
    cipher.convert(db, passphrase=PASS)
    return db


@pytest.fixture
def ring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A keyring that keeps passwords in a JSON file, for this test only."""
    file = tmp_path / "ring.json"
    monkeypatch.setenv("MSL_TEST_KEYRING", str(file))
    before = keyring.get_keyring()
    keyring.set_keyring(FileKeyring())
    yield file
    keyring.set_keyring(before)


@pytest.fixture
def no_ring() -> Iterator[None]:
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def locked_app(db: Path) -> MslApp:
    locked = LockedStore(
        db, cipher.keyring_usable(), lambda typed, keep: open_encrypted(db, typed, remember=keep)
    )
    return MslApp(None, locked=locked, now=lambda: FIXED_NOW, settings=Settings())


def on_passphrase(app: MslApp) -> PassphraseScreen:
    assert isinstance(app.screen, PassphraseScreen)
    return app.screen


async def test_a_wrong_passphrase_is_one_line_and_the_file_is_untouched(
    encrypted: Path, no_ring: None
) -> None:
    before = digest(encrypted)
    app = locked_app(encrypted)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = on_passphrase(app)
        assert not screen.query("#remember")  # no keyring here: nothing to offer
        await pilot.press("enter")
        assert screen.problem == EMPTY
        await pilot.press(*"wrong horse", "enter")
        await wait_for(pilot, lambda: screen.problem == WRONG)
        assert app.screen is screen
        assert screen.query_one("#passphrase").value == ""  # type: ignore[attr-defined]
        assert screen.query_one("#passphrase").has_focus  # ready for another try
    assert digest(encrypted) == before
    assert not Path(f"{encrypted}-wal").exists()


async def test_the_right_passphrase_opens_the_kol_list(encrypted: Path, no_ring: None) -> None:
    app = locked_app(encrypted)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"nope", "enter")
        await wait_for(pilot, lambda: on_passphrase(app).problem == WRONG)
        await pilot.press(*PASS, "enter")
        await wait_for(pilot, lambda: bool(getattr(app.screen, "rows", None)))
        assert isinstance(app.screen, KolListScreen)
        assert len(app.screen.rows) == 12
        assert app.sub_title == app.store.get_profile().name  # type: ignore[union-attr]


async def test_remember_keeps_the_passphrase_in_the_keyring(encrypted: Path, ring: Path) -> None:
    assert needs_passphrase(encrypted)
    app = locked_app(encrypted)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*PASS, "tab", "space", "shift+tab", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KolListScreen))
        # The list's header names the MSL (set quietly as the passphrase screen leaves).
        profile = app.store.get_profile()
        assert profile is not None and profile.name
        name = profile.name
        await wait_for(pilot, lambda: name in str(app.screen.query_one(HeaderTitle).render()))
    assert PASS in ring.read_text()
    assert not needs_passphrase(encrypted)  # next time the keyring answers


async def test_a_wrong_passphrase_is_not_remembered(encrypted: Path, ring: Path) -> None:
    app = locked_app(encrypted)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"wrong", "tab", "space", "shift+tab", "enter")
        await wait_for(pilot, lambda: on_passphrase(app).problem == WRONG)
    assert not ring.exists()


async def test_escape_quits_without_opening(encrypted: Path, no_ring: None) -> None:
    app = locked_app(encrypted)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.is_running)
    assert app._store is None


async def test_no_palette_help_or_brief_before_the_store_opens(
    encrypted: Path, no_ring: None
) -> None:
    app = locked_app(encrypted)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1", "ctrl+p", "ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, PassphraseScreen)


def test_no_screen_when_the_passphrase_is_known(
    encrypted: Path, ring: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert needs_passphrase(encrypted)
    monkeypatch.setenv(cipher.PASSPHRASE_ENV, PASS)
    assert not needs_passphrase(encrypted)
    monkeypatch.delenv(cipher.PASSPHRASE_ENV)
    cipher.remember(encrypted, PASS)
    assert not needs_passphrase(encrypted)
    plain = tmp_path / "plain.db"
    Store.open(plain).close()
    assert not needs_passphrase(plain)
    assert not needs_passphrase(tmp_path / "none-yet.db")
