"""Encrypted bundles: the age format (X25519), so a bundle read by the wrong eyes is noise.

Each store has an age identity beside its Ed25519 signing key, kept the same way: in the
store's meta table. The identity protects bundles in transit; a stolen laptop's store
already holds everything a bundle would reveal, so a separate key file would add a second
thing to lose (and to back up) without hiding anything more. An encrypted store (SQLCipher)
encrypts the identity with everything else.

A store lists the recipients its exports are for (head office, for an MSL). Once it lists
any, every export is signed, then encrypted to them and to the store itself, so the sender
can re-read its own bundle. Import recognises an age file by its first bytes, decrypts it
into a private scratch folder (the zip reader needs a seekable file), and reads that;
nothing of it is left afterwards. A store may require encryption: then a plain bundle is
refused.

pyrage's own messages are library words; every failure here is said in ours.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pyrage
from pyrage import x25519

from msl_tui.locations import create_private_file, private_scratch, private_temp_path, publish
from msl_tui.safe_text import printable
from msl_tui.store.errors import StoreError
from msl_tui.store.store import Store
from msl_tui.sync.bundle import LIMITS, BundleError, Limits
from msl_tui.sync.keys import KeyError_, check_name
from msl_tui.timestamps import now_iso

IDENTITY_META = "sync_age_identity"
RECIPIENTS_META = "sync_age_recipients"
REQUIRE_META = "sync_require_encryption"
# An age file starts with its version line; the armoured (PEM-like) form with its banner.
AGE_MAGIC = (b"age-encryption.org/", b"-----BEGIN AGE ENCRYPTED FILE-----")
SELF = "this store"


class CryptoError(KeyError_):
    """An age key or recipient that cannot be used; the message says which and why."""


# -- this store's identity ----------------------------------------------------------------


def identity(store: Store, *, create: bool = True) -> x25519.Identity | None:
    """This store's age identity (made on first use, like the signing key)."""
    raw = store.get_meta(IDENTITY_META)
    if raw is None:
        if not create:
            return None
        with store.transaction():  # two first uses at once must not mint two identities
            raw = store.get_meta(IDENTITY_META)
            if raw is None:
                made = x25519.Identity.generate()
                store.set_meta(IDENTITY_META, str(made))
                return made
    try:
        return x25519.Identity.from_str(raw)
    except pyrage.IdentityError:
        raise CryptoError("this store's age identity is damaged (not an age secret key)") from None


def recipient_of(ident: x25519.Identity) -> str:
    return str(ident.to_public())


def export_identity(store: Store, out: Path) -> Path:
    """Write this store's identity in age's own key-file format (0600, never over a file),
    so the standard ``age -d -i FILE`` can read bundles addressed to this store."""
    ident = identity(store)
    assert ident is not None
    if out.exists() or out.is_symlink():
        raise CryptoError(f"{printable(out, 160)} already exists: name a new file")
    if not out.parent.is_dir():
        raise CryptoError(f"folder {printable(out.parent, 160)} does not exist")
    text = (
        f"# created: {now_iso()}\n"
        f"# public key: {recipient_of(ident)}\n"
        "# msl-tui store identity: whoever holds this file can read bundles sent to it\n"
        f"{ident}\n"
    )
    tmp = private_temp_path(out)
    try:
        with create_private_file(tmp) as handle:
            handle.write(text.encode("ascii"))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            publish(tmp, out)
        except FileExistsError:
            raise CryptoError(f"{printable(out, 160)} already exists: name a new file") from None
    finally:
        tmp.unlink(missing_ok=True)
    return out


# -- recipients and the encryption rule ---------------------------------------------------


def _shown_key(text: str) -> str:
    """What a person typed as a recipient, for an error line; never a secret key."""
    if text.strip().upper().startswith("AGE-SECRET-KEY"):
        return "a secret key (never give it out: the public recipient starts age1)"
    return repr(printable(text, 24))


def _parse_recipient(public: str) -> x25519.Recipient:
    try:
        return x25519.Recipient.from_str(public)
    except pyrage.RecipientError:
        raise CryptoError(
            f"{_shown_key(public)} is not an age recipient "
            "(age1... as `msl keys` prints it on the other store)"
        ) from None


def recipients(store: Store) -> dict[str, str]:
    """The names and age recipients this store's exports are encrypted to."""
    raw = store.get_meta(RECIPIENTS_META)
    if not raw:
        return {}
    try:
        found = json.loads(raw)
    except ValueError:
        found = None
    if not isinstance(found, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.startswith("age1") for k, v in found.items()
    ):
        raise CryptoError("this store's list of recipients is damaged")
    return found


def add_recipient(store: Store, name: str, public: str) -> None:
    public = public.strip()
    if public != public.lower() or not public.startswith("age1"):
        raise CryptoError(
            f"{_shown_key(public)} is not an age recipient "
            "(age1... as `msl keys` prints it on the other store)"
        )
    _parse_recipient(public)
    name = check_name(name, "a recipient")
    if name.casefold() == SELF:
        raise CryptoError(
            f"{SELF!r} is how msl names this store among the recipients: give the other store's name"
        )
    own = identity(store)
    if own is not None and public == recipient_of(own):
        raise CryptoError(
            "that is this store's own recipient: exports are always encrypted to it too"
        )
    with store.transaction():  # read, change, write: under the write lock
        found = recipients(store)
        found[name] = public
        store.set_meta(RECIPIENTS_META, json.dumps(found, sort_keys=True))


def remove_recipient(store: Store, name: str) -> None:
    with store.transaction():
        found = recipients(store)
        if name not in found:
            raise CryptoError(f"no recipient named {printable(name, 60)!r}")
        del found[name]
        store.set_meta(RECIPIENTS_META, json.dumps(found, sort_keys=True))


def requires_encryption(store: Store) -> bool:
    return store.get_meta(REQUIRE_META) == "1"


def set_requires_encryption(store: Store, required: bool) -> None:
    store.set_meta(REQUIRE_META, "1" if required else "0")


def export_recipients(store: Store) -> dict[str, str]:
    """Who an export is encrypted to: the listed recipients and this store itself; empty
    when none are listed (then exports stay plain)."""
    listed = recipients(store)
    if not listed:
        return {}
    own = identity(store)
    assert own is not None
    return {**listed, SELF: recipient_of(own)}


# -- encrypting and decrypting files ------------------------------------------------------


def encrypt_file(plain: Path, out: Path, to: dict[str, str]) -> None:
    """Encrypt ``plain`` into ``out``, a new private file, fsynced."""
    parsed = [_parse_recipient(public) for public in to.values()]
    with plain.open("rb") as source, create_private_file(out) as target:
        try:
            pyrage.encrypt_io(source, target, parsed)
        except pyrage.EncryptError:
            raise CryptoError("the bundle could not be encrypted to its recipients") from None
        target.flush()
        os.fsync(target.fileno())


def is_encrypted(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(40)
    except OSError:
        return False  # the bundle reader names the problem
    return head.startswith(AGE_MAGIC)


class _Capped:
    """A write-only file that refuses to grow past ``limit`` bytes (a decrypted bundle is
    bounded like a plain one)."""

    def __init__(self, target: BinaryIO, limit: int) -> None:
        self.target = target
        self.limit = limit
        self.written = 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        if self.written > self.limit:
            raise BundleError(f"decrypts to more than {self.limit} bytes")
        return self.target.write(data)

    def flush(self) -> None:
        self.target.flush()


def _decrypt_words(exc: BaseException) -> str:
    text = str(exc).lower()
    if "no matching keys" in text:
        return (
            "is encrypted for other readers, not for this store (ask the sender to add "
            "this store's age recipient, shown by `msl keys`, with `msl keys --recipient`)"
        )
    if "incomplete" in text or "fill whole buffer" in text or "unexpected end" in text:
        return "is an encrypted bundle cut short (truncated): ask for it again"
    return (
        "is an encrypted bundle that does not decrypt (truncated, damaged or tampered with): "
        "ask for it again"
    )


@contextmanager
def readable_bundle(store: Store, path: Path, *, limits: Limits = LIMITS) -> Iterator[Path]:
    """The plain bundle to read for ``path``: the file itself, or its decrypted copy in a
    private scratch folder that is removed on leaving. Raises BundleError (one line) for a
    bundle not addressed to this store, one that does not decrypt, and a plain one when
    this store requires encryption."""
    if not is_encrypted(path):
        if requires_encryption(store) and path.is_file():
            raise BundleError(
                "is not encrypted, and this store takes encrypted bundles only "
                "(`msl keys --allow-plain` lifts that)"
            )
        yield path
        return
    try:
        own = identity(store, create=False)
    except CryptoError as exc:
        raise StoreError(str(exc)) from None  # the store's fault, not the bundle's
    if own is None:
        # A store with no identity has never shown anyone a recipient to encrypt to.
        raise BundleError(_decrypt_words(pyrage.DecryptError("no matching keys")))
    with private_scratch(store.path) as folder:
        plain = folder / "bundle.zip"
        try:
            with path.open("rb") as source, create_private_file(plain) as target:
                pyrage.decrypt_io(source, _Capped(target, limits.max_file), [own])
        except BundleError:
            raise
        except (pyrage.DecryptError, pyrage.IdentityError) as exc:
            raise BundleError(_decrypt_words(exc)) from None
        except OSError as exc:
            if exc.errno is None:  # pyrage reports a failed stream as a bare OSError
                raise BundleError(_decrypt_words(exc)) from None
            raise
        yield plain
