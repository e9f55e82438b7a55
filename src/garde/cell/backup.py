"""Move the cell: one archive holds a whole crisis (database content and attachments) with a manifest
of hashes, so it can be carried to another machine and checked before anything is written there.
"""

import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

import garde
from garde.cell import journal
from garde.cell.models import (
    Action,
    Attachment,
    Crisis,
    Decision,
    LogEntry,
    Membership,
    Obligation,
    ObligationRule,
    SitRep,
    Stakeholder,
)
from garde.lib.hashing import sha256_bytes

FORMAT = "garde-backup/1"
MANIFEST = "manifest.json"
DATA = "data.json"
USERS = "users.json"
RULES = "rules.json"


class BackupError(Exception):
    """The archive cannot be restored; nothing was written."""


@dataclass(frozen=True)
class RestoreResult:
    crisis: Crisis
    objects: int
    files: int


def _crisis_objects(crisis: Crisis) -> list:
    objects = [crisis]
    objects += list(Membership.objects.filter(crisis=crisis))
    objects += list(LogEntry.objects.filter(crisis=crisis).order_by("seq"))
    objects += list(Attachment.objects.filter(entry__crisis=crisis))
    for model in (Decision, Action, SitRep, Obligation):
        objects += list(model.objects.filter(crisis=crisis))
    objects += list(Stakeholder.objects.all())
    return objects


def _users_of(crisis: Crisis) -> list[dict]:
    User = get_user_model()
    ids = set(Membership.objects.filter(crisis=crisis).values_list("user_id", flat=True))
    ids |= set(LogEntry.objects.filter(crisis=crisis, author__isnull=False).values_list("author_id", flat=True))
    for model, field in ((Decision, "recorded_by_id"), (Action, "owner_id"), (Obligation, "owner_id"),
                         (SitRep, "created_by_id"), (SitRep, "published_by_id")):
        ids |= set(model.objects.filter(crisis=crisis).exclude(**{field: None}).values_list(field, flat=True))
    return [
        {"username": u.username, "first_name": u.first_name, "last_name": u.last_name, "email": u.email}
        for u in User.objects.filter(pk__in=ids).order_by("username")
    ]


def write_backup(crisis: Crisis, path: Path) -> dict:
    """Write the archive and return its manifest."""
    members: dict[str, bytes] = {
        DATA: serializers.serialize(
            "json", _crisis_objects(crisis), use_natural_foreign_keys=True, indent=1
        ).encode(),
        USERS: json.dumps(_users_of(crisis), ensure_ascii=False, indent=1).encode(),
        RULES: json.dumps(
            list(ObligationRule.objects.values(*[f.name for f in ObligationRule._meta.fields if f.name != "id"])),
            ensure_ascii=False, indent=1,
        ).encode(),
    }
    for attachment in Attachment.objects.filter(entry__crisis=crisis):
        with attachment.file.open("rb") as stream:
            members[f"files/{attachment.sha256}"] = stream.read()
    manifest = {
        "format": FORMAT,
        "generator": f"Garde {garde.__version__}",
        "created_at": timezone.now().isoformat(),
        "crisis": {"id": str(crisis.id), "title": crisis.title},
        "log_last_hash": journal.verify(crisis).last_hash,
        "files": {name: {"sha256": sha256_bytes(data), "size": len(data)} for name, data in sorted(members.items())},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for name, data in [(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode()), *members.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(timezone.now().timestamp())
            info.mode = 0o600
            archive.addfile(info, io.BytesIO(data))
    path.chmod(0o600)
    return manifest


def read_backup(path: Path) -> tuple[dict, dict[str, bytes]]:
    """Read and check the whole archive in memory; raise BackupError with the reason if anything is off."""
    try:
        with tarfile.open(path, "r:*") as archive:
            contents = {}
            for info in archive:
                if not info.isfile():
                    raise BackupError(f"Unexpected entry in the archive: {info.name}.")
                contents[info.name] = archive.extractfile(info).read()
    except FileNotFoundError:
        raise BackupError(f"No such file: {path}.") from None
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"The archive is damaged or truncated ({exc}).") from None
    if MANIFEST not in contents:
        raise BackupError("The archive has no manifest.json: it was not written by garde backup.")
    try:
        manifest = json.loads(contents.pop(MANIFEST))
    except ValueError:
        raise BackupError("manifest.json is not valid JSON.") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r} (expected {FORMAT}).")
    expected = manifest.get("files", {})
    for name in sorted(set(expected) | set(contents)):
        if name not in contents:
            raise BackupError(f"{name} is listed in the manifest but missing from the archive.")
        if name not in expected:
            raise BackupError(f"{name} is in the archive but not in the manifest.")
        if sha256_bytes(contents[name]) != expected[name]["sha256"]:
            raise BackupError(f"{name} does not match its hash in the manifest: the archive was altered.")
    return manifest, contents


def restore_backup(path: Path) -> RestoreResult:
    manifest, contents = read_backup(path)
    crisis_id = manifest["crisis"]["id"]
    if Crisis.objects.filter(pk=crisis_id).exists():
        raise BackupError(f"The crisis “{manifest['crisis']['title']}” is already in this database.")
    with transaction.atomic():
        _ensure_users(json.loads(contents[USERS]))
        _ensure_rules(json.loads(contents[RULES]))
        count = 0
        for item in serializers.deserialize("json", contents[DATA], handle_forward_references=True):
            if isinstance(item.object, Stakeholder) and Stakeholder.objects.filter(pk=item.object.pk).exists():
                continue  # the directory of the target machine wins: it may be more recent
            item.save()
            count += 1
        files = [name for name in contents if name.startswith("files/")]
        for name in files:
            storage_name = f"attachments/{name.removeprefix('files/')}"
            if not default_storage.exists(storage_name):
                default_storage.save(storage_name, ContentFile(contents[name]))
        crisis = Crisis.objects.get(pk=crisis_id)
        report = journal.verify(crisis)
        if not report.ok or report.last_hash != manifest["log_last_hash"]:
            raise BackupError("The restored log does not verify; nothing was kept.")
    return RestoreResult(crisis, count, len(files))


def _ensure_users(users: list[dict]) -> None:
    User = get_user_model()
    for data in users:
        if not User.objects.filter(username=data["username"]).exists():
            user = User(**data)
            user.set_unusable_password()  # passwords never travel: an administrator sets new ones
            user.save()


def _ensure_rules(rules: list[dict]) -> None:
    for rule in rules:
        ObligationRule.objects.get_or_create(key=rule["key"], defaults=rule)
