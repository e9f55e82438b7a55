"""Scanner report at scale: time and memory of the stages after the scan (the record store, the
linkage with Splink, persons and records outputs) on millions of records, without scanning
gigabytes for each try.

    .venv/bin/python bench/report_memory.py [--mb 300] [--times 10] [--seed 7] [--same-births | --same-names] [--work DIR]

The script scans a synthetic dump of --mb MB once (the mix of bench/scan_bench.py, rules only),
keeps the records its report stored (with their link fields) and the paths it walked, then makes
--times copies of them, each copy's keys, record ids and contents suffixed with its number: the
copies never link to each other, so the person count grows with them as it would with a larger
dump of the same mix. With --same-births the copies keep the birth-date fields: each copy is other
people born on the same days, so the birth-date blocks of the linkage fill as in a dump --times
larger (the pairs they hold grow with the square of the copies), where copies apart only add
blocks. With --same-names the copies keep the name fields instead (name tokens, bigrams, phonetic
key): other people with the same names, born on other days, as a dump whose names come from the
same lists (Faker's) fills its name blocks. In a child process it then fills a record store from them and runs each
stage as write_report does, printing per stage the seconds, the process's peak RSS, and the
linkage's method (splink, or deterministic with Splink's error).
"""

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_bench import make_dump  # noqa: E402  (a sibling script)

BIRTH_FIELDS = ("birth", "birth_swap", "birth_parts")
NAME_FIELDS = ("name_key", "name_grams", "name_phonetic")


def export_records(work: Path, megabytes: float, seed: int) -> None:
    """Scans the dump and copies the store's `records` and `paths` tables to Parquet."""
    from garde.scanner import ScanSettings, report, scan

    dump = work / "dump"
    if not dump.exists():
        make_dump(dump, megabytes, seed)
    linking = report.link_store

    def exporting(store):
        store.flush()
        for table in ("records", "paths"):
            store.run(f"COPY {table} TO '{work / table}.parquet' (FORMAT parquet)")
        return linking(store)

    report.link_store = exporting
    try:
        scan([dump], work / "out", ScanSettings(jobs=2, ner=False))
    finally:
        report.link_store = linking


def replicate(work: Path, times: int, kept: tuple[str, ...]) -> tuple[int, int]:
    """records-xN.parquet and paths-xN.parquet: N copies that do not link to each other (but for
    the link fields in `kept`, which each copy keeps as it is)."""
    import duckdb

    connection = duckdb.connect()
    records, persons = connection.execute(f"SELECT count(*), count(pidx) FROM '{work}/records.parquet'").fetchone()
    paths = connection.execute(f"SELECT count(*) FROM '{work}/paths.parquet'").fetchone()[0]
    kinds = connection.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '{work}/records.parquet')").fetchall()
    suffix = "'.' || copy"
    columns = []
    for name, kind in kinds:
        if name in ("idx", "pidx"):
            columns.append(f"{name} + copy * {records if name == 'idx' else persons} AS {name}")
        elif name in ("identifies", "categories", "detectors", "locator", *kept):
            columns.append(name)
        elif kind == "VARCHAR[]":
            columns.append(f"CASE WHEN copy = 0 THEN {name} ELSE list_transform({name}, lambda v: v || {suffix}) END AS {name}")
        else:
            columns.append(f"CASE WHEN copy = 0 THEN {name} ELSE {name} || {suffix} END AS {name}")
    copies = f"range({times}) t(copy)"
    connection.execute(
        f"COPY (SELECT {', '.join(columns)} FROM '{work}/records.parquet', {copies} ORDER BY copy, idx) "
        f"TO '{work}/records-x{times}.parquet' (FORMAT parquet, ROW_GROUP_SIZE 10000)"
    )
    connection.execute(
        f"COPY (SELECT CASE WHEN copy = 0 THEN sha256 ELSE sha256 || {suffix} END AS sha256, path || {suffix} AS path, "
        f"ord + copy * {paths} AS ord FROM '{work}/paths.parquet', {copies} ORDER BY copy, ord) TO '{work}/paths-x{times}.parquet' (FORMAT parquet)"
    )
    return records * times, persons * times


def run_stages(work: Path, times: int) -> None:
    """In this process (a child): each stage of the report on the copies, with its figures."""
    from garde.scanner import freed_memory
    from garde.scanner.link import LOWER_THRESHOLD, link_store, linkage_warning
    from garde.scanner.recordstore import RecordStore
    from garde.scanner.report import _PersonOf
    from garde.scanner.report_persons import assign_persons, records_with_persons, write_persons

    process, peak, duckdb_peak, stores = psutil.Process(), [0], [0], []
    stopping = threading.Event()

    def sample():
        """The process's RSS, and what DuckDB says it holds (its buffer pool and its other allocations)."""
        cursor = None
        while not stopping.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            if stores and cursor is None:
                cursor = stores[0].connection.cursor()
            if cursor is not None:
                try:
                    held = cursor.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0]
                except Exception:  # noqa: BLE001 - the store was closed: the stages are over
                    return
                duckdb_peak[0] = max(duckdb_peak[0], held or 0)
            time.sleep(0.05)
        if cursor is not None:
            cursor.close()

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    clock = [time.perf_counter()]

    def stage(name: str, detail: str = "") -> None:
        now = time.perf_counter()
        print(
            f"{name:<34} {now - clock[0]:8.1f} s  peak RSS {peak[0] >> 20:5d} MB (DuckDB {duckdb_peak[0] >> 20:4d} MB), "
            f"at the end {process.memory_info().rss >> 20:5d} MB  {detail}",
            flush=True,
        )
        clock[0], peak[0], duckdb_peak[0] = now, 0, 0

    with tempfile.TemporaryDirectory(dir=work) as scratch:
        store = RecordStore(Path(scratch) / "records.duckdb")
        stores.append(store)
        # Filled by DuckDB from the file (a scan adds its records a batch at a time from its parts,
        # which bench/scan_memory.py measures): pyarrow's reader of one large file held hundreds of MB.
        store.run(f"INSERT INTO records SELECT * FROM '{work}/records-x{times}.parquet'")
        store.run("CHECKPOINT")
        store.size, store.persons = store.fetch("SELECT count(*), count(pidx) FROM records")[0]
        store.run(f"CREATE TABLE paths AS SELECT * FROM '{work}/paths-x{times}.parquet'")
        stage("fill the record store", f"{store.size:,} records, {store.persons:,} person records")
        result = link_store(store)
        info = result.info
        method = info["method"] + (
            f", {info.get('blocked_pairs', 0):,} blocked pairs in {info.get('predict_chunks')} chunks, "
            f"{info.get('pairs_scored_above_threshold', 0):,} at {LOWER_THRESHOLD} or more, Splink {info.get('seconds')} s"
            f" {info.get('seconds_by_step', '')}"
            if info["method"] == "splink"
            else ""
        )
        stage("link (deterministic + Splink)", f"{method}; persons {result.lower_count:,} / {result.best_count:,} / {result.upper:,}")
        if linkage_warning(info):
            print(f"    {linkage_warning(info)}")
        assign_persons(store, result)
        del result  # as report._link_persons: the linkage's arrays are not kept for the outputs
        freed_memory.give_back()
        stage("person_of")
        # The findings pass's reading: the person of each record, in the store's order (report._PersonOf).
        person_of, with_person = _PersonOf(store), 0
        for batch in store.batches("SELECT record_id FROM records"):
            with_person += sum(person is not None for person in person_of.of(batch.column(0).to_pylist()))
        person_of.close()
        stage("person of each record (findings)", f"{with_person:,} records with a person")
        rows = sum(batch.num_rows for batch in records_with_persons(store, "record_id, sha256, locator, categories, detectors"))
        stage("records with their persons", f"{rows:,} rows")
        write_persons(Path(scratch) / "persons.parquet", store)
        stage("persons.parquet")
        stopping.set()  # before closing the store: DuckDB refuses to close a connection in use
        sampler.join()
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=300)
    parser.add_argument("--times", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    same = parser.add_mutually_exclusive_group()
    same.add_argument("--same-births", action="store_true", help="copies keep the birth-date fields (see above)")
    same.add_argument("--same-names", action="store_true", help="copies keep the name fields (see above)")
    parser.add_argument("--work", type=Path, help="folder kept between runs (default: a temporary folder)")
    parser.add_argument("--stages", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.stages:
        run_stages(args.work, args.times)
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="garde-report-"))
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "records.parquet").exists():
        started = time.perf_counter()
        export_records(work, args.mb, args.seed)
        print(f"scanned {args.mb:g} MB in {time.perf_counter() - started:.0f} s", flush=True)
    kept = BIRTH_FIELDS if args.same_births else NAME_FIELDS if args.same_names else ()
    records, persons = replicate(work, args.times, kept)
    print(f"{args.times} copies: {records:,} records, {persons:,} person records", flush=True)
    subprocess.run([sys.executable, __file__, "--stages", "--work", str(work), "--times", str(args.times)], check=True)


if __name__ == "__main__":
    main()
