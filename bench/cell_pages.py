#!/usr/bin/env python
"""Benchmark: the crisis dashboard and the running-log page of a crisis with 10,000 log entries.

Not a test: it prints latencies (p50 / p95 / max, in ms) for the record in docs/benchmarks.md. Goal: p95
under 100 ms on both databases.

    .venv/bin/python bench/cell_pages.py                       # SQLite (embedded default, WAL)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/cell_pages.py

Everything happens in a throw-away data directory. With a PostgreSQL DATABASE_URL the script creates
its own database (garde_bench, on the server of the URL) and drops it at the end; the database named in
the URL is only used to connect.

The real production settings are used (garde.settings, DEBUG off), with requests made in-process through
django.test.Client by a logged-in cell member: this measures Garde (middleware, views, queries,
templates), not a web server or the network.
"""

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DB = "garde_bench"
ROOT = Path(__file__).resolve().parent.parent


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=10_000, help="running-log entries (default 10000)")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per page (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured requests per page first (default 10)")
    parser.add_argument(
        "--fill", choices=["record", "bulk"], default="record",
        help="record: every entry through garde.cell.journal.record (realistic, slower); bulk: bulk_create "
        "with the same hashes (link_hash over entry_content)",
    )
    parser.add_argument(
        "--no-analyze", action="store_true",
        help="PostgreSQL: measure right after the fill, before autovacuum has gathered statistics",
    )
    parser.add_argument(
        "--no-gc-freeze", dest="gc_freeze", action="store_false",
        help="do not call gc.freeze() after warm-up (garde.wsgi freezes at start-up, so the default mirrors it)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data directory (and the PostgreSQL database)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--profile", action="store_true", help="also print where the time of each page goes (cProfile)")
    return parser.parse_args()


# --- Environment, before Django is set up ---------------------------------------------------------


def prepare_environment(data_dir: Path) -> str | None:
    """Point Garde at a throw-away data dir; on PostgreSQL create the bench database. Returns its admin URL."""
    os.environ["GARDE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("GARDE_INSECURE_HTTP", "yes")
    os.environ.setdefault("GARDE_TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend")
    os.environ["DJANGO_SETTINGS_MODULE"] = "garde.settings"
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return None
    parts = urlsplit(url)
    admin_url = url
    import psycopg

    with psycopg.connect(_libpq_url(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
    return admin_url


def drop_bench_database(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(_libpq_url(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def _libpq_url(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


# --- Data ----------------------------------------------------------------------------------------

KINDS = ["fact", "information", "action", "communication", "decision"]
SOURCES = ["", "", "Astreinte DSI", "Cadre de santé des urgences", "RSSI", "Standard", "CERT Santé", "Cellule"]
WORDS = (
    "serveur chiffré poste urgences messagerie isolement pare-feu sauvegarde restauration annuaire "
    "imagerie laboratoire pharmacie bloc SAMU patient dossier prestataire coupure réseau délestage "
    "procédure dégradée appel plainte assureur CNIL ARS exfiltration rançon revendication contrôle"
).split()


def fake_text(rng: random.Random) -> str:
    n = rng.choice([8, 12, 20, 30, 45])
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def build_cell():
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from garde.accounts.roles import Role
    from garde.cell import services
    from garde.cell.models import Crisis

    user_model = get_user_model()
    director = user_model.objects.create_user("bench-director", password=None, first_name="Claire", last_name="Martin")
    scribe = user_model.objects.create_user("bench-scribe", password=None, first_name="Sophie", last_name="Bernard")
    crisis = services.open_crisis(
        Crisis(title="Benchmark", t0=timezone.now() - timedelta(days=3), personal_data=True, nis2=True,
               severity=Crisis.Severity.CRITICAL, phase=Crisis.Phase.CONTAINMENT),
        director, Role.DIRECTOR,
    )
    services.set_membership(crisis, scribe, Role.SCRIBE, director)
    services.create_first_hour_checklist(crisis, director)
    return crisis, director, scribe


def fill_with_record(crisis, author, total: int, rng: random.Random) -> None:
    """Every entry through journal.record: the lock, the chain, a transaction per entry, as in real use."""
    from datetime import timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile

    from garde.cell import journal
    from garde.cell.models import LogEntry

    start = crisis.t0
    existing = LogEntry.objects.filter(crisis=crisis).count()
    for i in range(existing, total):
        corrects = None
        if i > 50 and i % 100 == 0:  # 1 % corrections of an entry recorded a little earlier
            corrects = LogEntry.objects.get(crisis=crisis, seq=i - rng.randint(1, 40))
        files = []
        if i % 250 == 0:  # 0.4 % with an attachment
            files = [journal.store_upload(SimpleUploadedFile(f"capture-{i}.txt", f"evidence {i}".encode()))]
        journal.record(
            crisis, fake_text(rng), kind=rng.choice(KINDS), author=author,
            occurred_at=start + timedelta(seconds=20 * i), source=rng.choice(SOURCES), corrects=corrects, files=files,
        )


def fill_with_bulk(crisis, author, total: int, rng: random.Random) -> None:
    """The same chain, hashed with link_hash over entry_content, written with bulk_create (no attachments)."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from garde.cell.journal import _display_name, entry_content
    from garde.cell.models import LogEntry
    from garde.lib.chain import link_hash

    last = LogEntry.objects.filter(crisis=crisis).order_by("-seq").first()
    by_seq = {}
    prev_hash, seq = last.hash, last.seq
    batch = []
    now = timezone.now()
    with transaction.atomic():
        while seq < total:
            seq += 1
            corrects = by_seq.get(seq - rng.randint(1, 40)) if seq > 50 and seq % 100 == 0 else None
            entry = LogEntry(
                crisis=crisis, seq=seq, occurred_at=crisis.t0 + timedelta(seconds=20 * seq), recorded_at=now,
                author=author, author_name=_display_name(author), kind=rng.choice(KINDS), text=fake_text(rng),
                source=rng.choice(SOURCES), corrects=corrects, prev_hash=prev_hash,
            )
            entry.hash = link_hash(entry_content(entry, []), prev_hash)
            prev_hash = entry.hash
            by_seq[seq] = entry
            batch.append(entry)
            if len(batch) == 1000:
                LogEntry.objects.bulk_create(batch)
                batch = []
        LogEntry.objects.bulk_create(batch)


# --- Measures ------------------------------------------------------------------------------------


def measure(client, url: str, n: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        assert client.get(url).status_code == 200, url
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return timings


def summary(timings: list[float]) -> tuple[float, float, float]:
    ordered = sorted(timings)
    p95 = statistics.quantiles(ordered, n=100, method="inclusive")[94]
    return statistics.median(ordered), p95, ordered[-1]


def count_queries(client, url: str, n: int = 20) -> tuple[int, float]:
    """Queries per request, and the median time they take together (ms): the rest is Python and templates."""
    from django.db import connection

    counts, times = [], []
    for _ in range(n):
        spent = [0, 0.0]

        def timed(execute, sql, params, many, context, spent=spent):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent[0] += 1
                spent[1] += time.perf_counter() - started

        with connection.execute_wrapper(timed):
            client.get(url)
        counts.append(spent[0])
        times.append(spent[1] * 1000)
    return max(counts), statistics.median(times)


def profile(client, name: str, url: str, n: int) -> None:
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        client.get(url)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    # Below the view: which template tags, filters, queries and model code take the time.
    stats.sort_stats("cumulative").print_stats(r"defaulttags|defaultfilters|i18n|loader_tags|garde/|db/models/(query|fields/related_descriptors)|sqlite3/base|postgresql/base|urls/base", 22)
    stats.sort_stats("tottime").print_stats(12)
    lines = [line for line in out.getvalue().splitlines() if line.strip() and not line.lstrip().startswith(("List reduced", "Ordered by"))]
    print(f"\n--- profile: {name}, {n} requests ---")
    print("\n".join(lines))


def database_description() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        mode = connection.cursor().execute("PRAGMA journal_mode").fetchone()[0]
        return f"SQLite {sqlite3.sqlite_version} (journal_mode={mode})"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def machine_description() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> int:
    args = parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="garde-bench-"))
    sys.path.insert(0, str(ROOT / "src"))
    admin_url = prepare_environment(data_dir)
    try:
        return run(args, data_dir)
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if args.keep:
            print(f"kept: {data_dir}" + (f" and database {BENCH_DB}" if admin_url else ""))
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
            if admin_url:
                drop_bench_database(admin_url)


def run(args, data_dir: Path) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from garde.cell import journal
    from garde.cell.models import LogEntry

    rng = random.Random(args.seed)
    print(f"Garde cell pages benchmark — {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"machine:  {machine_description()}")
    print("load:     " + " / ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1/5/15 min averages, at start)")
    call_command("migrate", verbosity=0)
    print(f"database: {database_description()} [{settings.DATABASES['default']['ENGINE']}]")

    crisis, director, scribe = build_cell()
    started = time.perf_counter()
    fill = fill_with_record if args.fill == "record" else fill_with_bulk
    fill(crisis, scribe, args.entries, rng)
    filled_in = time.perf_counter() - started
    count = LogEntry.objects.filter(crisis=crisis).count()
    how = "journal.record, one transaction per entry" if args.fill == "record" else "bulk_create with link_hash"
    print(f"log:      {count} entries written in {filled_in:.1f} s ({how})")
    started = time.perf_counter()
    report = journal.verify(crisis)
    print(f"chain:    {'verifies' if report.ok else 'BROKEN: ' + report.first_break.message} "
          f"({report.checked} entries checked in {time.perf_counter() - started:.2f} s)")
    if not report.ok or count != args.entries:
        return 1
    from django.db import connection

    if connection.vendor == "postgresql" and not args.no_analyze:
        # What autovacuum does within a minute or so of the writes in real use. Without statistics the
        # two queries of log entries on the log page take about 8 ms instead of 1 ms.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print("stats:    ANALYZE run after the fill (as autovacuum would); --no-analyze measures without")

    client = Client(HTTP_HOST="localhost")  # one of the default GARDE_ALLOWED_HOSTS
    client.force_login(scribe)
    pages = [
        ("dashboard", reverse("dashboard", args=[crisis.pk])),
        ("dashboard, htmx fragment", reverse("dashboard_live", args=[crisis.pk])),
        ("log, first page", reverse("log", args=[crisis.pk])),
    ]
    print(f"requests: {args.requests} measured per page after {args.warmup} warm-up, django.test.Client, "
          f"logged-in member (scribe)")
    print(f"| {'page':<26} | {'p50 ms':>7} | {'p95 ms':>7} | {'max ms':>7} | {'queries':>7} | {'SQL ms':>7} |")
    print(f"|{'-' * 28}|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|")
    if args.gc_freeze:
        import gc

        for _name, url in pages:
            client.get(url)
        gc.collect()
        gc.freeze()
        print("gc:       gc.freeze() after warm-up: start-up objects leave the collector's full passes")
    print()
    over = []
    for name, url in pages:
        timings = measure(client, url, args.requests, args.warmup)
        p50, p95, worst = summary(timings)
        queries, sql_ms = count_queries(client, url)
        print(f"| {name:<26} | {p50:>7.1f} | {p95:>7.1f} | {worst:>7.1f} | {queries:>7} | {sql_ms:>7.1f} |")
        if p95 >= 100:
            over.append(name)
    if args.profile:
        for name, url in pages:
            profile(client, name, url, args.requests // 4 or 1)
    print()
    print("load average (1/5/15 min) at the end: " + " / ".join(f"{x:.2f}" for x in os.getloadavg()))
    print("goal p95 < 100 ms: " + ("met" if not over else "MISSED for " + ", ".join(over)))
    return 0 if not over else 2


if __name__ == "__main__":
    sys.exit(main())
