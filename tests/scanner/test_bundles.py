"""Small files scanned several at a time (worker.Pool bundles), with NER on or off: the same
outcomes as one at a time, and a bundle whose worker dies is scanned again file by file."""

import hashlib
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from garde.scanner import ScanSettings, scan
from garde.scanner.detect import ner, prefilter
from garde.scanner.worker import BUNDLE_FILE_BYTES, Config, Pool, Task, process_file

KEY = b"a-test-key-of-enough-length"
PEOPLE = [
    ("Yannick", "Kervella"), ("Maëlle", "Le Floch"), ("Gwenaël", "Quéré"), ("Soizic", "Salaün"), ("Erwan", "Morvan"),
    ("Nolwenn", "Le Goff"), ("Tanguy", "Guillou"), ("Anaïs", "Le Bihan"), ("Ronan", "Tanguy"), ("Katell", "Cloarec"),
]


@pytest.fixture(params=[True, False], ids=["ner", "no-ner"])
def ner_on(request) -> bool:
    if request.param and (problem := ner.installed()):
        pytest.skip(problem)
    return request.param


def _letters(folder: Path) -> list[Task]:
    folder.mkdir(parents=True, exist_ok=True)
    tasks = []
    for number, (first, last) in enumerate(PEOPLE):
        path = folder / f"lettre-{number}.txt"
        path.write_text(
            f"Objet : M. {first} {last.upper()}, né le 0{number % 9 + 1}/03/1961\n\n"
            f"Ce matin, {last} est venu au service pour sa séance de dialyse. Il va bien.\n"
            f"Nous avons revu {first} {last} hier soir avec sa fille.\n",
            encoding="utf-8",
        )
        data = path.read_bytes()
        tasks.append(Task(str(path), path.name, hashlib.sha256(data).hexdigest(), len(data)))
    assert all(task.size <= BUNDLE_FILE_BYTES for task in tasks)
    return tasks


def _config(folder: Path, ner_on: bool) -> Config:
    for name in ("parts", "work"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return Config(str(folder / "parts"), str(folder / "work"), KEY, False, 0.5, 600.0, 4 << 30, prefilter.serialized(), ner=ner_on)


def _started(pool: Pool) -> None:
    deadline = time.monotonic() + 60
    while not pool.free() and time.monotonic() < deadline:
        pool.collect(timeout=0.2)


def _all_outcomes(pool: Pool, count: int) -> dict[str, dict]:
    outcomes, deadline = {}, time.monotonic() + 120
    while len(outcomes) < count and time.monotonic() < deadline:
        outcomes.update((task.logical, outcome) for task, outcome in pool.collect(timeout=0.2))
    return outcomes


def _alone(tasks: list[Task], folder: Path, ner_on: bool) -> dict[str, dict]:
    config = _config(folder, ner_on)
    before = ner.enabled()
    try:
        return {task.logical: process_file(task, config) for task in tasks}
    finally:
        ner.configure(before)


def _essentials(outcome: dict) -> tuple:
    return outcome["extractor"], outcome["records"], outcome["findings"], outcome["error"]


@pytest.fixture
def pool_with_letters(tmp_path, ner_on):
    """A pool of one worker that bundles, started, and ten small letters for it."""
    pool = Pool(1, _config(tmp_path / "pooled", ner_on), bundle_small_files=True)
    try:
        _started(pool)
        yield pool, _letters(tmp_path / "dump")
    finally:
        pool.close()


def _as_alone(outcomes: dict[str, dict], tasks: list[Task], folder: Path, ner_on: bool) -> bool:
    alone = _alone(tasks, folder, ner_on)
    return {name: _essentials(o) for name, o in outcomes.items()} == {name: _essentials(o) for name, o in alone.items()}


def test_small_files_go_to_a_worker_together_with_the_outcomes_they_have_alone(pool_with_letters, tmp_path, ner_on):
    pool, tasks = pool_with_letters
    for task in tasks:
        assert pool.free()  # gathered, not sent: the caller may go on submitting
        pool.submit(task)
    outcomes = _all_outcomes(pool, len(tasks))
    assert pool.bundles_sent == 1
    assert _as_alone(outcomes, tasks, tmp_path / "alone", ner_on)
    assert all(outcome["findings"] >= 3 for outcome in outcomes.values())


def test_a_bundle_whose_worker_dies_is_scanned_again_file_by_file(pool_with_letters, tmp_path, ner_on):
    pool, tasks = pool_with_letters
    for task in tasks:
        pool.submit(task)
    pool.collect(timeout=0)  # nothing more to submit: the bundle leaves
    assert pool.bundles_sent == 1 and len(pool._slots[0].tasks) == len(tasks)
    pool._slots[0].process.kill()  # as the kernel would for memory, or a crash in a library
    outcomes = _all_outcomes(pool, len(tasks))
    assert pool.bundles_sent == 1  # the files went again one at a time
    assert _as_alone(outcomes, tasks, tmp_path / "alone", ner_on)


def test_a_scan_with_bundles_equals_a_scan_one_file_at_a_time(tmp_path, ner_on):
    _letters(tmp_path / "dump")
    bundled = scan([tmp_path / "dump"], tmp_path / "bundled", ScanSettings(jobs=2, ner=ner_on))
    alone = scan([tmp_path / "dump"], tmp_path / "alone", ScanSettings(jobs=0, ner=ner_on))
    assert bundled.summary == alone.summary
    assert bundled.summary["persons"]["best"] == len(PEOPLE)
    for name in ("findings.parquet", "persons.parquet"):  # each scan has its own key: keyed hashes differ

        def without_hashes(folder: str, name: str = name) -> list[dict]:
            rows = pq.read_table(tmp_path / folder / name).to_pylist()
            return [{k: v for k, v in row.items() if "hash" not in k} for row in rows]

        assert without_hashes("bundled") == without_hashes("alone")
