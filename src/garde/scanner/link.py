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
import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from garde.scanner.linkage import compatible, evidence_of_groups, score_pairs
from garde.scanner.recordstore import RecordStore

BEST_THRESHOLD = 0.9
LOWER_THRESHOLD = 0.2
# Why a record was merged, one bit each (LinkResult.linked_on names them).
REASONS = ("nir_or_ipp", "name_birth_date", "probabilistic")
_BIT = {reason: 1 << index for index, reason in enumerate(REASONS)}
_PAIRS_AT_ONCE = 50_000  # pairs turned into Python numbers at a time


class UnionFind:
    """Over record numbers 0..size-1, in a flat array (8 bytes a record, whatever the scan size)."""

    def __init__(self, size: int = 0, parent: array | None = None):
        self.parent = parent if parent is not None else array("q", range(size))

    def find(self, item: int) -> int:
        parent = self.parent
        root = item
        while parent[root] != root:
            root = parent[root]
        while parent[item] != root:
            parent[item], item = root, parent[item]
        return root

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            # The smaller index wins so the result does not depend on the order of unions.
            self.parent[max(root_a, root_b)] = min(root_a, root_b)

    def flatten(self) -> array:
        """Points every record straight at its root, in place, and returns `parent`, now the root
        of each record: no second array of the scan's size (8 bytes a record each)."""
        parent = self.parent
        for index in range(len(parent)):
            parent[index] = parent[parent[index]]  # a parent's index is smaller: already at its root
        return parent


class _Reasons(Sequence):
    """linked_on[i]: the set of reasons record i was merged on."""

    def __init__(self, bits: bytearray):
        self.bits = bits

    def __len__(self) -> int:
        return len(self.bits)

    def __getitem__(self, index):
        value = self.bits[index]
        return {reason for reason, bit in _BIT.items() if value & bit}


@dataclass
class LinkResult:
    best: array  # cluster root of each person record (best estimate)
    lower: array  # cluster root of each person record (lower bound)
    upper: int
    best_count: int
    lower_count: int
    reasons: bytearray  # bits of REASONS per record
    probability: array = field(default_factory=lambda: array("d"))  # lowest probability of a link it got (NaN: none)
    info: dict = field(default_factory=dict)

    @property
    def linked_on(self) -> _Reasons:
        return _Reasons(self.reasons)


def _merge_on(forest: UnionFind, edges, bit: int, reasons: bytearray | None) -> None:
    """Unions each record with the first record holding one of its keys; `edges` in record order.
    A record gets `bit` when this joined it to a record it was not yet with."""
    for batch in edges:
        records, holders = batch.column(0).to_pylist(), batch.column(1).to_pylist()
        for index, holder in zip(records, holders, strict=True):
            if reasons is not None and forest.find(index) != forest.find(holder):
                reasons[index] |= bit
                reasons[holder] |= bit
            forest.union(index, holder)


def _key_edges(store: RecordStore, column: str, is_list: bool = True):
    """(record, first record holding the same key) for each key of `column`, in record then key
    order, when they differ: what a scan of the records with a dict of first holders gives."""
    keys = (
        f"SELECT pidx, unnest({column}) AS key, generate_subscripts({column}, 1) AS position FROM persons"
        if is_list
        else f"SELECT pidx, {column} AS key, 1 AS position FROM persons WHERE {column} IS NOT NULL"
    )
    return store.batches(
        f"WITH keys AS ({keys}), firsts AS (SELECT key, min(pidx) AS first FROM keys GROUP BY key) "
        "SELECT pidx, first FROM keys JOIN firsts USING (key) WHERE first <> pidx ORDER BY pidx, position"
    )


def link(records: list[dict], probabilistic: bool = True) -> LinkResult:
    """`records` are person records (dicts with the link fields of linkfeatures.py), in a stable order."""
    store = RecordStore()
    try:
        store.add([{**record, "identifies": True} for record in records])
        return link_store(store, probabilistic)
    finally:
        store.close()


def link_store(store: RecordStore, probabilistic: bool = True) -> LinkResult:
    """Links the person records of `store` (numbered by RecordStore.index_persons)."""
    size = store.index_persons()
    reasons = bytearray(size)
    best = UnionFind(size)
    _merge_on(best, _key_edges(store, "strong_keys"), _BIT["nir_or_ipp"], reasons)
    _merge_on(best, _key_edges(store, "name_birth_key", is_list=False), _BIT["name_birth_date"], reasons)
    best.flatten()
    info: dict = {
        "method": "deterministic",
        "best_threshold": BEST_THRESHOLD,
        "lower_threshold": LOWER_THRESHOLD,
    }
    scored = False
    if probabilistic and size > 1:
        try:
            info.update(score_pairs(store, size, _pairs_within(best.parent), LOWER_THRESHOLD))
            scored = True
        except Exception as error:  # noqa: BLE001 - the deterministic result still stands
            info["splink_error"] = _cause(error)
    probability = array("d", [math.nan]) * size
    if scored:
        merged, vetoed = _merge_best(store, best, reasons, probability)
        info.update({"merges": merged, "vetoed": vetoed})
    best_roots = best.flatten()
    lower = UnionFind(parent=array("q", best_roots))  # the best estimate's groups, merged further
    if scored:
        for batch in store.batches(f"SELECT a, b FROM pairs WHERE p >= {LOWER_THRESHOLD}"):
            for a, b in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True):
                lower.union(a, b)
    _merge_on(lower, _key_edges(store, "weak_keys"), 0, None)
    lower_roots = lower.flatten()
    return LinkResult(best_roots, lower_roots, size, _clusters(best_roots), _clusters(lower_roots), reasons, probability, info)


def _cause(error: Exception) -> str:
    """Why the probabilistic stage failed, in a line or two: Splink's message starts with the SQL
    that failed (pages of it) and ends with DuckDB's error, and DuckDB's ends with generic advice."""
    text = str(error)
    if "Error was:" in text:
        text = text.rsplit("Error was:", 1)[1]
    return f"{type(error).__name__}: {text.split('Possible solutions')[0].strip()}"[:500]


def linkage_warning(info: dict) -> str | None:
    """The warning a reader of the result needs when the probabilistic stage failed (the manifest's
    `linkage`), None when it ran or was not needed."""
    if "splink_error" not in info:
        return None
    return (
        f"Probabilistic linkage (Splink) failed ({info['splink_error']}). Records were linked on NIR/INS, patient "
        "number (IPP) and name with birth date only: the best estimate may count one person several times."
    )


def _pairs_within(roots: array) -> int:
    """Pairs of records the deterministic stage put together."""
    sizes = array("q", [0]) * len(roots)
    for root in roots:
        sizes[root] += 1
    return sum(n * (n - 1) // 2 for n in sizes if n > 1)


def _clusters(roots: array) -> int:
    return sum(1 for index, root in enumerate(roots) if index == root)


def _merge_best(store: RecordStore, best: UnionFind, reasons: bytearray, probability: array):
    """Merges the pairs scored at BEST_THRESHOLD or more, strongest first, unless the two groups
    cannot be one person (two NIRs, incompatible birth dates): (merges, vetoed). `best` comes
    flattened (each record's parent is its root) from the deterministic stage. The pairs are held
    in numpy arrays (24 bytes a pair; as Python tuples, 150)."""
    p, a, b = _strong_pairs(store)
    if not len(p):
        return 0, 0
    roots = np.frombuffer(best.parent, dtype=np.int64)  # read before the first union below changes it
    groups = evidence_of_groups(store, roots, np.unique(roots[np.concatenate([a, b])]))
    merged = vetoed = 0
    for start in range(0, len(p), _PAIRS_AT_ONCE):
        window = slice(start, start + _PAIRS_AT_ONCE)
        for value, first, second in zip(p[window].tolist(), a[window].tolist(), b[window].tolist(), strict=True):
            root_a, root_b = best.find(first), best.find(second)
            if root_a == root_b:
                continue
            if not compatible(groups[root_a], groups[root_b]):
                vetoed += 1
                continue
            best.union(root_a, root_b)
            kept, gone = (root_a, root_b) if best.find(root_a) == root_a else (root_b, root_a)
            for name, values in groups.pop(gone).items():
                groups[kept][name] |= values
            merged += 1
            for index in (first, second):
                reasons[index] |= _BIT["probabilistic"]
                probability[index] = value if math.isnan(probability[index]) else min(probability[index], value)
    return merged, vetoed


def _strong_pairs(store: RecordStore) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p, a, b) of the pairs scored at BEST_THRESHOLD or more, strongest first."""
    columns: list[list[np.ndarray]] = [[], [], []]
    for batch in store.batches(f"SELECT p, a, b FROM pairs WHERE p >= {BEST_THRESHOLD} ORDER BY p DESC, a, b"):
        for column, values in zip(columns, batch.columns, strict=True):
            column.append(values.to_numpy())
    kinds = (np.float64, np.int64, np.int64)
    return tuple(np.concatenate(column) if column else np.zeros(0, kind) for column, kind in zip(columns, kinds, strict=True))


def person_id(record_ids: list[str]) -> str:
    """A person's id: from the smallest of its record ids (report_persons.py computes the same in SQL)."""
    return "p" + hashlib.sha256(min(record_ids).encode()).hexdigest()[:15]

