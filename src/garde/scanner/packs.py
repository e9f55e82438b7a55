"""Packs: the parts of small files (most files of a dump) appended one after another to one file per
process in `.parts/`, instead of one file each. A dump of a million letters would otherwise leave a
million files in one folder, and creating a file costs 100-900 µs on a loaded disk.

An entry is MAGIC, the SHA-256 of the scanned file (64 hex digits), the stored lengths of its three
sections and the lengths of the last two once decompressed (little-endian, 8 bytes each), the CRC-32
of the stored sections (4 bytes: a damaged entry is never read as rows), then the sections: the
file's outcome as JSON, its records and its findings as JSON compressed with zstd (records and
findings each a list of batches of rows). Compressed, the parts of a scan take about a third of the
room (their JSON is about as large as the dump itself, keyed hashes included), for 2-4 % more of
the workers' time. A process appends each
entry in one go and hands back where it is (a location: pack, offset, size), which the worker puts
in the outcome it returns; the report reads the part from there. A resumed scan finds the entries
by reading the packs' heads (`index`); an entry is read as no part when it is not one whole entry of
that file (a worker killed while writing it: the file is then scanned again).
"""

import json
import os
import secrets
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

# 2: records and findings compressed. An entry of another version ends what `index` reads of its pack
# (a scan killed under an earlier version and resumed scans those files again).
MAGIC = b"GARDEPK2"
HEAD = struct.Struct("<8s64sQQQQQI")
SUFFIX = ".pack"
# Packed sections and streamed parts (worker.py) alike: level 1 keeps the workers fast.
CODEC = pa.Codec("zstd", compression_level=1)
# A section holds at most about worker.PACKED_BYTES (1 MiB) of JSON: a damaged head asking for more
# is not believed.
_MAX_DECOMPRESSED = 64 << 20


class _Pack:
    def __init__(self, folder: Path):
        self.name = f"{os.getpid()}-{secrets.token_hex(6)}{SUFFIX}"
        self.fd = os.open(folder / self.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        self.size = 0


_packs: dict[tuple[int, str], _Pack] = {}  # this process's pack in each parts folder (pid: not a forked parent's)
_lock = threading.Lock()


def append(folder: Path, sha256: str, outcome: dict, records: list[bytes], findings: list[bytes]) -> dict:
    """Appends a file's part to this process's pack in `folder` and returns its location.
    `records`, `findings`: each batch of rows as JSON."""
    plain = [b"[" + b",".join(records) + b"]", b"[" + b",".join(findings) + b"]"]
    sections = [json.dumps(outcome).encode(), *(CODEC.compress(section, asbytes=True) for section in plain)]
    body = b"".join(sections)
    head = HEAD.pack(MAGIC, sha256.encode("ascii"), *map(len, sections), *map(len, plain), zlib.crc32(body))
    entry = memoryview(head + body)
    key = (os.getpid(), str(folder))
    with _lock:
        pack = _packs.get(key)
        if pack is None:
            pack = _packs[key] = _Pack(Path(folder))
        offset = pack.size
        try:
            written = 0
            while written < len(entry):
                written += os.write(pack.fd, entry[written:])
        except OSError:
            _close(key)  # an entry cut short ends what `index` reads of this pack: the next part goes to a new one
            raise
        pack.size += len(entry)
    return {"pack": pack.name, "offset": offset, "size": len(entry)}


def close(folder: Path) -> None:
    """Closes this process's pack in `folder`, if any (its scan, run in this process with --jobs 0,
    is over)."""
    with _lock:
        if (os.getpid(), str(folder)) in _packs:
            _close((os.getpid(), str(folder)))


def _close(key: tuple[int, str]) -> None:
    os.close(_packs.pop(key).fd)


SECTIONS = ("outcome", "records", "findings")


def read(folder: Path, sha256: str, location: dict, kinds=("records", "findings")) -> tuple[dict, dict[str, list[dict]]] | None:
    """The outcome at `location` and the rows of `kinds` ("records", "findings": the report reads one
    at a time), or None when it does not hold one whole part of this file."""
    try:
        fd = os.open(Path(folder) / location["pack"], os.O_RDONLY)
        try:
            entry = os.pread(fd, location["size"], location["offset"])
        finally:
            os.close(fd)
    except (OSError, KeyError, TypeError, ValueError):
        return None
    return _decoded(entry, sha256, kinds)


def _decoded(entry: bytes, sha256: str, kinds) -> tuple[dict, dict[str, list[dict]]] | None:
    if len(entry) < HEAD.size:
        return None
    magic, owner, *sizes, crc = HEAD.unpack_from(entry)
    stored, decompressed = sizes[:3], dict(zip(SECTIONS[1:], sizes[3:], strict=True))
    if magic != MAGIC or owner != sha256.encode("ascii") or len(entry) != HEAD.size + sum(stored):
        return None
    if zlib.crc32(memoryview(entry)[HEAD.size :]) != crc:
        return None
    sections, start = {}, HEAD.size
    for name, size in zip(SECTIONS, stored, strict=True):
        sections[name] = entry[start : start + size]
        start += size
    try:
        outcome = json.loads(sections["outcome"])
        rows = {kind: [row for batch in json.loads(_decompressed(sections[kind], decompressed[kind])) for row in batch] for kind in kinds}
    except (ValueError, TypeError, OSError, pa.ArrowException):  # OSError: zstd's "decompression failed"
        return None
    if not isinstance(outcome, dict) or not all(isinstance(row, dict) for kind_rows in rows.values() for row in kind_rows):
        return None
    return outcome, rows


def _decompressed(section: bytes, size: int) -> bytes:
    if size > _MAX_DECOMPRESSED:
        raise ValueError("section larger than any entry holds")
    data = CODEC.decompress(section, decompressed_size=size, asbytes=True)
    if len(data) != size:
        raise ValueError("section of another length than its head says")
    return data


def index(folder: Path) -> Iterator[tuple[str, dict]]:
    """(sha256, location) of the entries of every pack in `folder`, read head by head: each pack up to
    its end or to an entry cut short (a process killed while writing it wrote nothing after it)."""
    for path in sorted(Path(folder).glob(f"*{SUFFIX}")):
        try:
            with open(path, "rb") as pack:
                end = os.fstat(pack.fileno()).st_size
                offset = 0
                while offset + HEAD.size <= end:
                    pack.seek(offset)
                    magic, owner, *sizes, _crc = HEAD.unpack(pack.read(HEAD.size))
                    size = HEAD.size + sum(sizes[:3])  # the stored sections
                    if magic != MAGIC or offset + size > end:
                        break
                    yield owner.decode("ascii", "replace"), {"pack": path.name, "offset": offset, "size": size}
                    offset += size
        except OSError:
            continue
