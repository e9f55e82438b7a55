"""Walks the inputs and opens archives, treating every byte as hostile.

Archive members are streamed into files named by a counter inside the scan's work folder: a member's
own name is only ever a label, so "../../etc/passwd" cannot write anywhere. Links are never followed.
Expansion is counted on the bytes actually written, not on what headers declare, against a ratio per
archive, a total for the scan and a nesting depth.
"""

import bz2
import gzip
import hashlib
import lzma
import os
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from garde.scanner.model import Limits

CHUNK = 1 << 20
_OFFICE_EXTENSIONS = {".docx", ".docm", ".xlsx", ".xlsm", ".xlsb", ".pptx", ".odt", ".ods", ".odp", ".epub"}


@dataclass
class Item:
    """A file to scan: `logical` names it for people ("dump.zip!/patients.csv"), `path` is where its
    bytes are on disk."""

    logical: str
    path: Path
    sha256: str
    size: int
    depth: int
    temporary: bool
    container: str | None = None  # "zip", "tar", "7z", "gz"...: opened by the walker, not scanned


@dataclass
class Issue:
    logical: str
    kind: str  # error | encrypted | skipped | warning
    reason: str


@dataclass
class Budget:
    limits: Limits
    expanded: int = 0
    counter: int = 0
    exhausted: bool = False
    members: int = field(default=0)


class _LimitExceeded(Exception):
    pass


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def input_size(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        if path.is_file():
            total += path.stat().st_size
        else:
            for root, _, files in os.walk(path):
                for name in files:
                    try:
                        info = os.lstat(os.path.join(root, name))
                    except OSError:
                        continue
                    if stat.S_ISREG(info.st_mode):
                        total += info.st_size
    return total


class Walker:
    def __init__(self, work_dir: Path, limits: Limits):
        self.work_dir = work_dir
        self.budget = Budget(limits)

    # -- inputs -------------------------------------------------------------------------------

    def walk(self, inputs: list[Path]) -> Iterator[Item | Issue]:
        for top in inputs:
            top = top.resolve()
            if top.is_file():
                yield from self.file(top, top.name, depth=0, temporary=False)
                continue
            yield from self._folder(top)

    def _folder(self, top: Path) -> Iterator[Item | Issue]:
        for root, dirs, files in os.walk(top, followlinks=False):
            dirs.sort()
            root_path = Path(root)
            for name in sorted(files) + [d for d in dirs if (root_path / d).is_symlink()]:
                path = root_path / name
                logical = f"{top.name}/{path.relative_to(top).as_posix()}"
                try:
                    info = os.lstat(path)
                except OSError as error:
                    yield Issue(logical, "error", f"cannot read: {error.strerror}")
                    continue
                if stat.S_ISLNK(info.st_mode):
                    yield Issue(logical, "skipped", self._link_reason(path, top))
                elif not stat.S_ISREG(info.st_mode):
                    yield Issue(logical, "skipped", "not a regular file (device, socket or pipe)")
                else:
                    yield from self.file(path, logical, depth=0, temporary=False)
            dirs[:] = [d for d in dirs if not (root_path / d).is_symlink()]

    @staticmethod
    def _link_reason(path: Path, top: Path) -> str:
        target = Path(os.path.realpath(path))
        if target == top or top in target.parents:
            return "symbolic link not followed (its target is inside the input and scanned there)"
        return "symbolic link pointing outside the input: not followed"

    # -- one file, possibly a container -------------------------------------------------------

    def file(self, path: Path, logical: str, depth: int, temporary: bool, sha256: str | None = None):
        try:
            size = path.stat().st_size
            sha256 = sha256 or sha256_file(path)
            kind = container_kind(path, logical)
        except OSError as error:
            yield Issue(logical, "error", f"cannot read: {error.strerror or error}")
            return
        item = Item(logical, path, sha256, size, depth, temporary, kind)
        yield item
        if kind is None:
            return
        try:
            if depth >= self.budget.limits.max_depth:
                yield Issue(logical, "error", f"archive nested deeper than {self.budget.limits.max_depth} levels: not opened")
            elif self.budget.exhausted:
                yield Issue(logical, "error", "total expansion limit of the scan reached: not opened")
            else:
                yield from self._open(item)
        finally:
            if temporary:
                path.unlink(missing_ok=True)

    def _open(self, item: Item):
        opener = {"zip": self._zip, "tar": self._tar, "7z": self._7z}.get(item.container, self._single_stream)
        try:
            yield from opener(item)
        except _LimitExceeded as error:
            yield Issue(item.logical, "error", str(error))
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, lzma.LZMAError, OSError, ValueError, RuntimeError) as error:
            yield Issue(item.logical, "error", f"corrupt or unreadable {item.container} archive: {error}")
        except Exception as error:  # noqa: BLE001 - py7zr and friends raise their own types on hostile input
            yield Issue(item.logical, "error", f"corrupt or unreadable {item.container} archive: {type(error).__name__}: {error}")

    def _allowance(self, item: Item) -> int:
        limits = self.budget.limits
        return int(max(item.size * limits.max_ratio, limits.ratio_floor))

    def _copy(self, stream, item: Item, used: list[int]) -> tuple[Path, str, int]:
        """Stream one member into the work folder, counting real bytes against the limits."""
        limits = self.budget.limits
        self.budget.counter += 1
        target = self.work_dir / f"m{self.budget.counter:09d}"
        digest = hashlib.sha256()
        written = 0
        allowance = self._allowance(item)
        try:
            with open(target, "wb") as out:
                while chunk := stream.read(CHUNK):
                    written += len(chunk)
                    used[0] += len(chunk)
                    self.budget.expanded += len(chunk)
                    if used[0] > allowance:
                        raise _LimitExceeded(
                            f"expands more than {limits.max_ratio:g} times its size (possible zip bomb): opening stopped"
                        )
                    if self.budget.expanded > limits.max_total_bytes:
                        self.budget.exhausted = True
                        raise _LimitExceeded(
                            f"total expansion limit of the scan ({limits.max_total_bytes} bytes) reached: opening stopped"
                        )
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return target, digest.hexdigest(), written

    def _member(self, item: Item, name: str, stream, used: list[int]):
        logical, unsafe = member_name(item.logical, name)
        if unsafe:
            yield Issue(logical, "warning", f"unsafe member name {name!r} (path traversal attempt): scanned under a safe name")
        self.budget.members += 1
        if self.budget.members > self.budget.limits.max_members:
            raise _LimitExceeded(f"more than {self.budget.limits.max_members} archive members in the scan: opening stopped")
        path, sha256, _ = self._copy(stream, item, used)
        yield from self.file(path, logical, item.depth + 1, temporary=True, sha256=sha256)

    def _zip(self, item: Item):
        used = [0]
        with zipfile.ZipFile(item.path) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                logical, _ = member_name(item.logical, info.filename)
                if info.flag_bits & 0x1:
                    yield Issue(logical, "encrypted", "encrypted archive member: not opened")
                    continue
                if stat.S_ISLNK(info.external_attr >> 16):
                    yield Issue(logical, "skipped", "symbolic link inside the archive: not followed")
                    continue
                with archive.open(info) as stream:
                    yield from self._member(item, info.filename, stream, used)

    def _tar(self, item: Item):
        used = [0]
        with tarfile.open(item.path, "r:*") as archive:
            for member in archive:
                logical, _ = member_name(item.logical, member.name)
                if member.isdir():
                    continue
                if member.issym() or member.islnk():
                    yield Issue(logical, "skipped", "link inside the archive: not followed")
                    continue
                if not member.isfile():
                    yield Issue(logical, "skipped", "special file inside the archive (device or pipe): ignored")
                    continue
                stream = archive.extractfile(member)
                if stream is not None:
                    yield from self._member(item, member.name, stream, used)

    def _single_stream(self, item: Item):
        opener = {"gz": gzip.open, "bz2": bz2.open, "xz": lzma.open}[item.container]
        name = PurePosixPath(item.logical.rsplit("!/", 1)[-1]).name
        inner = name.rsplit(".", 1)[0] if "." in name else f"{name}.out"
        with opener(item.path, "rb") as stream:
            yield from self._member(item, inner, stream, [0])

    def _7z(self, item: Item):
        import py7zr
        from py7zr.exceptions import PasswordRequired

        try:
            archive = py7zr.SevenZipFile(item.path, mode="r")
        except PasswordRequired:
            yield Issue(item.logical, "encrypted", "encrypted 7z archive (headers encrypted): not opened")
            return
        with archive:
            if archive.needs_password():
                yield Issue(item.logical, "encrypted", "encrypted 7z archive: not opened")
                return
            entries = [entry for entry in archive.list() if not entry.is_directory]
            declared = sum(entry.uncompressed or 0 for entry in entries)
            if declared > self._allowance(item):
                raise _LimitExceeded(
                    f"declares {declared} bytes, more than {self.budget.limits.max_ratio:g} times its size (possible bomb): not opened"
                )
            factory = _SevenZipFiles(self, item)
            archive.extractall(factory=factory)
            for name, target in factory.files:
                logical, unsafe = member_name(item.logical, name)
                if unsafe:
                    yield Issue(logical, "warning", f"unsafe member name {name!r} (path traversal attempt): scanned under a safe name")
                yield from self.file(target, logical, item.depth + 1, temporary=True)


class _SevenZipFiles:
    """py7zr writer factory: each member goes to a counter-named file, bytes counted as written."""

    def __init__(self, walker: Walker, item: Item):
        self.walker, self.item = walker, item
        self.files: list[tuple[str, Path]] = []
        self.used = 0

    def create(self, filename: str):
        from py7zr.io import Py7zIO

        factory = self
        walker = self.walker
        walker.budget.counter += 1
        target = walker.work_dir / f"m{walker.budget.counter:09d}"
        self.files.append((filename, target))

        class Writer(Py7zIO):
            def __init__(self):
                self.stream = open(target, "wb")
                self.written = 0

            def write(self, data):
                factory.used += len(data)
                walker.budget.expanded += len(data)
                if factory.used > walker._allowance(factory.item) or walker.budget.expanded > walker.budget.limits.max_total_bytes:
                    raise _LimitExceeded(
                        f"expands more than {walker.budget.limits.max_ratio:g} times its size or past the scan total: opening stopped"
                    )
                self.written += len(data)
                return self.stream.write(data)

            def read(self, size=None):
                return b""

            def seek(self, offset, whence=0):
                return self.stream.seek(offset, whence)

            def flush(self):
                self.stream.flush()

            def size(self):
                return self.written

            def close(self):
                self.stream.close()

        return Writer()


def member_name(parent: str, name: str) -> tuple[str, bool]:
    """A display name for an archive member, and whether its own name tried to leave the archive."""
    parts = name.replace("\\", "/").split("/")
    unsafe = name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")
    clean = [part for part in parts if part not in ("", ".", "..") and ":" not in part]
    return f"{parent}!/{'/'.join(clean) or 'unnamed'}", unsafe


def container_kind(path: Path, logical: str) -> str | None:
    with open(path, "rb") as stream:
        head = stream.read(300)
    extension = PurePosixPath(logical.lower()).suffix
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        if extension in _OFFICE_EXTENSIONS or _is_office_zip(path):
            return None
        return "zip"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    compressed = {b"\x1f\x8b": "gz", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}
    for magic, kind in compressed.items():
        if head.startswith(magic):
            return "tar" if _is_compressed_tar(path) else kind
    return None


def _is_office_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist()[:50])
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return "[Content_Types].xml" in names or "mimetype" in names


def _is_compressed_tar(path: Path) -> bool:
    try:
        with tarfile.open(path, "r:*") as archive:
            return archive.next() is not None
    except (tarfile.TarError, EOFError, OSError, lzma.LZMAError, ValueError):
        return False
