"""Background work of the breach file (django.tasks: the database backend in production)."""

from django.db.models import F
from django.tasks import task
from django.utils import timezone

from garde.breach import importer, letters
from garde.breach.models import LetterRun, ScanImport


@task
def import_scan(scan_import_id: str) -> str:
    scan = ScanImport.objects.select_related("breach__crisis", "perimeter", "created_by").get(
        pk=scan_import_id
    )
    if scan.status != ScanImport.Status.QUEUED:
        return scan.status  # a retried task never imports twice
    return importer.run(scan).status


@task
def make_letters(run_id: str) -> str:
    """The merged PDF, the ZIP of one PDF per person and the mailing CSV of a breach file's persons to inform."""
    run = LetterRun.objects.select_related("breach").get(pk=run_id)
    if run.status != LetterRun.Status.QUEUED:
        return run.status  # a retried task never writes twice
    LetterRun.objects.filter(pk=run.pk).update(status=LetterRun.Status.RUNNING, started_at=timezone.now())

    def progress(done: int, total: int) -> None:
        LetterRun.objects.filter(pk=run.pk).update(done=done, total=total)

    try:
        outcome = letters.generate(
            run.breach,
            letters.export_dir(run.breach),
            f"lettres-{run.breach.number}-{str(run.pk)[:8]}",
            language=run.language or None,
            progress=progress,
        )
    except Exception as error:  # any failure ends the run with its reason; nothing is offered
        LetterRun.objects.filter(pk=run.pk).update(
            status=LetterRun.Status.FAILED,
            finished_at=timezone.now(),
            error=f"{type(error).__name__}: {error}",
        )
        return LetterRun.Status.FAILED
    LetterRun.objects.filter(pk=run.pk).update(
        status=LetterRun.Status.DONE,
        finished_at=timezone.now(),
        done=F("total"),
        letters=outcome.letters,
        missing=outcome.missing,
        pdf_file=outcome.pdf.name,
        zip_file=outcome.zip.name,
        csv_file=outcome.csv.name,
    )
    return LetterRun.Status.DONE
