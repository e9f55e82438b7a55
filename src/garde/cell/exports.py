"""The running log as a JSON document that can be verified later, on any machine, without Garde's database."""

from django.utils import timezone

import garde
from garde.cell import journal
from garde.cell.models import Crisis, LogEntry
from garde.lib.chain import GENESIS


def log_as_json(crisis: Crisis) -> dict:
    entries = (
        LogEntry.objects.filter(crisis=crisis).select_related("corrects").prefetch_related("attachments").order_by("seq")
    )
    report = journal.verify(crisis)
    return {
        "format": "garde-log/1",
        "generator": f"Garde {garde.__version__}",
        "exported_at": timezone.now().isoformat(),
        "crisis": {"id": str(crisis.id), "title": crisis.title, "t0": crisis.t0.isoformat()},
        "genesis": GENESIS,
        "verification": {
            "ok": report.ok,
            "entries_checked": report.checked,
            "first_break": report.first_break.message if report.first_break else None,
        },
        "how_to_verify": (
            "For each entry in order: sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of "
            '{"content": content, "prev": prev_hash} equals hash; prev_hash equals the previous hash '
            "(genesis for the first)."
        ),
        "entries": [
            {
                "content": journal.entry_content(e, [journal.attachment_content(a) for a in e.attachments.all()]),
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in entries
        ],
    }
