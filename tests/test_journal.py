"""The running log on the database: numbering, chaining, tamper detection and concurrent writers."""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections

from garde.cell import journal
from garde.cell.models import ImmutableError, LogEntry


def test_it_numbers_and_chains_entries(crisis):
    first = LogEntry.objects.get(crisis=crisis, seq=1)
    entry = journal.record(crisis, "Postes chiffrés aux urgences", kind="fact")
    previous = LogEntry.objects.get(crisis=crisis, seq=entry.seq - 1)
    assert first.prev_hash == "0" * 64
    assert entry.prev_hash == previous.hash
    assert journal.verify(crisis).ok


def test_it_refuses_to_change_or_delete_an_entry(crisis):
    entry = journal.record(crisis, "texte")
    entry.text = "autre"
    with pytest.raises(ImmutableError):
        entry.save()
    with pytest.raises(ImmutableError):
        entry.delete()


def test_it_detects_an_entry_altered_in_the_database(crisis):
    journal.record(crisis, "Lien Internet coupé à 14 h 25")
    target = journal.record(crisis, "Appel au CERT Santé")
    journal.record(crisis, "Message aux équipes")
    LogEntry.objects.filter(pk=target.pk).update(text="Appel au CERT Santé à 18 h")
    report = journal.verify(crisis)
    assert not report.ok
    assert report.first_break.seq == target.seq and report.first_break.problem == "altered"


def test_it_detects_an_entry_removed_from_the_database(crisis):
    target = journal.record(crisis, "b")
    journal.record(crisis, "c")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cell_logentry WHERE id = %s", [target.pk.hex if connection.vendor == "sqlite" else str(target.pk)])
    report = journal.verify(crisis)
    assert (report.first_break.seq, report.first_break.problem) == (target.seq, "removed")


def test_it_detects_an_altered_attachment_record(crisis):
    stored = journal.store_upload(SimpleUploadedFile("capture.png", b"\x89PNG fake"))
    entry = journal.record(crisis, "capture d'écran", files=[stored])
    entry.attachments.update(sha256="0" * 64)
    assert journal.verify(crisis).first_break.seq == entry.seq


def test_it_links_a_correction_to_the_corrected_entry(crisis):
    wrong = journal.record(crisis, "Coupure à 14 h 25")
    fix = journal.record(crisis, "Coupure à 14 h 20", corrects=wrong)
    assert list(wrong.corrections.all()) == [fix]
    assert journal.verify(crisis).ok


@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_chain_with_ten_concurrent_writers(cast):
    crisis, users = cast
    before = LogEntry.objects.filter(crisis=crisis).count()
    barrier = threading.Barrier(10)
    failures = []

    def write(n):
        try:
            barrier.wait()
            for i in range(5):
                journal.record(crisis, f"writer {n} entry {i}", author=users["scribe"])
        except Exception as exc:  # collected and asserted below: a thread's exception is otherwise lost
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    seqs = list(LogEntry.objects.filter(crisis=crisis).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, before + 51))
    report = journal.verify(crisis)
    assert report.ok and report.checked == before + 50
