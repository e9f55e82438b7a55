"""Findings of one record form a person record; records then merge into persons.

Three counts make the range the CNIL asks for:
- upper bound: every person record counted apart (no linkage at all);
- best estimate: records merged on NIR/INS or IPP, then on "name + birth date match" (names folded
  for case and accents, first and last names in any order, same birth date);
- lower bound: the best estimate further merged on weaker shared values (e-mail, phone, IBAN, card,
  same full name), which can join different people and so undercounts.
This is deterministic matching; it does not handle typos in names (no probabilistic model).
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass


class UnionFind:
    def __init__(self, size: int):
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            # The smaller index wins so the result does not depend on the order of unions.
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


@dataclass
class LinkResult:
    best: list[int]  # cluster root of each record (best estimate)
    lower: list[int]  # cluster root of each record (lower bound)
    upper: int
    best_count: int
    lower_count: int
    linked_on: list[set[str]]


def _merge_on(forest: UnionFind, keys_per_record, reason: str, linked_on: list[set[str]]) -> None:
    first_holder: dict[str, int] = {}
    for index, keys in enumerate(keys_per_record):
        for key in keys:
            if key in first_holder:
                if forest.find(index) != forest.find(first_holder[key]):
                    linked_on[index].add(reason)
                    linked_on[first_holder[key]].add(reason)
                forest.union(index, first_holder[key])
            else:
                first_holder[key] = index


def link(records: list[dict]) -> LinkResult:
    """`records` are person records (dicts with strong_keys, name_birth_key, weak_keys), in a stable order."""
    size = len(records)
    linked_on: list[set[str]] = [set() for _ in range(size)]
    best = UnionFind(size)
    _merge_on(best, [r["strong_keys"] for r in records], "nir_or_ipp", linked_on)
    _merge_on(best, [[r["name_birth_key"]] if r["name_birth_key"] else [] for r in records], "name_birth_date", linked_on)
    lower = UnionFind(size)
    for index in range(size):
        lower.union(index, best.find(index))
    _merge_on(lower, [r["weak_keys"] for r in records], "shared_contact_or_name", [set() for _ in range(size)])
    best_roots = [best.find(i) for i in range(size)]
    lower_roots = [lower.find(i) for i in range(size)]
    return LinkResult(best_roots, lower_roots, size, len(set(best_roots)), len(set(lower_roots)), linked_on)


def person_id(record_ids: list[str]) -> str:
    return "p" + hashlib.sha256(min(record_ids).encode()).hexdigest()[:15]


def group(roots: list[int]) -> dict[int, list[int]]:
    members: dict[int, list[int]] = defaultdict(list)
    for index, root in enumerate(roots):
        members[root].append(index)
    return members
