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
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from garde.scanner.link import REASONS
from garde.scanner.parquet_writer import RowGroupWriter
from garde.scanner.recordstore import NAMES_SEPARATOR, RECORD_COLUMNS, RecordStore, columns_sql

MAX_LOCATIONS = 50
_PLACES_AT_ONCE = 200_000  # rows of person_places joined at a time
_NAMES = pa.list_(pa.string())
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
    """The rows of a stream of record batches, taken a number (at least one) at a time or up to a
    value of a key, as a table."""

    def __init__(self, batches):
        self.batches = batches
        self.pending: pa.Table | None = None

    def take(self, count: int) -> pa.Table:
        while self.pending is None or self.pending.num_rows < count:
            following = pa.Table.from_batches([next(self.batches)])
            self.pending = following if self.pending is None else pa.concat_tables([self.pending, following])
        taken, self.pending = self.pending.slice(0, count), self.pending.slice(count)
        return taken

    def upto(self, key: str, bound) -> pa.Table | None:
        """The next rows whose `key` is at most `bound` (the stream is sorted by `key`); None when
        the stream has no rows at all."""
        while self._empty() or pc.less_equal(self.pending[key][-1], bound).as_py():
            following = next(self.batches, None)
            if following is None:
                break
            following = pa.Table.from_batches([following])
            self.pending = following if self.pending is None else pa.concat_tables([self.pending, following])
        if self.pending is None:
            return None
        count = pc.sum(pc.less_equal(self.pending[key], bound)).as_py() or 0
        taken, self.pending = self.pending.slice(0, count), self.pending.slice(count)
        return taken

    def _empty(self) -> bool:
        return self.pending is None or not self.pending.num_rows

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
    streams (the person records, and their places) are read side by side, some 50,000 records of
    whole persons at a time, each chunk made into person rows by Arrow and numpy: DuckDB sorts out
    of memory, where aggregating lists would not. Each stream is sorted into a table first: two
    sorts read at once would each hold blocks in memory, two table scans hold next to nothing (a
    table is read in the order it was filled)."""
    store.run(
        "CREATE TABLE person_records AS SELECT person_id, record_id, categories, detectors, reasons, probability, lower_id "
        "FROM person_of ORDER BY person_id, pidx"
    )
    _store_places(store)
    records = store.batches("SELECT * FROM person_records")
    places = _Rows(store.batches("SELECT person_id, path, place FROM person_places"))
    per_category: Counter = Counter()
    try:
        with RowGroupWriter(path, PERSONS_SCHEMA) as writer:
            for chunk in _whole_groups(records, "person_id"):
                persons = _person_table(chunk, places.upto("person_id", chunk["person_id"][-1]))
                per_category.update(_value_counts(pc.list_flatten(persons["categories"])))
                writer.write_table(persons)
    finally:
        records.close()
        places.close()
    return per_category


def _store_places(store: RecordStore) -> None:
    """Table `person_places` (person_id, path, place: "path#locator"), one row per person record
    and path of its content, sorted by person, record and walk order of the path. The records
    and the paths (table `paths`, every path of each content) are both sorted by content and
    read side by side; the records of some contents at a time are joined to their paths by Arrow."""
    store.run(
        "CREATE TABLE places_by_content AS SELECT sha256, pidx, person_id, locator FROM person_of ORDER BY sha256, pidx"
    )
    store.run("CREATE TABLE paths_by_content AS SELECT sha256, path, ord FROM paths ORDER BY sha256, ord")
    store.run(
        "CREATE TABLE unsorted_places (person_id VARCHAR, pidx BIGINT, ord BIGINT, path VARCHAR, place VARCHAR)"
    )
    records = store.batches("SELECT * FROM places_by_content")
    paths = _Rows(store.batches("SELECT * FROM paths_by_content"))
    try:
        for contents in _whole_groups(records, "sha256"):
            content_paths = paths.upto("sha256", contents["sha256"][-1])
            if content_paths is not None and content_paths.num_rows:
                _insert_places(store, contents, content_paths)
    finally:
        records.close()
        paths.close()  # paths of contents without a person record may be left: not read beside the sort
    store.run(
        "CREATE TABLE person_places AS SELECT person_id, path, place FROM unsorted_places ORDER BY person_id, pidx, ord"
    )
    for table in ("places_by_content", "paths_by_content", "unsorted_places"):
        store.run(f"DROP TABLE {table}")


def _insert_places(store: RecordStore, records: pa.Table, paths: pa.Table) -> None:
    """Each record with each path of its content. A content found in many places multiplies its
    records: they are joined a slice at a time, so that no join makes more than _PLACES_AT_ONCE rows
    (one record at a time at least)."""
    most_paths = pc.max(paths.group_by("sha256").aggregate([("sha256", "count")])["sha256_count"]).as_py()
    step = max(1, _PLACES_AT_ONCE // most_paths)
    for start in range(0, records.num_rows, step):
        joined = records.slice(start, step).join(paths, "sha256", join_type="inner")
        columns = {name: joined[name] for name in ("person_id", "pidx", "ord", "path")}
        columns["place"] = pc.binary_join_element_wise(joined["path"], joined["locator"], "#")
        store.append("unsorted_places", pa.table(columns))


def _whole_groups(batches, key: str) -> Iterator[pa.Table]:
    """Tables of the rows of a stream of batches sorted by `key`, each ending where a value of
    `key` does (the rows of the last value of a batch are held until the next batch)."""
    held = None
    for batch in batches:
        table = pa.Table.from_batches([batch])
        if held is not None:
            table = pa.concat_tables([held, table])
        if not table.num_rows:
            continue
        last_starts = pc.index(table[key], table[key][-1]).as_py()
        if last_starts:
            yield table.slice(0, last_starts)
        held = table.slice(last_starts)
    if held is not None and held.num_rows:
        yield held


def _person_table(records: pa.Table, places: pa.Table | None) -> pa.Table:
    """The person rows (PERSONS_SCHEMA) of `records` (whole persons, sorted by person_id) and of
    their `places` (person_places rows of the same persons)."""
    person_id = _array(records, "person_id")
    starts = _group_starts(person_id)
    offsets = np.append(starts, len(person_id))
    reasons = np.bitwise_or.reduceat(_array(records, "reasons").fill_null(0).to_numpy(), starts)
    linked_on, reason_sets = np.unique(reasons, return_inverse=True)
    probability = _array(records, "probability").to_numpy(zero_copy_only=False)  # NULL as NaN
    persons = person_id.take(starts)
    files, locations = _places_of(persons, places)
    columns = {
        "person_id": persons,
        "records": np.diff(offsets).astype(np.int32),
        "files": files,
        "categories": _name_lists(_array(records, "categories"), starts, offsets),
        "detectors": _name_lists(_array(records, "detectors"), starts, offsets),
        "linked_on": pa.array([_reasons(int(bits)) for bits in linked_on], _NAMES).take(reason_sets),
        "match_probability": pa.array(np.fmin.reduceat(probability, starts), from_pandas=True),  # all NaN: NULL
        "lower_bound_group": _array(records, "lower_id").take(starts),
        "locations": locations,
        "record_ids": pa.ListArray.from_arrays(offsets.astype(np.int32), _array(records, "record_id")),
    }
    return pa.table(columns, schema=PERSONS_SCHEMA)


def _places_of(person_ids: pa.Array, places: pa.Table | None) -> tuple[np.ndarray, pa.Array]:
    """For each person of `person_ids` (sorted), the number of files it is found in and its first
    MAX_LOCATIONS places, from its rows of `places` (sorted by person_id)."""
    files = np.zeros(len(person_ids), np.int32)
    kept_counts = np.zeros(len(person_ids), np.int64)
    if places is None or not places.num_rows:
        return files, pa.ListArray.from_arrays(np.zeros(len(person_ids) + 1, np.int32), pa.array([], pa.string()))
    place_person = _array(places, "person_id")
    starts = _group_starts(place_person)
    counts = np.diff(np.append(starts, len(place_person)))
    position = pc.index_in(place_person.take(starts), value_set=person_ids).to_numpy()
    rank = np.arange(len(place_person)) - np.repeat(starts, counts)
    kept_counts[position] = np.minimum(counts, MAX_LOCATIONS)
    kept = _array(places, "place").filter(pa.array(rank < MAX_LOCATIONS))
    distinct = places.group_by("person_id", use_threads=False).aggregate([("path", "count_distinct")])
    files[pc.index_in(distinct["person_id"], value_set=person_ids).to_numpy()] = distinct["path_count_distinct"]
    offsets = np.concatenate([[0], np.cumsum(kept_counts)]).astype(np.int32)
    return files, pa.ListArray.from_arrays(offsets, kept)


def _name_lists(joined: pa.Array, starts: np.ndarray, offsets: np.ndarray) -> pa.Array:
    """Each person's sorted names (categories or detectors) from its records' joined names: the
    names of a person whose records all have the same are split once per distinct value."""
    encoded = pc.dictionary_encode(joined.fill_null(""))
    values = encoded.dictionary.to_pylist()
    lists = [_sorted_names(names) if names else [] for names in values]
    codes = encoded.indices.to_numpy()
    first, last = np.minimum.reduceat(codes, starts), np.maximum.reduceat(codes, starts)
    chosen = first.astype(np.int64)
    for person in np.flatnonzero(first != last):
        chosen[person] = len(lists)
        lists.append(_names({values[code] for code in codes[offsets[person] : offsets[person + 1]]}))
    return pa.array(lists, _NAMES).take(pa.array(chosen))


def _group_starts(sorted_keys: pa.Array) -> np.ndarray:
    """Where each run of equal values of a sorted array starts."""
    changes = pc.not_equal(sorted_keys[1:], sorted_keys[:-1]).to_numpy(zero_copy_only=False)
    return np.concatenate([[0], np.flatnonzero(changes) + 1]).astype(np.int64)


def _array(table: pa.Table, name: str) -> pa.Array:
    return table[name].combine_chunks()


def _value_counts(values: pa.Array) -> dict:
    counts = pc.value_counts(values)
    return dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))


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
