"""A store file's first 16 bytes (SQLite's magic, or SQLCipher's salt), read without
cancelling this process's SQLite locks on the file.

POSIX record locks belong to a process and a file: closing *any* descriptor of the file
drops every lock the process holds on it, SQLite's included, and SQLite, which counts its
locks per file within the process, goes on believing it holds them. The header used to be
read with open() and close() at every opening: at a plain launch that was while the first
page's connection was open. Another process closing its last connection (a CLI command,
a second app) then found no lock but its own, checkpointed, and deleted the write-ahead
log this process was still writing into: saves that reported success never reached the
file (an unsent note lost on a kill; the e2e draft test under load).

So a file's head is read once per file (device, inode) and remembered: every connection
is opened after its file's head was read (``database._connect``), so no later read
opens the file while one of ours is open. The head of a file does not change while it
lives: SQLite's magic is fixed and SQLCipher's salt is set once; converting a store
writes a new file (a new inode)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

HEAD_BYTES = 16

_known: dict[tuple[int, int], bytes] = {}


def read_head(path: Path) -> bytes:
    """The file's first 16 bytes (fewer if it is shorter). OSError as ``open`` raises it."""
    status = os.stat(path)
    if not stat.S_ISREG(status.st_mode):  # a named pipe would wait for ever for a writer
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    key = (status.st_dev, status.st_ino)
    head = _known.get(key)
    if head is not None:
        return head
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if len(head) == HEAD_BYTES:  # a shorter (empty) file may yet become a store
        _known[key] = head
    return head


def remember(path: Path, head: bytes) -> None:
    """``path`` holds ``head`` now (a store just made): later reads need not open it."""
    try:
        status = os.stat(path)
    except OSError:
        return
    _known[(status.st_dev, status.st_ino)] = head
