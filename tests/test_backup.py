"""Move the cell: backup and restore round-trip, and archives refused before anything is written."""

import io
import json
import tarfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from garde.cell import journal, services
from garde.cell.backup import BackupError, restore_backup, write_backup
from garde.cell.models import Action, Attachment, Crisis, Decision, LogEntry, Obligation, SitRep


@pytest.fixture
def busy_crisis(crisis, users):
    stored = journal.store_upload(SimpleUploadedFile("note.pdf", b"%PDF-1.4 rancon"))
    journal.record(crisis, "Capture de la note", author=users["scribe"], files=[stored])
    services.record_decision(Decision(crisis=crisis, title="Isoler", decided_by="Directrice"), users["director"])
    services.create_first_hour_checklist(crisis, users["coordinator"])
    services.publish_sitrep(SitRep.objects.create(crisis=crisis, situation="Point 1"), users["director"])
    return crisis


def counts(crisis_id):
    return {
        "log": LogEntry.objects.filter(crisis_id=crisis_id).count(),
        "attachments": Attachment.objects.filter(entry__crisis_id=crisis_id).count(),
        "decisions": Decision.objects.filter(crisis_id=crisis_id).count(),
        "actions": Action.objects.filter(crisis_id=crisis_id).count(),
        "sitreps": SitRep.objects.filter(crisis_id=crisis_id).count(),
        "obligations": Obligation.objects.filter(crisis_id=crisis_id).count(),
    }


def wipe(crisis):
    # Log entries refuse deletion through the ORM; a restore target is another database, emulated here.
    Attachment.objects.filter(entry__crisis=crisis).delete()
    LogEntry.objects.filter(crisis=crisis).update(corrects=None)
    LogEntry.objects.filter(crisis=crisis)._raw_delete(LogEntry.objects.db)
    Crisis.objects.filter(pk=crisis.pk).delete()


def test_it_restores_a_crisis_with_nothing_lost(busy_crisis, tmp_path, settings):
    archive = tmp_path / "crise.tar.gz"
    manifest = write_backup(busy_crisis, archive)
    before = counts(busy_crisis.pk)
    last_hash = journal.verify(busy_crisis).last_hash
    attachment_sha = Attachment.objects.get(entry__crisis=busy_crisis).sha256
    wipe(busy_crisis)
    (settings.MEDIA_ROOT / "attachments" / attachment_sha).unlink()
    result = restore_backup(archive)
    assert result.crisis.pk == busy_crisis.pk
    assert counts(busy_crisis.pk) == before
    assert journal.verify(result.crisis).ok and journal.verify(result.crisis).last_hash == last_hash
    restored = Attachment.objects.get(entry__crisis=busy_crisis)
    assert restored.file.open("rb").read() == b"%PDF-1.4 rancon"
    assert manifest["log_last_hash"] == last_hash
    assert oct(archive.stat().st_mode)[-3:] == "600"


def test_it_refuses_to_restore_a_crisis_already_present(busy_crisis, tmp_path):
    write_backup(busy_crisis, tmp_path / "a.tar.gz")
    with pytest.raises(BackupError, match="already"):
        restore_backup(tmp_path / "a.tar.gz")


def test_it_refuses_a_truncated_archive_before_writing(busy_crisis, tmp_path):
    archive = tmp_path / "a.tar.gz"
    write_backup(busy_crisis, archive)
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    wipe(busy_crisis)
    with pytest.raises(BackupError, match="damaged or truncated"):
        restore_backup(archive)
    assert not Crisis.objects.filter(pk=busy_crisis.pk).exists()


def rewrite(archive, change):
    with tarfile.open(archive, "r:gz") as source:
        members = {m.name: source.extractfile(m).read() for m in source}
    change(members)
    with tarfile.open(archive, "w:gz") as target:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))


def test_it_refuses_an_archive_whose_hashes_do_not_match(busy_crisis, tmp_path):
    archive = tmp_path / "a.tar.gz"
    write_backup(busy_crisis, archive)

    def tamper(members):
        data = json.loads(members["data.json"])
        for item in data:
            if item["model"] == "cell.logentry":
                item["fields"]["text"] = "réécrit"
        members["data.json"] = json.dumps(data).encode()

    rewrite(archive, tamper)
    wipe(busy_crisis)
    with pytest.raises(BackupError, match="data.json does not match its hash"):
        restore_backup(archive)
    assert not Crisis.objects.filter(pk=busy_crisis.pk).exists()


def test_it_refuses_an_archive_with_a_missing_file(busy_crisis, tmp_path):
    archive = tmp_path / "a.tar.gz"
    write_backup(busy_crisis, archive)
    rewrite(archive, lambda members: members.pop("users.json"))
    with pytest.raises(BackupError, match="users.json is listed in the manifest but missing"):
        restore_backup(archive)


def test_it_refuses_a_file_that_is_not_a_backup(tmp_path, db):
    path = tmp_path / "notes.txt"
    path.write_text("bonjour")
    with pytest.raises(BackupError):
        restore_backup(path)
