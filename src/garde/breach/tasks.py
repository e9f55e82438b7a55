"""Background work of the breach file (django.tasks: the database backend in production)."""

from django.tasks import task

from garde.breach import importer
from garde.breach.models import ScanImport


@task
def import_scan(scan_import_id: str) -> str:
    scan = ScanImport.objects.select_related("breach__crisis", "perimeter", "created_by").get(pk=scan_import_id)
    if scan.status != ScanImport.Status.QUEUED:
        return scan.status  # a retried task never imports twice
    return importer.run(scan).status
