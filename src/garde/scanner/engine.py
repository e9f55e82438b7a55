"""The local engine: walk the inputs, scan each distinct file once (in worker processes), link
records into persons and write the report. Progress is reported through a callback."""

import json
import shutil
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from garde.scanner.detect import prefilter
from garde.scanner.mask import load_key
from garde.scanner.model import ScanSettings
from garde.scanner.report import write_report
from garde.scanner.walk import Issue, Item, Walker, input_size
from garde.scanner.worker import Config, Pool, Task, _write_part, failed_outcome, part_path, read_part

WORK_DIR = ".work"
PARTS_DIR = ".parts"
STATE_FILE = ".scan-state.json"


class ScanInputError(Exception):
    """The scan cannot start: a missing input, an output folder in use... The message says which."""


@dataclass
class ScanResult:
    out: Path
    summary: dict
    manifest: dict


Progress = Callable[..., None]


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
    return inputs


def scan(paths: list[Path], out: Path, settings: ScanSettings | None = None, progress: Progress | None = None) -> ScanResult:
    settings = settings or ScanSettings()
    progress = progress or (lambda *args, **kwargs: None)
    inputs = _check_inputs([Path(p) for p in paths], Path(out), settings)
    out = Path(out)
    started, clock = datetime.now(UTC), time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    state = {"inputs": [str(p) for p in inputs], "reveal": settings.reveal, "min_confidence": settings.min_confidence}
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
    config = Config(
        str(parts), str(work), key, settings.reveal, settings.min_confidence, limits.file_seconds, limits.file_memory,
        prefilter.serialized() if settings.jobs > 0 else None,
    )
    run = _Run(inputs, work, parts, config, settings, progress)
    progress("start", total=input_size(inputs))
    pool = Pool(settings.jobs, config)
    try:
        run.loop(pool)
    finally:
        pool.close()
    progress("report")
    summary, manifest = write_report(
        out,
        parts,
        run.occurrences,
        run.first_path,
        run.outcomes,
        run.issues,
        {
            "started": started.isoformat(timespec="seconds"),
            "duration_s": round(time.monotonic() - clock, 3),
            "inputs": [str(p) for p in inputs],
            "settings": {**{k: v for k, v in asdict(settings).items() if k != "limits"}, "limits": asdict(limits)},
            "key": key,
            "key_source": key_source,
        },
    )
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(parts, ignore_errors=True)
    state_path.unlink(missing_ok=True)
    return ScanResult(out, summary, manifest)


class _Run:
    def __init__(self, inputs, work: Path, parts: Path, config: Config, settings: ScanSettings, progress: Progress):
        self.inputs, self.work, self.parts = inputs, work, parts
        self.config, self.settings, self.progress = config, settings, progress
        self.walker = Walker(work, settings.limits)
        self.occurrences: list[dict] = []
        self.first_path: dict[str, str] = {}
        self.outcomes: dict[str, dict] = {}
        self.issues: list[dict] = []
        self.items: dict[str, Item] = {}

    def loop(self, pool: Pool) -> None:
        sources = deque([self.walker.walk(self.inputs)])
        while sources or pool.busy():
            while sources and pool.free():
                try:
                    event = next(sources[0])
                except StopIteration:
                    sources.popleft()
                    continue
                self._event(event, pool)
            for task, outcome in pool.collect():
                self._done(task, outcome, sources)

    def _event(self, event: Issue | Item, pool: Pool) -> None:
        if isinstance(event, Issue):
            self.issues.append({"path": event.logical, "kind": event.kind, "reason": event.reason})
            self.progress("issue", issue=event)
            return
        occurrence = {"path": event.logical, "sha256": event.sha256, "size": event.size, "depth": event.depth}
        self.occurrences.append(occurrence)
        if event.container:
            occurrence.update(type=f"archive/{event.container}", status="opened")
            self._advance(event)
            return
        if event.sha256 in self.first_path:
            occurrence.update(status="duplicate", duplicate_of=self.first_path[event.sha256])
            self._discard(event)
            self._advance(event)
            self.progress("file", path=event.logical, size=event.size, duplicate=True)
            return
        self.first_path[event.sha256] = event.logical
        occurrence["status"] = "scanned"
        part = read_part(part_path(self.parts, event.sha256)) if self.settings.resume else None
        if part is not None:
            outcome = part[0]
            if not outcome.get("children"):
                self.outcomes[event.sha256] = outcome
                occurrence["resumed"] = True
                self._discard(event)
                self._advance(event)
                self.progress("file", path=event.logical, size=event.size, findings=outcome["findings"])
                return
        self.items[event.sha256] = event
        pool.submit(Task(str(event.path), event.logical, event.sha256))

    def _done(self, task: Task, outcome: dict, sources: deque) -> None:
        item = self.items.pop(task.sha256)
        if not part_path(self.parts, task.sha256).exists():
            _write_part(self.config, task.sha256, [], [], outcome)  # so --resume does not retry a killer file
        self.outcomes[task.sha256] = outcome
        self._discard(item)
        self._advance(item)
        self.progress("file", path=item.logical, size=item.size, findings=outcome["findings"], error=outcome.get("error"))
        if outcome.get("children"):
            sources.appendleft(self._children(item, outcome["children"]))

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


__all__ = ["ScanInputError", "ScanResult", "failed_outcome", "scan"]
