"""The running log (main courante): append-only, hash-chained, safe with many writers at once.

Every module writes to the log through `record`, never through LogEntry.objects.create, so that each
entry is numbered and chained under the same lock.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from garde.cell.models import Attachment, Crisis, LogEntry
from garde.lib.chain import GENESIS, ChainReport, Link, link_hash, verify_chain
from garde.lib.hashing import sha256_stream

# A retry only happens if two writers slipped past the lock (it should not); bounded so a stuck
# database reports an error instead of hanging a page.
WRITE_ATTEMPTS = 8


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int
    sha256: str
    storage_name: str


def _to_millisecond(moment: datetime) -> datetime:
    # JSON exports and backups carry times to the millisecond; a hash over finer times could not be
    # verified again after a round trip.
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def entry_content(entry: LogEntry, attachments: list[dict]) -> dict:
    """What an entry's hash covers: everything a reader relies on, in a form stable across databases."""
    return {
        "crisis": str(entry.crisis_id),
        "seq": entry.seq,
        "occurred_at": _utc(entry.occurred_at),
        "recorded_at": _utc(entry.recorded_at),
        "author": entry.author_name,
        "kind": entry.kind,
        "text": entry.text,
        "source": entry.source,
        "corrects": entry.corrects.seq if entry.corrects_id else None,
        "attachments": sorted(attachments, key=lambda a: (a["name"], a["sha256"])),
    }


def attachment_content(attachment) -> dict:
    return {"name": attachment.name, "size": attachment.size, "sha256": attachment.sha256}


def store_upload(upload) -> StoredFile:
    """Store an uploaded file under its SHA-256 (content-addressed, so a retry never duplicates it)."""
    upload.seek(0)
    digest = sha256_stream(upload)
    upload.seek(0)
    storage_name = f"attachments/{digest}"
    if not default_storage.exists(storage_name):
        storage_name = default_storage.save(storage_name, File(upload))
    return StoredFile(name=upload.name, size=upload.size, sha256=digest, storage_name=storage_name)


def record(
    crisis: Crisis,
    text: str,
    *,
    kind: str = LogEntry.Kind.INFORMATION,
    author=None,
    occurred_at: datetime | None = None,
    source: str = "",
    corrects: LogEntry | None = None,
    files: list[StoredFile] = (),
) -> LogEntry:
    """Append one entry to the crisis's log and return it."""
    for attempt in range(WRITE_ATTEMPTS):
        try:
            with transaction.atomic():
                return _append_locked(crisis, text, kind, author, occurred_at, source, corrects, files)
        except (IntegrityError, OperationalError):
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


def _append_locked(crisis, text, kind, author, occurred_at, source, corrects, files) -> LogEntry:
    # On PostgreSQL the row lock on the crisis queues writers; on SQLite the IMMEDIATE transaction
    # (settings) already holds the database write lock.
    Crisis.objects.select_for_update().filter(pk=crisis.pk).exists()
    last = LogEntry.objects.filter(crisis=crisis).order_by("-seq").values("seq", "hash").first()
    now = _to_millisecond(timezone.now())
    entry = LogEntry(
        crisis=crisis,
        seq=(last["seq"] + 1) if last else 1,
        occurred_at=_to_millisecond(occurred_at) if occurred_at else now,
        recorded_at=now,
        author=author,
        author_name=_display_name(author),
        kind=kind,
        text=text,
        source=source,
        corrects=corrects,
        prev_hash=last["hash"] if last else GENESIS,
    )
    attachments = [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in files]
    entry.hash = link_hash(entry_content(entry, attachments), entry.prev_hash)
    entry.save(force_insert=True)
    Attachment.objects.bulk_create(
        Attachment(entry=entry, file=f.storage_name, name=f.name, size=f.size, sha256=f.sha256) for f in files
    )
    return entry


def _display_name(user) -> str:
    if user is None:
        return "Garde"
    return user.get_full_name() or user.get_username()


def verify(crisis: Crisis) -> ChainReport:
    entries = (
        LogEntry.objects.filter(crisis=crisis)
        .select_related("corrects")
        .prefetch_related("attachments")
        .order_by("seq", "recorded_at")
    )
    return verify_chain(
        Link(e.seq, entry_content(e, [attachment_content(a) for a in e.attachments.all()]), e.prev_hash, e.hash)
        for e in entries.iterator(chunk_size=2000)
    )


def check_upload(upload) -> str | None:
    """Why an attachment is refused, or None when it is acceptable."""
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    allowed = settings.GARDE_ATTACHMENT_EXTENSIONS
    if extension not in allowed:
        return _("“%(name)s”: files of type .%(ext)s are not accepted (accepted: %(allowed)s).") % {
            "name": upload.name, "ext": extension or "?", "allowed": ", ".join(allowed),
        }
    limit = settings.GARDE_MAX_ATTACHMENT_BYTES
    if upload.size > limit:
        return _("“%(name)s” is %(size)s MB, over the limit of %(limit)s MB.") % {
            "name": upload.name, "size": round(upload.size / 1048576, 1), "limit": limit // 1048576,
        }
    return None
