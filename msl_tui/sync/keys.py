"""Signing keys: each store has an Ed25519 key; stores pin the keys of those they trust.

The private key lives in the store's meta table: a bundle is signed by the store it came
from, and a stolen laptop's store already holds everything the key protects.
"""

from __future__ import annotations

import json
import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from msl_tui.store.store import Store

PRIVATE_META = "sync_signing_key"
TRUSTED_META = "sync_trusted_keys"
PUBLIC_RE = re.compile(r"^[0-9a-f]{64}$")


class KeyError_(ValueError):
    """A key that cannot be used (malformed, unknown name)."""


def signing_key(store: Store, *, create: bool = True) -> Ed25519PrivateKey | None:
    raw = store.get_meta(PRIVATE_META)
    if raw is None:
        if not create:
            return None
        key = Ed25519PrivateKey.generate()
        store.set_meta(PRIVATE_META, key.private_bytes_raw().hex())
        return key
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(raw))


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes_raw().hex()


def trusted_keys(store: Store) -> dict[str, str]:
    raw = store.get_meta(TRUSTED_META)
    return json.loads(raw) if raw else {}


def trust(store: Store, name: str, public: str) -> None:
    """Pin ``name``'s public key: its bundles must then be signed with exactly this key."""
    public = public.strip().lower()
    if not PUBLIC_RE.match(public):
        raise KeyError_(f"{public[:20]!r} is not an Ed25519 public key (64 hex digits)")
    if not name.strip():
        raise KeyError_("a pinned key needs a name (the MSL id, or 'head office')")
    keys = trusted_keys(store)
    keys[name.strip()] = public
    store.set_meta(TRUSTED_META, json.dumps(keys, sort_keys=True))


def untrust(store: Store, name: str) -> None:
    keys = trusted_keys(store)
    if name not in keys:
        raise KeyError_(f"no pinned key named {name!r}")
    del keys[name]
    store.set_meta(TRUSTED_META, json.dumps(keys, sort_keys=True))
