"""An encrypted store: the same SQLite file format, encrypted page by page by SQLCipher 4.

Plain stores never come here: ``database._connect`` sends a file here only when it is not a
plain SQLite file yet looks like an SQLCipher one (no SQLite header, a whole number of
pages). The connection is SQLCipher's, wrapped so that its errors are raised as the
standard library's ``sqlite3`` errors: every layer above keeps catching what it catches for
a plain store, and nothing else in the program needs to know which driver is underneath.

The passphrase comes, in this order, from ``MSL_PASSPHRASE`` (scripts), the OS keyring (when
the MSL chose to remember it), or a prompt the CLI registers (hidden, on a terminal); the
app's passphrase screen checks what the MSL types with ``unlock`` before opening. The
key is derived from it once per process, exactly as SQLCipher 4 does (PBKDF2-HMAC-SHA512,
256,000 rounds, the salt in the file's first 16 bytes), and given to SQLCipher as a raw key:
the file stays a standard SQLCipher file that ``PRAGMA key = 'passphrase'`` opens, and a
command that opens the store three times pays for the derivation once.

Converting (``convert``) writes a new file beside the old one, checks it (integrity, every
table's row count, the migrations), renames it into place, then overwrites the old file's
blocks through a handle still open on it before letting it go.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import stat
import threading
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from msl_tui.locations import create_private_file, fsync_dir, private_temp_path
from msl_tui.safe_text import printable
from msl_tui.store.errors import StoreError
from msl_tui.store.file_head import read_head

PASSPHRASE_ENV = "MSL_PASSPHRASE"
KEYRING_SERVICE = "msl-tui"
SQLITE_MAGIC = b"SQLite format 3\x00"
KDF_ITER = 256_000  # SQLCipher 4's default
PAGE = 512  # the smallest page size: an encrypted store is a whole number of them

Prompt = Callable[[Path], "str | None"]
_prompt: Prompt | None = None
_keys: dict[tuple[str, bytes], str] = {}  # (file, salt) -> raw key, hex
_pending: dict[str, threading.Thread] = {}  # file -> key derivation under way
# (file, salt) -> the key of the passphrase exactly as typed, when that differs from its
# normal form: a store encrypted before passphrases were normalised still opens.
_as_typed: dict[tuple[str, bytes], str] = {}


def _normal(passphrase: str) -> str:
    """The passphrase in one Unicode form (NFC): "é" typed as one character on one keyboard
    and as e + accent on another is the same passphrase."""
    return unicodedata.normalize("NFC", passphrase)


def _derive(secret: str, salt: bytes) -> str:
    return hashlib.pbkdf2_hmac("sha512", secret.encode("utf-8"), salt, KDF_ITER, 32).hex()


class PassphraseError(StoreError):
    """No passphrase, or a wrong one; nothing was changed."""


# -- recognising an encrypted store --------------------------------------------------------


def looks_encrypted(path: Path) -> bool:
    """A file with no SQLite header whose size is a whole number of pages: what SQLCipher
    writes. (Text files and other programs' files almost never are.) Only a regular file
    is opened: opening a named pipe waited for ever for a writer (``msl --db FIFO``, QA)."""
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            return False  # (a named pipe: opening it waited for ever for a writer)
        size = status.st_size
        head = read_head(path)  # (never open() and close(): see store/file_head.py)
    except OSError:
        return False
    return size >= PAGE and size % PAGE == 0 and head != SQLITE_MAGIC


def available() -> bool:
    try:
        import sqlcipher3  # noqa: F401
    except ImportError:
        return False
    return True


def _driver() -> Any:
    try:
        from sqlcipher3 import dbapi2
    except ImportError:
        raise StoreError(
            "encrypted stores need SQLCipher: pip install 'msl-tui[encrypted-store]'"
        ) from None
    return dbapi2


# -- the passphrase ---------------------------------------------------------------------------


def set_prompt(prompt: Prompt | None) -> None:
    """How to ask a person for a passphrase (the CLI's hidden prompt); None: never ask."""
    global _prompt
    _prompt = prompt


def _keyring_name(path: Path) -> str:
    return str(path.absolute())


def keyring_passphrase(path: Path) -> str | None:
    """The remembered passphrase, or None (none remembered, or no keyring on this machine)."""
    try:
        import keyring
        from keyring.errors import KeyringError

        return keyring.get_password(KEYRING_SERVICE, _keyring_name(path))
    except (ImportError, KeyringError, RuntimeError, OSError):
        return None


def keyring_usable() -> bool:
    """Whether this machine has an OS keyring msl-tui can keep a passphrase in. The "null"
    backend accepts a passphrase and keeps nothing, so it counts as none."""
    try:
        import keyring
        from keyring.backends import fail, null
        from keyring.backends.chainer import ChainerBackend

        ring = keyring.get_keyring()
        if isinstance(ring, ChainerBackend) and not ring.backends:
            return False
        return not isinstance(ring, (fail.Keyring, null.Keyring))
    except (ImportError, RuntimeError, OSError):
        return False


def remember(path: Path, passphrase: str) -> None:
    try:
        import keyring
        from keyring.errors import KeyringError

        if not keyring_usable():
            raise KeyringError
        keyring.set_password(KEYRING_SERVICE, _keyring_name(path), passphrase)
        # Read it back: a backend that silently keeps nothing must not be reported as
        # remembering (the person would be locked out at the next start).
        kept = keyring.get_password(KEYRING_SERVICE, _keyring_name(path)) == passphrase
    except ImportError:
        raise StoreError("remembering a passphrase needs the keyring package") from None
    except (KeyringError, RuntimeError, OSError):
        kept = False
    if not kept:
        raise StoreError(
            "no OS keyring is available here to remember the passphrase: "
            f"use {PASSPHRASE_ENV} or type it when asked"
        )


def forget(path: Path) -> None:
    try:
        import keyring
        from keyring.errors import KeyringError

        keyring.delete_password(KEYRING_SERVICE, _keyring_name(path))
    except (ImportError, KeyringError, RuntimeError, OSError):
        pass  # nothing remembered, or no keyring: nothing to forget


def known_passphrase(path: Path) -> str | None:
    """The passphrase found without asking anyone: MSL_PASSPHRASE, else the keyring."""
    return os.environ.get(PASSPHRASE_ENV) or keyring_passphrase(path) or None


def passphrase_for(path: Path) -> str:
    """The passphrase of the encrypted store at ``path``: MSL_PASSPHRASE, else the keyring,
    else the prompt; PassphraseError when there is none."""
    known = known_passphrase(path)
    if known:
        return known
    typed = _prompt(path) if _prompt is not None else None
    if typed:
        return typed
    raise PassphraseError(
        f"{printable(path, 160)} is encrypted: give its passphrase ({PASSPHRASE_ENV}, "
        "the OS keyring, or type it on a terminal), or it is not an msl-tui store"
    )


def _forget_key(path: Path) -> None:
    for cached in [k for k in (*_keys, *_as_typed) if k[0] == str(path.absolute())]:
        _keys.pop(cached, None)
        _as_typed.pop(cached, None)


def prefetch_key(path: Path) -> None:
    """Start deriving the key of an encrypted store whose passphrase is known without asking,
    on a thread: PBKDF2's 256,000 rounds (a tenth of a second or more) then overlap the
    app's own start instead of adding to it. OpenSSL releases the GIL while it works."""
    try:
        if not looks_encrypted(path):
            return
        known = known_passphrase(path)
    except OSError:
        return
    if not known:
        return
    worker = threading.Thread(target=_prefetch, args=(path, known), daemon=True)
    _pending[str(path.absolute())] = worker
    worker.start()


def _prefetch(path: Path, passphrase: str) -> None:
    with contextlib.suppress(OSError):  # the real open says what is wrong
        _raw_key(path, passphrase, wait=False)


def _raw_key(path: Path, passphrase: str | None = None, *, wait: bool = True) -> str:
    """The store's raw key: from this process's cache, else derived from ``passphrase`` (or,
    when None, the one ``passphrase_for`` finds: asked at most once per process)."""
    pending = _pending.pop(str(path.absolute()), None) if wait else None
    if pending is not None:
        pending.join()  # a prefetch started earlier: its key lands in the cache
    salt = read_head(path)
    cache = (str(path.absolute()), salt)
    if cache not in _keys:
        secret = passphrase if passphrase is not None else passphrase_for(path)
        _keys[cache] = _derive(_normal(secret), salt)
        if _normal(secret) != secret:
            _as_typed[cache] = _derive(secret, salt)
    return _keys[cache]


def unlock(path: Path, passphrase: str) -> None:
    """Check ``passphrase`` against the encrypted store at ``path`` (reading only) and keep
    its key for this process, so the store then opens without asking. PassphraseError, with
    nothing written and nothing kept, when it does not open the store."""
    _forget_key(path)  # a key kept earlier must not answer for this passphrase
    _raw_key(path, passphrase)
    connect(path, read_only=True, timeout_ms=5000).close()  # forgets the key when wrong


# -- connections that raise sqlite3's errors -----------------------------------------------


def _translate(exc: Exception) -> sqlite3.Error:
    kind = getattr(sqlite3, type(exc).__name__, sqlite3.Error)
    if not (isinstance(kind, type) and issubclass(kind, sqlite3.Error)):
        kind = sqlite3.Error
    return cast(sqlite3.Error, kind(*exc.args))


class _Cursor:
    def __init__(self, cursor: Any, errors: type[Exception]) -> None:
        self._cursor = cursor
        self._errors = errors

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def _call(self, name: str, *args: Any) -> Any:
        try:
            return getattr(self._cursor, name)(*args)
        except self._errors as exc:
            raise _translate(exc) from None

    def execute(self, *args: Any) -> _Cursor:
        self._call("execute", *args)
        return self

    def executemany(self, *args: Any) -> _Cursor:
        self._call("executemany", *args)
        return self

    def executescript(self, *args: Any) -> _Cursor:
        self._call("executescript", *args)
        return self

    def fetchone(self) -> Any:
        return self._call("fetchone")

    def fetchmany(self, *args: Any) -> Any:
        return self._call("fetchmany", *args)

    def fetchall(self) -> Any:
        return self._call("fetchall")

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            return next(self._cursor)
        except self._errors as exc:
            raise _translate(exc) from None


class _Connection:
    """An SQLCipher connection that looks and fails like an ``sqlite3.Connection``."""

    def __init__(self, conn: Any, errors: type[Exception]) -> None:
        self._conn = conn
        self._errors = errors

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._conn, name, value)

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self._conn, name)(*args, **kwargs)
        except self._errors as exc:
            raise _translate(exc) from None

    def cursor(self, *args: Any) -> _Cursor:
        return _Cursor(self._call("cursor", *args), self._errors)

    def execute(self, *args: Any) -> _Cursor:
        return _Cursor(self._call("execute", *args), self._errors)

    def executemany(self, *args: Any) -> _Cursor:
        return _Cursor(self._call("executemany", *args), self._errors)

    def executescript(self, *args: Any) -> _Cursor:
        return _Cursor(self._call("executescript", *args), self._errors)

    def commit(self) -> None:
        self._call("commit")

    def rollback(self) -> None:
        self._call("rollback")

    def close(self) -> None:
        self._call("close")

    def __enter__(self) -> _Connection:
        return self

    def __exit__(self, kind: Any, value: Any, trace: Any) -> Any:
        return self._call("__exit__", kind, value, trace)


def _open(path: Path, *, read_only: bool, timeout_ms: int) -> Any:
    dbapi2 = _driver()
    if read_only:
        uri = f"file:{quote(os.fsencode(path.absolute()))}?mode=ro"  # (see database._connect)
        conn = dbapi2.connect(uri, uri=True, timeout=timeout_ms / 1000, check_same_thread=False)
    else:
        conn = dbapi2.connect(str(path), timeout=timeout_ms / 1000, check_same_thread=False)
    conn.execute("PRAGMA cipher_log_level = NONE")  # its own stderr lines would break ours
    return conn


def connect(path: Path, *, read_only: bool, timeout_ms: int) -> sqlite3.Connection:
    """A keyed connection to the encrypted store at ``path``; PassphraseError (nothing
    changed) when the passphrase is missing or wrong."""
    if not available():
        raise StoreError(
            f"{printable(path, 160)} is not a plain msl-tui store; if it is an encrypted one, "
            "reading it needs SQLCipher: pip install 'msl-tui[encrypted-store]'"
        )
    dbapi2 = _driver()
    key = _raw_key(path)
    try:
        conn = _keyed(path, key, read_only=read_only, timeout_ms=timeout_ms)
    except PassphraseError:
        typed = next((k for c, k in _as_typed.items() if c[0] == str(path.absolute())), None)
        if typed is None:
            _forget_key(path)
            raise
        try:
            conn = _keyed(path, typed, read_only=read_only, timeout_ms=timeout_ms)
        except PassphraseError:
            _forget_key(path)
            raise
        for cache in [c for c in _as_typed if c[0] == str(path.absolute())]:
            _keys[cache] = _as_typed.pop(cache)  # this store takes the passphrase as typed
    return cast(sqlite3.Connection, _Connection(conn, dbapi2.Error))


def _keyed(path: Path, key: str, *, read_only: bool, timeout_ms: int) -> Any:
    dbapi2 = _driver()
    conn = _open(path, read_only=read_only, timeout_ms=timeout_ms)
    try:
        conn.execute(f"PRAGMA key = \"x'{key}'\"")
        conn.execute(f"PRAGMA busy_timeout = {timeout_ms}")
        conn.execute("select count(*) from sqlite_master").fetchone()
    except dbapi2.DatabaseError as exc:
        conn.close()
        if "not a database" in str(exc):
            raise PassphraseError(
                f"wrong passphrase for {printable(path, 160)} (or it is not an msl-tui "
                "store): nothing was changed"
            ) from None
        raise _translate(exc) from None
    return conn


# -- converting a store ------------------------------------------------------------------


def _counts(conn: Any) -> dict[str, int]:
    tables = [
        r[0]
        for r in conn.execute(
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' "
            "and sql not like 'CREATE VIRTUAL TABLE%'"
        )
    ]
    return {t: int(conn.execute(f'select count(*) from "{t}"').fetchone()[0]) for t in tables}


def _open_elsewhere(path: Path) -> bool:
    """Whether another process has the store open (an msl app idle on its list, a second
    msl, `sqlite3 STORE`). The checkpoint above sees only a reader inside a transaction: an
    open, idle app let `msl encrypt` replace the file under it (QA). Its visits saved while
    the copy was made went to the old file, then wiped; what it typed after could never be
    saved. Every connection to a WAL store holds a shared POSIX lock on the -shm file's
    dead-man byte (128, SQLite's unix VFS) while open; F_GETLK reports other processes'
    locks only, never this one's."""
    import fcntl
    import struct

    try:
        fd = os.open(f"{path}-shm", os.O_RDONLY)
    except OSError:
        return False  # no shared-memory file: no connection has it open in WAL mode
    try:
        query = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 128, 1, 0)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
        return struct.unpack("hhqqi", answer)[0] != fcntl.F_UNLCK
    except OSError:
        return False
    finally:
        os.close(fd)


def _wipe(handle: Any) -> None:
    """Overwrite a file's bytes through an open handle, then flush them to the disk."""
    size = os.fstat(handle.fileno()).st_size
    handle.seek(0)
    block = b"\0" * (1 << 20)
    left = size
    while left > 0:
        handle.write(block[: min(left, len(block))])
        left -= len(block)
    handle.flush()
    os.fsync(handle.fileno())


def convert(path: Path, *, passphrase: str | None, timeout_ms: int = 5000) -> None:
    """Rewrite the store at ``path`` encrypted with ``passphrase`` (None: as a plain store).

    The new file is complete and checked before it replaces the old one; until then the old
    one is untouched, and any failure leaves it as it was."""
    dbapi2 = _driver()
    encrypted_now = looks_encrypted(path)
    if encrypted_now:
        connect(path, read_only=True, timeout_ms=timeout_ms).close()  # finds the key that opens it
    tmp = private_temp_path(path)
    create_private_file(tmp).close()
    try:
        # Asked before our own connection opens: closing the descriptor this opens on the
        # -shm file would drop that connection's POSIX locks on it (see file_head.py).
        in_use = _open_elsewhere(path)
        source = _open(path, read_only=False, timeout_ms=timeout_ms)
        try:
            if encrypted_now:
                source.execute(f"PRAGMA key = \"x'{_raw_key(path)}'\"")
            source.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            # Everything in the write-ahead log goes into the file first, and stays there.
            busy = source.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if busy or in_use:
                raise StoreError(
                    f"{printable(path, 160)} is in use (close the app and try again): "
                    "nothing was changed"
                )
            expected = _counts(source)
            new_key = _normal(passphrase) if passphrase else ""
            source.execute("ATTACH DATABASE ? AS converted KEY ?", [str(tmp), new_key])
            source.execute("SELECT sqlcipher_export('converted')")
            source.execute("DETACH DATABASE converted")
        finally:
            source.close()
        _verify(tmp, passphrase, expected)
        _forget_key(tmp)
        if _open_elsewhere(path):  # an app opened it while the copy was made (ours is closed)
            raise StoreError(
                f"{printable(path, 160)} is in use (close the app and try again): "
                "nothing was changed"
            )
        with path.open("rb+") as old:
            os.replace(tmp, path)
            fsync_dir(path.parent)
            _wipe(old)  # its blocks, still held by this handle, are overwritten before release
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        _forget_key(path)
    except dbapi2.Error as exc:
        raise StoreError(
            f"{printable(path, 160)} could not be converted ({printable(exc, 80)}): "
            "nothing was changed"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)


def _verify(tmp: Path, passphrase: str | None, expected: dict[str, int]) -> None:
    dbapi2 = _driver()
    conn = dbapi2.connect(str(tmp))
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        if passphrase:
            conn.execute(f"PRAGMA key = \"x'{_raw_key(tmp, passphrase)}'\"")
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if passphrase:
            problems += [r[0] for r in conn.execute("PRAGMA cipher_integrity_check")]
        if problems != ["ok"]:
            raise StoreError(
                f"the converted copy failed its check ({problems[0]}): nothing was changed"
            )
        if _counts(conn) != expected:
            raise StoreError("the converted copy does not hold every row: nothing was changed")
    finally:
        conn.close()
