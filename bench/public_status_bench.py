"""Benchmark of the public status page and the Statuspage API served by the production server process.

    .venv/bin/python bench/public_status_bench.py                      # 2,000 requests per URL, 8 clients
    .venv/bin/python bench/public_status_bench.py --requests 5000 --concurrency 16 --max-seconds 30

The script makes a throw-away GARDE_DATA_DIR (SQLite), loads the demo there (`garde demo`: the CHU de
Démo map with the June 2023 internet cut applied to the demo crisis, so the page and the API show
services down with their public messages), starts `garde serve` (waitress, 8 threads) on 127.0.0.1 on a
free port, and drives it from this process: N client threads, each with one keep-alive HTTP/1.1
connection, send GET requests to one URL after another. The load is bounded in count (--requests per
URL) and in time (--max-seconds per URL), on the loopback address only. It prints, per URL, requests per
second and latency percentiles (ms), and the 1-minute load average before and after. The server is
stopped and the data directory deleted at the end.

The client shares the machine with the server: on a 2-core machine the figures are a floor.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

URLS = ["/status/", "/status/?lang=en", "/api/v2/summary.json", "/api/v2/status.json", "/api/v2/components.json"]
HOST = "127.0.0.1"
GARDE = Path(sys.executable).with_name("garde")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until_up(port: int, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit status {server.returncode})")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/status/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not answer within 120 s")


def hammer(port: int, url: str, requests: int, concurrency: int, max_seconds: float) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    remaining = [requests]
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=10)
        mine: list[float] = []
        while True:
            with lock:
                if remaining[0] <= 0 or time.monotonic() > deadline:
                    break
                remaining[0] -= 1
            start = time.perf_counter()
            try:
                connection.request("GET", url)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=10)
            mine.append(time.perf_counter() - start)
            if not ok:
                with lock:
                    errors[0] += 1
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    latencies.sort()

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {"url": url, "n": len(latencies), "errors": errors[0], "rps": len(latencies) / wall,
            "p50": statistics.median(latencies) * 1000, "p99": percentile(0.99), "max": latencies[-1] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per URL (at most)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--max-seconds", type=float, default=30.0, help="time limit per URL")
    parser.add_argument("--warm-up", type=int, default=50, help="unmeasured requests per URL first")
    args = parser.parse_args()
    if not 1 <= args.concurrency <= 64 or not 1 <= args.requests <= 100_000 or not 0 < args.max_seconds <= 120:
        raise SystemExit("bounded load only: 1-64 clients, 1-100,000 requests, at most 120 s per URL")

    data_dir = Path(tempfile.mkdtemp(prefix="garde-status-bench-"))
    env = {**os.environ, "GARDE_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "garde.settings"}
    env.pop("DATABASE_URL", None)  # SQLite in the throw-away directory
    server = None
    try:
        subprocess.run([str(GARDE), "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        server = subprocess.Popen([str(GARDE), "serve", "--host", HOST, "--port", str(port), "--threads", "8"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until_up(port, server)
        print(f"garde serve (waitress, 8 threads) on {HOST}:{port}, SQLite in {data_dir}; "
              f"{args.concurrency} clients, at most {args.requests:,} requests or {args.max_seconds:g} s per URL")
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        print(f"{'URL':28} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
        for url in URLS:
            hammer(port, url, args.warm_up, min(args.concurrency, 4), args.max_seconds)
            r = hammer(port, url, args.requests, args.concurrency, args.max_seconds)
            print(f"{r['url']:28} {r['n']:>8,} {r['errors']:>6} {r['rps']:>8.0f} {r['p50']:>7.1f} {r['p99']:>7.1f} "
                  f"{r['max']:>7.1f}  (load {os.getloadavg()[0]:.2f})")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
