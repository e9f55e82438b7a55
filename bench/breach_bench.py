#!/usr/bin/env python
"""Benchmark of the breach file: import of a scan of N persons, then generation of the letters of M of them.

Not a test: it prints times and peak memory for the record in docs/benchmarks.md. Goal from issue 6: a
scan of 1,000,000 persons and 100,000 letters.

    .venv/bin/python bench/breach_bench.py                                   # 1,000,000 persons, 100,000 letters
    .venv/bin/python bench/breach_bench.py --persons 100000 --letters 10000
    .venv/bin/python bench/breach_bench.py --persons 10000 --letters 5000 --processes 1   # one core
    DATABASE_URL=postgres://... .venv/bin/python bench/breach_bench.py      # (PostgreSQL: database of the URL)

The scan folder is NOT written by `garde scan` (scanning a dump of a million persons would take hours): it
is written directly in the documented format (docs/scan-format.md, format_version 1): manifest.json with
the SHA-256 of every output, summary.json, and the four Parquet files through pyarrow, as a revealed scan
(`--reveal`: clear values, so that letters have names and addresses). Values are synthetic (generated
names, valid NIR keys, no real person) and `value_hash` is a real HMAC-SHA256 under a benchmark key.

Each person has one record with eight identifying findings (NIR, IPP, last and first name, birth date,
address, postal code, town) and, one person in three, a diagnosis code (health); one in ten an IBAN.

Each phase runs in its own process, so that its peak resident memory (ru_maxrss) is its own:
  write    the scan folder (not part of Garde: the benchmark's own cost)
  import   garde.breach.importer.run on that folder (checks, reading, persons, keys, records, one transaction)
  letters  the first M persons' letters through the task (tasks.make_letters, inline): the merged PDF, the ZIP
           of one PDF per person and the mailing CSV, laid out by one worker process per core (--processes)
Everything happens in a throw-away data directory (SQLite unless DATABASE_URL says otherwise).
"""

import argparse
import hashlib
import hmac
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCAN_KEY = b"breach-bench-scan-key-0123456789"
BREACH_KEY = "breach-bench-breach-key-0123456789-abcdefghij"
SYLLABLES = [
    "ba",
    "be",
    "bo",
    "da",
    "de",
    "di",
    "ga",
    "lo",
    "lu",
    "ma",
    "me",
    "mi",
    "na",
    "no",
    "pa",
    "pi",
    "ra",
    "re",
    "ri",
    "sa",
    "so",
    "ta",
    "te",
    "to",
    "va",
    "vi",
    "za",
    "zo",
    "ke",
    "lu",
    "fa",
    "ju",
]
FIRST_NAMES = [
    "Jean",
    "Marie",
    "Pierre",
    "Claire",
    "Yann",
    "Sophie",
    "Louis",
    "Anne",
    "Paul",
    "Julie",
    "Hugo",
    "Emma",
    "Lucas",
    "Léa",
    "Nathalie",
    "Philippe",
    "Isabelle",
    "Michel",
    "Camille",
    "Thomas",
]
CITIES = [
    ("35000", "Rennes"),
    ("29200", "Brest"),
    ("56100", "Lorient"),
    ("22000", "Saint-Brieuc"),
    ("44000", "Nantes"),
    ("75011", "Paris"),
]
STREETS = [
    "rue de la Paix",
    "avenue Jean Jaurès",
    "boulevard de la Liberté",
    "rue des Lilas",
    "place du Marché",
]
BATCH = 50_000


# --------------------------------------------------------------------------------------------- write
def last_name(index: int) -> str:
    """A unique pronounceable surname per index (no two synthetic persons share name + birth date)."""
    letters = []
    n = index + 1
    while n:
        n, digit = divmod(n, len(SYLLABLES))
        letters.append(SYLLABLES[digit])
    return "".join(letters).upper() + "K"


def nir(rng: random.Random) -> str:
    from garde.scanner.detect.validators import nir_key

    body = (
        f"{rng.choice('12')}{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}{rng.choice(['35', '29', '56', '22'])}"
        f"{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    )
    return f"{body}{nir_key(body):02d}"


def value_hash(detector: str, normalised: str) -> str:
    return hmac.new(SCAN_KEY, f"{detector}:{normalised}".encode(), hashlib.sha256).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_scan(out: Path, persons: int, seed: int) -> dict:
    """Write a revealed scan folder of `persons` persons in format_version 1, in batches (bounded memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    out.mkdir(parents=True)
    files = [
        (f"dump/export-{n:03d}.csv", hashlib.sha256(f"file{n}".encode()).hexdigest()) for n in range(100)
    ]
    string_list = pa.list_(pa.string())
    schemas = {
        "findings": pa.schema(
            [
                ("path", pa.string()),
                ("sha256", pa.string()),
                ("occurrences", pa.int32()),
                ("person_id", pa.string()),
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
        ),
        "records": pa.schema(
            [
                ("record_id", pa.string()),
                ("sha256", pa.string()),
                ("path", pa.string()),
                ("locator", pa.string()),
                ("person_id", pa.string()),
                ("categories", string_list),
                ("detectors", string_list),
            ]
        ),
        "persons": pa.schema(
            [
                ("person_id", pa.string()),
                ("records", pa.int32()),
                ("files", pa.int32()),
                ("categories", string_list),
                ("detectors", string_list),
                ("linked_on", string_list),
                ("lower_bound_group", pa.string()),
                ("locations", string_list),
                ("record_ids", string_list),
            ]
        ),
    }
    writers = {name: pq.ParquetWriter(out / f"{name}.parquet", schema) for name, schema in schemas.items()}
    category_persons = dict.fromkeys(
        ("identity", "national_identifier", "contact", "health", "financial", "credentials"), 0
    )
    category_findings = dict.fromkeys(category_persons, 0)
    detector_counts: dict[str, int] = {}
    total_findings = 0
    for start in range(0, persons, BATCH):
        findings = {name: [] for name in schemas["findings"].names}
        records = {name: [] for name in schemas["records"].names}
        people = {name: [] for name in schemas["persons"].names}
        for index in range(start, min(persons, start + BATCH)):
            path, sha = files[index % len(files)]
            record_id = f"{sha[:16]}#{index}"
            person_id = "p" + hashlib.sha256(record_id.encode()).hexdigest()[:15]
            postal_code, city = rng.choice(CITIES)
            birth = f"{rng.randint(1930, 2020)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            values = [
                ("national_identifier", "nir", nir(rng)),
                ("identity", "ipp", f"{index + 100000:08d}"),
                ("identity", "last_name", last_name(index)),
                ("identity", "first_name", rng.choice(FIRST_NAMES)),
                ("identity", "birth_date", birth),
                ("contact", "address", f"{rng.randint(1, 150)} {rng.choice(STREETS)}"),
                ("contact", "postal_code", postal_code),
                ("contact", "city", city),
            ]
            if index % 3 == 0:
                values.append(("health", "cim10", rng.choice(["E11.9", "J45", "I10", "C50.9"])))
            if index % 10 == 0:
                values.append(("financial", "iban", "FR7630006000011234567890189"))
            for category, detector, value in values:
                normalised = value.lower() if detector != "nir" else value[:13]
                findings["path"].append(path)
                findings["sha256"].append(sha)
                findings["occurrences"].append(1)
                findings["person_id"].append(person_id)
                findings["record_id"].append(record_id)
                findings["locator"].append(f"row {index}")
                findings["field"].append(detector)
                findings["category"].append(category)
                findings["detector"].append(detector)
                findings["confidence"].append(0.95)
                findings["masked"].append(value[0] + "*" * (len(value) - 1))
                findings["value_hash"].append(value_hash(detector, normalised))
                findings["value"].append(value)
                findings["start"].append(0)
                findings["end"].append(len(value))
                category_findings[category] += 1
                detector_counts[detector] = detector_counts.get(detector, 0) + 1
            total_findings += len(values)
            categories = sorted({category for category, _d, _v in values})
            detectors = [detector for _c, detector, _v in values]
            for category in categories:
                category_persons[category] += 1
            records["record_id"].append(record_id)
            records["sha256"].append(sha)
            records["path"].append(path)
            records["locator"].append(f"row {index}")
            records["person_id"].append(person_id)
            records["categories"].append(categories)
            records["detectors"].append(detectors)
            people["person_id"].append(person_id)
            people["records"].append(1)
            people["files"].append(1)
            people["categories"].append(categories)
            people["detectors"].append(detectors)
            people["linked_on"].append([])
            people["lower_bound_group"].append(person_id)
            people["locations"].append([f"{path}#row {index}"])
            people["record_ids"].append([record_id])
        for name, columns in (("findings", findings), ("records", records), ("persons", people)):
            writers[name].write_table(pa.table(columns, schema=schemas[name]))
    for writer in writers.values():
        writer.close()
    per_file = persons // len(files)
    pq.write_table(
        pa.table(
            {
                "path": [p for p, _s in files],
                "sha256": [s for _p, s in files],
                "size": [per_file * 200] * len(files),
                "depth": [0] * len(files),
                "type": ["csv"] * len(files),
                "status": ["scanned"] * len(files),
                "duplicate_of": pa.array([None] * len(files), pa.string()),
                "records": [per_file] * len(files),
                "findings": [total_findings // len(files)] * len(files),
                "error": pa.array([None] * len(files), pa.string()),
            }
        ),
        out / "files.parquet",
    )
    summary = {
        "format_version": 1,
        "persons": {"lower": persons, "best": persons, "upper": persons},
        "records": {"with_findings": persons, "person_records": persons},
        "files": {
            "seen": len(files),
            "distinct_scanned": len(files),
            "duplicates": 0,
            "archives_opened": 0,
            "errors": 0,
            "encrypted": 0,
            "skipped": 0,
            "bytes_scanned": persons * 200,
            "pdf_pages_ocr": 0,
            "pdf_pages_needing_ocr": 0,
        },
        "categories": {
            c: {
                "findings": category_findings[c],
                "distinct_findings": category_findings[c],
                "persons": category_persons[c],
            }
            for c in category_persons
        },
        "detectors": detector_counts,
        "folders": {"dump": {"files": len(files), "findings": total_findings}},
        "file_types": {"csv": {"files": len(files), "findings": total_findings}},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    outputs = {
        name: sha256_file(out / name)
        for name in (
            "findings.parquet",
            "records.parquet",
            "persons.parquet",
            "files.parquet",
            "summary.json",
        )
    }
    manifest = {
        "format_version": 1,
        "tool": "breach_bench (synthetic, not garde scan)",
        "versions": {},
        "started": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        "duration_s": 0,
        "inputs": ["dump"],
        "settings": {"jobs": 0, "reveal": True},
        "reveal": True,
        "hash": {
            "algorithm": "HMAC-SHA256",
            "key_source": "env",
            "key_fingerprint": hashlib.sha256(SCAN_KEY).hexdigest()[:16],
        },
        "detectors": sorted(detector_counts),
        "extractors": ["csv"],
        "persons": summary["persons"],
        "errors": [],
        "outputs": outputs,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    size = sum((out / name).stat().st_size for name in outputs) + (out / "manifest.json").stat().st_size
    return {"findings": total_findings, "bytes": size}


# ------------------------------------------------------------------------------------ django phases
def prepare_environment(data_dir: Path) -> None:
    os.environ["GARDE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("GARDE_INSECURE_HTTP", "yes")
    os.environ["GARDE_TASKS_BACKEND"] = "django.tasks.backends.immediate.ImmediateBackend"
    os.environ["DJANGO_SETTINGS_MODULE"] = "garde.settings"
    os.environ["GARDE_BREACH_KEY"] = BREACH_KEY
    os.environ.pop("GARDE_BREACH_KEY_FILE", None)


def setup_django():
    import django

    django.setup()


def phase_import(scan_dir: Path) -> dict:
    setup_django()
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from garde.accounts.roles import Role
    from garde.breach import importer
    from garde.breach.models import Breach, Perimeter, Person, ScanImport
    from garde.cell import seeds, services
    from garde.cell.models import Crisis

    call_command("migrate", verbosity=0)
    seeds.load(apps)
    dpo = get_user_model().objects.create_user("dpo", password="bench-password-not-used")
    crisis = services.open_crisis(
        Crisis(title="Bench", t0=timezone.now(), personal_data=True), dpo, Role.DIRECTOR
    )
    breach = Breach.objects.create(
        crisis=crisis, number=1, title="Bench breach", t0=crisis.t0, created_by=dpo
    )
    perimeter = Perimeter.objects.create(breach=breach, name="Synthetic")
    scan = ScanImport.objects.create(breach=breach, perimeter=perimeter, folder=str(scan_dir), created_by=dpo)
    started = time.perf_counter()
    scan = importer.run(scan)
    seconds = time.perf_counter() - started
    if scan.status != ScanImport.Status.DONE:
        raise SystemExit(f"import refused: {scan.error}")
    return {"seconds": seconds, "persons": Person.objects.filter(breach=breach).count()}


def phase_letters(count: int, processes: int | None) -> dict:
    """The letters of the first `count` persons through the task's own code path (tasks.make_letters, run
    inline by the immediate backend): the merged PDF, the ZIP of one PDF per person and the mailing CSV."""
    setup_django()
    from django.contrib.auth import get_user_model

    from garde.breach import letters
    from garde.breach.models import Breach, LetterRun, Person
    from garde.breach.tasks import make_letters

    breach = Breach.objects.get(number=1)
    breach.consequences = "Hameçonnage ciblé ; usurpation d'identité."
    breach.measures = "Comptes réinitialisés, plainte déposée, CNIL notifiée."
    breach.contact = "Délégué à la protection des données — dpo@example.org"
    breach.save()
    # Only the first `count` persons are still to inform (references are given in order).
    people = Person.objects.filter(breach=breach).order_by("reference")
    last = people.values_list("reference", flat=True)[count - 1 : count].get()
    people.filter(reference__gt=last).update(status=Person.Status.REMOVED)
    if processes:
        letters.PROCESSES = processes
    run = LetterRun.objects.create(
        breach=breach, requested_by=get_user_model().objects.get(username="dpo"), reason="benchmark"
    )
    started = time.perf_counter()
    make_letters.enqueue(str(run.pk))
    seconds = time.perf_counter() - started
    run.refresh_from_db()
    if run.status != LetterRun.Status.DONE:
        raise SystemExit(f"letters failed: {run.error}")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker processes, ended with the run
    folder = letters.export_dir(breach)
    sizes = {kind: (folder / getattr(run, f"{kind}_file")).stat().st_size for kind in ("pdf", "zip", "csv")}
    return {
        "seconds": seconds,
        "persons": run.total,
        "letters": run.letters,
        "missing": len(run.missing),
        "processes": processes or os.cpu_count(),
        "bytes": sizes,
        "children_max_rss_mb": children.ru_maxrss / 1024,
        "children_cpu_seconds": children.ru_utime + children.ru_stime,
    }


def child(args) -> None:
    data_dir = Path(args.data_dir)
    prepare_environment(data_dir)
    sys.path.insert(0, str(ROOT / "src"))
    started = time.perf_counter()
    if args.phase == "write":
        result = write_scan(data_dir / "scan", args.persons, args.seed)
        result["seconds"] = time.perf_counter() - started
    elif args.phase == "import" and args.profile:
        import cProfile

        with cProfile.Profile() as profile:
            result = phase_import(data_dir / "scan")
        profile.dump_stats(args.profile)
    elif args.phase == "import":
        result = phase_import(data_dir / "scan")
    else:
        result = phase_letters(args.letters, args.processes)
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["cpu_seconds"] = time.process_time()
    print("RESULT " + json.dumps(result))


def run_phase(phase: str, args, data_dir: Path) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        phase,
        "--data-dir",
        str(data_dir),
        "--persons",
        str(args.persons),
        "--letters",
        str(args.letters),
        "--seed",
        str(args.seed),
    ]
    if args.processes:
        command += ["--processes", str(args.processes)]
    if args.profile:
        command += ["--profile", args.profile]
    load = os.getloadavg()[0]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"phase {phase} failed")
    line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    result["load"] = load
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--letters", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--no-letters", action="store_true", help="write and import only")
    parser.add_argument(
        "--processes", type=int, help="worker processes laying out letters (default: one per core)"
    )
    parser.add_argument("--profile", metavar="FILE", help="cProfile the import phase into FILE")
    parser.add_argument(
        "--child", dest="phase", choices=["write", "import", "letters"], help=argparse.SUPPRESS
    )
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        child(args)
        return 0
    data_dir = Path(tempfile.mkdtemp(prefix="garde-breach-bench-"))
    print(f"Garde breach benchmark — {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(
        f"machine:  {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}"
    )
    print("load:     " + " / ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1/5/15 min averages, at start)")
    print(f"database: {os.environ.get('DATABASE_URL', 'SQLite (default)').split('@')[-1]}")
    print(
        "scan:     SYNTHETIC folder written directly in the documented format (docs/scan-format.md), "
        "revealed, with HMAC-SHA256 value hashes under a bench key — not produced by `garde scan`"
    )
    try:
        write = run_phase("write", args, data_dir)
        print(
            f"write:    {args.persons:,} persons, {write['findings']:,} findings, {write['bytes'] / 1e6:.1f} MB "
            f"in {write['seconds']:.1f} s; peak RSS {write['max_rss_mb']:.0f} MB (benchmark's own cost)"
        )
        imported = run_phase("import", args, data_dir)
        print(
            f"import:   {imported['persons']:,} persons in {imported['seconds']:.1f} s "
            f"({imported['persons'] / imported['seconds']:,.0f}/s); CPU {imported['cpu_seconds']:.1f} s; "
            f"peak RSS {imported['max_rss_mb']:.0f} MB; load at start {imported['load']:.2f}"
        )
        if args.no_letters:
            return 0
        made = run_phase("letters", args, data_dir)
        sizes = made["bytes"]
        print(
            f"letters:  {made['letters']:,} letters ({made['missing']:,} addresses missing) in {made['seconds']:.1f} s "
            f"({made['letters'] / made['seconds']:,.0f}/s, {made['processes']} processes); PDF "
            f"{sizes['pdf'] / 1e6:.1f} MB, ZIP {sizes['zip'] / 1e6:.1f} MB, CSV {sizes['csv'] / 1e6:.1f} MB; "
            f"peak RSS {made['max_rss_mb']:.0f} MB (task), {made['children_max_rss_mb']:.0f} MB (largest worker); "
            f"CPU {made['cpu_seconds']:.1f} s (task) + {made['children_cpu_seconds']:.1f} s (workers) = "
            f"{made['letters'] / (made['cpu_seconds'] + made['children_cpu_seconds']):,.0f} letters per CPU-second; "
            f"load at start {made['load']:.2f}"
        )
    finally:
        if args.keep:
            print(f"kept:     {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
