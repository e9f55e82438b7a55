"""Masked forms for people to read, keyed hashes for machines to link. The clear value is never
written unless the scan was asked to reveal it.

The hash is HMAC-SHA256 over "<space>:<normalised value>" with the scan key: equal values give equal
hashes inside one scan (and across scans that share GARDE_SCAN_KEY), while someone holding the
output without the key cannot test guesses such as every NIR of a birth year.
"""

import hashlib
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path

KEY_ENV = "GARDE_SCAN_KEY"
KEY_FILE = "scan.key"


def keyed_hash(key: bytes, space: str, normalized: str) -> str:
    """HMAC-SHA256 (RFC 2104) from the key's two padded states, computed once per key: a third of
    the cost of `hmac.new`, which pads and hashes the key again for every value."""
    inner_state, outer_state = _padded_key_states(key)
    inner = inner_state.copy()
    inner.update(f"{space}:{normalized}".encode())
    outer = outer_state.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


@lru_cache(maxsize=16)
def _padded_key_states(key: bytes):
    if len(key) > _SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(_SHA256_BLOCK, b"\0")
    return hashlib.sha256(bytes(b ^ 0x36 for b in padded)), hashlib.sha256(bytes(b ^ 0x5C for b in padded))


_SHA256_BLOCK = 64


def key_fingerprint(key: bytes) -> str:
    """Tells two scans used the same key without telling the key."""
    return keyed_hash(key, "fingerprint", "garde-scan")[:16]


def load_key(out: Path) -> tuple[bytes, str]:
    """The key from GARDE_SCAN_KEY, else the one a previous run of this scan stored, else a new random
    one stored in <out>/scan.key (mode 0600) so that --resume hashes the same way."""
    from_env = os.environ.get(KEY_ENV, "").strip()
    if from_env:
        if len(from_env) < 16:
            raise ValueError(f"{KEY_ENV} is too short: use at least 16 characters (32 random hex digits is best).")
        return from_env.encode(), "env"
    path = out / KEY_FILE
    if path.exists():
        return bytes.fromhex(path.read_text().strip()), "generated"
    key = secrets.token_bytes(32)
    path.touch(mode=0o600)
    path.write_text(key.hex())
    return key, "generated"


_ALNUM = re.compile(r"[^\W_]")


@lru_cache(maxsize=1 << 14)
def mask(value: str, style: str) -> str:
    """The masked form of a finding's raw value. Cached: the names, towns and postcodes of a table
    repeat down its columns."""
    value = " ".join(value.split())
    if style == "secret":
        return f"[{len(value)} chars]"
    if style == "email":
        local, _, domain = value.partition("@")
        host, _, tld = domain.rpartition(".")
        return f"{local[:1]}***@{host[:1]}***.{tld}"
    if style == "name":
        return " ".join(word[:1] + "*" * (len(word) - 1) for word in value.split())
    return _mask_characters(value)


def _mask_characters(value: str) -> str:
    """Every letter and digit starred but the first, and the last two when more than six: found
    from both ends rather than listed (a finding's mask is per-finding work, a dump has millions)."""
    masked, count = _ALNUM.subn("*", value)
    if not count:
        return masked
    keep = [_ALNUM.search(value).start()]
    index = len(value)
    while count > 6 and len(keep) < 3:
        index -= 1
        if masked[index] != value[index]:  # a starred letter or digit (a "*" of the value is neither)
            keep.append(index)
    characters = list(masked)
    for index in keep:
        characters[index] = value[index]
    return "".join(characters)
