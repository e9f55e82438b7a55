"""The scan: walk the inputs, scan each distinct file once, link records into persons and write the
report. Progress is reported through a callback.

Engines differ only in how the distinct files are scanned: an executor hands out a pool (`free`,
`busy`, `submit`, `collect`, `close`) that takes tasks and gives back outcomes. "local": worker
processes of this machine (`worker.Pool`); "dask": a Dask cluster (`dask_engine`). Everything else
(walk, duplicates, --resume, progress, report) is here, the same for both."""

import json
import shutil
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from garde.scanner import packs
from garde.scanner.detect import ner, prefilter
from garde.scanner.ledger import Ledger
from garde.scanner.mask import load_key
from garde.scanner.model import ScanSettings
from garde.scanner.report import write_report
from garde.scanner.walk import Issue, Item, Walker, input_size
from garde.scanner.worker import Config, Pool, Task, failed_outcome, part_done, read_part, write_outcome

WORK_DIR = ".work"
PARTS_DIR = ".parts"
STATE_FILE = ".scan-state.json"
LEDGER_FILE = "ledger.sqlite"


class ScanInputError(Exception):
    """The scan cannot start: a missing input, an output folder in use... The message says which."""


@dataclass
class ScanResult:
    out: Path
    summary: dict
    manifest: dict  # manifest.json without its errors list, which can be long: read the file for it


Progress = Callable[..., None]
ENGINES = ("local", "dask")


class TaskPool(Protocol):
    """Scans tasks and hands back their outcomes; never raises for a bad file."""

    def free(self) -> bool: ...
    def busy(self) -> bool: ...
    def submit(self, task: Task) -> None: ...
    def collect(self, timeout: float = 0.2) -> list[tuple[Task, dict]]: ...
    def close(self) -> None: ...


class Executor(Protocol):
    in_process: bool  # files are scanned in this process: no time or memory limit

    def check(self, inputs: list[Path], out: Path) -> None: ...
    def describe(self) -> dict: ...
    def pool(self, config: Config) -> TaskPool: ...
    def close(self) -> None: ...


class LocalExecutor:
    """Worker processes of this machine, started per scan by `Pool` (none with --jobs 0)."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.in_process = jobs == 0

    def check(self, inputs: list[Path], out: Path) -> None:
        pass

    def describe(self) -> dict:
        return {"engine": "local", "workers": self.jobs}

    def pool(self, config: Config) -> Pool:
        return Pool(self.jobs, config, bundle_small_files=True)

    def close(self) -> None:
        pass


def open_executor(settings: ScanSettings) -> Executor:
    """Starts or reaches what scans the files; a ScanInputError (naming the address) if it cannot."""
    if settings.engine == "dask":
        from garde.scanner.dask_engine import DaskExecutor

        return DaskExecutor.open(settings.jobs, settings.scheduler)
    return LocalExecutor(settings.jobs)


def _check_inputs(paths: list[Path], out: Path, settings: ScanSettings) -> list[Path]:
    if not paths:
        raise ScanInputError("no input given: name at least one file or folder to scan")
    inputs = []
    for path in paths:
        if not path.exists():
            raise ScanInputError(f"input not found: {path}")
        resolved = path.resolve()
        if resolved == out.resolve() or resolved in out.resolve().parents:
            raise ScanInputError(f"the output folder {out} is inside the input {path}: choose another place")
        inputs.append(resolved)
    if out.exists() and not out.is_dir():
        raise ScanInputError(f"output {out} exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not settings.resume:
        raise ScanInputError(f"output folder {out} is not empty: use --resume to continue a scan, or another folder")
    if settings.jobs < 0:
        raise ScanInputError("--jobs must be 0 (in this process) or more")
    if settings.engine not in ENGINES:
        raise ScanInputError(f"unknown engine {settings.engine!r}: use --engine local or --engine dask")
    if settings.scheduler and settings.engine != "dask":
        raise ScanInputError(f"--scheduler {settings.scheduler} needs --engine dask")
    if settings.engine == "dask" and not settings.scheduler and settings.jobs < 1:
        raise ScanInputError("--engine dask without --scheduler starts a local Dask cluster of --jobs workers: --jobs must be 1 or more")
    return inputs


def scan(paths: list[Path], out: Path, settings: ScanSettings | None = None, progress: Progress | None = None) -> ScanResult:
    settings = settings or ScanSettings()
    progress = progress or (lambda *args, **kwargs: None)
    inputs = _check_inputs([Path(p) for p in paths], Path(out), settings)
    out = Path(out)
    started, clock = datetime.now(UTC), time.monotonic()
    executor = open_executor(settings)  # before anything is written: a bad engine leaves no output
    try:
        executor.check(inputs, out)
        return _scan(inputs, out, settings, progress, executor, started, clock)
    finally:
        executor.close()


def _scan(inputs, out: Path, settings: ScanSettings, progress: Progress, executor: Executor, started, clock) -> ScanResult:
    out.mkdir(parents=True, exist_ok=True)
    state = {"inputs": [str(p) for p in inputs], "reveal": settings.reveal, "min_confidence": settings.min_confidence, "ner": settings.ner}
    state_path = out / STATE_FILE
    if settings.resume and state_path.exists() and json.loads(state_path.read_text()) != state:
        raise ScanInputError(f"--resume: {out} holds a scan of other inputs or settings; use another output folder")
    state_path.write_text(json.dumps(state))
    work, parts = out / WORK_DIR, out / PARTS_DIR
    shutil.rmtree(work, ignore_errors=True)  # leftovers of a killed run are incomplete by definition
    work.mkdir()
    parts.mkdir(exist_ok=True)
    try:
        key, key_source = load_key(out)
    except ValueError as error:
        raise ScanInputError(str(error)) from None
    limits = settings.limits
    config = Config(  # absolute paths: Dask workers do not share this process's working directory
        str(parts.resolve()), str(work.resolve()), key, settings.reveal, settings.min_confidence, limits.file_seconds,
        limits.file_memory, None if executor.in_process else prefilter.serialized(), ner=settings.ner,
        file_seconds_per_mb=limits.file_seconds_per_mb,
    )
    run = _Run(inputs, work.resolve(), parts, config, settings, progress)
    if settings.resume:
        run.ledger.add_packed(packs.index(parts))  # where the packed parts of the killed run are
    progress("start", total=input_size(inputs), **executor.describe())
    pool = executor.pool(config)
    ner_before = ner.enabled()  # --jobs 0 scans in this process: leave NER as it was found
    try:
        run.loop(pool)
    finally:
        pool.close()
        packs.close(config.parts_dir)  # the pack this process wrote (--jobs 0)
        ner.configure(ner_before)
    progress("report")
    run_info = {
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - clock, 3),
        "inputs": [str(p) for p in inputs],
        "settings": {**{k: v for k, v in asdict(settings).items() if k != "limits"}, "limits": asdict(limits), "ner": ner.status(settings.ner)},
        "key": key,
        "key_source": key_source,
    }
    try:
        run.ledger.finish()
        summary, manifest = write_report(out, parts, run.ledger, run_info)
    finally:
        run.ledger.close()
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(parts, ignore_errors=True)
    state_path.unlink(missing_ok=True)
    return ScanResult(out, summary, manifest)


class _Run:
    def __init__(self, inputs, work: Path, parts: Path, config: Config, settings: ScanSettings, progress: Progress):
        self.inputs, self.work, self.parts = inputs, work, parts
        self.config, self.settings, self.progress = config, settings, progress
        self.walker = Walker(work, settings.limits)
        self.ledger = Ledger(work / LEDGER_FILE)  # what the walk met, on disk: see ledger.py
        self.items: dict[str, tuple[Item, tuple]] = {}  # in flight, with their walk keys

    def loop(self, pool: TaskPool) -> None:
        sources = deque([_Source((), self.walker.walk(self.inputs))])
        while sources or pool.busy():
            while sources and pool.free():
                try:
                    key, event = sources[0].next()
                except StopIteration:
                    sources.popleft()
                    continue
                self._event(event, key, pool)
            for task, outcome in pool.collect():
                self._done(task, outcome, sources)

    def _event(self, event: Issue | Item, key: tuple, pool: TaskPool) -> None:
        if isinstance(event, Issue):
            self.ledger.add_issue(key, event.logical, event.kind, event.reason)
            self.progress("issue", issue=event)
            return
        located = (key, event.logical, event.sha256, event.size, event.depth)
        if event.container:
            self.ledger.add_occurrence(*located, status="opened", type_=f"archive/{event.container}")
            self._advance(event)
            return
        if self.ledger.knows(event.sha256):
            self.ledger.add_occurrence(*located, status="duplicate")
            self._discard(event)
            self._advance(event)
            self.progress("file", path=event.logical, size=event.size, duplicate=True)
            return
        self.ledger.add_content(event.sha256)
        self.ledger.add_occurrence(*located, status="scanned")
        part = read_part(self.parts, event.sha256, self.ledger.packed(event.sha256)) if self.settings.resume else None
        if part is not None:
            outcome = part.outcome
            if not outcome.get("children"):
                self.ledger.set_outcome(event.sha256, outcome)
                self._discard(event)
                self._advance(event)
                self.progress("file", path=event.logical, size=event.size, findings=outcome["findings"])
                return
        self.items[event.sha256] = (event, key)
        pool.submit(Task(str(event.path), event.logical, event.sha256, event.size))

    def _done(self, task: Task, outcome: dict, sources: deque) -> None:
        item, key = self.items.pop(task.sha256)
        if not part_done(self.parts, outcome):
            write_outcome(self.parts, task.sha256, outcome)  # so --resume does not retry a killer file
        self.ledger.set_outcome(task.sha256, outcome)
        self._discard(item)
        self._advance(item)
        self.progress("file", path=item.logical, size=item.size, findings=outcome["findings"], error=outcome.get("error"))
        if outcome.get("children"):
            sources.appendleft(_Source(key, self._children(item, outcome["children"])))

    def _children(self, parent: Item, children: list):
        for name, path in children:
            logical = f"{parent.logical}!/{name.replace('/', '_')}"
            if parent.depth + 1 > self.settings.limits.max_depth:
                Path(path).unlink(missing_ok=True)
                yield Issue(logical, "error", f"attachment nested deeper than {self.settings.limits.max_depth} levels: not opened")
                continue
            yield from self.walker.file(Path(path), logical, parent.depth + 1, temporary=True)

    @staticmethod
    def _discard(item: Item) -> None:
        if item.temporary:
            item.path.unlink(missing_ok=True)

    def _advance(self, item: Item) -> None:
        if item.depth == 0:
            self.progress("advance", size=item.size)


class _Source:
    """Events of the walk, or of the attachments of one file. Each event gets a key that sorts in
    walk order: (3,) for the third event of the walk, (3, 1) for the first attachment of that file,
    before (4,) however late that file's scan ended."""

    def __init__(self, prefix: tuple, events):
        self.prefix, self.events, self.count = prefix, events, 0

    def next(self) -> tuple[tuple, Issue | Item]:
        event = next(self.events)
        self.count += 1
        return (*self.prefix, self.count), event


__all__ = ["ENGINES", "ScanInputError", "ScanResult", "failed_outcome", "open_executor", "scan"]
