"""Signing keys: each store has an Ed25519 key; stores pin the keys of those they trust.

The private key lives in the store's meta table: a bundle is signed by the store it came
from, and a stolen laptop's store already holds everything the key protects.
"""

from __future__ import annotations

import json
import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from msl_tui.safe_text import printable
from msl_tui.store.store import Store

PRIVATE_META = "sync_signing_key"
TRUSTED_META = "sync_trusted_keys"
PUBLIC_RE = re.compile(r"^[0-9a-f]{64}\Z")
MAX_NAME = 100
SOURCE_NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,100}\Z", re.ASCII)


class KeyError_(ValueError):
    """A key that cannot be used (malformed, unknown name)."""


def signing_key(store: Store, *, create: bool = True) -> Ed25519PrivateKey | None:
    raw = store.get_meta(PRIVATE_META)
    if raw is None:
        if not create:
            return None
        with store.transaction():  # two first uses at once must not mint two keys
            raw = store.get_meta(PRIVATE_META)
            if raw is None:
                key = Ed25519PrivateKey.generate()
                store.set_meta(PRIVATE_META, key.private_bytes_raw().hex())
                return key
    try:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(raw))
    except ValueError:
        raise KeyError_("this store's signing key is damaged (not an Ed25519 key)") from None


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes_raw().hex()


def trusted_keys(store: Store) -> dict[str, str]:
    raw = store.get_meta(TRUSTED_META)
    if not raw:
        return {}
    try:
        keys = json.loads(raw)
    except ValueError:
        keys = None
    if not isinstance(keys, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and PUBLIC_RE.match(v) for k, v in keys.items()
    ):
        raise KeyError_("this store's list of trusted keys is damaged")
    return keys


def check_name(name: str, what: str) -> str:
    """A label a person gives a key (a recipient's name): one short line of plain text."""
    name = name.strip()
    if not name:
        raise KeyError_(f"{what} needs a name (the MSL id, or 'head office')")
    if printable(name, None) != name or len(name) > MAX_NAME:
        raise KeyError_(
            f"the name {printable(name, 40)!r} is not a short line of plain text "
            f"(at most {MAX_NAME} characters, no control characters)"
        )
    return name


def trust(store: Store, name: str, public: str) -> None:
    """Pin ``name``'s public key: its bundles must then be signed with exactly this key."""
    public = public.strip().lower()
    if not PUBLIC_RE.match(public):
        raise KeyError_(f"{printable(public, 24)!r} is not an Ed25519 public key (64 hex digits)")
    name = name.strip()
    if not name:
        raise KeyError_("a pinned key needs a name (the MSL id, or 'head office')")
    if not SOURCE_NAME_RE.match(name):
        # A bundle names its sender by MSL id (or device id): a name no bundle can carry
        # would pin nothing and, once anything is pinned, refuse every other sender.
        raise KeyError_(
            f"the name {printable(name, 40)!r} is not a sender name as bundles carry it: "
            "an MSL id such as ana.silva (letters, digits, '.', '_', '-', ':'; no spaces)"
        )
    with store.transaction():  # read, change, write: under the write lock
        keys = trusted_keys(store)
        keys[name] = public
        store.set_meta(TRUSTED_META, json.dumps(keys, sort_keys=True))


def untrust(store: Store, name: str) -> None:
    with store.transaction():
        keys = trusted_keys(store)
        if name not in keys:
            raise KeyError_(f"no pinned key named {printable(name, 60)!r}")
        del keys[name]
        store.set_meta(TRUSTED_META, json.dumps(keys, sort_keys=True))
