"""Import a scan folder into a breach file: all or nothing, and a person seen in two scans is one person.

The folder is checked first (breach.scanfolder); then its persons are read and written a batch at a time,
each batch resolved against what the file already holds (earlier scans and earlier batches of this one), all
in one transaction, so a refused or failed import leaves the file as it was and memory does not grow with the
scan. The progress is written on the ScanImport as it goes.
"""

import logging
import shutil
from collections.abc import Iterable
from itertools import batched
from pathlib import Path

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from garde.breach import crypto
from garde.breach.models import (
    CATEGORIES,
    Breach,
    LeakedFile,
    LeakedRecord,
    Person,
    PersonKey,
    ScanImport,
    Sighting,
)
from garde.breach.scanfolder import ScanFolder, ScanFolderError, ScanPerson, opened
from garde.cell import journal

logger = logging.getLogger(__name__)
BATCH = 2000
# What an import may change on a person already in the file (the rest is the DPO's).
PERSON_FIELDS = ["label", "detectors", "identity_token", "address_token", "address_source", "status", "informed_at",
                 "informed_how", "informed_by", *CATEGORIES]


def _set(scan: ScanImport, **fields) -> None:
    for name, value in fields.items():
        setattr(scan, name, value)
    ScanImport.objects.filter(pk=scan.pk).update(**fields)


def run(scan: ScanImport) -> ScanImport:
    """Import one queued scan; on any refusal the import is marked refused with the reason."""
    _set(scan, status=ScanImport.Status.RUNNING, progress=1, step=_("Starting"))
    try:
        index = None
        folder_manifest_reveal = _peek_reveal(Path(scan.folder))
        if folder_manifest_reveal:
            crypto.check_key()
            index = crypto.BlindIndex()
        with opened(Path(scan.folder), index, lambda percent, step: _set(scan, progress=percent, step=step)) as data:
            if ScanImport.objects.filter(breach=scan.breach, manifest_sha256=data.manifest_sha256,
                                         status=ScanImport.Status.DONE).exists():
                raise ScanFolderError(_("This scan was already imported into this breach file."))
            with transaction.atomic():
                _write(scan, data)
    except (ScanFolderError, crypto.BreachKeyError) as refusal:
        _set(scan, status=ScanImport.Status.REFUSED, error=str(refusal), step="", finished_at=timezone.now())
        journal.record(scan.breach.crisis, _("Breach file %(n)d: scan import from %(perimeter)s refused — %(why)s")
                       % {"n": scan.breach.number, "perimeter": scan.perimeter.name, "why": refusal},
                       author=scan.created_by)
    except Exception as error:  # a bug must not leave the import "running" for ever
        logger.exception("scan import %s failed", scan.pk)
        _set(scan, status=ScanImport.Status.REFUSED, step="", finished_at=timezone.now(),
             error=_("Unexpected error while importing (%(kind)s); nothing was imported.") % {"kind": type(error).__name__})
    finally:
        if scan.uploaded:
            # An uploaded revealed scan holds clear values: once imported (encrypted) or refused, it goes.
            shutil.rmtree(scan.folder, ignore_errors=True)
    return scan


def _peek_reveal(folder: Path) -> bool:
    import json

    try:
        return bool(json.loads((folder / "manifest.json").read_text()).get("reveal"))
    except (OSError, ValueError, AttributeError):
        return False  # read() reports the exact problem


def _write(scan: ScanImport, data: ScanFolder) -> None:
    breach = scan.breach
    first_reference = _next_reference(breach)
    earlier = f"P{first_reference:07d}"  # persons of the file before this import sort below it
    next_reference = first_reference
    records_before = LeakedRecord.objects.filter(breach=breach).count()
    seen = merged = 0
    for batch in data.person_batches(BATCH):
        resolved = _resolve(breach, batch)
        distinct = {person.pk: person for person in resolved.values()}
        merged += sum(1 for person in resolved.values() if not person._state.adding and person.reference < earlier)
        new_persons = [person for person in distinct.values() if person._state.adding]
        for person in new_persons:
            person.reference = f"P{next_reference:07d}"
            next_reference += 1
        _in_batches(Person, new_persons)
        created = {person.pk for person in new_persons}
        Person.objects.bulk_update([person for person in distinct.values() if person.pk not in created],
                                   PERSON_FIELDS, batch_size=BATCH)
        _save_keys(breach, batch, resolved)
        _in_batches(Sighting, (_sighting(scan, resolved[p.scan_id], p) for p in batch))
        _in_batches(LeakedRecord, (_record(scan, resolved[p.scan_id], record_id, categories)
                                   for p in batch for record_id, categories in p.record_rows), ignore_conflicts=True)
        seen += len(batch)
        _set(scan, progress=min(95, 10 + 85 * seen // max(data.persons_count, 1)),
             step=_("Writing persons, records and files"))
    _in_batches(LeakedRecord, (_record(scan, None, record_id, categories)
                               for record_id, categories in data.records_without_person()), ignore_conflicts=True)
    records_new = LeakedRecord.objects.filter(breach=breach).count() - records_before
    # New persons a later batch merged into an earlier person of the file are gone: count those that stayed.
    new_count = Person.objects.filter(breach=breach, reference__gte=earlier).count()
    _in_batches(LeakedFile, (LeakedFile(breach=breach, perimeter=scan.perimeter, sha256=sha, path=path[:1000],
                                        findings=findings) for sha, path, findings in data.files),
                ignore_conflicts=True)
    _set(scan, status=ScanImport.Status.DONE, progress=100, step="", error="", finished_at=timezone.now(),
         manifest_sha256=data.manifest_sha256, summary=data.summary, reveal=bool(data.manifest.get("reveal")),
         key_fingerprint=(data.manifest.get("hash") or {}).get("key_fingerprint", "")[:32],
         persons_new=new_count, persons_merged=merged, records_new=records_new)
    journal.record(
        breach.crisis,
        _("Breach file %(n)d: scan of %(perimeter)s imported — %(persons)d persons (%(new)d new), "
          "%(records)d new records.")
        % {"n": breach.number, "perimeter": scan.perimeter.name, "persons": seen,
           "new": new_count, "records": records_new},
        author=scan.created_by,
    )


def _next_reference(breach: Breach) -> int:
    last = Person.objects.filter(breach=breach).aggregate(last=Max("reference"))["last"]
    return int(last[1:]) + 1 if last else 1


def _existing_owners(breach: Breach, keys: set[str]) -> dict[str, Person]:
    owners: dict[str, Person] = {}
    keys = list(keys)
    for start in range(0, len(keys), BATCH // 4):
        chunk = keys[start:start + BATCH // 4]
        for row in PersonKey.objects.filter(breach=breach, key__in=chunk).select_related("person"):
            owners[row.key] = row.person
    return owners


def _resolve(breach: Breach, batch: list[ScanPerson]) -> dict[str, Person]:
    """The Person each scan person of the batch becomes: one of the file sharing a key (earlier batches of
    this scan included), or a new one. A scan person that meets two persons shows they are one: the later
    is merged into the earlier."""
    owners = _existing_owners(breach, set().union(*(p.keys for p in batch)))
    resolved: dict[str, Person] = {}
    replaced: dict = {}
    for scan_person in batch:
        scan_id = scan_person.scan_id
        matches = {person.pk: person for key in scan_person.keys if (person := owners.get(key))}
        if not matches:
            person = Person(breach=breach, label=scan_person.label[:200], detectors=sorted(scan_person.detectors))
            person.set_categories(scan_person.categories)
        else:
            # Persons already in the file come first (new ones have no reference yet), oldest first.
            survivors = sorted(matches.values(), key=lambda p: (p._state.adding, p.reference))
            person = survivors[0]
            for other in survivors[1:]:
                _merge_into(person, other, owners)
                replaced[other.pk] = person
            person.add_categories(scan_person.categories)
            person.detectors = sorted(set(person.detectors) | set(scan_person.detectors))
            person.label = person.label or scan_person.label[:200]
        if scan_person.identity:
            _add_identity(person, scan_person.identity)
        for key in scan_person.keys:
            owners.setdefault(key, person)
        resolved[scan_id] = person
    for scan_id, person in resolved.items():
        while person.pk in replaced:
            person = replaced[person.pk]
        resolved[scan_id] = person
    return resolved


def _add_identity(person: Person, found: dict) -> None:
    identity = crypto.decrypt(person.identity_token)
    for name, value in found.items():
        identity.setdefault(name, value)
    person.identity_token = crypto.encrypt(identity)
    if not person.address_token and identity.get("address"):
        person.address_token = crypto.encrypt({
            "lines": identity["address"],
            "postal_code": identity.get("postal_code", ""),
            "city": identity.get("city", ""),
        })
        person.address_source = Person.AddressSource.SCAN


def _merge_into(survivor: Person, other: Person, owners: dict) -> None:
    survivor.add_categories(other.categories)
    survivor.detectors = sorted(set(survivor.detectors) | set(other.detectors))
    if not survivor.address_token and other.address_token:
        survivor.address_token, survivor.address_source = other.address_token, other.address_source
    if other.identity_token:
        _add_identity(survivor, crypto.decrypt(other.identity_token))
    if other.status == Person.Status.INFORMED and survivor.status == Person.Status.TO_INFORM:
        survivor.status, survivor.informed_at = other.status, other.informed_at
        survivor.informed_how, survivor.informed_by = other.informed_how, other.informed_by
    for key, person in owners.items():
        if person.pk == other.pk:
            owners[key] = survivor
    if other._state.adding:
        return
    PersonKey.objects.filter(person=other).update(person=survivor)
    Sighting.objects.filter(person=other).update(person=survivor)
    LeakedRecord.objects.filter(person=other).update(person=survivor)
    other.delete()


def _save_keys(breach: Breach, batch: list[ScanPerson], resolved: dict[str, Person]) -> None:
    _in_batches(PersonKey, (
        PersonKey(breach=breach, person=resolved[scan_person.scan_id], key=key)
        for scan_person in batch
        for key in scan_person.keys
    ), ignore_conflicts=True)


def _in_batches(model, rows: Iterable, ignore_conflicts: bool = False) -> None:
    """bulk_create from a generator, BATCH rows at a time (bulk_create itself would make a list of them all)."""
    for chunk in batched(rows, BATCH):
        model.objects.bulk_create(chunk, batch_size=BATCH, ignore_conflicts=ignore_conflicts)


def _record(scan: ScanImport, person: Person | None, record_id: str, categories: list[str]) -> LeakedRecord:
    record = LeakedRecord(breach=scan.breach, perimeter=scan.perimeter, record_id=record_id, person=person)
    record.set_categories(categories)
    return record


def _sighting(scan: ScanImport, person: Person, scan_person) -> Sighting:
    sighting = Sighting(person=person, scan=scan, perimeter=scan.perimeter, scan_person_id=scan_person.scan_id,
                        records=scan_person.records, locations=scan_person.locations[:50])
    sighting.set_categories(scan_person.categories)
    return sighting
