"""Scanner benchmark: prints throughput (MB/s per core) on a synthetic dump, and the precision and
recall of free-text name detection on the labelled French sentences in ../shared/testdata.

    .venv/bin/python bench/scan_bench.py [--mb 50] [--jobs 1] [--seed 7]

The dump is half CSV (a patient table), half text (letters and log lines). Names come from Faker
fr_FR when it is installed, otherwise from a small built-in list.
"""

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from garde.scanner import ScanSettings, scan
from garde.scanner.detect.names import find_names
from garde.scanner.detect.validators import nir_key

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "testdata"


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


def make_dump(root: Path, megabytes: float, seed: int) -> int:
    person = _people(seed)
    target = int(megabytes * 1e6 / 2)
    root.mkdir(parents=True)
    with open(root / "patients.csv", "w", encoding="utf-8") as table:
        table.write("IPP;Nom;Prénom;Date de naissance;NIR;Téléphone;Adresse;CP;Ville;Commentaire\n")
        ipp = 100000
        while table.tell() < target:
            ipp += 1
            last, first, street, postcode, city = person()
            birth = f"{random.randint(1, 28):02d}/{random.randint(1, 12):02d}/{random.randint(1930, 2020)}"
            phone = f"06 {random.randint(10, 99)} {random.randint(10, 99)} {random.randint(10, 99)} {random.randint(10, 99)}"
            table.write(f"{ipp};{last};{first};{birth};{_nir()};{phone};{street};{postcode};{city};RAS, revu en consultation\n")
    with open(root / "courriers.txt", "w", encoding="utf-8") as text:
        while text.tell() < target:
            last, first, *_ = person()
            text.write(
                f"Objet : M. {first} {last}, né le {random.randint(1, 28):02d}/03/19{random.randint(30, 99)}\n"
                "Cher confrère, je vous remercie de m'avoir adressé ce patient pour un bilan. L'examen clinique "
                "est sans particularité, le traitement est poursuivi à l'identique. Bien confraternellement.\n"
                f"2023-05-04 12:00:01 INFO user={first.lower()}.{last.lower()}@chu.example.fr login ok from 10.0.0.{random.randint(1, 254)}\n\n"
            )
    return sum(p.stat().st_size for p in root.iterdir())


def bench_scan(megabytes: float, jobs: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        size = make_dump(root / "dump", megabytes, seed)
        started = time.perf_counter()
        result = scan([root / "dump"], root / "out", ScanSettings(jobs=jobs))
        seconds = time.perf_counter() - started
    cores = max(jobs, 1)
    findings = sum(c["findings"] for c in result.summary["categories"].values())
    print(f"dump: {size / 1e6:.1f} MB (CSV + text), jobs={jobs}")
    print(f"scan: {seconds:.1f} s, {size / 1e6 / seconds:.2f} MB/s, {size / 1e6 / seconds / cores:.2f} MB/s per core")
    print(f"findings: {findings}; persons: {result.summary['persons']}")


def bench_names() -> None:
    path = SHARED / "fr_person_names" / "enp_fr_bnf.jsonl"
    if not path.exists():
        print(f"names: skipped, {path} not found")
        return
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    true_positive = false_positive = missed = 0
    started = time.perf_counter()
    for row in rows:
        predicted = find_names(row["text"])
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
        f"{chars / 1e6 / seconds:.1f} MB/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=50.0, help="size of the synthetic dump")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (0 = in this process)")
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    bench_scan(arguments.mb, arguments.jobs, arguments.seed)
    bench_names()


if __name__ == "__main__":
    main()
