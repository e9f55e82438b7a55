"""Encryption of the clear values a letter needs, with a key that lives outside the database.

The key comes from GARDE_BREACH_KEY or from the file named by GARDE_BREACH_KEY_FILE (a passphrase of at
least 32 characters, e.g. `python -c "import secrets; print(secrets.token_urlsafe(32))"`); when neither is
set, from `<data dir>/breach.key` if that file exists (the demo writes one there: production keeps its key
outside the data directory, see docs/deploy.md). It is read at each use, never stored in the database: a stolen database or backup reveals no name and no address. Two keys are derived
from it, one to encrypt (Fernet: AES-128-CBC + HMAC-SHA256) and one for the blind index that lets a
patient file be matched against the persons without decrypting them.
"""

import base64
import hashlib
import hmac
import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.translation import gettext as _

MIN_KEY_LENGTH = 32
DATA_DIR_KEY = "breach.key"


class BreachKeyError(Exception):
    """The breach key is missing, unreadable, too short, or not the one the data was encrypted with."""


def data_dir_key_file() -> Path:
    """The key file used when neither variable is set: the demo's, inside the data directory."""
    return Path(settings.DATA_DIR) / DATA_DIR_KEY


def _secret() -> bytes:
    value = os.environ.get("GARDE_BREACH_KEY", "").strip()
    file_name = os.environ.get("GARDE_BREACH_KEY_FILE", "").strip()
    if not value and not file_name and data_dir_key_file().is_file():
        file_name = str(data_dir_key_file())
    if not value and file_name:
        try:
            value = Path(file_name).read_text().strip()
        except OSError as exc:
            raise BreachKeyError(
                _("GARDE_BREACH_KEY_FILE: cannot read %(path)s (%(why)s).") % {"path": file_name, "why": exc.strerror}
            ) from None
    if not value:
        raise BreachKeyError(_(
            "The breach key is not set: set GARDE_BREACH_KEY, or GARDE_BREACH_KEY_FILE to a file holding it, "
            "and restart Garde (and its task worker)."
        ))
    if len(value) < MIN_KEY_LENGTH:
        raise BreachKeyError(_("The breach key must be at least %(n)d characters long.") % {"n": MIN_KEY_LENGTH})
    return value.encode()


def _derive(purpose: str) -> bytes:
    return hashlib.sha256(f"garde-breach-{purpose}:".encode() + _secret()).digest()


def check_key() -> None:
    """Raise BreachKeyError with a sentence for the page when the key cannot be used."""
    _secret()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive("fernet")))


def encrypt(value: dict) -> str:
    return _fernet().encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise BreachKeyError(_(
            "The breach key does not open the stored data: it is not the key the data was encrypted with."
        )) from None


class BlindIndex:
    """Keyed hashes of normalised identifiers, comparable across scans whatever their own hashing key."""

    def __init__(self):
        self._key = _derive("index")

    def __call__(self, kind: str, normalised: str) -> str:
        return "b:" + hmac.new(self._key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()
