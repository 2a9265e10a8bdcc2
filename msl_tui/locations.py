"""Every filesystem location msl-tui uses, decided here and nowhere else.

Defaults follow the platform's conventions (platformdirs); each can be overridden by an
environment variable, and the database also by ``--db``.

| what            | default                              | override        |
|-----------------|--------------------------------------|-----------------|
| data folder     | user data dir / msl-tui              | MSL_DATA_DIR    |
| the MSL's store | <data folder>/msl.db                 | --db, MSL_DB    |
| the demo store  | <data folder>/demo.db                | MSL_DEMO_DB     |
| settings file   | user config dir / msl-tui/settings.toml | MSL_SETTINGS |
| exports         | <data folder>/exports                | --out           |

Files that hold personal data (stores, bundles, reports, their temporary files) are made
here too: private to their owner whatever the umask, and never over an existing file unless
the caller says so.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import platformdirs

APP_NAME = "msl-tui"


def data_dir() -> Path:
    override = os.environ.get("MSL_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))


def default_db_path() -> Path:
    override = os.environ.get("MSL_DB")
    return Path(override) if override else data_dir() / "msl.db"


def demo_db_path() -> Path:
    override = os.environ.get("MSL_DEMO_DB")
    return Path(override) if override else data_dir() / "demo.db"


def settings_path() -> Path:
    override = os.environ.get("MSL_SETTINGS")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_NAME)) / "settings.toml"


def exports_dir() -> Path:
    return data_dir() / "exports"


def ensure_private_dir(path: Path) -> None:
    """Create a folder, and any missing parents, only its owner can open: KOL notes are
    personal data. A folder that exists already is left as it is (it may be the user's own
    Desktop or USB stick)."""
    missing: list[Path] = []
    folder = path
    while not folder.exists() and not folder.is_symlink():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made meanwhile by someone else: theirs, not ours to change
        # The umask can take bits away from mkdir's mode; say exactly what we mean.
        os.chmod(folder, 0o700)
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(path))


def create_private_file(path: Path) -> BinaryIO:
    """A new file open for writing, readable by its owner only; never an existing one
    (FileExistsError), never through a symbolic link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask may have removed the owner's own bits
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def private_temp_path(final: Path) -> Path:
    """Where a file is written before it appears as ``final``: hidden, beside it (so the
    rename stays on one file system), and not ending like a bundle or a report, so a killed
    write leaves nothing that an import or a spreadsheet would pick up."""
    stem = final.name.split(".", 1)[0] or "msl"
    import secrets  # here, not at launch (it loads OpenSSL's hashes)

    return final.with_name(f".{stem}.tmp-{secrets.token_hex(6)}")


# Our temporary files (and SQLite's companions of a temporary store: -journal, -wal, -shm)
# and the scratch folders that hold a bundle's plaintext for a moment.
_TEMP_NAME = re.compile(r"^\..+\.tmp-[0-9a-f]{12}(-journal|-wal|-shm)?\Z")
_SCRATCH_NAME = re.compile(r"^\.msl-scratch-")
STALE_TEMP_S = 3600


def sweep_stale_temps(folder: Path, *, older_than_s: float = STALE_TEMP_S) -> int:
    """Remove what a killed write of ours left in ``folder``: temporary files (a bundle, a
    report, a converted store) and plaintext scratch folders. They may hold personal data.
    Only our own name patterns, and only old enough that no running write still owns them;
    files are overwritten before they go. Returns how many were removed."""
    removed = 0
    try:
        entries = list(folder.iterdir())
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        try:
            info = entry.lstat()
            if now - info.st_mtime <= older_than_s:
                continue
            if stat.S_ISREG(info.st_mode) and _TEMP_NAME.match(entry.name):
                _shred(entry)
                removed += 1
            elif stat.S_ISDIR(info.st_mode) and _SCRATCH_NAME.match(entry.name):
                for inner in entry.iterdir():
                    if inner.is_file() and not inner.is_symlink():
                        _shred(inner)
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


def _shred(path: Path) -> None:
    """Overwrite a file's bytes, then remove it (best effort on SSDs and copy-on-write file
    systems; full-disk encryption remains the real protection)."""
    try:
        size = path.stat().st_size
        with path.open("r+b") as handle:
            block = b"\0" * min(size, 1 << 20)
            written = 0
            while written < size:
                chunk = block[: min(len(block), size - written)]
                handle.write(chunk)
                written += len(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        pass
    path.unlink(missing_ok=True)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable; some file systems cannot, which is not an error."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# Errors from link() on file systems without hard links (FAT on a USB stick, some shares).
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


def publish(tmp: Path, final: Path, *, replace: bool = False) -> None:
    """Move a finished (fsynced) ``tmp`` to ``final`` in one step. Without ``replace`` an
    existing ``final`` is never overwritten: FileExistsError, and ``tmp`` stays for the
    caller to remove."""
    if replace:
        os.replace(tmp, final)
    else:
        try:
            os.link(tmp, final)  # fails, atomically, if final exists
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in _NO_LINKS:
                raise
            # No hard links here: check, then rename (a window only another writer could use).
            if final.exists() or final.is_symlink():
                raise FileExistsError(errno.EEXIST, "file exists", str(final)) from None
            os.rename(tmp, final)
        else:
            os.unlink(tmp)
    fsync_dir(final.parent)


@contextmanager
def private_scratch(near: Path | None) -> Iterator[Path]:
    """A private folder (0700) for plaintext that must exist for a moment (a bundle before it
    is encrypted, or after it is decrypted), removed with its files afterwards.

    It is made beside ``near`` (the store): the plaintext then sits only where the store
    already keeps the same data, never on the USB stick a bundle is going to. Where that
    folder cannot be written (a read-only store on a CD), the system's temporary folder.
    """
    folder: Path | None = None
    if near is not None:
        try:
            folder = Path(tempfile.mkdtemp(prefix=".msl-scratch-", dir=near.absolute().parent))
        except OSError:
            folder = None
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="msl-scratch-"))
    try:
        os.chmod(folder, 0o700)  # mkdtemp asks for 0700, but a umask may take the owner's bits
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
