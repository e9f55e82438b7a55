"""Findings of one record form a person record; records then merge into persons.

Three counts make the range the CNIL asks for:
- upper bound: every person record counted apart (no linkage at all);
- best estimate: records merged deterministically on NIR/INS or IPP, then on "name + birth date
  match" (names folded for case and accents, first and last names in any order, same birth date),
  then on the pairs Splink scores at a match probability of at least BEST_THRESHOLD (linkage.py),
  strongest first, unless the two groups hold different NIRs or incompatible birth dates;
- lower bound: the best estimate further merged on every pair scored at LOWER_THRESHOLD or more
  (no veto) and on weaker shared values (e-mail, phone, IBAN, card, same full name), which can join
  different people and so undercounts.
If Splink fails, the deterministic stages alone give the counts and the manifest says why.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from garde.scanner.linkage import compatible, evidence, merge_evidence, score_pairs

BEST_THRESHOLD = 0.9
LOWER_THRESHOLD = 0.2


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
    probability: list[float | None] = field(default_factory=list)  # lowest probability of a link it got
    info: dict = field(default_factory=dict)


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


def link(records: list[dict], probabilistic: bool = True) -> LinkResult:
    """`records` are person records (dicts with the link fields of linkfeatures.py), in a stable order."""
    size = len(records)
    linked_on: list[set[str]] = [set() for _ in range(size)]
    best = UnionFind(size)
    _merge_on(best, [r["strong_keys"] for r in records], "nir_or_ipp", linked_on)
    _merge_on(
        best,
        [[r["name_birth_key"]] if r["name_birth_key"] else [] for r in records],
        "name_birth_date",
        linked_on,
    )
    deterministic = group([best.find(i) for i in range(size)])
    info: dict = {
        "method": "deterministic",
        "best_threshold": BEST_THRESHOLD,
        "lower_threshold": LOWER_THRESHOLD,
    }
    pairs: list[tuple[float, int, int]] = []
    if probabilistic and size > 1:
        try:
            pairs, scored = score_pairs(
                records, sum(len(m) * (len(m) - 1) // 2 for m in deterministic.values()), LOWER_THRESHOLD
            )
            info.update(scored)
        except Exception as error:  # noqa: BLE001 - the deterministic result still stands
            info["splink_error"] = f"{type(error).__name__}: {error}"[:500]
    probability: list[float | None] = [None] * size
    groups = {}
    for root, members in deterministic.items():
        groups[root] = evidence(records[members[0]])
        for index in members[1:]:
            merge_evidence(groups[root], evidence(records[index]))
    merged = vetoed = 0
    for value, a, b in pairs:
        if value < BEST_THRESHOLD:
            break
        root_a, root_b = best.find(a), best.find(b)
        if root_a == root_b:
            continue
        if not compatible(groups[root_a], groups[root_b]):
            vetoed += 1
            continue
        best.union(root_a, root_b)
        kept, gone = (root_a, root_b) if best.find(root_a) == root_a else (root_b, root_a)
        merge_evidence(groups[kept], groups.pop(gone))
        merged += 1
        for index in (a, b):
            linked_on[index].add("probabilistic")
            probability[index] = value if probability[index] is None else min(probability[index], value)
    if info["method"] == "splink":
        info.update({"merges": merged, "vetoed": vetoed})
    lower = UnionFind(size)
    for index in range(size):
        lower.union(index, best.find(index))
    for value, a, b in pairs:
        if value >= LOWER_THRESHOLD:
            lower.union(a, b)
    _merge_on(
        lower, [r["weak_keys"] for r in records], "shared_contact_or_name", [set() for _ in range(size)]
    )
    best_roots = [best.find(i) for i in range(size)]
    lower_roots = [lower.find(i) for i in range(size)]
    return LinkResult(
        best_roots,
        lower_roots,
        size,
        len(set(best_roots)),
        len(set(lower_roots)),
        linked_on,
        probability,
        info,
    )


def person_id(record_ids: list[str]) -> str:
    return "p" + hashlib.sha256(min(record_ids).encode()).hexdigest()[:15]


def group(roots: list[int]) -> dict[int, list[int]]:
    members: dict[int, list[int]] = defaultdict(list)
    for index, root in enumerate(roots):
        members[root].append(index)
    return members
