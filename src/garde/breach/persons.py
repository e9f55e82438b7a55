"""Changes to the persons to inform, each traced: the running log names the person's reference, never a
name; the access log says who did it and why."""

import csv
import io

from django.db import transaction
from django.utils.translation import gettext as _

from garde.accounts.models import record_access
from garde.breach import crypto
from garde.breach.models import Breach, Person, PersonKey
from garde.breach.scanfolder import name_birth_text, normalise
from garde.cell import journal


def _log(person: Person, text: str, user) -> None:
    journal.record(person.breach.crisis, _("Breach file %(n)d, person %(ref)s: %(what)s")
                   % {"n": person.breach.number, "ref": person.reference, "what": text}, author=user)


@transaction.atomic
def set_address(person: Person, address: dict, language: str, user, reason: str) -> None:
    person.address_token = crypto.encrypt(address)
    person.address_source = Person.AddressSource.MANUAL
    person.language = language
    person.save(update_fields=["address_token", "address_source", "language"])
    record_access(user, "breach_address_set", f"breach {person.breach.number} {person.reference}", reason)
    _log(person, _("postal address entered."), user)


@transaction.atomic
def remove_address(person: Person, user, reason: str) -> None:
    person.address_token = ""
    person.address_source = Person.AddressSource.NONE
    person.save(update_fields=["address_token", "address_source"])
    record_access(user, "breach_address_removed", f"breach {person.breach.number} {person.reference}", reason)
    _log(person, _("postal address removed — %(why)s") % {"why": reason}, user)


@transaction.atomic
def remove(person: Person, user, reason: str) -> None:
    person.status = Person.Status.REMOVED
    person.removed_reason = reason
    person.save(update_fields=["status", "removed_reason"])
    _log(person, _("removed from the persons to inform — %(why)s") % {"why": reason}, user)


@transaction.atomic
def restore(person: Person, user) -> None:
    person.status = Person.Status.INFORMED if person.informed_at else Person.Status.TO_INFORM
    person.removed_reason = ""
    person.save(update_fields=["status", "removed_reason"])
    _log(person, _("back among the persons to inform."), user)


@transaction.atomic
def mark_informed(persons, informed_at, how: str, user) -> int:
    """Record that persons were informed (letters posted, calls made); returns how many."""
    ids = [p.pk for p in persons if p.status == Person.Status.TO_INFORM]
    if not ids:
        return 0
    breach = persons[0].breach
    Person.objects.filter(pk__in=ids).update(status=Person.Status.INFORMED, informed_at=informed_at,
                                             informed_how=how, informed_by=user)
    journal.record(breach.crisis, _("Breach file %(n)d: %(count)d persons informed (%(how)s).")
                   % {"n": breach.number, "count": len(ids), "how": Person.Channel(how).label}, author=user)
    return len(ids)


HEADERS = {
    "ipp": ("ipp",), "nir": ("nir", "ins", "numero_secu", "nss"),
    "last_name": ("nom", "last_name", "nom_naissance"), "first_name": ("prenom", "first_name", "prenoms"),
    "birth_date": ("date_naissance", "birth_date", "ddn"), "address": ("adresse", "address"),
    "postal_code": ("code_postal", "postal_code", "cp"), "city": ("ville", "city", "commune"),
}


class PatientFileError(Exception):
    pass


def _rows(content: bytes) -> list[dict]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252")
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,\t") if text.strip() else csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    columns = {}
    for header in reader.fieldnames or []:
        key = header.strip().lower().replace("é", "e").replace(" ", "_")
        for name, accepted in HEADERS.items():
            if key in accepted:
                columns[name] = header
    if "address" not in columns or not ({"ipp", "nir"} & set(columns) or {"last_name", "first_name", "birth_date"} <= set(columns)):
        raise PatientFileError(_(
            "The CSV needs an address column and either ipp, nir, or nom + prenom + date_naissance columns."
        ))
    return [{name: (row.get(header) or "").strip() for name, header in columns.items()} for row in reader]


def _keys(row: dict, index) -> list[str]:
    keys = []
    for name in ("nir", "ipp"):
        normalised = normalise(name, row.get(name))
        if normalised:
            keys.append(index(name, normalised))
    birth = normalise("birth_date", row.get("birth_date"))
    last, first = normalise("last_name", row.get("last_name")), normalise("first_name", row.get("first_name"))
    if birth and last and first:
        keys.append(index("name_birth", name_birth_text(f"{last} {first}", birth)))
    return keys


@transaction.atomic
def import_patient_file(breach: Breach, content: bytes, user, reason: str) -> tuple[int, int]:
    """Give an address to the persons a patient file identifies (blind index on NIR, IPP, name + birth
    date); an address typed by hand is kept. Returns (persons given an address, rows matching nobody)."""
    index = crypto.BlindIndex()
    rows = _rows(content)
    matched, unmatched = 0, 0
    for row in rows:
        keys = _keys(row, index)
        owner = PersonKey.objects.filter(breach=breach, key__in=keys).select_related("person").first() if keys else None
        if owner is None:
            unmatched += 1
            continue
        person = owner.person
        if person.address_source == Person.AddressSource.MANUAL:
            continue
        name = f"{row.get('first_name', '')} {row.get('last_name', '').upper()}".strip()
        person.address_token = crypto.encrypt({"name": name, "lines": row["address"],
                                               "postal_code": row.get("postal_code", ""), "city": row.get("city", "")})
        person.address_source = Person.AddressSource.CSV
        person.save(update_fields=["address_token", "address_source"])
        matched += 1
    record_access(user, "breach_patient_file", f"breach {breach.number}: {len(rows)} rows", reason)
    journal.record(breach.crisis, _("Breach file %(n)d: patient file read — %(matched)d addresses added, "
                                    "%(unmatched)d rows matching no person.")
                   % {"n": breach.number, "matched": matched, "unmatched": unmatched}, author=user)
    return matched, unmatched
