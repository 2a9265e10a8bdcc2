"""The installed `msl` on a pseudo-terminal of its own, its output read back as raw bytes:
for tests that signal or kill it, or read what it wrote before tmux would show it."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

MSL = Path(sys.executable).with_name("msl")


class PtyTerminal:
    """``msl ARGS`` on a pty of ``columns`` x ``lines`` (Textual draws on stderr, so all
    three streams are the terminal), in a session of its own."""

    def __init__(
        self, args: list[str], env: dict[str, str], *, columns: int = 120, lines: int = 35
    ) -> None:
        self.master, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.proc = subprocess.Popen(
            [str(MSL), *args],
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(follower)  # only msl holds it: its exit ends the reads at once
        self.out = b""

    def read(self, seconds: float) -> None:
        """What msl writes within ``seconds`` (less if it closes the terminal)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if not select.select([self.master], [], [], left)[0]:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.out += chunk

    def wait_for(self, text: str, seconds: float = 60.0) -> None:
        """Until msl writes ``text`` (from now on; a little of what came before counts, in
        case the text was split across two reads)."""
        start = max(0, len(self.out) - 200)
        end = time.monotonic() + seconds
        while text.encode() not in self.out[start:]:
            assert time.monotonic() < end, f"{text!r} never shown"
            self.read(0.02)

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
