"""Scans one file: extract -> detect -> per-record link keys, written as a part file named by the
content hash. Runs in worker processes with a time and memory limit, or in-process for --jobs 0."""

import json
import multiprocessing
import os
import resource
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

import pyarrow as pa

from garde.scanner.detect import by_name, detect_records, ner, prefilter
from garde.scanner.extract import ExtractionError, Source, choose
from garde.scanner.linkfeatures import link_fields
from garde.scanner.mask import keyed_hash, mask
from garde.scanner.model import Child, Finding, Note, Record

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
# Records are detected in batches: one prefilter pass per batch.
BATCH_CHARS = 1 << 20
BATCH_RECORDS = 8192


@dataclass
class Task:
    path: str
    logical: str
    sha256: str


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


def part_path(parts_dir: Path, sha256: str) -> Path:
    return parts_dir / f"{sha256}.arrow"


def read_part(path: Path) -> tuple[dict, list[dict], pa.Table] | None:
    """(outcome, records, findings) of a finished part, or None if there is none or it was cut
    short by a kill (an Arrow file without its footer does not open)."""
    try:
        with pa.memory_map(str(path)) as source:
            reader = pa.ipc.open_file(source)
            metadata = reader.schema.metadata
            table = reader.read_all()
        return json.loads(metadata[b"outcome"]), json.loads(metadata[b"records"]), table.replace_schema_metadata(None)
    except (OSError, pa.ArrowInvalid, KeyError, TypeError, ValueError):
        return None


def record_keys(findings: list[Finding], key: bytes) -> dict:
    """Link fields of a record, merged into its record row: strong keys (NIR/INS, IPP), name + birth
    date key, weak keys, and the keyed-hash features of the probabilistic linkage (linkfeatures.py)."""
    return link_fields(findings, key)


def process_file(task: Task, config: Config) -> dict:
    started = time.monotonic()
    ner.configure(config.ner)
    outcome = {"sha256": task.sha256, "extractor": None, "records": 0, "findings": 0, "children": [], "error": None}
    source = Source(Path(task.path), task.logical)
    chosen = choose(source)
    if chosen is None:
        outcome["extractor"] = "binary"
        outcome["skipped"] = "binary file of an unsupported type"
        _write_part(config, task.sha256, [], [], outcome)
        return outcome
    outcome["extractor"] = chosen.name
    finding_rows: list[dict] = []
    record_rows: list[dict] = []
    children = 0
    batch: list[tuple[int, Record]] = []
    hashes: dict[tuple[str, str], str] = {}

    def flush() -> None:
        pending = batch[:]
        batch.clear()
        if pending:
            found = detect_records([record for _, record in pending], config.min_confidence)
            for (index, record), findings in zip(pending, found, strict=True):
                _add_record(record, findings, index, task.sha256, config, finding_rows, record_rows, hashes)

    try:
        batch_chars = 0
        for index, produced in enumerate(chosen.run(source)):
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
            batch.append((index, produced))
            batch_chars += sum(len(field.value) for field in produced.fields)
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
    outcome["records"] = len(record_rows)
    outcome["findings"] = len(finding_rows)
    outcome["seconds"] = round(time.monotonic() - started, 3)
    _write_part(config, task.sha256, finding_rows, record_rows, outcome)
    return outcome


def _add_record(
    record: Record, findings: list[Finding], index: int, sha256: str, config: Config, finding_rows: list, record_rows: list,
    hashes: dict,
) -> None:
    if not findings:
        return
    record_id = f"{sha256[:16]}#{index}"
    for finding in findings:
        detector = by_name(finding.detector)
        value_key = (finding.detector, finding.normalized)
        value_hash = hashes.get(value_key)
        if value_hash is None:
            value_hash = hashes[value_key] = keyed_hash(config.key, finding.detector, finding.normalized)
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
            **record_keys(findings, config.key),
        }
    )


def _write_part(config: Config, sha256: str, findings: list, records: list, outcome: dict) -> None:
    """One Arrow IPC file per distinct file: its findings, with the outcome and the records in the
    schema metadata. One file, because creating files is what costs most for a dump of many small
    ones; a file cut short by a kill -9 has no footer, does not open, and is scanned again on
    --resume."""
    metadata = {b"outcome": json.dumps(outcome).encode(), b"records": json.dumps(records).encode()}
    table = pa.Table.from_pylist(findings, schema=PART_FINDINGS.with_metadata(metadata))
    with pa.OSFile(str(part_path(Path(config.parts_dir), sha256)), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def failed_outcome(sha256: str, reason: str) -> dict:
    return {"sha256": sha256, "extractor": None, "records": 0, "findings": 0, "children": [], "error": reason}


# -- process isolation ----------------------------------------------------------------------------


def _orphan_watch(parent: int) -> None:
    """The parent enforces the time limit: if it dies (kill -9, a Dask worker killed), stop at once
    rather than scan on unlimited."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _worker_main(connection, config: Config) -> None:
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
        try:
            connection.send(process_file(task, config))
        except MemoryError:
            connection.send(failed_outcome(task.sha256, "memory limit exceeded while reading the file"))
        except Exception as error:  # noqa: BLE001 - one bad file must never stop the scan
            detail = traceback.format_exception_only(error)[-1].strip()
            connection.send(failed_outcome(task.sha256, f"extractor crashed: {detail}"))


class _Slot:
    def __init__(self, context, config: Config):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, config), daemon=True)
        self.process.start()
        child.close()
        self.task: Task | None = None
        self.deadline = 0.0
        self.ready = False


class Pool:
    """Worker processes that each scan one file at a time. A file that takes longer than the time
    limit gets its worker killed and replaced; a worker that dies (memory limit, crash) too."""

    def __init__(self, jobs: int, config: Config):
        self.config = config
        self.jobs = jobs
        self._done: list[tuple[Task, dict]] = []
        self._context = multiprocessing.get_context("spawn")
        self._slots = [_Slot(self._context, config) for _ in range(jobs)] if jobs > 0 else []

    def free(self) -> bool:
        if not self._slots:
            return True
        return any(slot.task is None and slot.ready for slot in self._slots)

    def busy(self) -> bool:
        return any(slot.task is not None or not slot.ready for slot in self._slots)

    def submit(self, task: Task) -> None:
        if not self._slots:
            try:
                outcome = process_file(task, self.config)
            except Exception as error:  # noqa: BLE001
                outcome = failed_outcome(task.sha256, f"extractor crashed: {type(error).__name__}: {error}")
            self._done.append((task, outcome))
            return
        slot = next(slot for slot in self._slots if slot.task is None and slot.ready)
        slot.task = task
        slot.deadline = time.monotonic() + self.config.file_seconds
        slot.connection.send(task)

    def collect(self, timeout: float = 0.2) -> list[tuple[Task, dict]]:
        done, self._done = self._done, []
        waiting = [slot for slot in self._slots if slot.task is not None or not slot.ready]
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
            if slot.task is None:
                continue
            if slot.connection in ready:
                try:
                    done.append((slot.task, slot.connection.recv()))
                    slot.task = None
                    continue
                except (EOFError, OSError):
                    code = slot.process.exitcode
                    reason = f"worker process died (exit code {code}): memory limit or crash"
            elif now > slot.deadline:
                reason = f"time limit of {self.config.file_seconds:g} s per file exceeded: file not scanned"
            else:
                continue
            done.append((slot.task, failed_outcome(slot.task.sha256, reason)))
            slot.process.kill()
            slot.process.join()
            self._slots[index] = _Slot(self._context, self.config)
        return done

    def close(self) -> None:
        for slot in self._slots:
            try:
                slot.connection.send(None)
            except (OSError, BrokenPipeError):
                pass
        for slot in self._slots:
            slot.process.join(timeout=5)
            if slot.process.is_alive():
                slot.process.kill()
