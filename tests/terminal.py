"""Drive the installed `msl` in a real terminal (tmux): type keys, read the screen."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

MSL = shutil.which("msl", path=str(Path(sys.executable).parent)) or "msl"
TMUX = shutil.which("tmux")


def require_tmux() -> str:
    if TMUX is None:
        pytest.skip("tmux is not installed: real-terminal tests need it (.ci/run installs it)")
    probe = subprocess.run([TMUX, "-V"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"tmux cannot run here: {probe.stderr.strip()}")
    return TMUX


class Terminal:
    """One tmux server of its own, one window running a command, 100x32 by default."""

    def __init__(
        self,
        command: list[str],
        *,
        width: int = 140,
        height: int = 32,
        env: dict[str, str] | None = None,
    ) -> None:
        self.tmux = require_tmux()
        # One tmux server per terminal, named per xdist worker too: parallel tests never meet.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.socket = f"msl-test-{worker}-{uuid.uuid4().hex[:8]}"
        environment = " ".join(f"{k}={v}" for k, v in (env or {}).items())
        shell_command = " ".join(f"'{part}'" for part in command)
        # COLUMNS/LINES from the test run would override the real terminal size.
        self._run(
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            str(width),
            "-y",
            str(height),
            f"env -u COLUMNS -u LINES TERM=xterm-256color {environment} {shell_command}",
        )

    def _run(self, *args: str) -> str:
        result = subprocess.run(
            [self.tmux, "-L", self.socket, *args], capture_output=True, text=True, timeout=30
        )
        return result.stdout

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-t", "main")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self._run("send-keys", "-t", "main", key)
            time.sleep(0.05)

    def type(self, text: str) -> None:
        # "--": text that starts with "-" is text, not a tmux option.
        self._run("send-keys", "-t", "main", "-l", "--", text)

    def wait_for(self, text: str, timeout: float = 20) -> str:
        """Wait until ``text`` shows (line wraps ignored); returns the flattened screen."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = flat(self.screen())
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")

    def running(self) -> bool:
        result = subprocess.run(
            [self.tmux, "-L", self.socket, "has-session", "-t", "main"],
            capture_output=True,
            timeout=30,
        )
        return result.returncode == 0

    def wait_closed(self, timeout: float = 20) -> None:
        """Wait until the app has exited (its tmux session ends with it)."""
        eventually(lambda: not self.running(), timeout, "the app never exited")

    def pid(self) -> int:
        return int(self._run("list-panes", "-t", "main", "-F", "#{pane_pid}").strip())

    def kill_app(self) -> None:
        """SIGKILL the app: no handler runs, as when a laptop dies."""
        pane = self.pid()
        children = subprocess.run(["pgrep", "-P", str(pane)], capture_output=True, text=True)
        for pid in [pane, *map(int, children.stdout.split())]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        subprocess.run(
            [self.tmux, "-L", self.socket, "kill-server"], capture_output=True, timeout=30
        )


def eventually(check: Callable[[], object], timeout: float = 20, what: str = "") -> None:
    """Poll ``check`` until it is true: a condition waited for, never a fixed pause."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(what or "condition never held")
        time.sleep(0.05)


def draft_notes(db: Path) -> list[str]:
    """The unsent notes the store holds now (read through a connection of its own)."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("select payload from drafts").fetchall()
    except sqlite3.OperationalError:
        return []  # the app holds the write lock mid-save: ask again
    finally:
        conn.close()
    return [json.loads(payload).get("notes", "") for (payload,) in rows]


def flat(screen: str) -> str:
    """The screen as one line of words, so wrapped text still matches."""
    return " ".join(screen.split())


def run_msl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MSL, *args], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
    )
