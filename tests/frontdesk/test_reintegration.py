"""Export for re-integration: a valid FHIR Bundle, CSV per register, incremental and idempotent."""

import csv
import io
import json
import zipfile
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from typer.testing import CliRunner

from garde.frontdesk import booking, cashdesk, documents, patients, reintegration
from garde.frontdesk.models import Appointment, PaperDocument, Patient, Payment

from .conftest import tomorrow_at


@pytest.fixture
def day_of_work(crisis, desk, agent, make_patient, pay):
    marie = make_patient(ins="270031234567807", phone="02 99 00 00 00")
    paul = make_patient("Martin", "Paul", birth_date=date(1958, 6, 1), sex="M")
    appointment = booking.book(Appointment(crisis=crisis, patient=marie, department=desk["cardio"],
                                           practitioner=desk["dr_house"], starts_at=tomorrow_at(9)), agent)
    documents.receive(PaperDocument(crisis=crisis, patient=marie, kind="result", document_date=date(2024, 1, 5),
                                    issuer="Labo", location="Classeur A"), agent,
                      scan=SimpleUploadedFile("nfs.png", b"\x89PNG scan"))
    cheque = pay(paul, "60.00", Payment.Method.CHEQUE, cheque_number="12", cheque_bank="Banque")
    cashdesk.reverse(cheque, agent, "erreur")
    return {"marie": marie, "paul": paul, "appointment": appointment}


def unzip(batch) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(reintegration.read_archive(batch))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_it_exports_a_valid_fhir_transaction_bundle(crisis, users, day_of_work):
    from fhir.resources.R4B.bundle import Bundle

    batch = reintegration.export(crisis, users["director"])
    files = unzip(batch)
    bundle = Bundle.model_validate_json(files["bundle.json"])
    kinds = sorted(e.resource.get_resource_type() for e in bundle.entry)
    assert kinds == ["Appointment", "DocumentReference", "Patient", "Patient", "PaymentReconciliation",
                     "PaymentReconciliation"]
    assert bundle.type == "transaction"
    patient = next(e for e in bundle.entry if e.resource.get_resource_type() == "Patient")
    assert patient.request.method == "PUT" and "urn:garde:downtime-id|99100" in patient.request.url
    assert batch.counts == {"patients": 2, "appointments": 1, "documents": 1, "payments": 2}
    manifest = json.loads(files["manifest.json"])
    assert all(name in files for name in manifest["files"])
    assert any(name.startswith("scans/") for name in files)


def test_it_writes_one_csv_per_register(crisis, day_of_work):
    files = unzip(reintegration.export(crisis))
    rows = list(csv.DictReader(io.StringIO(files["patients.csv"].decode("utf-8-sig")), delimiter=";"))
    assert [r["birth_name"] for r in rows] == ["Dupont", "Martin"]
    payments = list(csv.DictReader(io.StringIO(files["payments.csv"].decode("utf-8-sig")), delimiter=";"))
    assert [p["amount_eur"] for p in payments] == ["60.00", "-60.00"] and payments[1]["reverses"] == "C1-000001"
    assert {"appointments.csv", "documents.csv", "closings.csv"} <= set(files)


def test_it_exports_each_record_once_and_again_when_it_changes(crisis, agent, day_of_work):
    first = reintegration.export(crisis)
    assert reintegration.export(crisis) is None
    booking.cancel(day_of_work["appointment"], agent, "annulé")
    second = reintegration.export(crisis)
    assert second.number == 2 and second.counts == {"patients": 0, "appointments": 1, "documents": 0, "payments": 0}
    full = reintegration.export(crisis, full=True)
    assert full.counts == first.counts
    assert reintegration.read_archive(first) == reintegration.read_archive(first)


def test_it_exports_a_merge_as_a_replaced_by_link(crisis, agent, day_of_work):
    reintegration.export(crisis)
    duplicate = patients.create_patient(Patient(crisis=crisis, site=day_of_work["marie"].site, birth_name="Marie",
                                                first_names="Dupont", birth_date=date(1970, 3, 12), sex="F"),
                                        agent, confirmed_new=True)
    patients.merge(crisis, day_of_work["marie"], duplicate, agent)
    bundle = json.loads(unzip(reintegration.export(crisis))["bundle.json"])
    merged = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == str(duplicate.pk))
    assert merged["active"] is False and merged["link"][0]["type"] == "replaced-by"


def test_it_marks_records_as_re_entered(crisis, agent, day_of_work):
    marked = reintegration.mark_reentered(crisis, [(day_of_work["marie"].downtime_id, "IPP778899"),
                                                   ("RDV-1", "RV5566"), ("C1-000001", "FACT-1")], agent)
    assert len(marked) == 3
    marie = Patient.objects.get(pk=day_of_work["marie"].pk)
    assert marie.main_system_id == "IPP778899" and marie.reentered_by == agent
    assert Payment.objects.get(receipt_number=1).main_system_id == "FACT-1"
    with pytest.raises(reintegration.UnknownReference):
        reintegration.mark_reentered(crisis, [("RDV-1", "X"), ("RDV-99", "Y")], agent)
    assert Appointment.objects.get(reference=1).main_system_id == "RV5566"


def test_it_exports_from_the_command_line(crisis, day_of_work, tmp_path):
    from garde.frontdesk.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["export", str(crisis.pk), "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = tmp_path / "garde-frontdesk-export-0001.zip"
    assert zipfile.ZipFile(written).read("bundle.json")
    assert "Nothing new" in runner.invoke(app, ["export", str(crisis.pk), "-o", str(tmp_path)]).output
    again = runner.invoke(app, ["export", str(crisis.pk), "-o", str(tmp_path / ".."), "--again", "1"])
    assert again.exit_code == 0 and (tmp_path.parent / written.name).read_bytes() == written.read_bytes()
