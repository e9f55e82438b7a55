"""Scans one file: extract -> detect -> per-record link keys, written as a part file named by the
content hash. Runs in worker processes with a time and memory limit, or in-process for --jobs 0."""

import json
import multiprocessing
import os
import resource
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from garde.scanner.detect import by_name, detect_record
from garde.scanner.detect.validators import normalize_name
from garde.scanner.extract import ExtractionError, Source, choose
from garde.scanner.mask import keyed_hash, mask
from garde.scanner.model import Child, Finding, Record

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
PART_RECORDS = pa.schema(
    [
        ("record_id", pa.string()),
        ("locator", pa.string()),
        ("identifies", pa.bool_()),
        ("categories", pa.list_(pa.string())),
        ("detectors", pa.list_(pa.string())),
        ("strong_keys", pa.list_(pa.string())),
        ("name_birth_key", pa.string()),
        ("weak_keys", pa.list_(pa.string())),
    ]
)


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


def part_paths(parts_dir: Path, sha256: str) -> tuple[Path, Path, Path]:
    return (
        parts_dir / f"{sha256}.findings.parquet",
        parts_dir / f"{sha256}.records.parquet",
        parts_dir / f"{sha256}.json",
    )


def record_keys(findings: list[Finding], key: bytes) -> tuple[list[str], str | None, list[str]]:
    """Link keys of a record: strong (NIR/INS, IPP), name + birth date, weak (contact, bank, name alone)."""
    strong, weak = set(), set()
    for finding in findings:
        link = by_name(finding.detector).link
        if link == "strong":
            strong.add(keyed_hash(key, finding.detector, finding.normalized))
        elif link == "weak":
            weak.add(keyed_hash(key, finding.detector, finding.normalized))
    last = next((f.normalized for f in findings if f.detector == "last_name"), None)
    first = next((f.normalized for f in findings if f.detector == "first_name"), None)
    births = [f for f in findings if f.detector == "birth_date"]
    name = f"{last} {first}" if last and first else None
    if name is None:
        names = [f for f in findings if f.detector == "person_name"]
        if names and births:
            before = [f for f in names if f.field == births[0].field and f.start < births[0].start]
            name = (before[-1] if before else names[0]).normalized
        elif len(names) == 1:
            name = names[0].normalized
    name_birth = None
    if name:
        tokens = " ".join(sorted(normalize_name(name).split()))  # swapped first and last names match
        weak.add(keyed_hash(key, "name", tokens))
        if births:
            name_birth = keyed_hash(key, "name_birth", f"{tokens}|{births[0].normalized}")
    return sorted(strong), name_birth, sorted(weak)


def process_file(task: Task, config: Config) -> dict:
    started = time.monotonic()
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
    try:
        for index, produced in enumerate(chosen.run(source)):
            if isinstance(produced, Child):
                children += 1
                target = Path(config.work_dir) / f"c{task.sha256[:16]}-{children:05d}"
                target.write_bytes(produced.data)
                outcome["children"].append([produced.name, str(target)])
                continue
            _add_record(produced, index, task.sha256, config, finding_rows, record_rows)
    except ExtractionError as error:
        outcome["error"] = str(error)
    except (UnicodeError, ValueError, KeyError, IndexError, OSError, RecursionError) as error:
        outcome["error"] = f"unreadable as {chosen.name}: {type(error).__name__}: {error}"
    except MemoryError:
        outcome["error"] = "memory limit exceeded while reading the file"
    outcome["records"] = len(record_rows)
    outcome["findings"] = len(finding_rows)
    outcome["seconds"] = round(time.monotonic() - started, 3)
    _write_part(config, task.sha256, finding_rows, record_rows, outcome)
    return outcome


def _add_record(record: Record, index: int, sha256: str, config: Config, finding_rows: list, record_rows: list) -> None:
    findings = detect_record(record, config.min_confidence)
    if not findings:
        return
    record_id = f"{sha256[:16]}#{index}"
    for finding in findings:
        detector = by_name(finding.detector)
        finding_rows.append(
            {
                "record_id": record_id,
                "locator": record.locator,
                "field": finding.field,
                "category": finding.category,
                "detector": finding.detector,
                "confidence": finding.confidence,
                "masked": mask(finding.raw, detector.mask),
                "value_hash": keyed_hash(config.key, finding.detector, finding.normalized),
                "value": finding.raw if config.reveal else None,
                "start": finding.start,
                "end": finding.end,
            }
        )
    strong, name_birth, weak = record_keys(findings, config.key)
    record_rows.append(
        {
            "record_id": record_id,
            "locator": record.locator,
            "identifies": any(by_name(f.detector).identifies for f in findings),
            "categories": sorted({f.category for f in findings}),
            "detectors": sorted({f.detector for f in findings}),
            "strong_keys": strong,
            "name_birth_key": name_birth,
            "weak_keys": weak,
        }
    )


def _write_part(config: Config, sha256: str, findings: list, records: list, outcome: dict) -> None:
    """Findings and records first, the JSON outcome last: its presence means the part is complete,
    which is what --resume relies on after a kill -9."""
    findings_path, records_path, outcome_path = part_paths(Path(config.parts_dir), sha256)
    for path, rows, schema in ((findings_path, findings, PART_FINDINGS), (records_path, records, PART_RECORDS)):
        temporary = path.with_suffix(".tmp")
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), temporary)
        os.replace(temporary, path)
    temporary = outcome_path.with_suffix(".tmp")
    temporary.write_text(json.dumps(outcome))
    os.replace(temporary, outcome_path)


def failed_outcome(sha256: str, reason: str) -> dict:
    return {"sha256": sha256, "extractor": None, "records": 0, "findings": 0, "children": [], "error": reason}


# -- process isolation ----------------------------------------------------------------------------


def _worker_main(connection, config: Config) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (config.file_memory, config.file_memory))
    except (ValueError, OSError):
        pass
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
