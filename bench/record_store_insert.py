"""Record store: the time and memory of filling the report's DuckDB database (recordstore.py) with N
synthetic person records, two ways, each in a process of its own:

- "batches": `RecordStore.add_batch`, an INSERT and a CHECKPOINT every BATCH (5,000) records (what
  the report did until 2026-12-01);
- "stream": `RecordStore.add_batches`, one INSERT per INSERT_RECORDS (500,000) reading the batches
  as they come (what the report does now).

    .venv/bin/python bench/record_store_insert.py [--records 1500000] [--work DIR]

Records have the link fields of a letter's header (sorted keyed hashes, 12 name bigrams, 3 birth-date
pairs): random hex, as the scan's keyed hashes are. The time printed includes making the rows (the
same for both ways); "making the rows alone" is printed too.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pyarrow as pa

from garde.scanner.recordstore import BATCH, RECORD_COLUMNS, RecordStore


def synthetic_batches(records: int, seed: int = 1):
    random_bits = random.Random(seed).getrandbits

    def key() -> str:
        return f"{random_bits(64):016x}"

    for start in range(0, records, BATCH):
        rows = [
            {
                "record_id": f"{key()}#{number}",
                "sha256": key() * 4,
                "locator": f"row {number}",
                "identifies": number % 10 != 0,
                "categories": "contact,identity",
                "detectors": "ipp,person_name,phone",
                "strong_keys": [key() * 4],
                "name_birth_key": key() * 4,
                "weak_keys": [key() * 4, key() * 4],
                "contact_keys": ["p" + key()],
                "postcode": key(),
                "name_key": key(),
                "name_grams": [key() for _ in range(12)],
                "name_phonetic": key(),
                "birth": key(),
                "birth_parts": [key(), key(), key()],
            }
            for number in range(start, min(records, start + BATCH))
        ]
        yield pa.RecordBatch.from_pylist(rows, schema=RECORD_COLUMNS)


def fill(way: str, records: int, work: Path) -> None:
    """Fills a store one way and prints one line (run in a child process: a fresh peak)."""
    process = psutil.Process()
    peak = 0

    def watched(batches):
        nonlocal peak
        for batch in batches:
            peak = max(peak, process.memory_info().rss)
            yield batch

    started = time.perf_counter()
    if way == "rows":
        for _batch in watched(synthetic_batches(records)):
            pass
        print(f"making the rows alone: {time.perf_counter() - started:6.1f} s", flush=True)
        return
    store = RecordStore(work / f"{way}.duckdb")
    try:
        if way == "batches":
            for batch in watched(synthetic_batches(records)):
                store.add_batch(batch, None)
            store.flush()
        else:
            store.add_batches(watched(synthetic_batches(records)))
        peak = max(peak, process.memory_info().rss)
        count = store.fetch("SELECT count(*) FROM records")[0][0]
    finally:
        store.close()
    size = (work / f"{way}.duckdb").stat().st_size
    print(
        f"{way:8s} {count:,} records: {time.perf_counter() - started:6.1f} s, peak RSS {peak / 1e6:5.0f} MB, "
        f"database {size / 1e6:5.0f} MB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_500_000)
    parser.add_argument("--work", type=Path, help="folder for the databases (default: a temporary folder)")
    parser.add_argument("--way", choices=("rows", "batches", "stream"), help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args()
    if args.way:
        fill(args.way, args.records, args.work)
        return
    with tempfile.TemporaryDirectory(dir=args.work) as temporary:
        for way in ("rows", "batches", "stream"):
            command = [sys.executable, __file__, "--way", way, "--records", str(args.records), "--work", temporary]
            subprocess.run(command, check=True, env={**os.environ})


if __name__ == "__main__":
    main()
