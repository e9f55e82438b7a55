"""The persons of a scan's report: which person each record belongs to (table `person_of` of the
record store), read back alongside the records, and persons.parquet.

DuckDB needs more memory for a join or a sort the more rows go through it, even when it spills to
disk: a join of 2.5 million person records to their person ids ran out of 128 MB. So no step here
joins the records to anything. Values computed per person record (its groups, from the linkage)
are attached by position: the person records are read in their order (`pidx`) and the values of
the same rows are taken from numpy arrays. Tables read together are read in the order they were
filled, side by side, and only sorts remain (one of narrow rows per output).
"""

from array import array
from collections import Counter
from collections.abc import Iterator
from functools import cache, lru_cache
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import numpy as np
import pyarrow as pa

from garde.scanner.link import REASONS
from garde.scanner.parquet_writer import RowGroupWriter
from garde.scanner.recordstore import NAMES_SEPARATOR, RECORD_COLUMNS, RecordStore, columns_sql

MAX_LOCATIONS = 50
_RUN = 1 << 20  # records whose root is replaced by their group's key at a time
_REASON_BITS = [(reason, 1 << index) for index, reason in enumerate(REASONS)]
# The first 15 hex digits of the SHA-256 of a group's smallest record id, as a number (60 bits):
# a group's id is "p" and these digits, whatever the order its records were linked in.
_GROUP_KEY = "('0x' || left(sha256(min(record_id)), 15))::BIGINT"

PERSONS_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("records", pa.int32()),
        ("files", pa.int32()),
        ("categories", pa.list_(pa.string())),
        ("detectors", pa.list_(pa.string())),
        ("linked_on", pa.list_(pa.string())),
        ("match_probability", pa.float64()),
        ("lower_bound_group", pa.string()),
        ("locations", pa.list_(pa.string())),
        ("record_ids", pa.list_(pa.string())),
    ]
)
_PERSON_OF = pa.schema(
    [
        ("pidx", pa.int64()),
        ("record_id", pa.string()),
        ("sha256", pa.string()),
        ("locator", pa.string()),
        ("categories", pa.string()),
        ("detectors", pa.string()),
        ("person_id", pa.string()),
        ("lower_id", pa.string()),
        ("reasons", pa.uint8()),
        ("probability", pa.float64()),
    ]
)


def assign_persons(store: RecordStore, result) -> None:
    """Table `person_of`, in pidx order: each person record with its person (best estimate) and
    its lower-bound group, both named by the smallest record id of their group, the reasons it was
    linked on and the lowest probability of its links (NULL: none). Consumes `result`: its reasons
    and probabilities go to a table and are freed, its `best` and `lower` arrays are overwritten
    with each record's group key (one array of the scan's size more, not three)."""
    size = result.upper
    best = _int64(result.best, size)
    lower = _int64(result.lower, size)
    reasons = np.frombuffer(result.reasons, dtype=np.uint8) if size else np.zeros(0, np.uint8)
    probability = np.frombuffer(result.probability, dtype=np.float64) if size else np.zeros(0)
    store.run("CREATE TABLE groups (record_id VARCHAR, best BIGINT, lower BIGINT, reasons UTINYINT, probability DOUBLE)")
    for batch, rows in _person_batches(store, "record_id"):
        columns = {
            "record_id": batch.column("record_id"),
            "best": best[rows],
            "lower": lower[rows],
            "reasons": reasons[rows],
            "probability": pa.array(probability[rows], from_pandas=True),  # NaN (no link) stored as NULL
        }
        store.append("groups", pa.table(columns))
    del reasons, probability
    result.reasons, result.probability = bytearray(), array("d")  # in `groups` now
    _to_group_keys(store, "best", best)
    _to_group_keys(store, "lower", lower)
    store.run(f"CREATE TABLE person_of ({columns_sql(_PERSON_OF)})")
    names = ", ".join(name for name in _PERSON_OF.names if name in RECORD_COLUMNS.names and name != "pidx")
    links = _Rows(store.batches("SELECT reasons, probability FROM groups"))  # in pidx order, as filled
    for batch, rows in _person_batches(store, names):
        if not batch.num_rows:
            continue
        table = {name: batch.column(name) for name in batch.schema.names}
        table["person_id"] = _group_ids(best[rows])
        table["lower_id"] = _group_ids(lower[rows])
        taken = links.take(batch.num_rows)
        table["reasons"], table["probability"] = taken.column("reasons"), taken.column("probability")
        store.append("person_of", pa.table([table[n] for n in _PERSON_OF.names], schema=_PERSON_OF))
    links.close()
    store.run("DROP TABLE groups")


class _Rows:
    """The rows of a stream of record batches, taken a number (at least one) at a time, as a table."""

    def __init__(self, batches):
        self.batches = batches
        self.pending: pa.Table | None = None

    def take(self, count: int) -> pa.Table:
        while self.pending is None or self.pending.num_rows < count:
            following = pa.Table.from_batches([next(self.batches)])
            self.pending = following if self.pending is None else pa.concat_tables([self.pending, following])
        taken, self.pending = self.pending.slice(0, count), self.pending.slice(count)
        return taken

    def close(self) -> None:
        """Closes the stream (its cursor) before the end of its rows is read."""
        self.batches.close()


def _int64(values, size: int) -> np.ndarray:
    return np.frombuffer(values, dtype=np.int64) if size else np.zeros(0, np.int64)


def _person_batches(store: RecordStore, columns: str) -> Iterator[tuple[pa.RecordBatch, slice]]:
    """Batches of the person records in pidx order, each with the slice of pidx it holds (to take
    the same rows from arrays indexed by pidx)."""
    start = 0
    for batch in store.batches(f"SELECT pidx, {columns} FROM persons"):
        pidx = batch.column("pidx")
        rows = slice(start, start + batch.num_rows)
        if batch.num_rows and (pidx[0].as_py() != start or pidx[-1].as_py() != rows.stop - 1):
            raise RuntimeError(
                "person records read out of order: persons would be mismatched"
            )  # never silently
        start = rows.stop
        yield batch, rows


def _to_group_keys(store: RecordStore, column: str, roots: np.ndarray) -> None:
    """Overwrites the root of each record's group (`column` of table `groups`) with the group's key
    (_GROUP_KEY), a run of records at a time."""
    keys = np.zeros(len(roots), np.int64)  # at the root of each group
    for batch in store.batches(f"SELECT {column}, {_GROUP_KEY} FROM groups GROUP BY {column}"):
        keys[batch.column(0).to_numpy()] = batch.column(1).to_numpy()
    for start in range(0, len(roots), _RUN):
        run = roots[start : start + _RUN]
        run[:] = keys[run]


def _group_ids(keys: np.ndarray) -> pa.Array:
    return pa.array([f"p{key:015x}" for key in keys.tolist()], pa.string())


def records_with_persons(store: RecordStore, columns: str) -> Iterator[pa.RecordBatch]:
    """Batches of `columns` of every record in the store's order (idx), with a last column
    `person_id` (NULL for a record that identifies no one): the records and person_of read side
    by side."""
    person_ids = _Rows(store.batches("SELECT person_id FROM person_of"))
    records = store.batches(f"SELECT {columns}, pidx IS NOT NULL AS identifies FROM records")
    try:
        for batch in records:
            identifies = batch.column("identifies").to_pylist()
            count = sum(identifies)
            taken = iter(person_ids.take(count).column(0).to_pylist() if count else ())
            person_id = pa.array([next(taken) if flag else None for flag in identifies], pa.string())
            kept = batch.drop_columns(["identifies"])
            yield kept.append_column("person_id", person_id)
    finally:  # closed before its end (report._PersonOf): both cursors now, not when collected
        records.close()
        person_ids.close()


def write_persons(path: Path, store: RecordStore) -> Counter:
    """persons.parquet, one row per person ordered by person_id; persons per category. Two sorted
    streams (the person records, and their places) are read side by side, one person at a time:
    DuckDB sorts out of memory, where aggregating lists would not. Each stream is sorted into a
    table first: two sorts read at once would each hold blocks in memory, two table scans hold
    next to nothing (a table is read in the order it was filled)."""
    store.run(
        "CREATE TABLE person_records AS SELECT person_id, record_id, categories, detectors, reasons, probability, lower_id "
        "FROM person_of ORDER BY person_id, pidx"
    )
    _store_places(store)
    records = _rows(store.batches("SELECT * FROM person_records"))
    places = _rows(store.batches("SELECT person_id, path, place FROM person_places"))
    per_category: Counter = Counter()
    with RowGroupWriter(path, PERSONS_SCHEMA) as writer:
        batch: list[dict] = []
        for person in _persons(records, places):
            per_category.update(person["categories"])
            batch.append(person)
            if len(batch) >= 10_000:
                writer.write_table(pa.Table.from_pylist(batch, schema=PERSONS_SCHEMA))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=PERSONS_SCHEMA))
    return per_category


def _store_places(store: RecordStore) -> None:
    """Table `person_places` (person_id, path, place: "path#locator"), one row per person record
    and path of its content, sorted by person, record and walk order of the path. The records
    and the paths (table `paths`, every path of each content) are both sorted by content and
    merged here, instead of joined."""
    store.run(
        "CREATE TABLE places_by_content AS SELECT sha256, pidx, person_id, locator FROM person_of ORDER BY sha256, pidx"
    )
    store.run("CREATE TABLE paths_by_content AS SELECT sha256, path, ord FROM paths ORDER BY sha256, ord")
    store.run(
        "CREATE TABLE unsorted_places (person_id VARCHAR, pidx BIGINT, ord BIGINT, path VARCHAR, place VARCHAR)"
    )
    paths = store.batches("SELECT * FROM paths_by_content")
    contents = groupby(_rows(paths), key=itemgetter(0))
    following = next(contents, None)  # (sha256, its rows) of the next content with paths
    content, content_paths = None, []
    pending: list[tuple] = []
    for sha256, pidx, person_id, locator in _rows(store.batches("SELECT * FROM places_by_content")):
        if sha256 != content:
            while following is not None and following[0] < sha256:  # both sorted the same (bytes)
                following = next(contents, None)
            content, content_paths = sha256, []
            if following is not None and following[0] == sha256:
                content_paths = [(path, ord_) for _sha, path, ord_ in following[1]]
                following = next(contents, None)
        for path, ord_ in content_paths:
            pending.append((person_id, pidx, ord_, path, f"{path}#{locator}"))
        if len(pending) >= 50_000:
            _insert_places(store, pending)
            pending = []
    _insert_places(store, pending)
    paths.close()  # paths of contents without a person record may be left: not read beside the sort
    store.run(
        "CREATE TABLE person_places AS SELECT person_id, path, place FROM unsorted_places ORDER BY person_id, pidx, ord"
    )
    for table in ("places_by_content", "paths_by_content", "unsorted_places"):
        store.run(f"DROP TABLE {table}")


def _insert_places(store: RecordStore, rows: list[tuple]) -> None:
    if rows:
        names = ("person_id", "pidx", "ord", "path", "place")
        store.append("unsorted_places", pa.table(dict(zip(names, zip(*rows, strict=True), strict=True))))


def _rows(batches):
    for batch in batches:
        yield from zip(*(column.to_pylist() for column in batch.columns), strict=True)


def _persons(records, places):
    """Person rows from the two streams of write_persons (both sorted by person_id)."""
    place = next(places, None)
    for person_id, rows in groupby(records, key=itemgetter(0)):
        rows = list(rows)
        files, locations = set(), []
        while place is not None and place[0] == person_id:
            files.add(place[1])
            if len(locations) < MAX_LOCATIONS:
                locations.append(place[2])
            place = next(places, None)
        reasons = 0
        for row in rows:
            reasons |= row[4]
        probabilities = [row[5] for row in rows if row[5] is not None]
        yield {
            "person_id": person_id,
            "records": len(rows),
            "files": len(files),
            "categories": _names({row[2] for row in rows}),
            "detectors": _names({row[3] for row in rows}),
            "linked_on": _reasons(reasons),
            "match_probability": min(probabilities, default=None),
            "lower_bound_group": rows[0][6],
            "locations": locations,
            "record_ids": [row[1] for row in rows],
        }


def _names(joined_names: set) -> list[str]:
    """The sorted names of several records' categories or detectors (each joined as stored). Most
    persons have one record, and few combinations of names recur among millions of persons: each
    combination is split and sorted once (the lists are shared by the rows, never modified)."""
    joined_names -= {None, ""}
    if len(joined_names) == 1:
        return _sorted_names(joined_names.pop())
    return sorted({name for names in joined_names for name in _sorted_names(names)})


@lru_cache(maxsize=4096)  # bounded: combinations are few, but a long-running process scans many dumps
def _sorted_names(joined: str) -> list[str]:
    return sorted(set(joined.split(NAMES_SEPARATOR)))


@cache
def _reasons(bits: int) -> list[str]:
    """The reasons a person's records were linked on, from their bits (shared as _sorted_names)."""
    return sorted(reason for reason, bit in _REASON_BITS if bits & bit)
