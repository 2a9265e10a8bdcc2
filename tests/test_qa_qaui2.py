"""QA (qaui2): the KOL list and visit capture as a fast typist meets them."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events

from msl_tui.app import MslApp
from msl_tui.demo import seed_demo
from msl_tui.settings import Settings
from msl_tui.store.store import Store


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MSL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MSL_SETTINGS", str(tmp_path / "settings.toml"))
    path = tmp_path / "msl.db"
    store = Store.open(path)
    seed_demo(store, kols=300, years=0.5)
    store.close()
    return path


class EarlyKeys(MslApp):
    """Keys a fast typist sent with the launch: in the queue before the list is up."""

    def __init__(self, store: Store, keys: list[tuple[str, str]]) -> None:
        super().__init__(store, settings=Settings())
        self._early = keys

    def on_mount(self) -> None:
        for key, character in self._early:
            self.post_message(events.Key(key, character))
        super().on_mount()


async def _settle(pilot, app: MslApp) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        await pilot.pause()
        screen = app.screen
        if getattr(screen, "loaded", False) and not screen._waiting():  # type: ignore[attr-defined]
            return
        await pilot.pause(0.02)


async def test_slash_and_words_typed_at_launch_filter_the_list(store_path: Path) -> None:
    # Was: the screen's auto-focus gave the filter the cursor before the table's deferred
    # focus(): "/zof" went into the filter, `/` included, then the table took the cursor.
    keys = [("slash", "/"), ("z", "z"), ("o", "o"), ("f", "f")]
    app = EarlyKeys(Store.open(store_path), keys)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot, app)
        screen = app.screen
        assert screen.query_one("#filter").value == "zof"  # type: ignore[attr-defined]
        assert app.focused is screen.query_one("#filter")
        await pilot.press("i")  # the next key still goes into the filter
        assert screen.query_one("#filter").value == "zofi"  # type: ignore[attr-defined]


ODD_NAMES = [
    ("Dr 王小明 李", "北京协和医院 Peking Union Medical College"),
    ("Dr Émile Zoë Çelik", "Hôpital Saint-Louis"),
    ("Dr Combining Ame\u0301lie No\u0308el", "Institut"),
    ("Dr Emoji 🚀 Rocket 🧪", "Space"),
    ("Dr " + "Verylongname" * 8, "Long " * 10),
    ("Dr Hangul 한국어이름", "Seoul"),
    ("Dr [bold]Markup[/bold]", "Z"),
    ("Dr Arabic محمد", "Cairo"),
    (
        "Dr 王小明李大伟张伟刘洋陈静杨帆赵磊黄敏周杰",
        "北京协和医院心血管病研究所国家心血管病中心阜外医院",
    ),
]


@pytest.fixture
def odd_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import csv
    import subprocess
    import sys

    monkeypatch.setenv("MSL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MSL_SETTINGS", str(tmp_path / "settings.toml"))
    path = tmp_path / "odd.db"
    roster = tmp_path / "odd.csv"
    with roster.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "institution"])
        writer.writerows(ODD_NAMES)
    msl = [str(Path(sys.executable).parent / "msl")]
    subprocess.run([*msl, "--db", str(path), "init", "--name", "QA"], check=True)
    subprocess.run([*msl, "import-roster", "--db", str(path), str(roster)], check=True)
    return path


@pytest.mark.parametrize("width", [130, 100, 60, 40])
async def test_odd_names_show_whole_in_their_column(odd_store: Path, width: int) -> None:
    # Was: a small store's list drew once right after its load, before the table measured
    # the new rows, and those lines (cut to the headers' widths: "Dr A", "unknow", "neve")
    # stayed cached under the same count for good.
    app = MslApp(Store.open(odd_store), settings=Settings())
    async with app.run_test(size=(width, 30)) as pilot:
        await _settle(pilot, app)
        await pilot.pause()
        table = app.screen.query_one("#kols")
        lines = [table.render_line(y).text for y in range(1, 1 + len(ODD_NAMES))]  # type: ignore[attr-defined]
        shown = "\n".join(lines)
        for name in (
            "Dr Arabic محمد",
            "Dr Hangul 한국어이름",
            "Dr Emoji 🚀 Rocket 🧪",
            "Dr 王小明 李",
        ):
            assert name in shown, shown
        assert "Dr Verylongname" in shown and "…" in shown  # cut, with a mark
        assert "monitor" in shown and "never" in shown if width >= 60 else True


PASSPHRASE = "sekrit-pass-123"


@pytest.fixture
def encrypted_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import subprocess
    import sys

    from msl_tui.store import cipher

    if not cipher.available():
        pytest.skip("SQLCipher is not installed")
    monkeypatch.setenv("MSL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MSL_SETTINGS", str(tmp_path / "settings.toml"))
    path = tmp_path / "enc.db"
    msl = str(Path(sys.executable).parent / "msl")
    env = {**__import__("os").environ, "MSL_PASSPHRASE": PASSPHRASE}
    subprocess.run(
        [msl, "--db", str(path), "init", "--name", "QA", "--encrypt"], check=True, env=env
    )
    return path


def _locked_app(path: Path, tried: list[str]) -> MslApp:
    from msl_tui.services.unlock import LockedStore, open_encrypted

    def opener(passphrase: str, remember: bool) -> Store:
        tried.append(passphrase)
        return open_encrypted(path, passphrase, remember=remember)

    return MslApp(None, locked=LockedStore(path, False, opener), settings=Settings())


def _burst(app: MslApp, text: str, *keys: tuple[str, str]) -> None:
    """Keys as a terminal delivers a fast typist's burst: all queued at once."""
    names = {"-": "minus"}
    for character in text:
        app.post_message(events.Key(names.get(character, character), character))
    for key, character in keys:
        app.post_message(events.Key(key, character))


@pytest.mark.parametrize("enter", [("enter", "\r"), ("ctrl+j", "\n")])
async def test_passphrase_then_enter_then_q_in_one_burst(
    encrypted_store: Path, enter: tuple[str, str]
) -> None:
    # Was: enter is a binding looked up once the key has bubbled to the app, so the `q`
    # typed right after reached the field first and "sekrit-pass-123q" was tried (wrong
    # passphrase). And typed before the app has the terminal, enter comes as a newline
    # (ctrl+j), which the field ignored: the passphrase sat there unsent.
    tried: list[str] = []
    app = _locked_app(encrypted_store, tried)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        _burst(app, PASSPHRASE, enter, ("q", "q"))
        for _ in range(100):
            await pilot.pause(0.02)
            if app.return_code is not None:
                break
        assert PASSPHRASE + "q" not in tried
        assert app.return_code == 0  # q quit, no error


@pytest.mark.parametrize("enter", [("enter", "\r"), ("ctrl+j", "\n")])
async def test_passphrase_and_enter_in_one_burst_open_the_list(
    encrypted_store: Path, enter: tuple[str, str]
) -> None:
    from msl_tui.screens.kol_list import KolListScreen

    tried: list[str] = []
    app = _locked_app(encrypted_store, tried)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        _burst(app, PASSPHRASE, enter)
        for _ in range(200):
            await pilot.pause(0.02)
            if isinstance(app.screen, KolListScreen):
                break
        assert tried == [PASSPHRASE]
        assert isinstance(app.screen, KolListScreen)
        await _settle(pilot, app)  # leaving while its header mounts trips Textual (see report)


async def test_wrong_passphrase_then_the_right_one(encrypted_store: Path) -> None:
    tried: list[str] = []
    app = _locked_app(encrypted_store, tried)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        _burst(app, "nope", ("enter", "\r"))
        for _ in range(200):
            await pilot.pause(0.02)
            if "does not open" in app.screen.problem:  # type: ignore[attr-defined]
                break
        assert app.screen.query_one("#passphrase").value == ""  # type: ignore[attr-defined]
        await pilot.press(*"sekrit", "minus", *"pass", "minus", *"123", "enter")
        for _ in range(200):
            await pilot.pause(0.02)
            if (
                len(tried) == 2
                and app.screen.id != "_default"
                and not hasattr(app.screen, "locked")
            ):
                break
        assert tried == ["nope", PASSPHRASE]


async def test_filter_enter_then_n_in_one_burst(store_path: Path) -> None:
    app = MslApp(Store.open(store_path), settings=Settings())
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot, app)
        list_screen = app.screen
        _burst(app, "", ("slash", "/"), ("z", "z"), ("o", "o"), ("f", "f"), ("enter", "\r"))
        _burst(app, "nhi")
        for _ in range(100):
            await pilot.pause(0.02)
        assert list_screen.query_one("#filter").value == "zof"  # type: ignore[attr-defined]
        assert app.screen.query_one("#notes").text == "hi"  # type: ignore[attr-defined]


@pytest.mark.xfail(
    strict=True,
    reason="typed before the app has the terminal (its first ~0.3 s: Python, click, "
    "Textual loading), the passphrase is echoed by the terminal in clear and stays on "
    "screen after exit; turning echo off at the CLI's start only narrows the window",
)
def test_passphrase_typed_at_launch_is_not_echoed(encrypted_store: Path, tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.skip("tmux is not installed")
    socket = str(tmp_path / "tmux.sock")
    msl = str(Path(sys.executable).parent / "msl")
    env_cmd = (
        f"env MSL_DATA_DIR={tmp_path / 'data'} MSL_SETTINGS={tmp_path / 'settings.toml'} "
        f"{msl} --db {encrypted_store}; echo DONE; sleep 30"
    )
    run = [tmux, "-S", socket]
    subprocess.run([*run, "new-session", "-d", "-x", "100", "-y", "30", env_cmd], check=True)
    try:
        subprocess.run([*run, "send-keys", "-l", PASSPHRASE], check=True)
        subprocess.run([*run, "send-keys", "Enter", "q"], check=True)
        for _ in range(300):
            screen = subprocess.run(
                [*run, "capture-pane", "-p"], capture_output=True, text=True, check=True
            ).stdout
            if "DONE" in screen:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        assert "DONE" in screen
        assert PASSPHRASE not in screen
    finally:
        subprocess.run([*run, "kill-server"], check=False)


@pytest.mark.parametrize("widths", [(100, 90), (100, 130), (130, 60), (60, 40, 120)])
async def test_resize_past_a_column_threshold_keeps_the_cursors_kol(
    store_path: Path, widths: tuple[int, ...]
) -> None:
    # Was: the columns were cleared and added again, which put the cursor back on the
    # first row: the MSL scrolled to KOL 41, resized the terminal, and was at the top.
    app = MslApp(Store.open(store_path), settings=Settings())
    async with app.run_test(size=(widths[0], 30)) as pilot:
        await _settle(pilot, app)
        screen = app.screen
        await pilot.press(*["down"] * 40)
        kol = screen.current_kol_id  # type: ignore[attr-defined]
        assert kol is not None
        for width in widths[1:]:
            await pilot.resize_terminal(width, 30)
            await pilot.pause()
            assert screen.current_kol_id == kol  # type: ignore[attr-defined]
        assert screen.query_one("#kols").cursor_row == 40  # type: ignore[attr-defined]


async def test_n_and_words_typed_at_launch_become_the_first_kols_note(store_path: Path) -> None:
    # Was: `n` before the first rows said "No KOLs yet" (on a store of 300), and the words
    # typed after it were list keys: "hello there" filtered on a territory, sorted by
    # family name and reversed the list.
    keys = [(c if c != " " else "space", c) for c in "nhello there"]
    app = EarlyKeys(Store.open(store_path), keys)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(200):
            await pilot.pause(0.02)
            screen = app.screen
            if screen.query("#notes") and screen.query_one("#notes").text == "hello there":  # type: ignore[attr-defined]
                break
        assert app.screen.query_one("#notes").text == "hello there"  # type: ignore[attr-defined]
        assert not any("No KOLs yet" in str(n.message) for n in app._notifications)


async def test_a_long_name_in_wide_letters_leaves_the_last_columns_on_screen(
    odd_store: Path,
) -> None:
    # Was: names and institutions were cut at 24 letters, not cells: a name in Chinese
    # letters took 48 cells and pushed Segment, Next due and F/U off a 120-column screen.
    app = MslApp(Store.open(odd_store), settings=Settings())
    async with app.run_test(size=(120, 30)) as pilot:
        await _settle(pilot, app)
        await pilot.pause()
        table = app.screen.query_one("#kols")
        header = table.render_line(0).text  # type: ignore[attr-defined]
        assert "F/U" in header, header
        wide = [
            table.render_line(y).text  # type: ignore[attr-defined]
            for y in range(1, 1 + len(ODD_NAMES))
            if "王小明李" in table.render_line(y).text  # type: ignore[attr-defined]
        ]
        assert len(wide) == 1
        assert "…" in wide[0] and "monitor" in wide[0] and "never" in wide[0], wide[0]
