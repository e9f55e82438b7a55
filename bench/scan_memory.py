"""Scanner memory: peak memory of a whole `garde scan` (the command and its worker processes) on
synthetic dumps of growing size, to check that it stays bounded whatever the size of the dump
(issue 4: "peak memory under 1 GB on a 10 GB dump").

    .venv/bin/python bench/scan_memory.py [--mb 100 300 1000] [--jobs 2] [--seed 7] [--no-ner]
                                          [--work DIR] [--trace FILE] [--dump DIR] [--write-dump DIR]

For each size, the script writes a dump with the realistic mix of bench/scan_bench.py (letters,
logs, CSV exports, prose), runs `garde scan DUMP --out OUT --jobs N` as a child process, and samples
the process tree once a second:

- PSS (proportional set size, from /proc/PID/smaps_rollup): each shared page counted once across the
  processes that share it, so the sum over the tree is the memory the scan really takes;
- RSS: the sum over the tree (counts pages shared by forked workers several times, an upper bound)
  and the largest single process.

It also measures the room the output folder takes on disk every ten seconds (its parts, ledger and
DuckDB database while the scan runs: removed at the end), and prints its peak.

It prints one line per size: MB scanned, wall time, MB/s, peak PSS of the tree, peak RSS (sum and
largest process), peak disk of the output folder, files, records with findings, persons (lower, best, upper) and how they were
linked (Splink, or the deterministic stages alone with Splink's error). Dumps are written under
--work (a temporary folder by default) and deleted after each size. `--dump DIR` scans a dump written
beforehand instead (kept; `--mb` is then ignored): a 10 GB dump takes longer to write than the scan
leaves time for in one session: `--write-dump DIR --mb 10000` writes it in two processes (letters in
one with --seed, logs, tables and prose in the other with --seed + 1: 15 minutes for 10 GB on 2 cores)
and stops.
The scan's error output is kept whole in garde-scan-stderr.txt under --work (its last lines are
printed if the scan fails).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_bench import _people, _prose_source, make_dump, write_letters, write_logs_tables_prose  # noqa: E402  (a sibling script)

GARDE = Path(sys.executable).with_name("garde")


class TreeSampler(threading.Thread):
    """Samples the memory of a process and its descendants until the process ends, and the disk
    room its output folder takes."""

    DISK_EVERY = 10  # samples

    def __init__(self, pid: int, interval: float = 1.0, trace: Path | None = None, out: Path | None = None):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.trace = trace
        self.out = out
        self.started = time.perf_counter()
        self.peak_pss = self.peak_rss_sum = self.peak_rss_one = 0
        self.peak_processes = 0
        self.disk = self.peak_disk = 0

    def run(self) -> None:
        samples = 0
        while self.root.is_running() and self.root.status() != psutil.STATUS_ZOMBIE:
            if self.out is not None and samples % self.DISK_EVERY == 0:
                self.disk = _disk_bytes(self.out)
                self.peak_disk = max(self.peak_disk, self.disk)
            samples += 1
            processes = [self.root]
            try:
                processes += self.root.children(recursive=True)
            except psutil.NoSuchProcess:
                break
            pss = rss_sum = rss_one = 0
            for process in processes:
                try:
                    rss = process.memory_info().rss
                    pss += _pss(process.pid, rss)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                rss_sum += rss
                rss_one = max(rss_one, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_rss_sum = max(self.peak_rss_sum, rss_sum)
            self.peak_rss_one = max(self.peak_rss_one, rss_one)
            self.peak_processes = max(self.peak_processes, len(processes))
            if self.trace:
                self._record(len(processes), pss, self.root)
            time.sleep(self.interval)

    def _record(self, processes: int, pss: int, root: psutil.Process) -> None:
        """One line per sample: seconds, processes (1 = the parent alone: the report), PSS of the
        tree, RSS of the parent and disk room of the output folder, in MB; to see which phase of the
        scan the peak belongs to."""
        try:
            parent = root.memory_info().rss
        except psutil.NoSuchProcess:
            return
        with self.trace.open("a") as trace:
            trace.write(f"{time.perf_counter() - self.started:.0f}\t{processes}\t{pss / 1e6:.0f}\t{parent / 1e6:.0f}\t{self.disk / 1e6:.0f}\n")


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _disk_bytes(folder: Path) -> int:
    """Blocks allocated to the files under `folder` (files appear and vanish as the scan runs)."""
    total = 0
    for root, _folders, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue
    return total


def _pss(pid: int, fallback: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return fallback


def measure(
    megabytes: float, jobs: int, seed: int, ner: bool, work: Path, trace: Path | None = None, dump: Path | None = None
) -> dict:
    """Writes a dump of `megabytes` under `work` (or takes `dump` as it is), scans it and samples the
    memory of the scan; the dump written here and the scan's output are deleted."""
    written = dump is None
    if written:
        dump = work / "dump"
        size = make_dump(dump, megabytes, seed)
    else:
        size = sum(p.stat().st_size for p in dump.rglob("*") if p.is_file())
    out = work / "out"
    command = [str(GARDE), "scan", str(dump), "--out", str(out), "--jobs", str(jobs)]
    if not ner:
        command.append("--no-ner")
    started = time.perf_counter()
    # The scan's whole error output goes to a file beside the work folder: a failure deep in the report
    # (a traceback after hours of progress lines) must be readable in full afterwards.
    errors = work.parent / "garde-scan-stderr.txt"
    with errors.open("w") as stderr:
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        sampler = TreeSampler(child.pid, trace=trace, out=out)
        sampler.start()
        child.wait()
    wall = time.perf_counter() - started
    sampler.join(timeout=5)
    if child.returncode != 0:
        raise SystemExit(f"garde scan failed ({child.returncode}), its error output in {errors}:\n{_tail(errors)}")
    summary = json.loads((out / "summary.json").read_text())
    linkage = json.loads((out / "manifest.json").read_text())["linkage"]
    figures = {
        "megabytes": size / 1e6,
        "wall_seconds": wall,
        "peak_pss_mb": sampler.peak_pss / 1e6,
        "peak_rss_sum_mb": sampler.peak_rss_sum / 1e6,
        "peak_rss_largest_mb": sampler.peak_rss_one / 1e6,
        "peak_disk_mb": sampler.peak_disk / 1e6,
        "processes": sampler.peak_processes,
        "summary": {
            "files": summary["files"]["seen"],
            "records_with_findings": summary["records"]["with_findings"],
            "persons": summary["persons"],
            # "splink", or "deterministic" with Splink's error: the person count depends on it
            "linkage": {k: linkage[k] for k in ("method", "seconds", "predict_chunks", "splink_error") if k in linkage},
        },
    }
    if written:
        shutil.rmtree(dump)
    shutil.rmtree(out)
    return figures


def _write_part(part, root: Path, megabytes: float, seed: int) -> None:
    import random

    random.seed(seed)
    part(root, megabytes, _people(seed), _prose_source(seed))


def write_dump_in_two_processes(root: Path, megabytes: float, seed: int) -> int:
    """The realistic mix of `megabytes`, its letters and its other files written at once."""
    from multiprocessing import Process

    root.mkdir(parents=True)
    writers = [
        Process(target=_write_part, args=(write_letters, root, megabytes, seed)),
        Process(target=_write_part, args=(write_logs_tables_prose, root, megabytes, seed + 1)),
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    if any(writer.exitcode for writer in writers):
        raise SystemExit("writing the dump failed")
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-ner", action="store_true", help="scan with --no-ner (names from rules only)")
    parser.add_argument("--work", type=Path, help="folder for the dumps (default: a temporary folder)")
    parser.add_argument("--trace", type=Path, help="write each sample to TRACE-<MB>.tsv: seconds, processes, PSS, parent RSS, disk of the output (MB)")
    parser.add_argument("--dump", type=Path, help="scan this existing dump (kept) instead of writing one per --mb")
    parser.add_argument("--write-dump", type=Path, help="only write the dump of the first --mb here, in two processes")
    args = parser.parse_args()
    if args.write_dump:
        started = time.perf_counter()
        size = write_dump_in_two_processes(args.write_dump, args.mb[0], args.seed)
        print(f"{args.write_dump}: {size / 1e6:.1f} MB written in {time.perf_counter() - started:.0f} s")
        return
    if args.dump:
        if not args.dump.is_dir():
            raise SystemExit(f"--dump {args.dump}: not a folder")
        args.mb = [0]
    if not GARDE.exists():
        raise SystemExit(f"{GARDE} not found: run this script with the project's virtualenv Python")
    for megabytes in args.mb:
        with tempfile.TemporaryDirectory(dir=args.work) as temporary:
            label = args.dump.name if args.dump else f"{megabytes:g}"
            trace = args.trace.with_name(f"{args.trace.name}-{label}.tsv") if args.trace else None
            figures = measure(megabytes, args.jobs, args.seed, not args.no_ner, Path(temporary), trace, args.dump)
        print(
            f"{figures['megabytes']:8.1f} MB  jobs={args.jobs} ner={'off' if args.no_ner else 'on'}  "
            f"wall {figures['wall_seconds']:7.1f} s ({figures['megabytes'] / figures['wall_seconds']:.2f} MB/s)  "
            f"peak PSS {figures['peak_pss_mb']:6.0f} MB  peak RSS sum {figures['peak_rss_sum_mb']:6.0f} MB, "
            f"largest process {figures['peak_rss_largest_mb']:5.0f} MB  ({figures['processes']} processes)  "
            f"peak disk of the output {figures['peak_disk_mb']:6.0f} MB  "
            f"{json.dumps(figures['summary'])}",
            flush=True,
        )


if __name__ == "__main__":
    main()
