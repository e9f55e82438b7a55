"""The records of a scan in a DuckDB database on disk, so that linking them and writing the report
never holds them in Python: a dump of millions of records needs no more memory than one of
thousands (DuckDB works within MEMORY_LIMIT and spills to a folder beside the database).

Records are added in walk order (`add`) and numbered by `idx`; the person records (those that
identify someone) are numbered again, in the same order, by `pidx`, and the view `persons` is what
the linkage reads (link.py, linkage.py). Queries avoid window functions, which DuckDB keeps in
memory: grouping, joins and sorts spill to disk. The categories and detectors of a record are kept
as text (NAMES_SEPARATOR between names), not as lists: DuckDB 2.0 needs more memory to join or sort
rows that carry list columns once they no longer fit in MEMORY_LIMIT, where the same rows with text
columns spill to disk.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# DuckDB's buffer pool; joins and sorts beyond it spill to disk. The store is filled and read
# after the workers have stopped (report.py), so it has their memory: 128 MB was too little to
# score the pairs of 2.5 million records (docs/benchmarks.md, "The report at 2.5 million records").
MEMORY_LIMIT = "256MB"
BATCH = 5_000  # records inserted at a time by `add_batch`
# Records per INSERT statement of `add_batches`, each followed by a checkpoint. One statement reading
# the batches as they come writes full row groups to the database file as it goes; checkpointing
# after every BATCH records (add_batch) took 6 times longer to insert with no less memory
# (docs/benchmarks.md, "A whole 10 GB scan").
INSERT_RECORDS = 500_000
NAMES_SEPARATOR = ","  # between the names of `categories` and `detectors` (names never hold one)
NAME_LISTS = ("categories", "detectors")

_TEXT = pa.string()
_LIST = pa.list_(pa.string())
RECORD_COLUMNS = pa.schema(
    [
        ("idx", pa.int64()),
        ("pidx", pa.int64()),  # number among the person records (identifies), NULL for the others
        ("record_id", _TEXT),
        ("sha256", _TEXT),
        ("locator", _TEXT),
        ("identifies", pa.bool_()),
        ("categories", _TEXT),  # names joined by NAMES_SEPARATOR
        ("detectors", _TEXT),
        # link fields (linkfeatures.py)
        ("strong_keys", _LIST),
        ("name_birth_key", _TEXT),
        ("weak_keys", _LIST),
        ("nir_keys", _LIST),
        ("contact_keys", _LIST),
        ("postcode", _TEXT),
        ("name_key", _TEXT),
        ("name_grams", _LIST),
        ("name_phonetic", _TEXT),
        ("birth", _TEXT),
        ("birth_swap", _TEXT),
        ("birth_parts", _LIST),
    ]
)


class RecordStore:
    """`path` None: an in-memory database (tests, small scans linked directly)."""

    def __init__(self, path: Path | None = None):
        import duckdb

        self.connection = duckdb.connect(str(path) if path else ":memory:")
        self.on_disk = path is not None
        if path:
            spill = Path(path).with_suffix(".spill")
            spill.mkdir(exist_ok=True)
            quoted = str(spill).replace("'", "''")  # "l'hôpital": a quote in a folder name is common in French
            self.connection.execute(f"SET temp_directory = '{quoted}'")
        self.connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        self.connection.execute("SET preserve_insertion_order = true")
        self.connection.execute(f"CREATE TABLE records ({columns_sql(RECORD_COLUMNS)})")
        self.size = 0
        self.persons = 0
        self._pending: list[pa.Table] = []
        self._pending_rows = 0

    def add(self, rows: list[dict]) -> None:
        """Records as dicts (record row + link fields, and `sha256`), in walk order."""
        table = pa.Table.from_pylist([stored_record(row) for row in rows], schema=RECORD_COLUMNS)
        for batch in table.to_batches():
            self.add_batch(batch, None)

    def add_batch(self, batch: pa.RecordBatch, sha256: str | None) -> None:
        """A batch of a part's records (worker.PART_RECORDS: `idx` and `sha256` are set here), or
        of RECORD_COLUMNS with `sha256` already there."""
        self._pending.append(pa.Table.from_batches([self._numbered(batch, sha256)]))
        self._pending_rows += batch.num_rows
        if self._pending_rows >= BATCH:
            self.flush()

    def add_batches(self, batches: Iterable[pa.RecordBatch]) -> None:
        """Batches as `add_batch` takes them (with their `sha256`), many at a time: each
        INSERT_RECORDS of them inserted by one statement that reads them as they come."""
        self.flush()
        batches = iter(batches)
        exhausted = False

        def next_records() -> Iterator[pa.RecordBatch]:
            nonlocal exhausted
            rows = 0
            for batch in batches:
                yield self._numbered(batch, None)
                rows += batch.num_rows
                if rows >= INSERT_RECORDS:
                    return
            exhausted = True

        while not exhausted:
            self._insert(pa.RecordBatchReader.from_batches(RECORD_COLUMNS, next_records()))

    def _insert(self, reader: pa.RecordBatchReader) -> None:
        """One INSERT reading `reader`, on one DuckDB thread: the batches are then produced in this
        thread (the caller's generators may use objects tied to it, such as a SQLite connection),
        not in one of DuckDB's."""
        threads = self.fetch("SELECT current_setting('threads')")[0][0]
        self.run("SET threads TO 1")
        try:
            self.fetch("INSERT INTO records SELECT * FROM incoming", {"incoming": reader})
        finally:
            self.run(f"SET threads TO {int(threads)}")
        self._checkpoint()

    def _numbered(self, batch: pa.RecordBatch, sha256: str | None) -> pa.RecordBatch:
        """`batch` as a batch of RECORD_COLUMNS, numbered after the records added before it."""
        size = batch.num_rows
        columns = {name: batch.column(name) for name in batch.schema.names}
        columns["idx"] = pa.array(np.arange(self.size, self.size + size), pa.int64())
        identifies = np.asarray(batch.column("identifies").fill_null(False).to_numpy(zero_copy_only=False), bool)
        columns["pidx"] = pa.array(self.persons + np.cumsum(identifies) - 1, pa.int64(), mask=~identifies)
        self.persons += int(identifies.sum())
        self.size += size
        if sha256 is not None:
            columns["sha256"] = pa.array([sha256] * size, pa.string())
        for name in NAME_LISTS:
            if pa.types.is_list(columns[name].type):  # a part written by an earlier version (--resume)
                joined = pc.binary_join(columns[name], NAMES_SEPARATOR)
                columns[name] = pc.if_else(pc.equal(joined, ""), pa.scalar(None, pa.string()), joined)  # as stored_record
        return pa.RecordBatch.from_arrays([columns[name] for name in RECORD_COLUMNS.names], schema=RECORD_COLUMNS)

    def flush(self) -> None:
        if not self._pending:
            return
        self.append("records", pa.concat_tables(self._pending).combine_chunks())
        self._pending, self._pending_rows = [], 0

    def append(self, table: str, rows: pa.Table) -> None:
        """Inserts `rows` (columns in the table's order) into `table`, and writes them to the
        database file: appended rows stay in DuckDB's memory until a checkpoint, and a checkpoint
        may not come on its own while a query is being read (report_persons appends the places of
        persons while it reads), so millions of rows could wait in memory."""
        self.fetch(f"INSERT INTO {table} SELECT * FROM appended", {"appended": rows})
        self._checkpoint()

    def _checkpoint(self) -> None:
        """Writes the rows appended so far to the database file. DuckDB refuses while it counts
        another write transaction as active (seen once in bench/report_memory.py, whose sampling
        thread queries the store): the rows are then written by the next checkpoint, not lost."""
        import duckdb

        if not self.on_disk:
            return
        try:
            self.run("CHECKPOINT")
        except duckdb.TransactionException:
            pass

    def index_persons(self) -> int:
        """The person records (numbered by pidx as they were added) as the view `persons`; their
        count. (A view: numbering them in SQL would sort every record in memory.)"""
        self.flush()
        self.run("CREATE OR REPLACE VIEW persons AS SELECT * FROM records WHERE pidx IS NOT NULL")
        return self.persons

    def batches(self, query: str, rows: int = 50_000):
        """Arrow record batches of a query, without holding its whole result. On a cursor of its
        own: other queries may run while it is read."""
        cursor = self.connection.cursor()
        try:
            yield from cursor.sql(query).to_arrow_reader(rows)
        finally:
            cursor.close()

    def fetch(self, query: str, tables: dict | None = None) -> list[tuple]:
        """All rows of a query (a small result), on a cursor of its own; `tables`: Arrow tables
        to register by name for this query."""
        cursor = self.connection.cursor()
        try:
            for name, table in (tables or {}).items():
                cursor.register(name, table)
            return cursor.execute(query).fetchall()
        finally:
            cursor.close()

    def run(self, statement: str) -> None:
        cursor = self.connection.cursor()
        try:
            cursor.execute(statement)
        finally:
            cursor.close()

    def close(self) -> None:
        self.connection.close()


def stored_record(row: dict) -> dict:
    """A record row as stored: an empty list is no value (NULL), a missing flag is False, the names
    of NAME_LISTS are joined."""
    stored = {}
    for name, value in row.items():
        if name in NAME_LISTS and value:
            value = NAMES_SEPARATOR.join(value)
        stored[name] = None if value is None or value == [] else value
    stored["identifies"] = bool(row.get("identifies"))
    return stored


def split_names(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A column of NAME_LISTS as stored (joined names) back to lists of names."""
    return pc.split_pattern(column, NAMES_SEPARATOR)


def columns_sql(schema: pa.Schema) -> str:
    """The column definitions of a CREATE TABLE for an Arrow schema."""
    kinds = {
        pa.int64(): "BIGINT",
        _TEXT: "VARCHAR",
        pa.bool_(): "BOOLEAN",
        _LIST: "VARCHAR[]",
        pa.uint8(): "UTINYINT",
        pa.float64(): "DOUBLE",
    }
    return ", ".join(f"{field.name} {kinds[field.type]}" for field in schema)
