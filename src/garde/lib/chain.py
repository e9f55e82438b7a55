"""A hash chain: each entry's hash covers its content and the previous entry's hash.

Pure functions, no Django, so the chain can be verified from an exported JSON file on any machine.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from garde.lib.hashing import canonical_json, sha256_bytes

GENESIS = "0" * 64


def link_hash(content: dict, prev_hash: str) -> str:
    return sha256_bytes(canonical_json({"content": content, "prev": prev_hash}))


@dataclass(frozen=True)
class Link:
    seq: int
    content: dict
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    problem: str  # "altered", "removed" or "inserted"
    message: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    last_hash: str
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify_chain(links: Iterable[Link]) -> ChainReport:
    """Walk the chain in sequence order and name the first entry that was altered, removed or inserted."""
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    for link in links:
        problem = _first_problem(link, expected_seq, prev_hash)
        if problem:
            return ChainReport(checked, prev_hash, problem)
        checked += 1
        expected_seq, prev_hash = link.seq + 1, link.hash
    return ChainReport(checked, prev_hash, None)


def _first_problem(link: Link, expected_seq: int, prev_hash: str) -> ChainBreak | None:
    if link.seq > expected_seq:
        missing = f"#{expected_seq}" if link.seq == expected_seq + 1 else f"#{expected_seq} to #{link.seq - 1}"
        return ChainBreak(expected_seq, "removed", f"Entry {missing} was removed: the log jumps to #{link.seq}.")
    if link.seq < expected_seq:
        return ChainBreak(link.seq, "inserted", f"Entry #{link.seq} was inserted: that number is already used.")
    if link.prev_hash != prev_hash:
        return ChainBreak(
            link.seq,
            "inserted",
            f"Entry #{link.seq} does not follow the entry before it: it was inserted or the chain was rewritten.",
        )
    if link_hash(link.content, link.prev_hash) != link.hash:
        return ChainBreak(link.seq, "altered", f"Entry #{link.seq} was altered after it was recorded.")
    return None
