"""Parquet files written a small table at a time (the scanner's outputs)."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


class RowGroupWriter:
    """A Parquet writer that gathers small tables (the findings of one file) into row groups of
    about ROW_GROUP rows: one row group per file would keep the metadata of every file in memory
    until the footer is written, and make a footer as large."""

    ROW_GROUP = 100_000

    def __init__(self, path: Path, schema: pa.Schema):
        self.writer = pq.ParquetWriter(path, schema)
        self.pending: list[pa.Table] = []
        self.rows = 0

    def write_table(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.rows += table.num_rows
        if self.rows >= self.ROW_GROUP:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.writer.write_table(pa.concat_tables(self.pending))
            self.pending, self.rows = [], 0

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.flush()
        self.writer.close()
