"""The Dask engine: the distinct files of a scan are scanned on a Dask distributed cluster.

Only "run these tasks and hand back outcomes" lives here (`DaskExecutor`, `DaskPool`); the walk, the
resume, the progress and the report are the engine's (engine.py), the same for every engine.

Isolation on the cluster: each Dask worker thread scans its files in a scan subprocess of its own,
the same `Pool` as the local engine (one process, address-space limit, killed and replaced when a
file is over the time limit or kills it). A file that kills the Dask worker itself is retried once on
a LocalCluster (`allowed-failures` of the scheduler otherwise), then recorded as an error.

The workers read the input paths and write the parts and attachments under the output folder: on
several machines those paths must be the same on every machine (a shared filesystem).
"""

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
import time
import uuid
from importlib import metadata
from pathlib import Path

from garde.scanner.engine import ScanInputError
from garde.scanner.worker import (
    Bundler,
    Config,
    Pool,
    Task,
    failed_outcome,
)

CONNECT_SECONDS = 10.0  # to reach a scheduler, and for it to have at least one worker
LOCAL_ALLOWED_FAILURES = 1  # a LocalCluster retries a file whose worker died once, then gives up
SLOTS_REFRESH_SECONDS = 5.0
RESUME_HINT = "files finished are kept, run the same command again with --resume"


class DaskExecutor:
    """A connection to a Dask cluster: an existing one (`scheduler`), or a LocalCluster of `jobs`
    worker processes started here and closed by `close`."""

    in_process = False

    def __init__(self, client, cluster, address: str):
        self.client, self.cluster, self.address = client, cluster, address

    @classmethod
    def open(cls, jobs: int, scheduler: str | None) -> "DaskExecutor":
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise ScanInputError("--engine dask needs dask[distributed], which is not installed") from None
        if scheduler is None:
            # One file per worker at a time (saturation 1.0: none queued on a worker): when a file
            # kills its worker, no other file dies with it.
            with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
                cluster = _start(
                    LocalCluster,
                    n_workers=jobs,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    # No dashboard; the scheduler's health and metrics routes on a free loopback port.
                    scheduler_kwargs={
                        "allowed_failures": LOCAL_ALLOWED_FAILURES,
                        "dashboard_address": "127.0.0.1:0",
                    },
                    silence_logs=logging.ERROR,
                )
            try:
                return cls(Client(cluster, set_as_default=False), cluster, cluster.scheduler_address)
            except Exception:
                cluster.close()
                raise
        try:
            _reach(scheduler)  # a Client that fails to connect complains again when collected
            client = Client(scheduler, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as error:
            raise ScanInputError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
        try:
            client.wait_for_workers(1, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError) as error:
            client.close()
            raise ScanInputError(
                f"the Dask scheduler at {scheduler} has no worker ({error}): start `dask worker {scheduler}`"
            ) from None
        return cls(client, None, scheduler)

    def check(self, inputs: list[Path], out: Path) -> None:
        """Before anything is written: every worker runs this garde version, sees every input and
        can write where the output folder goes (on several machines: a shared filesystem)."""
        anchor = out.resolve()
        while not anchor.exists() and anchor != anchor.parent:
            anchor = anchor.parent
        try:
            probes = self.client.run(_probe, [str(p) for p in inputs], str(anchor))
        except Exception as error:  # noqa: BLE001 - whatever a worker raises, say which cluster
            raise ScanInputError(
                f"the Dask workers of {self.address} cannot run the scanner: {type(error).__name__}: {error}"
            ) from None
        version = _garde_version()
        for worker, probe in sorted(probes.items()):
            if probe["version"] != version:
                raise ScanInputError(
                    f"Dask worker {worker} runs garde {probe['version']}, this scan garde {version}: install the same version"
                )
            if probe["missing"]:
                raise ScanInputError(
                    f"Dask worker {worker} does not see the input {probe['missing'][0]}: inputs must be on a shared filesystem, at the same path"
                )
            if not probe["writable"]:
                raise ScanInputError(
                    f"Dask worker {worker} cannot write to {anchor}: the output folder must be on a shared filesystem, at the same path"
                )

    def describe(self) -> dict:
        return {"engine": "dask", "scheduler": self.address, "workers": len(self.client.nthreads())}

    def pool(self, config: Config) -> "DaskPool":
        return DaskPool(self.client, config, self.address)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


class DaskPool:
    """The `Pool` interface (free, busy, submit, collect, close) over Dask futures: at most twice
    as many files (or bundles of small files: see worker.Pool) in flight as the
    cluster has worker threads. A bundle whose Dask worker died is submitted again file by file."""

    def __init__(self, client, config: Config, address: str):
        self.client, self.address = client, address
        self.token = uuid.uuid4().hex  # names this scan's tasks and its scan subprocesses on the workers
        # The config (with the hyperscan database) travels once, as a task rather than scattered data:
        # if every worker holding it dies, the scheduler computes it again.
        self.config = client.submit(_same, config, key=f"garde-config-{self.token}", pure=False)
        self.futures: dict = {}  # future -> the files it scans
        self._slots, self._counted = 1, 0.0
        self._bundler = Bundler(True)

    def slots(self) -> int:
        if time.monotonic() - self._counted > SLOTS_REFRESH_SECONDS:  # workers come and go
            self._slots = max(1, 2 * sum(self.client.nthreads().values()))
            self._counted = time.monotonic()
        return self._slots

    def free(self) -> bool:
        return len(self.futures) < self.slots()

    def busy(self) -> bool:
        return bool(self.futures or self._bundler.tasks)

    def submit(self, task: Task) -> None:
        if not self._bundler.takes(task):
            self._submit([task])
        elif (bundle := self._bundler.add(task)) is not None:
            self._submit(bundle)

    def _submit(self, tasks: list[Task]) -> None:
        name = tasks[0].sha256 if len(tasks) == 1 else f"bundle-{tasks[0].sha256}"
        future = self.client.submit(
            scan_on_worker, tasks, self.config, self.token, key=f"garde-scan-{self.token}-{name}", pure=False
        )
        self.futures[future] = tasks

    def collect(self, timeout: float = 0.2) -> list[tuple[Task, dict]]:
        from distributed import wait
        from distributed.client import FuturesCancelledError

        if self._bundler.tasks and self.free():
            self._submit(self._bundler.take())  # room on the cluster and nothing more came: do not wait for more
        if not self.futures:
            return []
        with self.client.as_current(), contextlib.suppress(TimeoutError, FuturesCancelledError):
            wait(list(self.futures), timeout=timeout, return_when="FIRST_COMPLETED")
        done = []
        for future in [f for f in self.futures if f.done()]:
            tasks = self.futures.pop(future)
            done.extend(self._outcomes(tasks, future))
        return done

    def _outcomes(self, tasks: list[Task], future) -> list[tuple[Task, dict]]:
        from distributed.scheduler import KilledWorker

        if future.status == "finished":
            return list(zip(tasks, future.result(), strict=True))
        if future.status != "error":
            raise ScanInputError(
                f"lost the Dask cluster at {self.address} during the scan ({future.status}): {RESUME_HINT}"
            )
        error = future.exception()
        if isinstance(error, KilledWorker):
            if len(tasks) > 1:
                for task in tasks:  # each file again, alone: only the one at fault is lost
                    self._submit([task])
                return []
            return [
                (
                    tasks[0],
                    failed_outcome(
                        tasks[0].sha256,
                        "Dask worker died while scanning this file (worker memory limit or crash): file not scanned",
                    ),
                )
            ]
        # Files that crash an extractor come back as outcomes: an exception here is the cluster's.
        names = tasks[0].logical if len(tasks) == 1 else f"{tasks[0].logical} (and {len(tasks) - 1} small files with it)"
        raise ScanInputError(
            f"the Dask cluster at {self.address} failed on {names}: {type(error).__name__}: {error}; {RESUME_HINT}"
        )

    def close(self) -> None:
        for future in [*self.futures, self.config]:
            future.cancel()
        self.futures.clear()
        with contextlib.suppress(Exception):
            self.client.run(close_pools, self.token)  # stop this scan's subprocesses on every worker


# -- on the workers -------------------------------------------------------------------------------

_local = threading.local()  # .pools: this worker thread's scan subprocesses, {token: Pool}
_pools: dict[str, list[Pool]] = {}  # every live scan subprocess of this worker, by scan
_lock = threading.Lock()
KEPT_SCANS = (
    2  # scans sharing a cluster each keep their subprocess; older ones (a vanished client) are closed
)


def scan_on_worker(tasks: list[Task], config: Config, token: str) -> list[dict]:
    """Scans one file, or a bundle of small files, in this worker thread's scan subprocess, started on
    its first file of the scan: the time and memory limits are those of the local engine's Pool (a
    bundle that fails there is scanned again file by file)."""
    pool = _thread_pool(token, config)
    while not pool.free():
        pool.collect(timeout=1.0)  # the subprocess is starting
    pool.submit_bundle(tasks)
    outcomes: dict[str, dict] = {}
    while len(outcomes) < len(tasks):
        outcomes.update((task.sha256, outcome) for task, outcome in pool.collect(timeout=1.0))
    return [outcomes[task.sha256] for task in tasks]


def _thread_pool(token: str, config: Config) -> Pool:
    pools = _local.__dict__.setdefault("pools", {})
    with _lock:
        live = [pool for pool in _pools.get(token, []) if pool is pools.get(token)]
    if live:
        return live[0]
    pools.pop(token, None)  # closed by close_pools
    while len(pools) >= KEPT_SCANS:
        old_token = next(iter(pools))
        old = pools.pop(old_token)
        with _lock:
            if old in _pools.get(old_token, []):
                _pools[old_token].remove(old)
        old.close()
    # Nanny-started workers are daemonic, and multiprocessing refuses children to daemonic processes
    # (they could be left behind). A scan subprocess ends with its worker: it exits when its pipe closes.
    multiprocessing.current_process().daemon = False
    pool = pools[token] = Pool(1, config)
    with _lock:
        _pools.setdefault(token, []).append(pool)
    return pool


def close_pools(token: str) -> int:
    with _lock:
        pools = _pools.pop(token, [])
    for pool in pools:
        pool.close()
    return len(pools)


def _reach(address: str) -> None:
    """Raises OSError (or ValueError on a malformed address) if the scheduler does not answer."""
    from distributed.comm import connect
    from distributed.security import Security

    async def probe() -> None:  # with Dask's TLS settings, as the Client
        comm = await connect(address, timeout=CONNECT_SECONDS, **Security().get_connection_args("client"))
        await comm.close()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(probe())  # (inside a running event loop, the Client's own error is all there is)


def _start(cluster_class, **options):
    try:
        return cluster_class(**options)
    except (OSError, RuntimeError, TimeoutError) as error:
        raise ScanInputError(
            f"could not start a local Dask cluster: {type(error).__name__}: {error}"
        ) from None


def _same(value):
    return value


def _probe(inputs: list[str], anchor: str) -> dict:
    return {
        "version": _garde_version(),
        "missing": [path for path in inputs if not os.path.exists(path)],
        "writable": os.access(anchor, os.W_OK),
    }


def _garde_version() -> str | None:
    try:
        return metadata.version("garde")
    except metadata.PackageNotFoundError:
        return None
