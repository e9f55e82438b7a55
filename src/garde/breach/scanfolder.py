"""Read a folder written by `garde scan` (docs/scan-format.md), refusing it whole at the first doubt.

Nothing here touches the database: the importer receives either a ScanFolder whose every file matched the
manifest's hash and opened as the format says, or a ScanFolderError naming the file and what is wrong. The
persons come in batches, sorted by person id together with their findings and records (DuckDB sorts the
Parquet files out of core), so what is held in Python objects is one batch, not the scan.
"""

import hashlib
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from django.utils.translation import gettext as _

from garde.scanner.detect.registry import by_name

SUPPORTED_VERSIONS = (1,)
OUTPUTS = ("findings.parquet", "records.parquet", "persons.parquet", "files.parquet", "summary.json")
FILES = ("manifest.json", *OUTPUTS)
COLUMNS = {
    "persons.parquet": ("person_id", "records", "categories", "detectors", "locations", "record_ids"),
    "records.parquet": ("record_id", "person_id", "categories"),
    "files.parquet": ("path", "sha256", "status", "findings"),
    "findings.parquet": ("person_id", "record_id", "detector", "masked", "value_hash", "value"),
}
# What links a person across scans and what a letter needs; other findings stay in the scan folder.
STRONG = ("nir", "ipp")
IDENTITY = ("last_name", "first_name", "person_name", "birth_date", "address", "postal_code", "city", "email")
LINK_DETECTORS = STRONG + IDENTITY
CHUNK = 1024 * 1024
ROWS = 20_000  # rows of a Parquet file turned into Python objects at a time
# Past this, DuckDB's sorts spill to a private temporary folder. The three sorted streams are read side by
# side and each keeps blocks pinned in memory: 128 MB was too little at 1,000,000 persons ("failed to pin
# block"), 1 GB imports them (docs/benchmarks.md, "Breach file").
DUCKDB_MEMORY = "1GB"


class ScanFolderError(Exception):
    """The scan folder is refused; the message says which file and why."""


@dataclass
class ScanPerson:
    scan_id: str
    records: int
    categories: list[str]
    detectors: list[str]
    locations: list[str]
    keys: set[str] = field(default_factory=set)
    label: str = ""
    identity: dict = field(default_factory=dict)
    record_rows: list[tuple[str, list[str]]] = field(default_factory=list)  # record_id, categories


@dataclass
class ScanFolder:
    """A checked scan folder, read a batch of persons at a time: each batch comes with the findings that
    link its persons and the records they were seen in, so one batch is held at a time, not the scan."""

    manifest: dict
    manifest_sha256: str
    summary: dict
    persons_count: int
    files: list[tuple[str, str, int]]  # sha256, path, findings
    _folder: Path
    _index: object
    _duck: object

    def person_batches(self, size: int) -> Iterator[list[ScanPerson]]:
        reveal = bool(self.manifest.get("reveal"))
        findings = _Groups(self._sorted(
            "findings.parquet", "person_id, record_id, detector, masked, value_hash, value",
            "person_id IS NOT NULL AND detector IN ({})".format(", ".join(f"'{d}'" for d in LINK_DETECTORS)),
            "person_id, record_id, file_row_number"))
        records = _Groups(self._sorted("records.parquet", "record_id, person_id, categories",
                                       "person_id IS NOT NULL", "person_id, file_row_number"))
        batch = []
        for person_id, rows in _Groups(self._sorted("persons.parquet", ", ".join(COLUMNS["persons.parquet"]),
                                                     "true", "person_id")):
            row = rows[0]
            # A record id names the same bytes of the same file in every scan: a person seen in that record
            # again is the same person, even when only their name identifies them.
            person = ScanPerson(
                person_id, row["records"] or 0, list(row["categories"] or []), list(row["detectors"] or []),
                list(row["locations"] or []), keys={"r:" + record_id for record_id in row["record_ids"] or []},
            )
            _link_person(person, findings.take(person_id, "findings.parquet"), reveal, self._index)
            person.record_rows = [(r["record_id"], list(r["categories"] or []))
                                  for r in records.take(person_id, "records.parquet")]
            batch.append(person)
            if len(batch) >= size:
                yield batch
                batch = []
        findings.take(None, "findings.parquet")
        records.take(None, "records.parquet")
        if batch:
            yield batch

    def records_without_person(self) -> Iterator[tuple[str, list[str]]]:
        for row in self._sorted("records.parquet", "record_id, categories", "person_id IS NULL", "file_row_number"):
            yield row["record_id"], list(row["categories"] or [])

    def _sorted(self, name: str, columns: str, where: str, order: str) -> Iterator[dict]:
        """Rows of a Parquet file in the given order, a slice at a time. DuckDB sorts out of core (it spills
        to a private temporary folder past its memory limit), so a scan of any size is read a slice at a time."""
        cursor = self._duck.cursor()  # one cursor per stream: the streams are read side by side
        try:
            reader = cursor.sql(
                f"SELECT {columns} FROM read_parquet(?, file_row_number = true) WHERE {where} ORDER BY {order}",
                params=[str(self._folder / name)],
            ).to_arrow_reader(ROWS)
            for batch in reader:
                yield from batch.to_pylist()
        except duckdb.OutOfMemoryException as exc:
            raise ScanFolderError(
                _("Not enough memory to sort %(file)s for the import (limit %(limit)s): %(why)s")
                % {"file": name, "limit": DUCKDB_MEMORY, "why": exc}
            ) from None
        except duckdb.Error as exc:
            raise ScanFolderError(_unreadable(name, exc)) from None
        finally:
            cursor.close()


class _Groups:
    """Consecutive rows of a stream sorted by person, taken person by person along the persons file."""

    def __init__(self, rows: Iterator[dict]):
        self._rows = rows
        self._next = next(rows, None)

    def __iter__(self):
        while self._next is not None:
            person_id = self._next["person_id"]
            yield person_id, self._take(person_id)

    def _take(self, person_id) -> list[dict]:
        group = []
        while self._next is not None and self._next["person_id"] == person_id:
            group.append(self._next)
            self._next = next(self._rows, None)
        return group

    def take(self, person_id: str | None, name: str) -> list[dict]:
        """This person's rows; a row of a person who came before (or None: any row left) is absent from the
        persons file, and the scan is refused."""
        if self._next is not None and (person_id is None or self._next["person_id"] < person_id):
            raise ScanFolderError(_("%(file)s names person %(id)s, absent from persons.parquet.")
                                  % {"file": name, "id": self._next["person_id"]})
        return self._take(person_id) if person_id is not None else []


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check(folder: Path) -> tuple[dict, str]:
    """The manifest and its SHA-256, once every output is present, unchanged and of a known version."""
    for name in FILES:
        if not (folder / name).is_file():
            raise ScanFolderError(_("%(file)s is missing from the scan folder.") % {"file": name})
    raw = (folder / "manifest.json").read_bytes()
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise ScanFolderError(_("manifest.json is not valid JSON (%(why)s).") % {"why": exc}) from None
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if version not in SUPPORTED_VERSIONS:
        raise ScanFolderError(
            _("Unknown scan format version %(found)r: this Garde reads version %(known)s.")
            % {"found": version, "known": ", ".join(map(str, SUPPORTED_VERSIONS))}
        )
    outputs = manifest.get("outputs") or {}
    for name in OUTPUTS:
        expected = outputs.get(name)
        if not expected:
            raise ScanFolderError(_("manifest.json gives no SHA-256 for %(file)s.") % {"file": name})
        if sha256_file(folder / name) != expected:
            raise ScanFolderError(
                _("%(file)s does not match the SHA-256 in manifest.json: it was changed or cut short.") % {"file": name}
            )
    return manifest, hashlib.sha256(raw).hexdigest()


def _table(folder: Path, name: str) -> pa.Table:
    try:
        return pq.read_table(folder / name, columns=list(COLUMNS[name]))
    except (pa.ArrowException, OSError) as exc:
        raise ScanFolderError(_unreadable(name, exc)) from None


def _summary(folder: Path) -> dict:
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (ValueError, UnicodeError) as exc:
        raise ScanFolderError(_("summary.json is not valid JSON (%(why)s).") % {"why": exc}) from None
    if not isinstance(summary, dict) or summary.get("format_version") not in SUPPORTED_VERSIONS:
        raise ScanFolderError(_("summary.json is not of a known scan format version."))
    return summary


@contextmanager
def opened(folder: Path, index=None, progress=lambda percent, step: None) -> Iterator[ScanFolder]:
    """Check a scan folder and open it for reading. `index` (breach.crypto.BlindIndex) adds keys computed
    from clear values when the scan ran with --reveal, so scans hashed with different keys still meet on a
    person. The persons are read by ScanFolder.person_batches, inside the importer's transaction."""
    folder = Path(folder)
    progress(5, _("Checking the files against the manifest"))
    manifest, manifest_sha256 = check(folder)
    summary = _summary(folder)
    counts = {name: _check_columns(folder, name) for name in COLUMNS}
    files = [
        (row["sha256"], row["path"], row["findings"] or 0)
        for row in _table(folder, "files.parquet").to_pylist()
        if row["status"] in ("scanned", "opened") and (row["findings"] or 0) > 0
    ]
    with tempfile.TemporaryDirectory(prefix="garde-import-") as spill:
        duck = duckdb.connect(config={"threads": 1, "memory_limit": DUCKDB_MEMORY, "temp_directory": spill})
        try:
            yield ScanFolder(manifest, manifest_sha256, summary, counts["persons.parquet"], files, folder, index, duck)
        finally:
            duck.close()


def _check_columns(folder: Path, name: str) -> int:
    """The footer only: a cut file or one without the documented columns is refused before any write."""
    try:
        parquet = pq.ParquetFile(folder / name)
    except (pa.ArrowException, OSError) as exc:
        raise ScanFolderError(_unreadable(name, exc)) from None
    missing = set(COLUMNS[name]) - set(parquet.schema_arrow.names)
    if missing:
        raise ScanFolderError(_unreadable(name, _("no column %(names)s") % {"names": ", ".join(sorted(missing))}))
    return parquet.metadata.num_rows


def _unreadable(name: str, why) -> str:
    return _("%(file)s is not a readable Parquet file of the scan format (%(why)s).") % {"file": name, "why": why}


def _link_person(person: ScanPerson, findings: list[dict], reveal: bool, index) -> None:
    """Keys, label and clear identity from the person's findings, record by record (sorted by record)."""
    record, detectors = None, {}
    for finding in [*findings, None]:
        if finding is None or finding["record_id"] != record:
            if detectors:
                _link_record(person, detectors, reveal, index)
            if finding is None:
                break
            record, detectors = finding["record_id"], {}
        detectors.setdefault(finding["detector"], []).append(finding)
        if finding["detector"] in STRONG:
            person.keys.add("s:" + finding["value_hash"])


def _link_record(person: ScanPerson, detectors: dict, reveal: bool, index) -> None:
    _name_birth_keys(person, detectors)
    if not person.label:
        person.label = _label(detectors)
    if reveal:
        _clear_identity(person, detectors)
        if index is not None:
            _blind_keys(person, detectors, index)


def _first(detectors: dict, name: str, attribute: str) -> str | None:
    found = detectors.get(name)
    return found[0][attribute] if found else None


def _name_birth_keys(person: ScanPerson, detectors: dict) -> None:
    birth = _first(detectors, "birth_date", "value_hash")
    if not birth:
        return
    last, first = _first(detectors, "last_name", "value_hash"), _first(detectors, "first_name", "value_hash")
    if last and first:
        person.keys.add("n:" + hashlib.sha256(f"{last}|{first}|{birth}".encode()).hexdigest())
    full = _first(detectors, "person_name", "value_hash")
    if full:
        person.keys.add("f:" + hashlib.sha256(f"{full}|{birth}".encode()).hexdigest())


def _label(detectors: dict) -> str:
    last, first = _first(detectors, "last_name", "masked"), _first(detectors, "first_name", "masked")
    if last:
        return f"{last} {first or ''}".strip()
    return _first(detectors, "person_name", "masked") or _first(detectors, "email", "masked") or ""


def _clear_identity(person: ScanPerson, detectors: dict) -> None:
    for name in IDENTITY:
        value = _first(detectors, name, "value")
        if value and name not in person.identity:
            person.identity[name] = value


def normalise(detector: str, value: str | None) -> str | None:
    if not value:
        return None
    valid = by_name(detector).validate(value)
    return valid.normalized if valid else None


def name_birth_text(name: str, birth: str) -> str:
    """The form the blind index hashes a name and birth date in: tokens sorted, so swapped names match."""
    return " ".join(sorted(name.split())) + "|" + birth


def _blind_keys(person: ScanPerson, detectors: dict, index) -> None:
    for name in STRONG:
        for finding in detectors.get(name, []):
            normalised = normalise(name, finding["value"])
            if normalised:
                person.keys.add(index(name, normalised))
    birth = normalise("birth_date", _first(detectors, "birth_date", "value"))
    if not birth:
        return
    last = normalise("last_name", _first(detectors, "last_name", "value"))
    first = normalise("first_name", _first(detectors, "first_name", "value"))
    full = f"{last} {first}" if last and first else normalise("person_name", _first(detectors, "person_name", "value"))
    if full:
        person.keys.add(index("name_birth", name_birth_text(full, birth)))
