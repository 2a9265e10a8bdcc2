"""The ``.mslsync`` bundle: a zip of ``manifest.json`` and one JSON Lines part per table.

Reading is strict and happens before anything is written: member names from a whitelist,
sizes and compression ratios checked from the zip directory before a byte is inflated (and
again while inflating), the manifest's signature, then each part streamed line by line with
strict JSON (no NaN, no duplicate keys, bounded depth and length) and its sha256 and count
compared with the manifest. Writing goes to a temporary name, is fsynced, then renamed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pydantic import ValidationError

from msl_tui.locations import fsync_dir
from msl_tui.safe_text import printable
from msl_tui.store.codec import ENTITIES, ascii_json
from msl_tui.sync.wire import MAX_RANGE, ManifestIn, wire_problem

# Format 2 adds the erasures part. A bundle without erasures is still written as format 1,
# which older readers take; one that carries erasures is format 2, which they refuse ("newer
# format: upgrade") rather than import while missing the erasure.
FORMAT_VERSION = 2
BASE_FORMAT = 1
# Older bundle formats this program upgrades on reading (format -> upgrade of one change).
# Format 1 is format 2 without erasures: its changes need nothing.
UPGRADES: dict[int, Any] = {1: None}
# What a bundle's "schema" number means: the version of what its changes carry, refused
# when newer than this. It was the store's migration count, and stays 6 (the count before
# m007) until a migration changes what bundles carry (a new field, a new table): a
# storage-only migration such as m007 must not bump it, or a laptop that upgraded first
# would have its bundles refused by a head office that had not.
WIRE_VERSION = 6
SUFFIX = ".mslsync"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
TABLE_PARTS = {f"{e.table}.jsonl": e.name for e in ENTITIES.values()}
ERASURE_TABLE = "erasure"
ERASURES_PART = "erasures.jsonl"
PARTS = {**TABLE_PARTS, ERASURES_PART: ERASURE_TABLE}
PART_NAMES = {table: name for name, table in PARTS.items()}
KINDS = ("msl-log", "roster", "full")
_CHUNK = 1 << 20  # bytes of lines a writer joins before hashing and deflating them
_READ = 1 << 16  # bytes a reader inflates at a time (a zip member's own step is 4 KiB or more)


class BundleError(ValueError):
    """A bundle that cannot be trusted; the message says what is wrong with it."""


@dataclass(frozen=True)
class Limits:
    max_file: int = 16 * 2**30
    max_part: int = 16 * 2**30
    max_manifest: int = 1 * 2**20
    max_ratio: int = 100  # JSON Lines deflate about 5-10x; a bomb does 1000x
    ratio_floor: int = 2**20  # tiny members may compress oddly; ratios count above 1 MiB
    max_line: int = 4 * 2**20
    max_depth: int = 16
    max_members: int = 2 + len(PARTS)
    max_range: int = MAX_RANGE  # sequence numbers one device may span in one bundle


LIMITS = Limits()
HEX_RE = re.compile(r"^[0-9a-f]+\Z")
_BRACKETS = re.compile(r"[\[\]{}]")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')


# -- strict JSON --------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)  # in C; only a shorter dict needs the loop that names the key
    if len(result) == len(pairs):
        return result
    result = {}
    for key, value in pairs:
        if key in result:
            raise BundleError(f"duplicate JSON key {key[:40]!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise BundleError(f"{name} is not allowed in JSON")


class _NumberError(BundleError):
    """A number the strict reader refuses; ``text`` is the number as written, so the
    refusal can name the key it stands under (``_with_key``)."""

    def __init__(self, message: str, text: str) -> None:
        super().__init__(message)
        self.text = text


def _bounded_int(text: str) -> int:
    # Python refuses to read integers of over 4,300 digits with a ValueError of its own;
    # nothing in a bundle needs more than SQLite's 19.
    if len(text) > 20:
        raise _NumberError(f"a number of {len(text)} digits", text)
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if len(text) > 40 or value in (float("inf"), float("-inf")):
        raise _NumberError(f"the number {text[:20]} is out of range", text)
    return value


def _with_key(exc: _NumberError, text: str) -> BundleError:
    """The refusal of a number, naming the key it stands under when it has one (a refusal
    names the field: "duration_min: the number 1e400 is out of range")."""
    found = re.search(
        r'"((?:[^"\\]|\\.){1,60})"\s*:\s*' + re.escape(exc.text) + r"(?![0-9.eE+-])", text
    )
    if found is None:
        return BundleError(str(exc))
    return BundleError(f"{printable(found.group(1), 40)}: {exc}")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_no_duplicates,
    parse_constant=_no_constant,
    parse_int=_bounded_int,
    parse_float=_finite_float,
)


def nesting_depth(text: str) -> int:
    depth = peak = 0
    for match in _BRACKETS.finditer(_STRINGS.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        peak = max(peak, depth)
    return peak


# A line stands for the value orjson reads from it only if writing that value back gives the
# line itself: in JSON as msl-tui writes it, or in orjson's form. See ``quick_loads``.
_UNSURE = object()


def quick_loads(raw: bytes, limits: Limits = LIMITS) -> Any:
    """The value of a line written the one way orjson or json (compact, ``ensure_ascii``)
    writes that value, read in C; ``_UNSURE`` for anything else, which ``strict_loads`` reads
    the long way, with its words for every refusal.

    Writing the value back and getting the very bytes proves what the strict reader checks:
    no duplicate key (a dict writes each key once), no NaN or infinity (orjson refuses them),
    no number beyond 64 bits (orjson reads it as a float, written otherwise), no odd escape,
    number form or white space, no byte-order mark, nothing after the value, valid UTF-8. So
    the strict reader would accept the line and read the same value. Depth is counted here,
    as the strict reader counts it first."""
    body = raw[:-1] if raw.endswith(b"\n") else raw
    if body.count(b"{") + body.count(b"[") > limits.max_depth:
        return _UNSURE  # rare: the strict reader measures the depth exactly
    try:
        value = orjson.loads(body)
        text = orjson.dumps(value)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return _UNSURE
    if text == body or (body.isascii() and ascii_json(text) == body):
        return value
    return _UNSURE


def strict_loads(raw: bytes, limits: Limits = LIMITS) -> Any:
    value = quick_loads(raw, limits)
    if value is not _UNSURE:
        return value
    return strict_loads_slowly(raw, limits)


def strict_loads_slowly(raw: bytes, limits: Limits = LIMITS) -> Any:
    """The strict reader itself: every refusal in words."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"not UTF-8 at byte {exc.start}") from exc
    # Counting brackets is fast; the exact (string-aware) depth only when it could matter.
    if text.count("{") + text.count("[") > limits.max_depth and (
        nesting_depth(text) > limits.max_depth
    ):
        raise BundleError(f"JSON nested deeper than {limits.max_depth} levels")
    try:
        value, end = _DECODER.raw_decode(text.strip())
    except json.JSONDecodeError as exc:
        raise BundleError(f"invalid JSON ({exc.msg} at column {exc.colno})") from exc
    except _NumberError as exc:
        raise _with_key(exc, text) from None
    except BundleError:
        raise
    except ValueError:
        raise BundleError("invalid JSON (a value cannot be read)") from None
    except RecursionError as exc:
        raise BundleError("JSON nested too deeply") from exc
    if end != len(text.strip()):
        raise BundleError("extra data after the JSON value")
    return value


# -- manifest -----------------------------------------------------------------------------


@dataclass
class Part:
    name: str
    table: str
    size: int
    count: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "table": self.table,
            "size": self.size,
            "count": self.count,
            "sha256": self.sha256,
        }


@dataclass
class Manifest:
    bundle_id: str
    kind: str
    source: dict[str, str]
    created: str
    ranges: dict[str, list[int]]
    parts: list[Part]
    format: int = BASE_FORMAT
    schema: int = WIRE_VERSION
    signer: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def source_name(self) -> str:
        return self.source.get("msl_id") or self.source.get("device", "?")

    def total_changes(self) -> int:
        return sum(p.count for p in self.parts if p.table in ENTITIES)

    def to_bytes(self) -> bytes:
        data: dict[str, Any] = {
            "format": self.format,
            "schema": self.schema,
            "bundle_id": self.bundle_id,
            "kind": self.kind,
            "source": self.source,
            "created": self.created,
            "ranges": self.ranges,
            "parts": [p.as_json() for p in self.parts],
        }
        if self.signer:
            data["signer"] = self.signer
        return json.dumps(data, indent=1, sort_keys=True).encode()

    @classmethod
    def parse(cls, raw: bytes) -> Manifest:
        data = strict_loads(raw)
        if not isinstance(data, dict):
            raise BundleError("manifest is not a JSON object")
        fmt = data.get("format")
        if not isinstance(fmt, int) or isinstance(fmt, bool):
            raise BundleError("manifest has no format version")
        if fmt > FORMAT_VERSION:
            raise BundleError(
                f"bundle format {fmt} is newer than this msl-tui reads ({FORMAT_VERSION}): "
                "upgrade msl-tui"
            )
        if fmt < FORMAT_VERSION and fmt not in UPGRADES:
            raise BundleError(f"bundle format {fmt} is too old to read")
        try:
            m = ManifestIn.model_validate(data)
        except ValidationError as exc:
            raise BundleError(f"manifest {wire_problem(exc)[1]}") from None
        if m.schema_ > WIRE_VERSION:
            raise BundleError(
                f"bundle schema version {m.schema_} is newer than this store's "
                f"({WIRE_VERSION}): upgrade msl-tui"
            )
        parts = []
        for p in m.parts:
            if PARTS.get(p.name) != p.table:
                raise BundleError(
                    f"unknown table {printable(p.table, 40)!r} ({printable(p.name, 40)})"
                )
            if p.table == ERASURE_TABLE and m.format < 2:
                raise BundleError(f"a format {m.format} bundle cannot carry erasures")
            parts.append(Part(p.name, p.table, p.size, p.count, p.sha256))
        if len({p.name for p in parts}) != len(parts):
            raise BundleError("manifest lists a part twice")
        source = m.source.model_dump(exclude_none=True)
        ranges = {d: [lo, hi] for d, (lo, hi) in m.ranges.items()}
        return cls(
            m.bundle_id, m.kind, source, m.created, ranges, parts, m.format, m.schema_, m.signer
        )


# -- writing ------------------------------------------------------------------------------


class BundleWriter:
    """Streams parts into a zip under a temporary name; ``commit`` makes it appear whole."""

    def __init__(self, path: Path, tmp: Path | None = None) -> None:
        """``tmp``, when given, is a file the caller created (private, named its own way);
        the bundle is written into it and ``commit`` renames it to ``path``."""
        self.path = path
        self.tmp = tmp or path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
        self.zip = zipfile.ZipFile(self.tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.parts: list[Part] = []

    def write_part(self, table: str, lines: Iterable[bytes]) -> Part:
        """One part from its lines (without their newlines). Lines are joined into chunks of
        about a megabyte; each chunk is hashed by one helper thread and deflated and written
        by another while the next is built here (hashlib and zlib let go of the GIL on big
        buffers), so reading the store, hashing and compressing overlap. Deflating is the
        longest of the three: hashing beside it, not before it, shortens the whole."""
        name = PART_NAMES[table]
        digest = hashlib.sha256()
        size = count = 0
        with (
            self.zip.open(name, "w", force_zip64=True) as out,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="bundle-hash") as hasher,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="bundle-deflate") as writer,
        ):
            # One chunk in flight at most on each thread; each raises its error here.
            hashing: Future[None] | None = None
            writing: Future[int] | None = None
            batch: list[bytes] = []
            held = 0
            for line in lines:
                batch.append(line)
                held += len(line)
                if held > _CHUNK:
                    chunk = b"\n".join(batch) + b"\n"
                    count += len(batch)
                    size += len(chunk)
                    batch.clear()
                    held = 0
                    if hashing is not None:
                        hashing.result()
                    hashing = hasher.submit(digest.update, chunk)
                    if writing is not None:
                        writing.result()
                    writing = writer.submit(out.write, chunk)
            for pending in (hashing, writing):
                if pending is not None:
                    pending.result()
            if batch:
                chunk = b"\n".join(batch) + b"\n"
                count += len(batch)
                size += len(chunk)
                digest.update(chunk)
                out.write(chunk)
        part = Part(name, table, size, count, digest.hexdigest())
        self.parts.append(part)
        return part

    def commit(self, manifest: Manifest, key: Ed25519PrivateKey | None = None) -> Path:
        manifest.parts = list(self.parts)
        if any(p.table == ERASURE_TABLE for p in self.parts):
            manifest.format = max(manifest.format, 2)
        if key is not None:
            manifest.signer = key.public_key().public_bytes_raw().hex()
        raw = manifest.to_bytes()
        self.zip.writestr(MANIFEST, raw)
        if key is not None:
            self.zip.writestr(SIGNATURE, key.sign(raw).hex())
        self.zip.close()
        with self.tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(self.tmp, self.path)
        fsync_dir(self.path.parent)
        return self.path

    def abort(self) -> None:
        try:
            self.zip.close()
        finally:
            self.tmp.unlink(missing_ok=True)


# -- reading ------------------------------------------------------------------------------


def _check_member_name(info: zipfile.ZipInfo) -> None:
    name = info.filename
    if (
        "\\" in name
        or name.startswith("/")
        or ".." in name.split("/")
        or "/" in name
        or ":" in name
        or "\x00" in name
    ):
        raise BundleError(f"unsafe member name {name[:60]!r}")
    mode = info.external_attr >> 16
    if mode and (stat.S_ISLNK(mode) or not stat.S_ISREG(mode)) and stat.S_IFMT(mode):
        raise BundleError(f"member {name!r} is a link or special file")
    if name not in (MANIFEST, SIGNATURE) and name not in PARTS:
        if name.endswith(".jsonl"):
            raise BundleError(f"unknown table {name[:-6]!r}")
        raise BundleError(f"unexpected member {name[:60]!r}")


class BundleReader:
    """Opens and checks a bundle's structure; parts are then streamed with ``changes``."""

    def __init__(
        self,
        path: Path,
        *,
        trusted: dict[str, str] | None = None,
        limits: Limits = LIMITS,
    ) -> None:
        self.path = path
        self.limits = limits
        if not path.exists():
            raise BundleError("no such file")
        if path.is_dir():
            raise BundleError("is a folder, not a bundle")
        if not path.is_file():
            raise BundleError("is not a regular file (a device, a pipe or a socket)")
        size = path.stat().st_size
        if size == 0:
            raise BundleError("empty file")
        if size > limits.max_file:
            raise BundleError(f"file is larger than {limits.max_file} bytes")
        self._handle: BinaryIO = path.open("rb")
        try:
            self.zip = zipfile.ZipFile(self._handle)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            self._handle.close()
            raise BundleError("not an msl-tui bundle (not a readable zip file)") from exc
        try:
            self._check_members()
            self.manifest = self._read_manifest()
            self.signed_by = self._check_signature(trusted or {})
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self.zip.close()
        self._handle.close()

    def __enter__(self) -> BundleReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_members(self) -> None:
        infos = self.zip.infolist()
        if len(infos) > self.limits.max_members:
            raise BundleError(f"{len(infos)} members (at most {self.limits.max_members})")
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise BundleError("a member name appears twice")
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            _check_member_name(info)
            if info.flag_bits & 0x1:
                raise BundleError(f"member {info.filename!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise BundleError(f"member {info.filename!r} uses an unsupported compression")
            limit = self.limits.max_part if info.filename in PARTS else self.limits.max_manifest
            if info.file_size > limit:
                raise BundleError(f"member {info.filename!r} is larger than {limit} bytes")
            if (
                info.file_size > self.limits.ratio_floor
                and info.file_size > self.limits.max_ratio * max(info.compress_size, 1)
            ):
                raise BundleError(
                    f"member {info.filename!r} expands {info.file_size // max(info.compress_size, 1)}x "
                    "(zip bomb?)"
                )
            self.infos[info.filename] = info
        if MANIFEST not in self.infos:
            raise BundleError("manifest.json is missing")

    def _read_member(self, name: str) -> bytes:
        info = self.infos[name]
        with self.zip.open(info) as member:
            data = member.read(info.file_size + 1)
        if len(data) != info.file_size:
            raise BundleError(f"member {name!r} is not the size the zip says")
        return data

    def _read_manifest(self) -> Manifest:
        try:
            self.manifest_raw = self._read_member(MANIFEST)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            if isinstance(exc, BundleError):
                raise
            raise BundleError(f"manifest cannot be read ({exc})") from exc
        manifest = Manifest.parse(self.manifest_raw)
        listed = {p.name for p in manifest.parts}
        present = {n for n in self.infos if n in PARTS}
        missing = sorted(listed - present)
        if missing:
            raise BundleError(f"part {missing[0]} is missing")
        extra = sorted(present - listed)
        if extra:
            raise BundleError(f"part {extra[0]} is not in the manifest")
        for part in manifest.parts:
            if self.infos[part.name].file_size != part.size:
                raise BundleError(f"part {part.name} size does not match the manifest")
        return manifest

    def _check_signature(self, trusted: dict[str, str]) -> str | None:
        pinned = trusted.get(self.manifest.source_name)
        if trusted and not pinned:
            # A store that pins keys takes bundles only from sources it knows.
            raise BundleError(
                f"{self.manifest.source_name} has no pinned key here: check it, then "
                f"`msl keys --trust {self.manifest.source_name} KEY`"
            )
        if SIGNATURE not in self.infos:
            if self.manifest.signer:
                raise BundleError("manifest names a signer but the signature is missing")
            if pinned:
                raise BundleError(
                    f"bundle is not signed, but {self.manifest.source_name}'s key is pinned"
                )
            return None
        if not self.manifest.signer:
            raise BundleError("signature present but the manifest names no signer")
        if pinned and pinned != self.manifest.signer:
            raise BundleError(
                f"signed with the wrong key for {self.manifest.source_name} "
                f"({self.manifest.signer[:12]}..., pinned {pinned[:12]}...)"
            )
        try:
            signature = bytes.fromhex(self._read_member(SIGNATURE).decode("ascii").strip())
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.manifest.signer))
            key.verify(signature, self.manifest_raw)
        except (InvalidSignature, ValueError, UnicodeDecodeError) as exc:
            raise BundleError("signature does not match the manifest (tampered?)") from exc
        return self.manifest.signer

    def lines(self, part: Part, *, strict: bool = True) -> Iterator[tuple[int, Any]]:
        """Yield (line number, parsed JSON) and check size, count and sha256 at the end.

        ``strict=False`` is for a second pass over bytes a strict pass already accepted: the
        checksum still ends it, so a file swapped in between fails before anything commits.

        The part is read in blocks and split in C (a ``readline`` per line is a Python call
        into zipfile per line); each line is checked as ``readline(max_line + 1)`` would
        have returned it, so the checks and their words are those of a line-by-line read.
        """
        digest = hashlib.sha256()
        size = count = 0
        limit = self.limits.max_line
        cap = limit + 1  # what one readline(limit + 1) returns at most
        name = part.name
        load = strict_loads if strict else _loose_with
        try:
            with self.zip.open(self.infos[name]) as member:
                rest = b""
                while True:
                    block = member.read1(_READ)  # type: ignore[attr-defined]
                    if not block:
                        break
                    digest.update(block)
                    lines = (rest + block if rest else block).split(b"\n")
                    rest = lines.pop()  # the line this block ends inside, if any
                    for line in lines:
                        count += 1
                        got = len(line) + 1
                        size += min(got, cap)
                        if size > part.size:
                            raise BundleError(f"{name} is longer than the manifest says")
                        if got > limit:
                            raise BundleError(f"{name} line {count}: longer than {limit} bytes")
                        try:
                            yield count, load(line, self.limits)
                        except BundleError as exc:
                            raise BundleError(f"{name} line {count}: {exc}") from None
                    if len(rest) >= cap:
                        break  # a line too long: refused below, before reading on
                if rest:
                    count += 1
                    size += min(len(rest), cap)
                    if size > part.size:
                        raise BundleError(f"{name} is longer than the manifest says")
                    if len(rest) > limit:
                        raise BundleError(f"{name} line {count}: longer than {limit} bytes")
                    raise BundleError(f"{name} line {count}: no line end (truncated?)")
        except (zipfile.BadZipFile, OSError, EOFError, zlib_error()) as exc:
            raise BundleError(f"{name} cannot be read ({exc})") from exc
        if count != part.count:
            raise BundleError(f"{name} has {count} records, the manifest says {part.count}")
        if digest.hexdigest() != part.sha256:
            raise BundleError(f"{name} checksum does not match the manifest")


def _loose_with(raw: bytes, limits: Limits) -> Any:
    value = quick_loads(raw, limits)
    return _loose(raw) if value is _UNSURE else value


def _loose(raw: bytes) -> Any:
    try:
        return _DECODER.decode(raw.decode("utf-8"))
    except BundleError:
        raise
    except (ValueError, RecursionError) as exc:
        raise BundleError(f"invalid JSON ({exc})") from None


def zlib_error() -> type[Exception]:
    import zlib

    return zlib.error
