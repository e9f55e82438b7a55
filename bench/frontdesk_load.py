#!/usr/bin/env python
"""Benchmark: 20 front-desk agents booking and paying at once against the production server process.

Not a test: it prints requests per second and latencies (p50 / p95 / max, in ms) for the record in
docs/benchmarks.md, and checks that the receipt numbers of every cash desk have no gap and no duplicate.

    .venv/bin/python bench/frontdesk_load.py                       # 20 agents x 20 rounds, 2 cash desks
    .venv/bin/python bench/frontdesk_load.py --agents 20 --rounds 20 --time-limit 300

What happens:

1. A throw-away data directory and a PostgreSQL database (garde_bench_fd, created on the server of
   --admin-url, default postgres://postgres@127.0.0.1:5432/postgres, and dropped at the end).
2. The crisis, the front desk (a site, 5 practitioners, --desks cash desks), one patient per agent and
   one front-desk account per agent with a real password are created in this process.
3. `garde serve` (waitress, the production server) is started on 127.0.0.1 on a free port, with the same
   data directory and DATABASE_URL. Loopback only: nothing listens on another address.
4. Each agent is a thread with its own cookie jar: it logs in through the login form (session cookie and
   CSRF token, as a browser does), then for each round opens the booking form, books an appointment,
   opens the payment form and takes a payment (cash or cheque, alternately) at the desk shared by half of
   the agents. Bounded load: --rounds rounds per agent (4 requests each) and a --time-limit after which
   agents stop at the end of their round. Redirects are not followed: a booking or a payment is a 302.
5. The receipt numbers of each desk are read back from the database: 1..n with no gap, no duplicate,
   and n equal to the payments the agents saw accepted.

Requests use urllib from the standard library (no extra package).
"""

import argparse
import http.cookiejar
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DB = "garde_bench_fd"
ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-front-desk-password-2024"
PRACTITIONERS = 5
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=20, help="concurrent agents (default 20)")
    parser.add_argument("--rounds", type=int, default=20, help="booking + payment rounds per agent (default 20)")
    parser.add_argument("--desks", type=int, default=2, help="cash desks shared by the agents (default 2)")
    parser.add_argument("--time-limit", type=float, default=300, help="seconds after which agents stop (default 300)")
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads (garde serve's default, 8)")
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres",
                        help="PostgreSQL server to create the bench database on (trust auth)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory and the database")
    return parser.parse_args()


# --- Environment and data ------------------------------------------------------------------------


def _libpq_url(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def create_database(admin_url: str) -> str:
    import psycopg

    with psycopg.connect(_libpq_url(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{BENCH_DB}"))


def drop_database(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(_libpq_url(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def build_front_desk(agents: int, desks: int):
    """Crisis, front desk and one account + one patient per agent. Returns the ids the agents need."""
    from datetime import date

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from garde.accounts.roles import Role
    from garde.cell import services
    from garde.cell.models import Crisis
    from garde.frontdesk import patients
    from garde.frontdesk.models import CashDesk, Department, Patient, Practitioner, Site

    users = get_user_model().objects
    director = users.create_user("bench-director", password=None, first_name="Claire", last_name="Martin")
    crisis = services.open_crisis(Crisis(title="Benchmark front desk", t0=timezone.now() - timedelta(hours=6)),
                                  director, Role.DIRECTOR)
    site = Site.objects.create(crisis=crisis, code="NORD", name="Hôpital Nord", id_prefix="99",
                               first_number=100, last_number=99_999)
    department = Department.objects.create(crisis=crisis, name="Consultations")
    practitioners = [Practitioner.objects.create(crisis=crisis, name=f"Dr {n}", department=department)
                     for n in range(PRACTITIONERS)]
    cash_desks = [CashDesk.objects.create(crisis=crisis, code=f"C{n + 1}", name=f"Caisse {n + 1}") for n in range(desks)]
    plan = []
    for n in range(agents):
        user = users.create_user(f"agent{n:02d}", password=PASSWORD)
        services.set_membership(crisis, user, Role.FRONTDESK, director)
        patient = patients.create_patient(
            Patient(crisis=crisis, site=site, birth_name=f"Patient{n:02d}", first_names="Bench",
                    birth_date=date(1950 + n, 1 + n % 12, 1 + n % 28), sex="F"),
            user, confirmed_new=True)
        plan.append({"username": user.username, "patient": str(patient.pk),
                     "practitioner": str(practitioners[n % PRACTITIONERS].pk),
                     "desk": str(cash_desks[n % desks].pk)})
    return crisis, plan, cash_desks


# --- Server ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, threads: int, log_path: Path) -> subprocess.Popen:
    garde = Path(sys.executable).with_name("garde")
    command = [str(garde), "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)]
    log = log_path.open("wb")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"garde serve exited ({server.returncode}): see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("garde serve did not start listening within 60 s")


# --- Agents ----------------------------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Agent(threading.Thread):
    def __init__(self, base: str, crisis_id: str, plan: dict, index: int, args, start_gate, stop_at_box):
        super().__init__(name=plan["username"])
        self.base, self.crisis_id, self.plan, self.index, self.args = base, crisis_id, plan, index, args
        self.start_gate, self.stop_at_box = start_gate, stop_at_box
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())
        self.timings: dict[str, list[float]] = {"book form": [], "book": [], "pay form": [], "pay": []}
        self.booked = self.refused = self.paid = self.errors = 0
        self.error_samples: list[str] = []

    def request(self, path: str, data: dict | None = None, referer: str | None = None) -> tuple[int, str, float]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body)
        if referer:
            req.add_header("Referer", self.base + referer)
        started = time.perf_counter()
        try:
            with self.opener.open(req, timeout=60) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:  # 3xx (redirects are not followed), 4xx, 5xx
            status, text = exc.code, exc.read().decode(errors="replace")
        return status, text, (time.perf_counter() - started) * 1000

    def log_in(self) -> None:
        status, page, _ = self.request("/account/login/")
        token = CSRF_RE.search(page).group(1)
        status, _page, _ = self.request("/account/login/", {
            "csrfmiddlewaretoken": token, "username": self.plan["username"], "password": PASSWORD,
        }, referer="/account/login/")
        if status != 302:
            raise RuntimeError(f"{self.plan['username']} could not log in (HTTP {status})")

    def form(self, kind: str, path: str) -> str:
        status, page, ms = self.request(path)
        self.timings[kind].append(ms)
        if status != 200:
            raise RuntimeError(f"{kind}: HTTP {status}")
        return CSRF_RE.search(page).group(1)

    def slot(self, round_no: int) -> datetime:
        """A slot of its own for each agent and round: agents sharing a practitioner never collide."""
        day = datetime.now().date() + timedelta(days=1 + round_no // 8)
        index = (self.index // PRACTITIONERS) * 8 + round_no % 8  # 8 quarter-hours per agent and day
        return datetime(day.year, day.month, day.day, 8) + timedelta(minutes=15 * index)

    def round(self, round_no: int) -> None:
        prefix = f"/c/{self.crisis_id}/frontdesk/"
        book_path = f"{prefix}appointments/new/?patient={self.plan['patient']}"
        token = self.form("book form", book_path)
        status, page, ms = self.request(book_path, {
            "csrfmiddlewaretoken": token, "patient": self.plan["patient"], "practitioner": self.plan["practitioner"],
            "starts_at": f"{self.slot(round_no):%Y-%m-%dT%H:%M}", "duration": "15", "reason": "Consultation",
            "channel": "phone",
        }, referer=book_path)
        self.timings["book"].append(ms)
        if status == 302:
            self.booked += 1
        elif status == 200:
            self.refused += 1  # the form came back with an error (a slot already taken)
        else:
            self.fail(f"book: HTTP {status}")
        pay_path = f"{prefix}payments/new/?patient={self.plan['patient']}"
        token = self.form("pay form", pay_path)
        cheque = round_no % 2 == 1
        status, page, ms = self.request(pay_path, {
            "csrfmiddlewaretoken": token, "patient": self.plan["patient"], "cash_desk": self.plan["desk"],
            "amount": f"{25 + self.index % 7},50", "method": "cheque" if cheque else "cash",
            "cheque_number": f"{self.index:02d}{round_no:05d}" if cheque else "",
            "cheque_bank": "Banque de bench" if cheque else "", "reason": "Consultation",
        }, referer=pay_path)
        self.timings["pay"].append(ms)
        if status == 302:
            self.paid += 1
        else:
            self.fail(f"pay: HTTP {status}")

    def fail(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 3:
            self.error_samples.append(message)

    def run(self) -> None:
        try:
            self.log_in()
        except Exception as exc:  # noqa: BLE001 - reported, not raised, so the other agents carry on
            self.fail(f"login: {exc}")
            self.start_gate.wait()
            return
        self.start_gate.wait()
        for round_no in range(self.args.rounds):
            if time.monotonic() > self.stop_at_box[0]:
                break
            try:
                self.round(round_no)
            except Exception as exc:  # noqa: BLE001
                self.fail(str(exc))


# --- Checks and report -------------------------------------------------------------------------------


def receipt_check(cash_desks) -> tuple[bool, list[str]]:
    from garde.frontdesk.models import Payment

    ok, lines = True, []
    for desk in cash_desks:
        numbers = list(Payment.objects.filter(cash_desk=desk).order_by("receipt_number")
                       .values_list("receipt_number", flat=True))
        gapless = numbers == list(range(1, len(numbers) + 1))
        ok &= gapless
        lines.append(f"{desk.code}: {len(numbers)} receipts, {numbers[:1]}..{numbers[-1:]}, "
                     f"{'no gap, no duplicate' if gapless else 'GAP OR DUPLICATE'}")
    return ok, lines


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(label: str, values: list[float]) -> str:
    if not values:
        return f"  {label:<10} -"
    return (f"  {label:<10} n={len(values):<5} p50 {statistics.median(values):7.1f} ms   "
            f"p95 {percentile(values, 95):7.1f} ms   max {max(values):7.1f} ms")


def main() -> int:
    args = parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="garde-bench-fd-"))
    os.environ["GARDE_DATA_DIR"] = str(data_dir)
    os.environ["GARDE_INSECURE_HTTP"] = "yes"  # loopback, no TLS: what `garde serve` on 127.0.0.1 sets too
    os.environ["DJANGO_SETTINGS_MODULE"] = "garde.settings"
    os.environ["DATABASE_URL"] = create_database(args.admin_url)
    server = None
    try:
        sys.path.insert(0, str(ROOT / "src"))
        from garde.cli_support import migrate_database, setup_django

        setup_django(insecure_http=True)
        migrate_database()
        crisis, plan, cash_desks = build_front_desk(args.agents, args.desks)
        from django.db import connections

        connections.close_all()

        port = free_port()
        server = start_server(port, args.threads, data_dir / "server.log")
        base = f"http://127.0.0.1:{port}"
        load_before = os.getloadavg()
        gate = threading.Barrier(args.agents + 1)
        stop_at = [float("inf")]
        agents = [Agent(base, str(crisis.pk), p, n, args, gate, stop_at) for n, p in enumerate(plan)]
        for agent in agents:
            agent.start()
        gate.wait()  # everyone is logged in: the measured load starts now
        started = time.monotonic()
        stop_at[0] = started + args.time_limit
        for agent in agents:
            agent.join()
        elapsed = time.monotonic() - started
        load_after = os.getloadavg()

        timings: dict[str, list[float]] = {}
        for agent in agents:
            for kind, values in agent.timings.items():
                timings.setdefault(kind, []).extend(values)
        every = [v for values in timings.values() for v in values]
        paid = sum(a.paid for a in agents)
        errors = sum(a.errors for a in agents)
        ok, receipt_lines = receipt_check(cash_desks)
        from garde.frontdesk.models import Payment

        stored = Payment.objects.filter(crisis=crisis).count()

        print(f"date        {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
        print(f"machine     {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python "
              f"{platform.python_version()}, load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
        print(f"server      garde serve (waitress, {args.threads} threads) on 127.0.0.1, PostgreSQL {BENCH_DB}")
        print(f"load        {args.agents} agents x {args.rounds} rounds (book form, book, pay form, pay), "
              f"{args.desks} cash desks, time limit {args.time_limit:.0f} s")
        print(f"requests    {len(every)} in {elapsed:.1f} s = {len(every) / elapsed:.1f} requests/s "
              f"({paid / elapsed:.1f} payments/s)")
        print(summary("all", every))
        for kind, values in timings.items():
            print(summary(kind, values))
        print(f"outcome     {sum(a.booked for a in agents)} booked, {sum(a.refused for a in agents)} refused, "
              f"{paid} paid ({stored} payments stored), {errors} errors")
        for agent in agents:
            for sample in agent.error_samples:
                print(f"  error     {agent.name}: {sample}")
        for line in receipt_lines:
            print(f"receipts    {line}")
        good = ok and errors == 0 and stored == paid
        print("result      " + ("OK" if good else "FAILED"))
        return 0 if good else 1
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept        {data_dir} and database {BENCH_DB}")
        else:
            drop_database(args.admin_url)
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
