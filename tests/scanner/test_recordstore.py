"""The record store's appends on disk (recordstore.py)."""

import pyarrow as pa

from garde.scanner.recordstore import RecordStore


def test_rows_appended_on_disk_are_in_the_database_file_at_once_even_while_a_query_is_read(tmp_path):
    # The report appends rows while it reads another query (the places of persons.parquet): they
    # must not wait in DuckDB's memory for a checkpoint, millions of them in a large dump.
    store = RecordStore(tmp_path / "records.duckdb")
    store.run("CREATE TABLE paths (sha256 VARCHAR, path VARCHAR, ord BIGINT)")
    store.append(
        "paths", pa.table({"sha256": ["a"] * 3, "path": ["x.csv", "y.csv", "z.csv"], "ord": [0, 1, 2]})
    )
    reading = store.batches("SELECT * FROM paths", rows=1)
    next(reading)
    store.append("paths", pa.table({"sha256": ["b"], "path": ["w.txt"], "ord": [3]}))
    wal = tmp_path / "records.duckdb.wal"
    assert not wal.exists() or wal.stat().st_size == 0
    reading.close()
    assert store.fetch("SELECT path FROM paths ORDER BY ord") == [
        ("x.csv",),
        ("y.csv",),
        ("z.csv",),
        ("w.txt",),
    ]
    store.close()
