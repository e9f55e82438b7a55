"""Paper documents brought in by patients, with an optional scan stored under its SHA-256."""

from django.db import transaction

from garde.cell import journal
from garde.cell.models import Crisis
from garde.frontdesk.booking import next_reference
from garde.frontdesk.models import PaperDocument


def receive(document: PaperDocument, user, scan=None) -> PaperDocument:
    with transaction.atomic():
        Crisis.objects.select_for_update().filter(pk=document.crisis_id).exists()
        if scan is not None:
            # The same content-addressed store as the running log's attachments: a retry never duplicates.
            stored = journal.store_upload(scan)
            document.scan_name, document.scan_file = stored.name, stored.storage_name
            document.scan_size, document.scan_sha256 = stored.size, stored.sha256
        document.reference = next_reference(PaperDocument, document.crisis)
        document.received_by = user
        document.save(force_insert=True)
    return document
