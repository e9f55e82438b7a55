"""Re-integration into the main system once it is back: FHIR R4 transaction Bundle, CSV per register.

An export carries the records not exported yet, or changed since (a cancelled appointment, a merged
patient), and marks them exported in the same transaction: exports are incremental, and exporting twice
in a row gives nothing new. Each archive is kept byte for byte, so an export can be downloaded again.
The Bundle uses conditional updates keyed on Garde's identifiers, so loading it twice into the main
system does not create anything twice either.

The Bundle is validated with the `fhir.resources` R4B models (R4B is the 4.3 release of the R4 line; the
resources used here are the same in R4). Garde-specific data travels in extensions and identifier
systems named `urn:garde:...`: no URL, nothing to fetch.
"""

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from garde.cell import journal
from garde.cell.models import Crisis
from garde.frontdesk.models import (
    Appointment,
    CashDesk,
    DayClosing,
    ExportBatch,
    PaperDocument,
    Patient,
    Payment,
)
from garde.lib.hashing import sha256_bytes

DOWNTIME_ID = "urn:garde:downtime-id"
MAIN_SYSTEM_ID = "urn:garde:main-system-id"
APPOINTMENT_ID = "urn:garde:appointment"
DOCUMENT_ID = "urn:garde:document"
RECEIPT_ID = "urn:garde:receipt"
CHEQUE_ID = "urn:garde:cheque-number"
SHA256_ID = "urn:garde:sha256"
# Official OIDs of the French INS (NIR, NIA) and of the RPPS directory of health professionals.
INS_NIR_OID = "urn:oid:1.2.250.1.213.1.4.8"
INS_NIA_OID = "urn:oid:1.2.250.1.213.1.4.9"
RPPS_OID = "urn:oid:1.2.250.1.71.4.2.1"

GENDER = {"F": "female", "M": "male", "I": "unknown"}
REGISTERS = [("patients", Patient), ("appointments", Appointment), ("documents", PaperDocument),
             ("payments", Payment)]
# Spreadsheet programs run a cell starting with these as a formula: such text gets a leading quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class UnknownReference(Exception):
    pass


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _ext(name: str, **value) -> dict:
    return {"url": f"urn:garde:{name}", **value}


def _patient_ref(patient: Patient) -> dict:
    # A conditional reference: the patient may have been exported in an earlier Bundle.
    return {"reference": f"Patient?identifier={DOWNTIME_ID}|{patient.downtime_id}", "display": patient.downtime_id}


def _entry(resource: dict, key: str, system: str, value: str) -> dict:
    return {
        "fullUrl": f"urn:uuid:{key}",
        "resource": resource,
        "request": {"method": "PUT", "url": f"{resource['resourceType']}?identifier={system}|{value}"},
    }


def patient_resource(p: Patient) -> dict:
    identifiers = [{"use": "secondary", "system": DOWNTIME_ID, "value": p.downtime_id}]
    if p.ins:
        identifiers.append({"use": "official", "system": INS_NIA_OID if p.ins[0] in "78" else INS_NIR_OID,
                            "value": p.ins})
    if p.main_system_id:
        identifiers.append({"use": "usual", "system": MAIN_SYSTEM_ID, "value": p.main_system_id})
    names = [{"use": "official", "family": p.birth_name, "given": p.first_names.split()}]
    if p.used_name or p.used_first_name:
        names.append({"use": "usual", "family": p.used_name or p.birth_name,
                      "given": [p.used_first_name or p.first_names.split()[0]]})
    resource = {
        "resourceType": "Patient",
        "id": str(p.pk),
        "identifier": identifiers,
        "active": p.merged_into_id is None,
        "name": names,
        "gender": GENDER[p.sex],
        "birthDate": p.birth_date.isoformat(),
        "extension": [
            _ext("identity-status", valueCode=p.status),
            _ext("identity-document", valueCode=p.document_seen),
            _ext("downtime-site", valueString=p.site.code),
        ],
    }
    if p.birth_place_code:
        resource["extension"].append(_ext("birth-place-insee", valueString=p.birth_place_code))
    if p.phone:
        resource["telecom"] = [{"system": "phone", "value": p.phone}]
    if p.merged_into_id:
        resource["link"] = [{"other": _patient_ref(p.merged_into), "type": "replaced-by"}]
    return _entry(resource, str(p.pk), DOWNTIME_ID, p.downtime_id)


def appointment_resource(a: Appointment) -> dict:
    practitioner = {"display": a.practitioner.name}
    if a.practitioner.rpps:
        practitioner["identifier"] = {"system": RPPS_OID, "value": a.practitioner.rpps}
    resource = {
        "resourceType": "Appointment",
        "id": str(a.pk),
        "identifier": [{"system": APPOINTMENT_ID, "value": str(a)}],
        "status": "booked" if a.status == Appointment.Status.BOOKED else "cancelled",
        "specialty": [{"text": a.department.name}],
        "description": a.reason or None,
        "start": _instant(a.starts_at),
        "end": _instant(a.ends_at),
        "minutesDuration": a.duration,
        "created": a.created_at.date().isoformat(),
        "participant": [
            {"actor": _patient_ref(a.patient), "status": "accepted"},
            {"actor": practitioner, "status": "accepted"},
        ],
        "extension": [_ext("booking-channel", valueCode=a.channel)],
    }
    if a.status != Appointment.Status.BOOKED:
        moved_to = getattr(a, "moved_to", None) if a.status == Appointment.Status.MOVED else None
        reason = a.get_status_display() + (f" → {moved_to}" if moved_to else "")
        resource["cancelationReason"] = {"text": f"{reason}. {a.status_note}".strip(". ")}
    if a.moved_from_id:
        resource["comment"] = f"{a.moved_from}"
    return _entry({k: v for k, v in resource.items() if v is not None}, str(a.pk), APPOINTMENT_ID, str(a))


def document_resource(d: PaperDocument) -> dict:
    attachment = {"title": d.scan_name or d.get_kind_display(), "creation": d.document_date.isoformat()}
    identifiers = [{"system": DOCUMENT_ID, "value": str(d)}]
    if d.scan_sha256:
        attachment.update({"url": scan_path(d), "size": d.scan_size})
        identifiers.append({"system": SHA256_ID, "value": d.scan_sha256})
    description = _("Paper kept at: %(where)s") % {"where": d.location}
    resource = {
        "resourceType": "DocumentReference",
        "id": str(d.pk),
        "identifier": identifiers,
        "status": "current",
        "type": {"text": d.get_kind_display()},
        "subject": _patient_ref(d.patient),
        "date": _instant(d.received_at),
        "author": [{"display": d.issuer}],
        "description": f"{description}. {d.notes}".strip(". ") if d.notes else description,
        "content": [{"attachment": attachment}],
    }
    return _entry(resource, str(d.pk), DOCUMENT_ID, str(d))


def payment_resource(p: Payment) -> dict:
    detail = {"type": {"text": p.get_method_display()}, "amount": {"value": float(p.amount), "currency": "EUR"},
              "date": p.business_date.isoformat()}
    if p.reverses_id:
        detail["predecessor"] = {"system": RECEIPT_ID, "value": p.reverses.receipt}
    resource = {
        "resourceType": "PaymentReconciliation",
        "id": str(p.pk),
        "identifier": [{"system": RECEIPT_ID, "value": p.receipt}],
        "status": "active",
        "created": _instant(p.recorded_at),
        "paymentDate": p.business_date.isoformat(),
        "paymentAmount": {"value": float(p.amount), "currency": "EUR"},
        "outcome": "complete",
        "disposition": p.reason,
        "detail": [detail],
        "extension": [
            _ext("payer", valueReference=_patient_ref(p.patient)),
            _ext("payment-method", valueCode=p.method),
            _ext("cashier", valueString=p.cashier.get_full_name() or p.cashier.get_username()),
        ],
    }
    if p.cheque_number:
        resource["paymentIdentifier"] = {"system": CHEQUE_ID, "value": p.cheque_number}
        resource["extension"].append(_ext("cheque-bank", valueString=p.cheque_bank))
    return _entry(resource, str(p.pk), RECEIPT_ID, p.receipt)


def scan_path(document: PaperDocument) -> str:
    extension = document.scan_name.rsplit(".", 1)[-1].lower() if "." in document.scan_name else "bin"
    return f"scans/{document.scan_sha256}.{extension}"


def build_bundle(records: dict[str, list]) -> dict:
    builders = {"patients": patient_resource, "appointments": appointment_resource,
                "documents": document_resource, "payments": payment_resource}
    entries = [builders[name](record) for name, items in records.items() for record in items]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def validate_bundle(bundle: dict) -> None:
    """Raise pydantic's ValidationError if the Bundle is not valid FHIR (R4B models of fhir.resources)."""
    from fhir.resources.R4B.bundle import Bundle

    # Each entry's resource is validated by its own model: the Bundle model only checks the envelope.
    Bundle.model_validate(bundle)
    from fhir.resources.R4B import get_fhir_model_class

    for entry in bundle["entry"]:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    text = str(value)
    if text.startswith(FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv(header: list[str], rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    # A BOM so that spreadsheet programs in French offices read UTF-8 accents correctly.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _user(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


CSV_COLUMNS = {
    "patients": (
        ["downtime_id", "site", "birth_name", "first_names", "birth_date", "sex", "birth_place_insee", "used_name",
         "used_first_name", "identity_status", "document_seen", "ins", "phone", "merged_into", "created_at",
         "created_by", "main_system_id"],
        lambda p: [p.downtime_id, p.site.code, p.birth_name, p.first_names, p.birth_date, p.sex, p.birth_place_code,
                   p.used_name, p.used_first_name, p.status, p.document_seen, p.ins, p.phone,
                   p.merged_into.downtime_id if p.merged_into_id else "", p.created_at, _user(p.created_by),
                   p.main_system_id],
    ),
    "appointments": (
        ["reference", "patient", "department", "practitioner", "rpps", "starts_at", "duration_minutes", "reason",
         "channel", "status", "status_note", "moved_from", "created_at", "created_by", "main_system_id"],
        lambda a: [str(a), a.patient.downtime_id, a.department.name, a.practitioner.name, a.practitioner.rpps,
                   a.starts_at, a.duration, a.reason, a.channel, a.status, a.status_note,
                   str(a.moved_from) if a.moved_from_id else "", a.created_at, _user(a.created_by), a.main_system_id],
    ),
    "documents": (
        ["reference", "patient", "kind", "document_date", "issuer", "received_at", "received_by", "location",
         "notes", "scan", "scan_sha256", "main_system_id"],
        lambda d: [str(d), d.patient.downtime_id, d.kind, d.document_date, d.issuer, d.received_at,
                   _user(d.received_by), d.location, d.notes, scan_path(d) if d.scan_sha256 else "", d.scan_sha256,
                   d.main_system_id],
    ),
    "payments": (
        ["receipt", "cash_desk", "day", "patient", "amount_eur", "method", "cheque_number", "cheque_bank", "reason",
         "cashier", "recorded_at", "reverses", "main_system_id"],
        lambda p: [p.receipt, p.cash_desk.code, p.business_date, p.patient.downtime_id, p.amount, p.method,
                   p.cheque_number, p.cheque_bank, p.reason, _user(p.cashier), p.recorded_at,
                   p.reverses.receipt if p.reverses_id else "", p.main_system_id],
    ),
}
CLOSING_COLUMNS = ["cash_desk", "day", "ledger_cash", "counted_cash", "cash_discrepancy", "ledger_cheques",
                   "counted_cheques", "cheque_discrepancy", "ledger_cheque_count", "counted_cheque_count",
                   "first_receipt", "last_receipt", "comment", "signed_by", "signed_at"]


def register_csv(name: str, records) -> bytes:
    header, row = CSV_COLUMNS[name]
    return _csv(header, (row(r) for r in records))


def closings_csv(crisis: Crisis) -> bytes:
    closings = DayClosing.objects.filter(cash_desk__crisis=crisis).select_related("cash_desk").order_by(
        "cash_desk__code", "business_date")
    return _csv(CLOSING_COLUMNS, (
        [c.cash_desk.code, c.business_date, c.ledger_cash, c.counted_cash, c.cash_discrepancy, c.ledger_cheques,
         c.counted_cheques, c.cheque_discrepancy, c.ledger_cheque_count, c.counted_cheque_count, c.receipts_from,
         c.receipts_to, c.comment, c.signed_name, c.signed_at] for c in closings))


def _querysets(crisis: Crisis):
    return {
        "patients": Patient.objects.filter(crisis=crisis).select_related("site", "merged_into", "created_by")
        .order_by("downtime_id"),
        "appointments": Appointment.objects.filter(crisis=crisis)
        .select_related("patient", "department", "practitioner", "moved_from", "created_by", "moved_to")
        .order_by("reference"),
        "documents": PaperDocument.objects.filter(crisis=crisis).select_related("patient", "received_by")
        .order_by("reference"),
        "payments": Payment.objects.filter(crisis=crisis)
        .select_related("patient", "cash_desk", "cashier", "reverses__cash_desk").order_by("cash_desk__code", "receipt_number"),
    }


PENDING = Q(exported_at__isnull=True) | Q(changed_at__gt=F("exported_at"))


def pending_counts(crisis: Crisis) -> dict[str, int]:
    return {name: qs.filter(PENDING).count() for name, qs in _querysets(crisis).items()}


def export(crisis: Crisis, user=None, *, full: bool = False) -> ExportBatch | None:
    """Export what is new or changed (everything when `full`) as a new batch; None when nothing is pending."""
    with transaction.atomic():
        Crisis.objects.select_for_update().filter(pk=crisis.pk).exists()
        querysets = _querysets(crisis)
        records = {name: list(qs if full else qs.filter(PENDING)) for name, qs in querysets.items()}
        if not any(records.values()):
            return None
        number = (ExportBatch.objects.filter(crisis=crisis).aggregate(n=Max("number"))["n"] or 0) + 1
        now = timezone.now()
        bundle = build_bundle(records)
        validate_bundle(bundle)
        files = {"bundle.json": json.dumps(bundle, ensure_ascii=False, indent=1).encode()}
        for name, items in records.items():
            files[f"{name}.csv"] = register_csv(name, items)
        files["closings.csv"] = closings_csv(crisis)
        for document in records["documents"]:
            if document.scan_sha256:
                with default_storage.open(document.scan_file, "rb") as scan:
                    files[scan_path(document)] = scan.read()
        counts = {name: len(items) for name, items in records.items()}
        manifest = {
            "crisis": str(crisis.pk), "export": number, "full": full, "created_at": _instant(now),
            "counts": counts, "files": {name: sha256_bytes(data) for name, data in sorted(files.items())},
        }
        files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
        archive = _zip(files, now)
        digest = sha256_bytes(archive)
        storage_name = default_storage.save(f"frontdesk-exports/{crisis.pk}/{number:04d}-{digest}.zip",
                                            ContentFile(archive))
        batch = ExportBatch.objects.create(crisis=crisis, number=number, full=full, created_by=user, counts=counts,
                                           archive=storage_name, sha256=digest, size=len(archive))
        for name, qs in querysets.items():
            # UPDATE, not save(): changed_at keeps its value, so an exported record is not pending again.
            qs.model.objects.filter(pk__in=[r.pk for r in records[name]]).update(exported_at=now, export_batch=batch)
        total = sum(counts.values())
        journal.record(crisis, ngettext(
            "Front desk: export %(n)d for re-integration, %(count)d record (SHA-256 %(sha)s).",
            "Front desk: export %(n)d for re-integration, %(count)d records (SHA-256 %(sha)s).", total,
        ) % {"n": number, "count": total, "sha": digest}, author=user)
    return batch


def _zip(files: dict[str, bytes], moment: datetime) -> bytes:
    buffer = io.BytesIO()
    stamp = timezone.localtime(moment).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), files[name], zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def read_archive(batch: ExportBatch) -> bytes:
    with default_storage.open(batch.archive, "rb") as handle:
        return handle.read()


@dataclass(frozen=True)
class Marked:
    reference: str
    main_system_id: str
    record: object


def find_record(crisis: Crisis, reference: str):
    """A record of any register by the reference Garde printed on it: downtime id, RDV-n, DOC-n or receipt."""
    reference = reference.strip()
    upper = reference.upper()
    if upper.startswith(("RDV-", "DOC-")) and upper[4:].isdigit():
        model = Appointment if upper.startswith("RDV-") else PaperDocument
        found = model.objects.filter(crisis=crisis, reference=int(upper[4:])).first()
    elif "-" in reference and reference.rsplit("-", 1)[1].isdigit():
        code, number = reference.rsplit("-", 1)
        desk = CashDesk.objects.filter(crisis=crisis, code__iexact=code).first()
        found = desk and Payment.objects.filter(cash_desk=desk, receipt_number=int(number)).first()
    else:
        found = Patient.objects.filter(crisis=crisis, downtime_id=reference).first()
    if not found:
        raise UnknownReference(reference)
    return found


def mark_reentered(crisis: Crisis, pairs: list[tuple[str, str]], user) -> list[Marked]:
    """Record the main system's identifier of each record; all or nothing, and logged once."""
    with transaction.atomic():
        marked = []
        now = timezone.now()
        for reference, main_id in pairs:
            record = find_record(crisis, reference)
            type(record).objects.filter(pk=record.pk).update(main_system_id=main_id, reentered_at=now,
                                                             reentered_by=user)
            marked.append(Marked(reference, main_id, record))
        if marked:
            journal.record(crisis, ngettext(
                "Front desk: %(n)d record marked as re-entered in the main system.",
                "Front desk: %(n)d records marked as re-entered in the main system.", len(marked),
            ) % {"n": len(marked)}, author=user)
    return marked


def reentry_counts(crisis: Crisis) -> dict[str, tuple[int, int]]:
    """(re-entered, total) per register."""
    return {name: (qs.exclude(reentered_at=None).count(), qs.count()) for name, qs in _querysets(crisis).items()}
