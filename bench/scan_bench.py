"""Scanner benchmark: throughput (MB/s per core, wall and CPU time) on a synthetic dump, findings per
MB, and the precision and recall of free-text name detection on the labelled French sentences in
../shared/testdata.

    .venv/bin/python bench/scan_bench.py [--mb 50] [--jobs 1] [--seed 7] [--mix realistic|dense]
                                         [--profile FILE] [--pass-only]

`--mix realistic` (default) is what a leaked hospital share looks like: mostly prose (letters and
reports as small files, each with a header naming one patient), application logs where a line in
twenty names a user, and CSV exports where a patient table sits beside tables with no personal data
(lab analysers, stock, rooms). `--mix dense` is a patient table and letter/log triplets where every
line holds identifiers (tens of thousands of findings per MB): the worst case for per-finding cost.

Prose comes from the French newspaper sentences of ../shared/testdata (real capitalisation and
punctuation) mixed with medical phrases; names come from Faker fr_FR when it is installed,
otherwise from a small built-in list.

MB/s per core is size / CPU seconds of the scan (this process and its workers), which does not
depend on what else runs on the machine; wall-clock MB/s is printed too.

Two figures are printed side by side on the same dump:
- "identifier pass": the text and CSV files of the dump, extracted (decoding, paragraphs and lines;
  CSV parsing and header meanings) and detected (`detect_records` in batches as the worker forms
  them, CSV tables column by column with `detect_rows`: every detector, free-text name rules
  included), in this process, CPU time. Not counted:
  walking, hashing, masking, keyed hashes, link keys, part files, linkage and report. This is the
  figure of the issue's goal (50 MB/s per core).
- "worker pass": every file of the dump scanned by the worker's `process_file` in this process
  (extract, detect, mask, keyed hashes, link keys, the part written), CPU time: what the workers of
  a scan do, without the walk, the processes and the report.
- "whole scan": `garde scan` end to end (walk, extract, detect, findings rows, parts, linkage,
  report), CPU time of this process and its workers.
"""

import argparse
import cProfile
import json
import os
import random
import resource
import tempfile
import time
from pathlib import Path

from garde.scanner import ScanSettings, packs, scan, worker
from garde.scanner.detect import detect_records, prefilter
from garde.scanner.detect.tables import detect_rows
from garde.scanner.detect.validators import nir_key
from garde.scanner.extract import Source, choose
from garde.scanner.model import Field, Record, Rows

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "testdata"
NAMES_FILE = SHARED / "fr_person_names" / "enp_fr_bnf.jsonl"


def _people(seed: int):
    random.seed(seed)
    try:
        from faker import Faker

        fake = Faker("fr_FR")
        fake.seed_instance(seed)
        return lambda: (fake.last_name().upper(), fake.first_name(), fake.street_address(), fake.postcode(), fake.city())
    except ImportError:
        last = ["MARTIN", "BERNARD", "LE GOFF", "DUBOIS", "THOMAS", "ROBERT", "PETIT", "GUILLOU", "MOREAU", "LAURENT"]
        first = ["Jean", "Marie", "Yann", "Claire", "Nathalie", "Pierre", "Sophie", "Louis", "Anne", "Michel"]
        return lambda: (random.choice(last), random.choice(first), f"{random.randint(1, 99)} rue de Brest", "35000", "Rennes")


def _nir() -> str:
    body = f"{random.choice('12')}{random.randint(30, 99):02d}{random.randint(1, 12):02d}{random.randint(1, 95):02d}{random.randint(1, 999):03d}{random.randint(1, 999):03d}"
    return f"{body}{nir_key(body):02d}"


def _birth() -> str:
    return f"{random.randint(1, 28):02d}/{random.randint(1, 12):02d}/{random.randint(1930, 2020)}"


def _phone() -> str:
    return f"0{random.choice('12345679')} " + " ".join(f"{random.randint(10, 99)}" for _ in range(4))


# -- dense mix (the first benchmark): every line holds identifiers --------------------------------


def make_dense(root: Path, megabytes: float, seed: int) -> None:
    person = _people(seed)
    target = int(megabytes * 1e6 / 2)
    with open(root / "patients.csv", "w", encoding="utf-8") as table:
        table.write("IPP;Nom;Prénom;Date de naissance;NIR;Téléphone;Adresse;CP;Ville;Commentaire\n")
        ipp = 100000
        while table.tell() < target:
            ipp += 1
            last, first, street, postcode, city = person()
            table.write(f"{ipp};{last};{first};{_birth()};{_nir()};{_phone()};{street};{postcode};{city};RAS, revu en consultation\n")
    with open(root / "courriers.txt", "w", encoding="utf-8") as text:
        while text.tell() < target:
            last, first, *_ = person()
            text.write(
                f"Objet : M. {first} {last}, né le {random.randint(1, 28):02d}/03/19{random.randint(30, 99)}\n"
                "Cher confrère, je vous remercie de m'avoir adressé ce patient pour un bilan. L'examen clinique "
                "est sans particularité, le traitement est poursuivi à l'identique. Bien confraternellement.\n"
                f"2023-05-04 12:00:01 INFO user={first.lower()}.{last.lower()}@chu.example.fr login ok from 10.0.0.{random.randint(1, 254)}\n\n"
            )


# -- realistic mix --------------------------------------------------------------------------------

_MEDICAL = (
    "L'examen clinique retrouve un abdomen souple, dépressible et indolore.",
    "Les constantes sont stables, la tension artérielle est à 13/8 et la fréquence cardiaque à 72 par minute.",
    "Le bilan biologique montre une CRP à 12 mg/l et une hémoglobine à 13,2 g/dl.",
    "Le traitement habituel est poursuivi sans modification, avec une réévaluation dans trois mois.",
    "Pas d'allergie médicamenteuse connue. Pas d'antécédent chirurgical notable.",
    "La radiographie thoracique ne montre pas d'anomalie du parenchyme pulmonaire.",
    "Je vous remercie de m'avoir adressé ce patient pour avis spécialisé.",
    "Une consultation de contrôle est programmée dans le service dans six semaines.",
    "L'évolution est favorable sous traitement, la douleur ayant nettement régressé.",
    "Le patient est informé des bénéfices et des risques de l'intervention proposée.",
    "Au total, tableau compatible avec une poussée inflammatoire sans signe de gravité.",
    "Le scanner abdomino-pelvien réalisé le 12 janvier ne retrouve pas de collection.",
)
_SERVICES = ("cardiologie", "pneumologie", "chirurgie viscérale", "médecine interne", "gériatrie", "urgences", "neurologie")
_DIAGNOSES = ("E11.9", "I10", "J45.9", "K35.8", "N39.0", "I48.9", "M54.5", "F32.1", "C50.9", "S72.0")


def _prose_source(seed: int):
    """Sentences of real French prose (OCR'd newspapers) if shared test data is there."""
    rng = random.Random(seed)
    if NAMES_FILE.exists():
        sentences = [json.loads(line)["text"] for line in NAMES_FILE.read_text().splitlines()]
        sentences = [s for s in sentences if len(s) > 60]
    else:
        sentences = list(_MEDICAL)
    return lambda count: " ".join(rng.choice(sentences) if rng.random() < 0.5 else rng.choice(_MEDICAL) for _ in range(count))


def _letter(person, prose, number: int) -> str:
    last, first, street, postcode, city = person()
    doctor_last, doctor_first, *_ = person()
    title = random.choice(("M.", "Mme"))
    parts = [
        f"CENTRE HOSPITALIER UNIVERSITAIRE\nService de {random.choice(_SERVICES)}\nSecrétariat : {_phone()}\n",
        f"Rennes, le {random.randint(1, 28)} mars 2023\n",
        f"Objet : {title} {first} {last.title() if random.random() < 0.5 else last}, né(e) le {_birth()}\n"
        f"IPP : {number:08d}\n{street}, {postcode} {city}\n",
        "Cher confrère,\n",
    ]
    for _ in range(random.randint(3, 9)):
        parts.append(prose(random.randint(3, 7)) + "\n")
    if random.random() < 0.4:
        parts.append(f"Diagnostic principal (CIM-10) : {random.choice(_DIAGNOSES)}\n")
    parts.append(f"Bien confraternellement,\nDr {doctor_first} {doctor_last}\n")
    return "\n".join(parts)


_LOG_MESSAGES = (
    "GET /api/v2/agenda/slots?service={s} HTTP/1.1 200 {n} ms",
    "POST /api/v2/documents HTTP/1.1 201 {n} ms",
    "cache hit ratio {n}% on node app-{k}",
    "job export-pmsi finished in {n} s, {k} rows",
    "connection pool: {k} active, {n} idle",
    "GET /static/js/app.{k}.js HTTP/1.1 304 {n} ms",
    "scheduler tick took {n} ms",
)


def _log_line(stamp: int, person) -> str:
    day = f"2023-06-{1 + stamp // 86400 % 28:02d} {stamp // 3600 % 24:02d}:{stamp // 60 % 60:02d}:{stamp % 60:02d}"
    ip = f"10.{random.randint(0, 3)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    draw = random.random()
    if draw < 0.05:
        last, first, *_ = person()
        return f"{day} INFO auth user={first.lower()}.{last.lower()}@chu-rennes.fr login ok from {ip}\n"
    if draw < 0.06:
        return f"{day} WARN dossier IPP {random.randint(10**7, 10**8 - 1)} ouvert par un compte de service from {ip}\n"
    if draw < 0.065:
        return f"{day} ERROR hl7 listener: rejected message {random.randint(10**9, 10**10 - 1)} (segment PID invalide)\n"
    message = random.choice(_LOG_MESSAGES).format(s=random.choice(_SERVICES), n=random.randint(1, 900), k=random.randint(1, 9999))
    return f"{day} {random.choice(('INFO', 'INFO', 'INFO', 'DEBUG', 'WARN'))} [{random.choice(('http', 'db', 'worker'))}] {message} from {ip}\n"


def _patient_row(ipp: int, person) -> str:
    last, first, street, postcode, city = person()
    return (
        f"{ipp};{last};{first};{_birth()};{_nir() if random.random() < 0.7 else ''};{_phone()};{street};{postcode};{city};"
        f"{random.choice(_SERVICES)};{random.randint(1, 30)};{random.choice(('CMU', 'ALD', 'AME', 'régime général'))};"
        f"{random.randint(0, 1)};{random.randint(100, 9999) / 100:.2f}\n"
    )


def _lab_row(number: int) -> str:
    return (
        f"{number};{random.choice(('NFS', 'CRP', 'IONO', 'TSH', 'HBA1C', 'GLY'))};{random.randint(1, 999) / 10:.1f};"
        f"{random.choice(('mg/l', 'g/dl', 'mmol/l', '%'))};{random.choice(('AU-5800', 'XN-1000', 'COBAS-8000'))};"
        f"2023-06-{random.randint(1, 28):02d}T{random.randint(0, 23):02d}:{random.randint(0, 59):02d};"
        f"{random.choice(('valide', 'a controler', 'rejete'))}\n"
    )


def make_realistic(root: Path, megabytes: float, seed: int) -> None:
    """About 45% letters (4-16 KB files), 30% logs, 20% CSV (a third of it a patient table), 5% prose
    without a patient header (meeting notes, newsletters)."""
    person = _people(seed)
    prose = _prose_source(seed)
    write_letters(root, megabytes, person, prose)
    write_logs_tables_prose(root, megabytes, person, prose)


def write_letters(root: Path, megabytes: float, person, prose) -> None:
    """The letters of the realistic mix (45 % of `megabytes`)."""
    total = megabytes * 1e6
    (root / "courriers").mkdir()
    size, number = 0, 0
    while size < total * 0.45:
        number += 1
        text = _letter(person, prose, 10_000_000 + number)
        folder = root / "courriers" / f"{number // 500:03d}"
        folder.mkdir(exist_ok=True)
        (folder / f"CR_{number:06d}.txt").write_text(text, encoding="utf-8")
        size += len(text.encode())


def write_logs_tables_prose(root: Path, megabytes: float, person, prose) -> None:
    """The rest of the realistic mix: logs (30 %), CSV exports (20 %), prose (5 %)."""
    total = megabytes * 1e6
    (root / "logs").mkdir()
    with open(root / "logs" / "app.log", "w", encoding="utf-8") as log:
        stamp = 0
        while log.tell() < total * 0.30:
            stamp += random.randint(0, 3)
            log.write(_log_line(stamp, person))
    (root / "exports").mkdir()
    with open(root / "exports" / "patients.csv", "w", encoding="utf-8") as table:
        table.write("IPP;Nom;Prénom;Date de naissance;NIR;Téléphone;Adresse;CP;Ville;Service;Durée;Régime;Sortie;Montant\n")
        ipp = 100000
        while table.tell() < total * 0.07:
            ipp += 1
            table.write(_patient_row(ipp, person))
    with open(root / "exports" / "automate_labo.csv", "w", encoding="utf-8") as table:
        table.write("id_analyse;examen;resultat;unite;automate;horodatage;statut\n")
        row = 0
        while table.tell() < total * 0.13:
            row += 1
            table.write(_lab_row(row))
    (root / "divers").mkdir()
    with open(root / "divers" / "lettre_info.txt", "w", encoding="utf-8") as notes:
        while notes.tell() < total * 0.05:
            notes.write(prose(random.randint(4, 12)) + "\n\n")


def make_dump(root: Path, megabytes: float, seed: int, mix: str = "realistic") -> int:
    root.mkdir(parents=True)
    random.seed(seed)
    (make_dense if mix == "dense" else make_realistic)(root, megabytes, seed)
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def identifier_pass(dump: Path) -> dict[str, tuple[int, float, int]]:
    """Extraction and detection of the text and CSV files of `dump`, batched as the worker does:
    {"text" | "csv": (bytes, CPU seconds, findings)}."""
    figures = {"text": [0, 0.0, 0], "csv": [0, 0.0, 0]}
    for path in sorted(p for p in dump.rglob("*") if p.is_file()):
        started = time.process_time()
        source = Source(path, path.name)
        chosen = choose(source)
        if chosen is None or chosen.name not in ("text", "csv"):
            continue
        found = 0
        batch: list[Record] = []
        chars = 0
        for record in chosen.scan(source):
            if isinstance(record, Rows):  # a table read column by column, as the worker detects it
                found += sum(len(findings) for _, _, findings in detect_rows(record)[1])
                continue
            batch.append(record)
            chars += sum(len(field.value) for field in record.fields)
            if chars > worker.BATCH_CHARS or len(batch) >= worker.BATCH_RECORDS:
                found += sum(map(len, detect_records(batch)))
                batch, chars = [], 0
        if batch:
            found += sum(map(len, detect_records(batch)))
        figure = figures[chosen.name]
        figure[0] += source.size
        figure[1] += time.process_time() - started
        figure[2] += found
    return {kind: tuple(figure) for kind, figure in figures.items()}


def worker_pass(dump: Path, parts: Path) -> tuple[int, int, float, float]:
    """Every file of `dump` scanned by `process_file` in this process, its parts written to `parts`:
    (files, bytes, CPU seconds, wall seconds)."""
    work = parts / "work"
    work.mkdir(parents=True)
    config = worker.Config(str(parts), str(work), b"a benchmark key of enough length", False, 0.5, 600.0, 4 << 30)
    files = size = 0
    started, wall_started = time.process_time(), time.perf_counter()
    for number, path in enumerate(sorted(p for p in dump.rglob("*") if p.is_file())):
        worker.process_file(worker.Task(str(path), path.name, f"{number:064x}"), config)
        files, size = files + 1, size + path.stat().st_size
    packs.close(config.parts_dir)
    return files, size, time.process_time() - started, time.perf_counter() - wall_started


def print_identifier_pass(figures: dict) -> None:
    size = sum(f[0] for f in figures.values())
    cpu = sum(f[1] for f in figures.values())
    found = sum(f[2] for f in figures.values())
    parts = ", ".join(f"{kind} {f[0] / 1e6:.1f} MB at {f[0] / 1e6 / f[1]:.2f} MB/s ({f[2]} findings)" for kind, f in figures.items() if f[0])
    print(
        f"identifier pass (extract + detect, text and CSV, one core): {size / 1e6:.1f} MB, CPU {cpu:.1f} s, "
        f"{size / 1e6 / cpu:.2f} MB/s per core, {found} findings; {parts}"
    )


def bench_scan(
    megabytes: float, jobs: int, seed: int, mix: str, profile: str | None, pass_only: bool = False, use_ner: bool = True
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        size = make_dump(root / "dump", megabytes, seed, mix)
        files = sum(1 for p in (root / "dump").rglob("*") if p.is_file())
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        compile_started = time.perf_counter()
        fast = prefilter.available()  # compiled once per scan (seconds), not per megabyte: timed apart
        compile_seconds = time.perf_counter() - compile_started
        print(f"dump: {size / 1e6:.1f} MB in {files} files, mix={mix}, jobs={jobs}")
        print_identifier_pass(identifier_pass(root / "dump"))
        files, scanned, cpu, wall = worker_pass(root / "dump", root / "worker-parts")
        print(
            f"worker pass (process_file over every file, one core): {files} files, {scanned / 1e6:.1f} MB, "
            f"CPU {cpu:.1f} s, {scanned / 1e6 / cpu:.2f} MB/s per core; wall {wall:.1f} s"
        )
        if pass_only:
            print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            return
        profiler = cProfile.Profile() if profile else None
        cpu_before, started = _cpu_seconds(), time.perf_counter()
        if profiler:
            profiler.enable()
        report_started = []

        def progress(event: str, **_details) -> None:
            if event == "report":
                report_started.append(time.perf_counter())

        result = scan([root / "dump"], root / "out", ScanSettings(jobs=jobs, ner=use_ner), progress)
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        ended = time.perf_counter()
        seconds, cpu = ended - started, _cpu_seconds() - cpu_before
    megabytes = size / 1e6
    findings = sum(c["findings"] for c in result.summary["categories"].values())
    cores = max(jobs, 1)
    engine = "hyperscan prefilter" if fast else "reference (re)"
    print(f"engine: {engine}; prefilter compile {compile_seconds:.1f} s (once per scan, not counted below); NER {'on' if use_ner else 'off'}")
    print(
        f"whole scan: wall {seconds:.1f} s ({megabytes / seconds:.2f} MB/s, {megabytes / seconds / cores:.2f} MB/s per job); "
        f"CPU {cpu:.1f} s ({megabytes / cpu:.2f} MB/s per core); of which the report (linkage, output files) {ended - report_started[0]:.1f} s wall"
    )
    per_category = ", ".join(f"{name} {c['findings']}" for name, c in result.summary["categories"].items() if c["findings"])
    print(f"findings: {findings} ({findings / megabytes:.0f}/MB; {per_category}); persons: {result.summary['persons']}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def bench_names() -> None:
    if not NAMES_FILE.exists():
        print(f"names: skipped, {NAMES_FILE} not found")
        return
    rows = [json.loads(line) for line in NAMES_FILE.read_text().splitlines()]
    true_positive = false_positive = missed = 0
    started = time.perf_counter()
    found = detect_records([Record("s", [Field(None, row["text"])]) for row in rows])
    for row, findings in zip(rows, found, strict=True):
        predicted = [f for f in findings if f.detector == "person_name"]
        gold = [(s["start"], s["end"]) for s in row["spans"]]
        for span in predicted:
            if any(span.start < end and start < span.end for start, end in gold):
                true_positive += 1
            else:
                false_positive += 1
        missed += sum(1 for start, end in gold if not any(p.start < end and start < p.end for p in predicted))
    seconds = time.perf_counter() - started
    gold_total = sum(len(row["spans"]) for row in rows)
    precision = true_positive / max(true_positive + false_positive, 1)
    recall = (gold_total - missed) / gold_total
    chars = sum(len(row["text"]) for row in rows)
    print(
        f"names (enp_fr_bnf, overlap match): precision {precision:.3f}, recall {recall:.3f} "
        f"({true_positive} predicted spans hit, {false_positive} false, {missed} of {gold_total} gold spans missed), "
        f"{chars / 1e6 / seconds:.1f} MB/s (all detectors over these texts)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=50.0, help="size of the synthetic dump")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (0 = in this process)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mix", choices=("realistic", "dense"), default="realistic")
    parser.add_argument("--profile", help="write a cProfile of the scan to this file (use with --jobs 0)")
    parser.add_argument("--pass-only", action="store_true", help="only the identifier pass (no whole scan, no names)")
    parser.add_argument("--no-ner", action="store_true", help="whole scan without spaCy NER (names from the rules only)")
    arguments = parser.parse_args()
    bench_scan(arguments.mb, arguments.jobs, arguments.seed, arguments.mix, arguments.profile, arguments.pass_only, not arguments.no_ner)
    if not arguments.pass_only:
        bench_names()


if __name__ == "__main__":
    main()
