"""Import of real scan folders: checked against the manifest, all or nothing, repeatable without duplicates."""

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from garde.breach import importer, notification
from garde.breach.models import LeakedRecord, Perimeter, Person, ScanImport, Sighting
from garde.breach.scanfolder import FILES
from garde.cell.models import LogEntry, Obligation


def run_import(breach, folder, user, perimeter="Cardiologie") -> ScanImport:
    place, _created = Perimeter.objects.get_or_create(breach=breach, name=perimeter)
    scan = ScanImport.objects.create(breach=breach, perimeter=place, folder=str(folder), created_by=user)
    return importer.run(scan)


def summary(folder):
    return json.loads((folder / "summary.json").read_text())


def test_it_imports_an_uploaded_scan_as_a_task(as_role, crisis, breach, scans):
    client = as_role("dpo")
    uploads = [SimpleUploadedFile(name, (scans["first"] / name).read_bytes()) for name in FILES]
    response = client.post(reverse("breach:import", args=[crisis.pk, breach.pk]),
                           {"perimeter": "Cardiologie", "files": uploads, "path": ""})
    scan = ScanImport.objects.get(breach=breach)
    assert response.status_code == 302 and str(scan.pk) in response["Location"]
    assert scan.status == ScanImport.Status.DONE, scan.error
    assert scan.progress == 100
    assert not Path(scan.folder).exists()  # the uploaded copy, with its clear values, is gone
    page = client.get(response["Location"]).content.decode()
    assert "100" in page and "Cardiologie" in page


def test_it_counts_what_the_scan_summary_says(crisis, breach, users, scans):
    scan = run_import(breach, scans["first"], users["dpo"])
    expected = summary(scans["first"])
    assert scan.status == ScanImport.Status.DONE, scan.error
    assert Person.objects.filter(breach=breach).count() == expected["persons"]["best"]
    assert LeakedRecord.objects.filter(breach=breach).count() == expected["records"]["with_findings"]
    for category, counts in expected["categories"].items():
        assert Person.objects.filter(breach=breach, **{category: True}).count() == counts["persons"], category


def test_it_fills_the_cnil_draft_with_the_scan_counts(crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    expected = summary(scans["first"])
    notification.fill(breach, users["dpo"])
    draft = Obligation.objects.get(crisis=crisis, rule__key="cnil-initial").draft
    assert f"Environ {expected['persons']['best']} personnes" in draft["person_count"]
    assert f"Environ {expected['records']['with_findings']} enregistrements" in draft["record_count"]
    assert "données de santé" in draft["record_categories"]
    assert "Cardiologie" in draft["nature"]


def test_it_merges_a_person_seen_in_two_scans(crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"], "Cardiologie")
    second = run_import(breach, scans["second"], users["dpo"], "Paie")
    assert second.status == ScanImport.Status.DONE, second.error
    persons_in_second = summary(scans["second"])["persons"]["best"]
    # Jean Dupont (HL7 message) and his wife (next of kin) were already in the file; Sophie Bertrand is new.
    assert second.persons_new == 1
    assert second.persons_merged == persons_in_second - 1
    assert Person.objects.filter(breach=breach).count() == summary(scans["first"])["persons"]["best"] + 1
    dupont = Sighting.objects.filter(scan=second, records__gt=0, national_identifier=True).get().person
    assert set(dupont.sightings.values_list("perimeter__name", flat=True)) == {"Cardiologie", "Paie"}
    assert Person.objects.get(breach=breach, financial=True).identity_token


def test_it_refuses_the_same_scan_twice(crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    again = run_import(breach, scans["first"], users["dpo"])
    assert again.status == ScanImport.Status.REFUSED
    assert "already imported" in again.error
    assert Person.objects.filter(breach=breach).count() == summary(scans["first"])["persons"]["best"]


def test_it_merges_scans_without_clear_values_on_their_keyed_hashes(crisis, breach, users, scans):
    run_import(breach, scans["masked"], users["dpo"])
    run_import(breach, scans["second"], users["dpo"], "Paie")
    assert Person.objects.filter(breach=breach).count() == summary(scans["first"])["persons"]["best"] + 1


def _rehash(folder, name):
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["outputs"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _missing(folder):
    (folder / "persons.parquet").unlink()


def _wrong_hash(folder):
    table = pq.read_table(folder / "records.parquet")
    pq.write_table(table.slice(0, 1), folder / "records.parquet")


def _unknown_version(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["format_version"] = 2
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _truncated(folder):
    data = (folder / "findings.parquet").read_bytes()
    (folder / "findings.parquet").write_bytes(data[: len(data) // 2])
    _rehash(folder, "findings.parquet")  # even with a matching hash, a cut file is refused


@pytest.mark.parametrize("damage, reason", [
    (_missing, "persons.parquet is missing"),
    (_wrong_hash, "records.parquet does not match the SHA-256"),
    (_unknown_version, "Unknown scan format version 2"),
    (_truncated, "findings.parquet is not a readable Parquet file"),
])
def test_it_refuses_a_damaged_scan_and_imports_nothing(damage, reason, crisis, breach, users, scan_copy):
    folder = scan_copy()
    damage(folder)
    scan = run_import(breach, folder, users["dpo"])
    assert scan.status == ScanImport.Status.REFUSED
    assert reason in scan.error
    assert not Person.objects.filter(breach=breach).exists()
    assert not LeakedRecord.objects.filter(breach=breach).exists()
    assert LogEntry.objects.filter(crisis=crisis, text__contains=reason).exists()


def test_it_refuses_a_revealed_scan_without_the_breach_key(crisis, breach, users, scans, monkeypatch):
    monkeypatch.delenv("GARDE_BREACH_KEY")
    scan = run_import(breach, scans["first"], users["dpo"])
    assert scan.status == ScanImport.Status.REFUSED
    assert "GARDE_BREACH_KEY" in scan.error
    assert not Person.objects.filter(breach=breach).exists()


def test_it_reads_a_folder_on_the_server_only_under_the_scans_directory(as_role, crisis, breach, scans, settings, tmp_path):
    import os
    import shutil

    root = tmp_path / "server-scans"
    shutil.copytree(scans["first"], root / "cardio")
    client = as_role("dpo")
    url = reverse("breach:import", args=[crisis.pk, breach.pk])
    refused = client.post(url, {"perimeter": "Cardiologie", "path": "../../etc"})
    assert refused.status_code == 200 and not ScanImport.objects.exists()
    assert os.path.isdir(root / "cardio")
    client.post(url, {"perimeter": "Cardiologie", "path": "cardio"})
    assert ScanImport.objects.get().status == ScanImport.Status.DONE


def test_it_gives_the_same_file_when_read_a_few_persons_at_a_time(crisis, breach, users, scans, monkeypatch):
    # Batches of four persons: persons met in an earlier batch of the same scan, and in an earlier scan, are
    # found again in the database, exactly as when the whole scan fits in one batch.
    monkeypatch.setattr(importer, "BATCH", 4)
    first = run_import(breach, scans["first"], users["dpo"])
    second = run_import(breach, scans["second"], users["dpo"], "Paie")
    assert first.status == second.status == ScanImport.Status.DONE, (first.error, second.error)
    expected = summary(scans["first"])
    assert first.persons_new == expected["persons"]["best"] and first.persons_merged == 0
    assert second.persons_new == 1 and second.persons_merged == summary(scans["second"])["persons"]["best"] - 1
    assert Person.objects.filter(breach=breach).count() == expected["persons"]["best"] + 1
    assert first.records_new == expected["records"]["with_findings"]
    owners = pq.read_table(scans["first"] / "records.parquet", columns=["person_id"]).column("person_id")
    linked = LeakedRecord.objects.filter(breach=breach, perimeter__name="Cardiologie", person__isnull=False)
    assert linked.count() == len(owners) - owners.null_count


def test_it_says_when_memory_is_too_short_to_sort_the_scan_and_imports_nothing(crisis, breach, users, scans, monkeypatch):
    from garde.breach import scanfolder

    monkeypatch.setattr(scanfolder, "DUCKDB_MEMORY", "1KB")
    scan = run_import(breach, scans["first"], users["dpo"])
    assert scan.status == ScanImport.Status.REFUSED
    assert "Not enough memory to sort" in scan.error
    assert "not a readable Parquet file" not in scan.error
    assert not Person.objects.filter(breach=breach).exists()
