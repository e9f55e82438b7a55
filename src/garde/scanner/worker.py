"""Scans one file: extract -> detect -> per-record link keys, written as the file's part: for most
files an entry of the worker's pack (packs.py), for a large one its records and findings as Arrow IPC
files written batch by batch, then its outcome, named by the content hash. Runs in worker processes
with a time and memory limit, or in-process for --jobs 0."""

import json
import multiprocessing
import os
import resource
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

import psutil
import pyarrow as pa

from garde.scanner import packs
from garde.scanner.detect import by_name, detect_records, ner, prefilter
from garde.scanner.detect.tables import detect_rows
from garde.scanner.extract import ExtractionError, Source, choose
from garde.scanner.linkfeatures import link_fields
from garde.scanner.mask import keyed_hash, mask
from garde.scanner.model import Child, Finding, Note, Record, Rows
from garde.scanner.recordstore import RECORD_COLUMNS, stored_record

PART_FINDINGS = pa.schema(
    [
        ("record_id", pa.string()),
        ("locator", pa.string()),
        ("field", pa.string()),
        ("category", pa.string()),
        ("detector", pa.string()),
        ("confidence", pa.float64()),
        ("masked", pa.string()),
        ("value_hash", pa.string()),
        ("value", pa.string()),
        ("start", pa.int32()),
        ("end", pa.int32()),
    ]
)
PART_RECORDS = pa.schema([field for field in RECORD_COLUMNS if field.name not in ("idx", "pidx", "sha256")])
# Records are detected in batches: one prefilter pass per batch.
BATCH_CHARS = 1 << 20
BATCH_RECORDS = 1024  # 8,192 rows of a patient table held 100 MB more for no speed gained
MAX_CACHED_HASHES = 20_000  # keyed hashes kept per file between batches (about 6 MB)
# With NER on, small files go to a worker several at a time (a bundle): the sentences of all of them
# are read by spaCy in one batch, then each file is scanned as if alone. spaCy reads one letter's
# 1-2 KB at about 60 KB/s and batches of 8-32 KB at 105 KB/s (docs/benchmarks.md, "NER sentence by
# sentence"). A bundle that fails (worker killed or over the time limit) is retried file by file.
BUNDLE_FILE_BYTES = 64 << 10  # files up to this size are bundled
BUNDLE_BYTES = 256 << 10  # a bundle holds up to this many bytes of files
BUNDLE_FILES = 64
AHEAD_CHARS = 256_000  # text extracted for the bundle and kept for the file's own scan


@dataclass
class Task:
    path: str
    logical: str
    sha256: str
    size: int = 0  # bytes, 0 when unknown: small files are bundled (BUNDLE_FILE_BYTES)


@dataclass
class _Extracted:
    """What a file's extractor produced (records and notes), read once for its bundle."""

    chosen: object  # the extractor
    items: list


@dataclass
class Config:
    parts_dir: str
    work_dir: str
    key: bytes
    reveal: bool
    min_confidence: float
    file_seconds: float
    file_memory: int
    prefilter: bytes | None = None  # the compiled hyperscan database, compiled once by the parent
    ner: bool = False  # spaCy NER on free text (ScanSettings.ner); the model loads once per process
    file_seconds_per_mb: float = 0.0  # added to file_seconds for each MB of the file (model.Limits)

    def seconds_allowed(self, tasks: "list[Task]") -> float:
        """The time limit of a file, or of a bundle of small files (their sizes added up)."""
        return self.file_seconds + self.file_seconds_per_mb * sum(task.size for task in tasks) / 1e6


# Memory of a local scan in MB, with NER and without (measured: docs/benchmarks.md, "Memory of a whole
# scan"): the parent and the fork server, then each worker at its peak.
SCAN_BASE_MB = {True: 600, False: 400}
WORKER_MB = {True: 250, False: 150}


def default_jobs(ner_on: bool) -> int:
    """One worker per core, but no more than the memory available now can hold: past it the system
    swaps, or kills workers and their files go unscanned."""
    cores = os.cpu_count() or 1
    available_mb = psutil.virtual_memory().available >> 20
    return max(1, min(cores, (available_mb - SCAN_BASE_MB[ner_on]) // WORKER_MB[ner_on]))


def part_path(parts_dir: Path, sha256: str) -> Path:
    """The outcome of a scanned file written apart from its data (a large part, or a failure):
    written last, so a part without it is incomplete."""
    return parts_dir / f"{sha256}.json"


def part_done(parts_dir: Path, outcome: dict) -> bool:
    """Whether a file's part was written: packed (its outcome says where) or as an outcome file."""
    return "part" in outcome or part_path(parts_dir, outcome["sha256"]).exists()


def _data_path(parts_dir: Path, sha256: str, kind: str) -> Path:
    return parts_dir / f"{sha256}.{kind}.arrow"


@dataclass
class Part:
    """A finished part: the file's outcome, and its records and findings: the rows of a packed part,
    or the Arrow IPC files a large part streamed them to, read one batch at a time (a file of millions
    of records is never held whole)."""

    outcome: dict
    records: list[dict] | Path | None  # None: a packed part's rows not read (read_part's `kinds`)
    findings: list[dict] | Path | None

    @property
    def packed(self) -> bool:
        return not isinstance(self.records, Path)

    def batches(self, kind: str):
        """The "records" or "findings" as Arrow batches (PART_SCHEMAS). Nothing when the outcome
        counts none: a file killed over its time limit may have left a data file cut short."""
        if not self.outcome.get(kind):
            return
        data = getattr(self, kind)
        if data is None:
            raise ValueError(f"the {kind} of this packed part were not read")
        if isinstance(data, list):
            yield pa.RecordBatch.from_pylist(data, schema=PART_SCHEMAS[kind])
        else:
            yield from _batches(data)

    def record_batches(self):
        return self.batches("records")

    def finding_batches(self):
        return self.batches("findings")


PART_SCHEMAS = {"records": PART_RECORDS, "findings": PART_FINDINGS}
# Part files up to this size are read whole before their batches are decoded: opening one takes 60 µs
# instead of 140-250 µs through a file handle.
SMALL_PART_BYTES = 1 << 20


def _batches(path: Path):
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    # Read, not memory-mapped: the report holds thousands of small batches before inserting them,
    # and each mapped file would keep its pages (about 50 KB of memory per part) until then.
    if size <= SMALL_PART_BYTES:
        yield from _read_batches(pa.BufferReader(path.read_bytes()))
        return
    with pa.OSFile(str(path)) as source:
        yield from _read_batches(source)


def _read_batches(source):
    reader = pa.ipc.open_file(source)
    for index in range(reader.num_record_batches):
        yield reader.get_batch(index)


def read_part(parts_dir: Path, sha256: str, location: dict | None = None, kinds=("records", "findings")) -> Part | None:
    """The finished part of a file: packed at `location` (see packs.py; only the rows of `kinds`
    are read), else streamed (its outcome file). None if there is none, or its run was killed before
    it was whole (the file is then scanned again by --resume)."""
    if location is not None:
        packed = packs.read(parts_dir, sha256, location, kinds)
        if packed is None:
            return None
        outcome, rows = packed
        return Part({**outcome, "part": location}, rows.get("records"), rows.get("findings"))
    try:
        outcome = json.loads(part_path(parts_dir, sha256).read_text())
    except (OSError, ValueError):
        return None
    return Part(outcome, _data_path(parts_dir, sha256, "records"), _data_path(parts_dir, sha256, "findings"))


# A file whose records and findings take less than this as JSON gets a packed part: an entry in its
# worker's pack (packs.py) instead of two data files and an outcome (each file costs 100-900 µs to
# create, and a dump of letters has about 100 files per MB). Plain rows, not Arrow: building an Arrow
# table costs 150-650 µs however few its rows, and most files have a handful; the report converts
# the rows of many files at once.
PACKED_BYTES = 1 << 20
# Streamed parts are compressed like packed ones (zstd, buffer by buffer: read back without a setting).
# One thread: a worker has one core.
_COMPRESSED = pa.ipc.IpcWriteOptions(compression=packs.CODEC, use_threads=False)


class PartWriter:
    """Writes a file's records and findings, then its outcome (atomically, last). They are held in
    memory up to PACKED_BYTES and written as one packed part; past that, batch by batch to two data
    files as the worker finds them."""

    def __init__(self, parts_dir: Path, sha256: str):
        self.parts_dir, self.sha256 = Path(parts_dir), sha256
        self._writers: dict[str, tuple] = {}
        self._held: dict[str, list[tuple[list[dict], bytes]]] = {"records": [], "findings": []}  # each batch's rows and JSON
        self._held_bytes = 0

    def add(self, record_rows: list[dict], finding_rows: list[dict]) -> None:
        if record_rows:
            self._add("records", [stored_record(row) for row in record_rows])
        if finding_rows:
            self._add("findings", finding_rows)

    def _add(self, kind: str, rows: list[dict]) -> None:
        if not self._writers:
            encoded = json.dumps(rows).encode()
            if self._held_bytes + len(encoded) <= PACKED_BYTES:
                self._held[kind].append((rows, encoded))
                self._held_bytes += len(encoded)
                return
            for held_kind, held in self._held.items():  # too much to hold: stream from now on
                for held_rows, _encoded in held:
                    self._write(held_kind, held_rows)
            self._held = {"records": [], "findings": []}
        self._write(kind, rows)

    def _write(self, kind: str, rows: list[dict]) -> None:
        table = pa.Table.from_pylist(rows, schema=PART_SCHEMAS[kind])
        if kind not in self._writers:
            sink = pa.OSFile(str(_data_path(self.parts_dir, self.sha256, kind)), "wb")
            self._writers[kind] = (sink, pa.ipc.new_file(sink, table.schema, options=_COMPRESSED))
        self._writers[kind][1].write_table(table)

    def finish(self, outcome: dict) -> None:
        """Writes the part; a packed part's location goes into `outcome` (for the parent)."""
        if not self._writers:
            batches = {kind: [encoded for _rows, encoded in held] for kind, held in self._held.items()}
            outcome["part"] = packs.append(self.parts_dir, self.sha256, outcome, batches["records"], batches["findings"])
            return
        for kind in ("records", "findings"):  # a data file left by a killed run must not be read
            if kind not in self._writers:
                _data_path(self.parts_dir, self.sha256, kind).unlink(missing_ok=True)
        for sink, writer in self._writers.values():
            writer.close()
            sink.close()
        self._writers = {}
        write_outcome(self.parts_dir, self.sha256, outcome)


def write_outcome(parts_dir: Path, sha256: str, outcome: dict) -> None:
    target = part_path(Path(parts_dir), sha256)
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(outcome))
    os.replace(temporary, target)


def process_file(task: Task, config: Config, ahead: _Extracted | None = None) -> dict:
    """Scans one file; `ahead`: what its extractor produced, when its bundle already read it."""
    started = time.monotonic()
    ner.configure(config.ner)
    outcome = {"sha256": task.sha256, "extractor": None, "records": 0, "findings": 0, "children": [], "error": None}
    source = Source(Path(task.path), task.logical)
    chosen = ahead.chosen if ahead is not None else choose(source)
    if chosen is None:
        outcome["extractor"] = "binary"
        outcome["skipped"] = "binary file of an unsupported type"
        PartWriter(Path(config.parts_dir), task.sha256).finish(outcome)  # an entry of the pack, without records
        return outcome
    outcome["extractor"] = chosen.name
    writer = PartWriter(Path(config.parts_dir), task.sha256)
    children = 0
    batch: list[tuple[int, Record]] = []
    hashes: dict[tuple[str, str], str] = {}  # keyed hashes of the values met lately (towns, services...)

    def write(detected) -> None:
        """Writes the (index, record, findings) of a batch."""
        finding_rows: list[dict] = []
        record_rows: list[dict] = []
        if len(hashes) > MAX_CACHED_HASHES:
            hashes.clear()  # a patient table has a distinct value per cell: keep memory bounded
        for index, record, findings in detected:
            _add_record(record, findings, index, task.sha256, config, finding_rows, record_rows, hashes)
        writer.add(record_rows, finding_rows)
        outcome["records"] += len(record_rows)
        outcome["findings"] += len(finding_rows)

    def flush() -> None:
        pending = batch[:]
        batch.clear()
        if pending:
            found = detect_records([record for _, record in pending], config.min_confidence)
            write([(index, record, findings) for (index, record), findings in zip(pending, found, strict=True)])

    try:
        batch_chars = 0
        index = 0  # of the record in the file: a part's record ids are "<sha256 prefix>#<index>"
        for produced in ahead.items if ahead is not None else chosen.scan(source):
            if isinstance(produced, Rows):
                flush()
                batch_chars = 0
                count, detected = detect_rows(produced, config.min_confidence)
                write([(index + position, record, findings) for position, record, findings in detected])
                index += count
                continue
            index += 1
            if isinstance(produced, Note):
                notes = outcome.setdefault("notes", {})
                notes[produced.name] = notes.get(produced.name, 0) + produced.count
                continue
            if isinstance(produced, Child):
                children += 1
                target = Path(config.work_dir) / f"c{task.sha256[:16]}-{children:05d}"
                target.write_bytes(produced.data)
                outcome["children"].append([produced.name, str(target)])
                continue
            batch.append((index - 1, produced))
            batch_chars += _chars(produced)
            if batch_chars > BATCH_CHARS or len(batch) >= BATCH_RECORDS:
                flush()
                batch_chars = 0
        flush()
    except ExtractionError as error:
        outcome["error"] = str(error)
    except (UnicodeError, ValueError, KeyError, IndexError, OSError, RecursionError) as error:
        outcome["error"] = f"unreadable as {chosen.name}: {type(error).__name__}: {error}"
    except MemoryError:
        outcome["error"] = "memory limit exceeded while reading the file"
    if batch and outcome["error"] != "memory limit exceeded while reading the file":
        flush()  # the records read before the error are still scanned
    outcome["seconds"] = round(time.monotonic() - started, 3)
    writer.finish(outcome)
    return outcome


def scan_task(task: Task, config: Config, ahead: _Extracted | None = None) -> dict:
    """process_file, with what escapes it turned into the file's failure: one bad file must never
    stop the scan."""
    try:
        return process_file(task, config, ahead)
    except MemoryError:
        return failed_outcome(task.sha256, "memory limit exceeded while reading the file")
    except Exception as error:  # noqa: BLE001
        detail = traceback.format_exception_only(error)[-1].strip()
        return failed_outcome(task.sha256, f"extractor crashed: {detail}")


def process_bundle(tasks: list[Task], config: Config) -> list[dict]:
    """Scans several small files: with NER on, first NER reads the sentences of all of them in one
    batch (they then come from its cache); then each file is scanned as process_file does alone."""
    ner.configure(config.ner)
    if not config.ner:
        return [scan_task(task, config) for task in tasks]
    extracted = [_extract_ahead(task) for task in tasks]
    try:
        ner.read_ahead(
            field for ahead in extracted if ahead is not None for item in ahead.items if isinstance(item, Record) for field in item.fields
        )
    except Exception:  # noqa: BLE001, S110 - each file's own scan meets the problem again and records it
        pass
    return [scan_task(task, config, ahead) for task, ahead in zip(tasks, extracted, strict=True)]


def _extract_ahead(task: Task) -> _Extracted | None:
    """The records of a bundled file, or None (then its scan extracts it itself): when it has
    attachments (written to disk by its scan), more text than AHEAD_CHARS, or an error (its scan
    meets it again and records it)."""
    try:
        source = Source(Path(task.path), task.logical)
        chosen = choose(source)
        if chosen is None:
            return None
        items, chars = [], 0
        for produced in chosen.scan(source):
            if isinstance(produced, Child):
                return None
            if isinstance(produced, Record | Rows):
                chars += _chars(produced)
                if chars > AHEAD_CHARS:
                    return None
            items.append(produced)
        return _Extracted(chosen, items)
    except Exception:  # noqa: BLE001
        return None


def _chars(produced: Record | Rows) -> int:
    if isinstance(produced, Rows):
        return sum(array.nbytes for array in produced.columns)  # bytes of text and offsets: near enough
    return sum(len(field.value) for field in produced.fields)


def _add_record(
    record: Record, findings: list[Finding], index: int, sha256: str, config: Config, finding_rows: list, record_rows: list,
    hashes: dict,
) -> None:
    if not findings:
        return
    record_id = f"{sha256[:16]}#{index}"
    value_hashes = []
    for finding in findings:
        detector = by_name(finding.detector)
        value_key = (finding.detector, finding.normalized)
        value_hash = hashes.get(value_key)
        if value_hash is None:
            value_hash = hashes[value_key] = keyed_hash(config.key, finding.detector, finding.normalized)
        value_hashes.append(value_hash)
        finding_rows.append(
            {
                "record_id": record_id,
                "locator": record.locator,
                "field": finding.field,
                "category": finding.category,
                "detector": finding.detector,
                "confidence": finding.confidence,
                "masked": mask(finding.raw, detector.mask),
                "value_hash": value_hash,
                "value": finding.raw if config.reveal else None,
                "start": finding.start,
                "end": finding.end,
            }
        )
    record_rows.append(
        {
            "record_id": record_id,
            "locator": record.locator,
            "identifies": any(by_name(f.detector).identifies for f in findings),
            "categories": sorted({f.category for f in findings}),
            "detectors": sorted({f.detector for f in findings}),
            # link fields: strong keys (NIR/INS, IPP), name + birth date key, weak keys, and the
            # keyed-hash features of the probabilistic linkage (linkfeatures.py)
            **link_fields(findings, config.key, value_hashes),
        }
    )


def failed_outcome(sha256: str, reason: str) -> dict:
    return {"sha256": sha256, "extractor": None, "records": 0, "findings": 0, "children": [], "error": reason}


# -- process isolation ----------------------------------------------------------------------------


def _orphan_watch(parent: int) -> None:
    """The parent enforces the time limit: if it dies (kill -9, a Dask worker killed), stop at once
    rather than scan on unlimited."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _worker_main(connection, config: Config, environment: dict[str, str]) -> None:
    os.environ.clear()  # the scan's environment, not the fork server's (started earlier, maybe by another scan)
    os.environ.update(environment)
    if ner.installed() is not None:
        ner.unload()
    try:
        resource.setrlimit(resource.RLIMIT_AS, (config.file_memory, config.file_memory))
    except (ValueError, OSError):
        pass
    threading.Thread(target=_orphan_watch, args=(os.getppid(),), daemon=True).start()
    prefilter.load(config.prefilter)
    prefilter.available()  # (compiles the database if it was not handed over) before the clock starts
    ner.configure(config.ner)
    ner.model()  # the spaCy model too, when NER is on (3 s): not counted in the first file's time
    connection.send("ready")  # the time limit counts from here, not from the interpreter start-up
    while True:
        try:
            task = connection.recv()
        except EOFError:
            return
        if task is None:
            return
        connection.send(process_bundle(task, config) if isinstance(task, list) else scan_task(task, config))


def _process_context(ner_on: bool):
    """Workers are forked from a server process (multiprocessing's forkserver) that has imported the
    scanner, and loaded the spaCy model when NER is on, once: they share those pages instead of each
    loading its own copy, and a worker killed for a time limit is replaced in milliseconds. The server
    starts with the first pool of this process and serves every later one. Where forkserver does not
    exist, each worker starts from scratch (spawn)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    preload = ["garde.scanner.fork_preload"]
    if ner_on and ner.installed() is None:
        preload.insert(0, "garde.scanner.detect.ner_preload")
    preload.insert(0, "garde.scanner.fork_guard")  # the server dies with the scan while it loads
    context.set_forkserver_preload(preload)  # no effect once the server runs
    return context


class Bundler:
    """Gathers small files into bundles (see BUNDLE_BYTES): `add` hands back a bundle once full,
    `take` what is gathered so far."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.tasks: list[Task] = []
        self._bytes = 0

    def takes(self, task: Task) -> bool:
        return self.enabled and 0 < task.size <= BUNDLE_FILE_BYTES

    def add(self, task: Task) -> list[Task] | None:
        self.tasks.append(task)
        self._bytes += task.size
        return self.take() if self._bytes >= BUNDLE_BYTES or len(self.tasks) >= BUNDLE_FILES else None

    def take(self) -> list[Task]:
        tasks, self.tasks, self._bytes = self.tasks, [], 0
        return tasks


class _Slot:
    def __init__(self, context, config: Config):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, config, dict(os.environ)), daemon=True)
        self.process.start()
        child.close()
        self.tasks: list[Task] = []  # the file, or the bundle of small files, being scanned
        self.deadline = 0.0
        self.seconds_allowed = 0.0
        self.ready = False

    def idle(self) -> bool:
        return self.ready and not self.tasks


class Pool:
    """Worker processes that each scan one file, or one bundle of small files, at a time. A file that
    takes longer than the time limit gets its worker killed and replaced; a worker that dies (memory
    limit, crash) too. A bundle that fails so is scanned again one file at a time, so that only the
    file at fault is lost.

    `bundle_small_files`: files of at most BUNDLE_FILE_BYTES are gathered into bundles (see
    BUNDLE_BYTES); a bundle goes to a worker when it is full, or when a worker is idle at `collect`
    (the caller had nothing more to submit). With NER on, NER reads a bundle's sentences in one
    batch; with or without it, a bundle is one round trip between the scan and a worker where a
    small file alone is one each (letters of a few KB: the worker waited on the scan's process)."""

    def __init__(self, jobs: int, config: Config, bundle_small_files: bool = False):
        self.config = config
        self.jobs = jobs
        self._done: list[tuple[Task, dict]] = []
        self._context = _process_context(config.ner)
        if jobs > 0:
            _hold_fork_server()
        self._slots = [_Slot(self._context, config) for _ in range(jobs)] if jobs > 0 else []
        self._bundler = Bundler(bundle_small_files and jobs > 0)
        self._queue: deque[list[Task]] = deque()  # bundles and files waiting for an idle worker
        self.bundles_sent = 0

    def free(self) -> bool:
        if not self._slots:
            return True
        return not self._queue and any(slot.idle() for slot in self._slots)

    def busy(self) -> bool:
        return bool(self._queue or self._bundler.tasks) or any(not slot.idle() for slot in self._slots)

    def submit(self, task: Task) -> None:
        if not self._slots:
            self._done.append((task, scan_task(task, self.config)))
            return
        if self._bundler.takes(task):
            if (bundle := self._bundler.add(task)) is not None:
                self._queue.append(bundle)
        else:
            self._queue.append([task])
        self._dispatch()

    def submit_bundle(self, tasks: list[Task]) -> None:
        """Sends these files together to one worker, whatever their size (the Dask engine bundles on
        its side)."""
        self._queue.append(list(tasks))
        self._dispatch()

    def _dispatch(self) -> None:
        for slot in self._slots:
            if not self._queue:
                return
            if slot.idle():
                slot.tasks = self._queue.popleft()
                slot.seconds_allowed = self.config.seconds_allowed(slot.tasks)
                slot.deadline = time.monotonic() + slot.seconds_allowed
                if len(slot.tasks) > 1:
                    self.bundles_sent += 1
                slot.connection.send(slot.tasks if len(slot.tasks) > 1 else slot.tasks[0])

    def collect(self, timeout: float = 0.2) -> list[tuple[Task, dict]]:
        done, self._done = self._done, []
        if self._bundler.tasks and self.free():
            self._queue.append(self._bundler.take())  # a worker is idle and nothing more came: do not wait for more
        self._dispatch()
        waiting = [slot for slot in self._slots if not slot.idle()]
        if not waiting:
            return done
        ready = wait([slot.connection for slot in waiting], timeout=timeout)
        now = time.monotonic()
        for index, slot in enumerate(self._slots):
            if not slot.ready and slot.connection in ready:
                try:
                    slot.ready = slot.connection.recv() == "ready"
                except (EOFError, OSError):
                    raise RuntimeError("a scanner worker process could not start") from None
                continue
            if not slot.tasks:
                continue
            if slot.connection in ready:
                try:
                    reply = slot.connection.recv()
                    done.extend(zip(slot.tasks, reply if len(slot.tasks) > 1 else [reply], strict=True))
                    slot.tasks = []
                    continue
                except (EOFError, OSError):
                    code = slot.process.exitcode
                    reason = f"worker process died (exit code {code}): memory limit or crash"
            elif now > slot.deadline:
                reason = f"time limit exceeded ({slot.seconds_allowed:.0f} s for this file): file not scanned"
            else:
                continue
            if len(slot.tasks) > 1:
                self._queue.extendleft([task] for task in reversed(slot.tasks))  # each file again, alone
            else:
                done.append((slot.tasks[0], failed_outcome(slot.tasks[0].sha256, reason)))
            slot.process.kill()
            slot.process.join()
            self._slots[index] = _Slot(self._context, self.config)
        self._dispatch()
        return done

    def close(self) -> None:
        slots, self._slots = self._slots, []  # a second close has nothing left to do
        for slot in slots:
            try:
                slot.connection.send(None)
            except (OSError, BrokenPipeError):
                pass
        for slot in slots:
            slot.process.join(timeout=5)
            if slot.process.is_alive():
                slot.process.kill()
        if slots:
            _release_fork_server(self._context)


_live_pools = 0  # pools of this process with worker processes (the Dask engine runs one per thread)
_live_pools_lock = threading.Lock()


def _hold_fork_server() -> None:
    global _live_pools
    with _live_pools_lock:
        _live_pools += 1


def _release_fork_server(context) -> None:
    """The fork server holds the spaCy model alone once the workers are gone: the last pool of the
    process stops it before the report (the next pool starts another). Through multiprocessing's
    own stop, which is private: where it is missing the server stays until the process ends."""
    global _live_pools
    with _live_pools_lock:
        _live_pools -= 1
        if _live_pools or context.get_start_method() != "forkserver":
            return
        from multiprocessing import forkserver

        stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
        if stop is not None:
            stop()
