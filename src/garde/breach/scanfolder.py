"""Read a folder written by `garde scan` (docs/scan-format.md), refusing it whole at the first doubt.

Nothing here touches the database: the importer receives either a ScanFolder whose every file matched the
manifest's hash and opened as the format says, or a ScanFolderError naming the file and what is wrong.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
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


@dataclass
class ScanFolder:
    manifest: dict
    manifest_sha256: str
    summary: dict
    persons: dict[str, ScanPerson]
    records: list[tuple[str, str | None, list[str]]]  # record_id, scan person id, categories
    files: list[tuple[str, str, int]]  # sha256, path, findings


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


def _table(folder: Path, name: str, filters=None) -> pa.Table:
    try:
        table = pq.read_table(folder / name, columns=list(COLUMNS[name]))
    except (pa.ArrowException, OSError) as exc:
        raise ScanFolderError(
            _("%(file)s is not a readable Parquet file of the scan format (%(why)s).") % {"file": name, "why": exc}
        ) from None
    return table.filter(filters(table)) if filters else table


def _summary(folder: Path) -> dict:
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (ValueError, UnicodeError) as exc:
        raise ScanFolderError(_("summary.json is not valid JSON (%(why)s).") % {"why": exc}) from None
    if not isinstance(summary, dict) or summary.get("format_version") not in SUPPORTED_VERSIONS:
        raise ScanFolderError(_("summary.json is not of a known scan format version."))
    return summary


def read(folder: Path, index=None, progress=lambda percent, step: None) -> ScanFolder:
    """Check and read a scan folder. `index` (breach.crypto.BlindIndex) adds keys computed from clear
    values when the scan ran with --reveal, so scans hashed with different keys still meet on a person."""
    folder = Path(folder)
    progress(5, _("Checking the files against the manifest"))
    manifest, manifest_sha256 = check(folder)
    summary = _summary(folder)
    reveal = bool(manifest.get("reveal"))
    progress(20, _("Reading persons and records"))
    persons = {}
    for row in _rows(_table(folder, "persons.parquet")):
        # A record id names the same bytes of the same file in every scan: a person seen in that record
        # again is the same person, even when only their name identifies them.
        persons[row["person_id"]] = ScanPerson(
            row["person_id"], row["records"] or 0, list(row["categories"] or []), list(row["detectors"] or []),
            list(row["locations"] or []), keys={"r:" + record_id for record_id in row["record_ids"] or []},
        )
    records = [
        (row["record_id"], row["person_id"], list(row["categories"] or []))
        for row in _rows(_table(folder, "records.parquet"))
    ]
    files = [
        (row["sha256"], row["path"], row["findings"] or 0)
        for row in _rows(_table(folder, "files.parquet"))
        if row["status"] in ("scanned", "opened") and (row["findings"] or 0) > 0
    ]
    progress(35, _("Reading the identifying findings"))
    findings = _table(
        folder, "findings.parquet",
        lambda t: pc.and_(pc.is_valid(t["person_id"]), pc.is_in(t["detector"], pa.array(LINK_DETECTORS))),
    )
    _link_keys(persons, _by_record(findings), reveal, index)
    for person_id in {person_id for _record, person_id, _c in records if person_id}:
        if person_id not in persons:
            raise ScanFolderError(
                _("records.parquet names person %(id)s, absent from persons.parquet.") % {"id": person_id}
            )
    return ScanFolder(manifest, manifest_sha256, summary, persons, records, files)


def _rows(table: pa.Table, size: int = 50_000) -> Iterator[dict]:
    """The rows of a table as dicts, a slice at a time: a million rows never become a million dicts at once."""
    for batch in table.to_batches(max_chunksize=size):
        yield from batch.to_pylist()


def _by_record(findings: pa.Table) -> Iterator[dict[str, list[dict]]]:
    """The findings of each record, by detector, in the order of the file (the sort is stable)."""
    current, detectors = None, {}
    for finding in _rows(findings.sort_by("record_id")):
        if finding["record_id"] != current:
            if detectors:
                yield detectors
            current, detectors = finding["record_id"], {}
        detectors.setdefault(finding["detector"], []).append(finding)
    if detectors:
        yield detectors


def _link_keys(persons: dict[str, ScanPerson], records: Iterable[dict[str, list[dict]]], reveal: bool,
               index) -> None:
    for detectors in records:
        for found in detectors.values():
            for finding in found:
                if finding["person_id"] not in persons:
                    raise ScanFolderError(
                        _("findings.parquet names person %(id)s, absent from persons.parquet.")
                        % {"id": finding["person_id"]}
                    )
                if finding["detector"] in STRONG:
                    persons[finding["person_id"]].keys.add("s:" + finding["value_hash"])
        person = persons[next(iter(detectors.values()))[0]["person_id"]]
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
