"""A synthetic leaked-hospital dump with its ground truth, to measure the scanner (`garde scan-corpus`).

`write_corpus(out, persons, seed)` writes `out/dump/` (patient lists in CSV, HL7 messages, letters,
an SQL dump, JSON appointments, some of them zipped, a duplicate, decoy files without personal data)
and `out/truth.json` (every person, the categories exposed about them and the files they appear in,
and every personal value written, file by file). The same seed gives the same bytes (with the same
Faker version when Faker is installed; without it a small built-in generator is used).

People recur across files with the variations real exports have: case, accents dropped, first and
last names swapped, typos, date formats. NIRs, IBANs and cards carry valid keys. Nobody is real.
"""

import io
import json
import random
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from garde.scanner.detect.validators import fold, nir_key

TRUTH_FORMAT = "garde-scan-corpus"
TRUTH_VERSION = 1
DUMP_DIR = "dump"
TRUTH_FILE = "truth.json"
_ZIP_TIME = (2023, 5, 4, 3, 2, 0)
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre")
# CIM-10 code, label for a structured file, health term a letter uses (from data/health_terms_fr.txt)
_DIAGNOSES = (
    ("E11.9", "Diabète de type 2", "diabète"),
    ("J45.9", "Asthme", "asthme"),
    ("I10", "Hypertension essentielle", "hypertension artérielle"),
    ("C50.9", "Tumeur maligne du sein", "cancer"),
    ("F20.0", "Schizophrénie paranoïde", "schizophrénie"),
    ("G40.9", "Epilepsie", "épilepsie"),
    ("I21.9", "Infarctus aigu du myocarde", "infarctus"),
    ("N18.5", "Maladie rénale chronique", "insuffisance rénale"),
    ("F32.9", "Episode dépressif", "dépression"),
    ("G30.9", "Maladie d'Alzheimer", "alzheimer"),
)
_BUILTIN_FIRST = {
    "M": ("Jean", "Pierre", "Michel", "André", "Philippe", "Nicolas", "Thomas", "Julien", "Hervé", "Jérôme", "François", "Yann", "Loïc", "Mathieu"),
    "F": ("Marie", "Claire", "Hélène", "Sophie", "Isabelle", "Nathalie", "Céline", "Émilie", "Anne", "Chloé", "Léa", "Maëlle", "Françoise", "Agnès"),
}
_BUILTIN_LAST = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent",
    "Lefèvre", "Michel", "Garcia", "Lefebvre", "Le Goff", "Guérin", "Boyer", "Gauthier", "Rousseau", "Bonnet", "Fontaine",
    "Chevalier", "Mercier", "Blanc", "Guillaume", "Perrin", "Morin", "Faure", "André", "Lemaire", "Bréhéret", "Kerhervé",
)
_BUILTIN_STREETS = ("rue de la Paix", "avenue Jean Jaurès", "boulevard Victor Hugo", "place du Marché", "chemin des Vignes", "allée des Tilleuls", "rue Pasteur")
_BUILTIN_TOWNS = (("35000", "Rennes"), ("29200", "Brest"), ("56100", "Lorient"), ("22000", "Saint-Brieuc"), ("44000", "Nantes"), ("20000", "Ajaccio"))
_MAIL_DOMAINS = ("gmail.com", "orange.fr", "free.fr", "laposte.net", "wanadoo.fr")


class CorpusInputError(Exception):
    """Bad arguments for write_corpus; the message says which."""


@dataclass
class Person:
    id: str
    sex: str
    first: str
    last: str
    birth: date
    nir: str
    ipp: str
    phone: str
    email: str
    street: str
    postcode: str
    city: str
    diagnosis: tuple[str, str, str] | None
    iban: str | None = None
    card: str | None = None
    staff: bool = False
    login: str | None = None
    password_hash: str | None = None
    files: set = field(default_factory=set)
    categories: set = field(default_factory=set)


# ---- valid identifiers ----------------------------------------------------------------------------


def make_nir(rng: random.Random, sex: str, birth: date) -> str:
    department = rng.choice(["35", "29", "56", "22", "75", "2A", "2B", "69", "13", "99"])
    commune = f"{rng.randint(1, 990):03d}"
    body = f"{1 if sex == 'M' else 2}{birth.year % 100:02d}{birth.month:02d}{department}{commune}{rng.randint(1, 999):03d}"
    return f"{body}{nir_key(body):02d}"


def _mod97(digits: str) -> int:
    return int(digits) % 97


def make_iban(rng: random.Random) -> str:
    bank, branch = f"{rng.randint(10000, 30099):05d}", f"{rng.randint(1, 99999):05d}"
    account = f"{rng.randint(0, 10**11 - 1):011d}"
    rib_key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
    bban = f"{bank}{branch}{account}{rib_key:02d}"
    check = 98 - _mod97(bban + "152700")  # F=15 R=27, check digits 00
    iban = f"FR{check:02d}{bban}"
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def luhn_digit(partial: str) -> str:
    total = 0
    for index, char in enumerate(reversed(partial)):
        digit = int(char)
        if index % 2 == 0:  # doubled: the check digit will be appended on the right
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def make_card(rng: random.Random) -> str:
    prefix = rng.choice(["4", "51", "52", "53", "54", "55"])
    partial = prefix + "".join(str(rng.randint(0, 9)) for _ in range(15 - len(prefix)))
    number = partial + luhn_digit(partial)
    return " ".join(number[i : i + 4] for i in range(0, 16, 4))


def _bcrypt_like(rng: random.Random) -> str:
    alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "$2b$12$" + "".join(rng.choice(alphabet) for _ in range(53))


# ---- people -----------------------------------------------------------------------------------------


class _Names:
    """Faker fr_FR when installed (seeded), else the built-in lists."""

    def __init__(self, seed: int, rng: random.Random):
        self.rng = rng
        try:
            from faker import Faker
        except ImportError:
            self.faker, self.source = None, "builtin"
        else:
            self.faker = Faker("fr_FR")
            self.faker.seed_instance(seed)
            import faker as faker_module

            self.source = f"faker {faker_module.VERSION}"

    def first(self, sex: str) -> str:
        if self.faker:
            return self.faker.first_name_male() if sex == "M" else self.faker.first_name_female()
        return self.rng.choice(_BUILTIN_FIRST[sex])

    def last(self) -> str:
        return self.faker.last_name() if self.faker else self.rng.choice(_BUILTIN_LAST)

    def street(self) -> str:
        if self.faker:
            street = self.faker.street_address().replace(",", "")
            return street if street[:1].isdigit() else f"{self.rng.randint(1, 120)} {street}"
        return f"{self.rng.randint(1, 120)} {self.rng.choice(_BUILTIN_STREETS)}"

    def town(self) -> tuple[str, str]:
        if self.faker:
            return self.faker.postcode(), self.faker.city()
        return self.rng.choice(_BUILTIN_TOWNS)


def _people(count: int, rng: random.Random, names: _Names) -> list[Person]:
    people, seen = [], set()
    staff_count = max(1, count // 50)
    for index in range(count):
        sex = rng.choice("MF")
        first, last = names.first(sex), names.last()
        while (fold(first), fold(last)) in seen:  # distinct people have distinct names: the truth stays unambiguous
            first, last = names.first(sex), names.last()
        seen.add((fold(first), fold(last)))
        birth = date(1930, 1, 1) + timedelta(days=rng.randint(0, 32000))
        postcode, city = names.town()
        person = Person(
            id=f"T{index + 1:06d}",
            sex=sex,
            first=first,
            last=last,
            birth=birth,
            nir=make_nir(rng, sex, birth),
            ipp=f"{rng.randint(10**7, 10**8 - 1)}",
            phone=rng.choice(["061", "062", "064", "065", "066", "067", "068", "076", "077", "078"])
            + "".join(str(rng.randint(0, 9)) for _ in range(7))
            if rng.random() < 0.6
            else "02" + rng.choice(["99", "98", "97", "96"]) + "".join(str(rng.randint(0, 9)) for _ in range(6)),
            email=f"{_plain(first)}.{_plain(last)}{rng.randint(1, 99)}@{rng.choice(_MAIL_DOMAINS)}",
            street=names.street(),
            postcode=postcode,
            city=city,
            diagnosis=rng.choice(_DIAGNOSES) if rng.random() < 0.8 else None,
            staff=index < staff_count,
        )
        if person.staff:
            person.login = f"{_plain(first)[:1]}{_plain(last)}"[:20]
            person.password_hash = _bcrypt_like(rng)
            person.diagnosis = None
        people.append(person)
    return people


def _plain(text: str) -> str:
    return "".join(c for c in fold(text) if c.isalnum())


# ---- variations --------------------------------------------------------------------------------------


def _case(rng: random.Random, text: str) -> str:
    return rng.choice([text, text.upper(), text.upper(), text.lower() if rng.random() < 0.2 else text])


def _typo(rng: random.Random, text: str) -> str:
    letters = [i for i, c in enumerate(text) if c.isalpha() and 0 < i < len(text) - 1]
    if len(text) < 5 or not letters:
        return text
    i = rng.choice(letters)
    if rng.random() < 0.5:
        return text[:i] + text[i + 1 :]
    replacement = rng.choice("aeioulnrst")
    replacement = replacement.upper() if text[i].isupper() else replacement
    return text[:i] + replacement + text[i + 1 :]


def _vary_last(rng: random.Random, person: Person, typo_rate: float = 0.04) -> str:
    last = person.last
    if rng.random() < typo_rate:
        last = _typo(rng, last)
    if rng.random() < 0.3:
        last = fold(last).title() if not last.isupper() else fold(last).upper()
    return _case(rng, last)


def _vary_first(rng: random.Random, person: Person) -> str:
    first = person.first
    if rng.random() < 0.25:
        first = fold(first).title()
    return first.upper() if rng.random() < 0.15 else first


def _date(rng: random.Random, day: date, style: str | None = None) -> str:
    style = style or rng.choice(["fr", "fr", "iso", "long", "dots"])
    if style == "iso":
        return day.isoformat()
    if style == "long":
        return f"{'1er' if day.day == 1 else day.day} {_MONTHS[day.month - 1]} {day.year}"
    if style == "dots":
        return f"{day.day:02d}.{day.month:02d}.{day.year}"
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _phone(rng: random.Random, phone: str) -> str:
    style = rng.random()
    if style < 0.4:
        return " ".join(phone[i : i + 2] for i in range(0, 10, 2))
    if style < 0.6:
        return ".".join(phone[i : i + 2] for i in range(0, 10, 2))
    if style < 0.7:
        return "+33 " + phone[1] + " " + " ".join(phone[i : i + 2] for i in range(2, 10, 2))
    return phone


def _nir(rng: random.Random, nir: str) -> str:
    if rng.random() < 0.5:
        return nir
    return f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"


# ---- the dump ------------------------------------------------------------------------------------------


class _Dump:
    def __init__(self, root: Path, rng: random.Random):
        self.root, self.rng = root, rng
        self.values: list[dict] = []
        self.files: dict[str, bytes] = {}
        self.decoys: list[str] = []

    def value(self, path: str, person: Person, category: str, raw: str, kind: str) -> str:
        self.values.append({"path": path, "person": person.id, "category": category, "kind": kind, "value": raw})
        person.files.add(path)
        person.categories.add(category)
        return raw

    def add(self, path: str, data: bytes) -> None:
        self.files[path] = data

    def write(self) -> list[str]:
        for path, data in self.files.items():
            target = self.root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return sorted(self.files)


def _csv_rows(dump: _Dump, path: str, people: list[Person]) -> str:
    rng = dump.rng
    header = "IPP;Nom;Prénom;Date de naissance;NIR;Téléphone;Email;Adresse;Code postal;Ville;Diagnostic"
    lines = [header]
    style = rng.choice(["fr", "iso"])
    for p in people:
        last, first = _vary_last(rng, p, typo_rate=0.01), _vary_first(rng, p)
        if rng.random() < 0.02:
            last, first = first, last  # swapped at data entry
        code = p.diagnosis[0] if p.diagnosis else ""
        cells = [
            dump.value(path, p, "identity", p.ipp, "ipp"),
            dump.value(path, p, "identity", last, "name"),
            dump.value(path, p, "identity", first, "name"),
            dump.value(path, p, "identity", _date(rng, p.birth, style), "birth_date"),
            dump.value(path, p, "national_identifier", _nir(rng, p.nir), "nir"),
            dump.value(path, p, "contact", _phone(rng, p.phone), "phone"),
            dump.value(path, p, "contact", p.email, "email") if rng.random() < 0.7 else "",
            dump.value(path, p, "contact", p.street, "address"),
            dump.value(path, p, "contact", p.postcode, "postal_code"),
            dump.value(path, p, "contact", p.city, "city"),
            dump.value(path, p, "health", code, "cim10") if code else "",
        ]
        lines.append(";".join(cells))
    return "\n".join(lines) + "\n"


def _hl7(dump: _Dump, path: str, people: list[Person], start: int) -> str:
    rng = dump.rng
    messages = []
    for offset, p in enumerate(people):
        stamp = f"2023{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}"
        last, first = fold(_vary_last(rng, p)).upper(), fold(p.first).upper()
        ids = dump.value(path, p, "identity", p.ipp, "ipp") + "^^^CHU^PI"
        if rng.random() < 0.7:
            ids += "~" + dump.value(path, p, "national_identifier", p.nir, "nir") + "^^^INS-NIR^INS"
        segments = [
            f"MSH|^~\\&|DXCARE|CHU|EAI|CHU|{stamp}||ADT^A01|{start + offset}|P|2.5",
            f"PID|1||{ids}||{dump.value(path, p, 'identity', last, 'name')}^{dump.value(path, p, 'identity', first, 'name')}"
            f"||{dump.value(path, p, 'identity', p.birth.strftime('%Y%m%d'), 'birth_date')}|{p.sex}|||"
            f"{dump.value(path, p, 'contact', p.street, 'address')}^^{dump.value(path, p, 'contact', p.city, 'city')}"
            f"^^{dump.value(path, p, 'contact', p.postcode, 'postal_code')}||{dump.value(path, p, 'contact', p.phone, 'phone')}",
            "PV1|1|I|CARDIO^12^1",
        ]
        if p.diagnosis:
            code, label, _term = p.diagnosis
            segments.append(f"DG1|1||{dump.value(path, p, 'health', code, 'cim10')}^{dump.value(path, p, 'health', label, 'health_note')}^CIM10")
        messages.append("\r".join(segments) + "\r")
    return "\n".join(messages)


def _letter(dump: _Dump, path: str, p: Person, doctor: Person) -> str:
    rng = dump.rng
    last = _vary_last(rng, p, typo_rate=0.08)
    first = _vary_first(rng, p)
    title = "M." if p.sex == "M" else "Mme"
    full = f"{last} {first}" if rng.random() < 0.25 else f"{first} {last}"
    born = "né" if p.sex == "M" else "née"
    lines = [
        f"Centre hospitalier, le {_date(rng, date(2023, 1, 1) + timedelta(days=rng.randint(0, 360)), 'long')}",
        "",
        f"Objet : {title} {dump.value(path, p, 'identity', full, 'name')}, {born} le {dump.value(path, p, 'identity', _date(rng, p.birth), 'birth_date')}",
    ]
    if rng.random() < 0.5:
        lines.append(f"IPP {dump.value(path, p, 'identity', p.ipp, 'ipp')}")
    if rng.random() < 0.5:
        lines.append(
            f"Demeurant {dump.value(path, p, 'contact', f'{p.street} {p.postcode} {p.city}', 'address')}"
        )
    lines += ["", "Chère consœur, cher confrère,", ""]
    body = f"Je vous adresse {title} {dump.value(path, p, 'identity', last, 'name')}"
    if p.diagnosis:
        code, _label, term = p.diagnosis
        body += f", suivi(e) pour {dump.value(path, p, 'health', term, 'health_term')} (CIM-10 {dump.value(path, p, 'health', code, 'cim10')})"
    body += ", pour avis et suite de la prise en charge."
    lines.append(body)
    if rng.random() < 0.4:
        lines.append(f"Vous pouvez joindre le patient au {dump.value(path, p, 'contact', _phone(rng, p.phone), 'phone')}.")
    lines += ["", "Bien confraternellement,", "", f"Dr {dump.value(path, doctor, 'identity', f'{doctor.first} {doctor.last}', 'name')}", ""]
    return "\n".join(lines)


def _sql_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _create(table: str, columns: list[str]) -> list[str]:
    lines = [f"DROP TABLE IF EXISTS `{table}`;", f"CREATE TABLE `{table}` ("]
    lines += [f"  `{name}` {kind}," for name, kind in (c.split(" ", 1) for c in columns)]
    lines += [f"  PRIMARY KEY (`{columns[0].split()[0]}`)", ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;", ""]
    return lines


def _insert(table: str, rows: list[list[str]]) -> list[str]:
    """mysqldump style: one INSERT per 100 rows, tuples separated by commas."""
    return [
        f"INSERT INTO `{table}` VALUES " + ",".join(f"({','.join(row)})" for row in rows[n : n + 100]) + ";"
        for n in range(0, len(rows), 100)
    ]


def _sql(dump: _Dump, path: str, billed: list[Person], paid: list[Person], staff: list[Person]) -> str:
    rng = dump.rng
    out = ["-- MySQL dump 10.13  Distrib 8.0.32, for Linux (x86_64)", "--", "-- Host: facturation-db    Database: facturation", ""]
    out += _create(
        "patient_facturation",
        ["id int NOT NULL", "nom varchar(80)", "prenom varchar(80)", "date_naissance date", "code_postal varchar(5)", "iban varchar(40)"],
    )
    rows = [
        [
            str(n),
            _sql_quote(dump.value(path, p, "identity", _vary_last(rng, p), "name")),
            _sql_quote(dump.value(path, p, "identity", _vary_first(rng, p), "name")),
            _sql_quote(dump.value(path, p, "identity", p.birth.isoformat(), "birth_date")),
            _sql_quote(dump.value(path, p, "contact", p.postcode, "postal_code")),
            _sql_quote(dump.value(path, p, "financial", p.iban, "iban")),
        ]
        for n, p in enumerate(billed, 1)
    ]
    out += _insert("patient_facturation", rows) + [""]
    out += _create("paiement", ["id int NOT NULL", "nom varchar(80)", "prenom varchar(80)", "carte varchar(25)"])
    rows = [
        [
            str(n),
            _sql_quote(dump.value(path, p, "identity", p.last.upper(), "name")),
            _sql_quote(dump.value(path, p, "identity", p.first, "name")),
            _sql_quote(dump.value(path, p, "financial", p.card, "card")),
        ]
        for n, p in enumerate(paid, 1)
    ]
    out += _insert("paiement", rows) + [""]
    out += _create(
        "utilisateur", ["login varchar(20)", "nom varchar(80)", "prenom varchar(80)", "email varchar(120)", "password_hash varchar(80)"]
    )
    rows = [
        [
            _sql_quote(p.login),
            _sql_quote(dump.value(path, p, "identity", p.last, "name")),
            _sql_quote(dump.value(path, p, "identity", p.first, "name")),
            _sql_quote(dump.value(path, p, "contact", p.email, "email")),
            _sql_quote(dump.value(path, p, "credentials", p.password_hash, "password_hash")),
        ]
        for p in staff
    ]
    out += _insert("utilisateur", rows)
    return "\n".join(out) + "\n"


def _appointments(dump: _Dump, path: str, people: list[Person]) -> str:
    rng = dump.rng
    items = []
    for p in people:
        item = {
            "id": rng.randint(10**5, 10**6),
            "ipp": dump.value(path, p, "identity", p.ipp, "ipp"),
            "patient": {
                "nom": dump.value(path, p, "identity", _vary_last(rng, p), "name"),
                "prenom": dump.value(path, p, "identity", _vary_first(rng, p), "name"),
                "dateNaissance": dump.value(path, p, "identity", p.birth.isoformat(), "birth_date"),
                "telephone": dump.value(path, p, "contact", _phone(rng, p.phone), "phone"),
            },
            "debut": f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(8, 17):02d}:00:00",
            "service": rng.choice(["Cardiologie", "Pneumologie", "Endocrinologie", "Psychiatrie", "Neurologie"]),
        }
        if p.diagnosis and rng.random() < 0.5:
            item["motif"] = dump.value(path, p, "health", f"Suivi {p.diagnosis[1].lower()}", "health_note")
        items.append(item)
    return json.dumps({"export": "agenda", "rendezVous": items}, ensure_ascii=False, indent=1) + "\n"


def _decoys(dump: _Dump, count: int) -> None:
    rng = dump.rng
    analytes = (("GLU", "mmol/L"), ("NA", "mmol/L"), ("K", "mmol/L"), ("CREA", "µmol/L"), ("HB", "g/dL"), ("PLT", "G/L"))
    for n in range(count):
        kind = n % 4
        if kind == 0:
            rows = ["Echantillon;Analyse;Valeur;Unite;Automate;Horodatage"]
            for _ in range(rng.randint(200, 600)):
                analyte, unit = rng.choice(analytes)
                rows.append(
                    f"E{rng.randint(10**6, 10**7 - 1)};{analyte};{rng.uniform(0.5, 300):.1f};{unit};"
                    f"AU{rng.randint(1, 9)};2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
                )
            path, text = f"labo/automate_{n:03d}.csv", "\n".join(rows) + "\n"
        elif kind == 1:
            rows = [
                f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00 INFO "
                f"backup job {rng.randint(1, 500)} wrote {rng.randint(10, 90000)} blocks to volume vol{rng.randint(1, 9)}"
                for _ in range(rng.randint(200, 800))
            ]
            path, text = f"logs/sauvegarde_{n:03d}.log", "\n".join(rows) + "\n"
        elif kind == 2:
            path = f"config/service_{n:03d}.ini"
            text = (
                "[database]\nhost = db-interne\nport = 5432\npool = 20\n\n[cache]\nttl = 300\nbackend = redis\n\n"
                f"[export]\nchemin = /srv/exports\nrotation = {rng.randint(2, 30)}\n"
            )
        else:
            path = f"qualite/procedure_{n:03d}.txt"
            text = (
                "Procédure d'hygiène des mains\n\n"
                "Avant et après tout contact avec un patient, réaliser une friction hydro-alcoolique pendant trente secondes. "
                "Les bijoux sont retirés avant la prise de poste. Les gants ne remplacent pas l'hygiène des mains.\n\n"
                f"Version {rng.randint(1, 9)}, validée par le comité de lutte contre les infections nosocomiales.\n"
            ) * rng.randint(3, 20)
        dump.add(path, text.encode("utf-8"))
        dump.decoys.append(path)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(members.items()):
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def write_corpus(out: Path, persons: int, seed: int) -> dict:
    """Writes out/dump and out/truth.json; returns the truth."""
    if persons < 1:
        raise CorpusInputError("--persons must be at least 1")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CorpusInputError(f"output {out} exists and is not an empty folder: choose another place")
    rng = random.Random(seed)
    names = _Names(seed, rng)
    people = _people(persons, rng, names)
    staff = [p for p in people if p.staff] or people[:1]
    patients = [p for p in people if not p.staff]
    root = out / DUMP_DIR
    dump = _Dump(root, rng)

    in_csv, in_hl7, in_letter, in_bill, in_pay, in_json = [], [], [], [], [], []
    for p in patients:
        chosen = False
        for bucket, share in ((in_csv, 0.7), (in_hl7, 0.4), (in_letter, 0.35), (in_bill, 0.3), (in_json, 0.25)):
            if rng.random() < share:
                bucket.append(p)
                chosen = True
        if not chosen:
            in_csv.append(p)
        if p in in_bill:
            p.iban = make_iban(rng)
        if rng.random() < 0.1:
            p.card = make_card(rng)
            in_pay.append(p)

    zipped: dict[str, dict[str, bytes]] = {}
    chunk = 400
    for n in range(0, len(in_csv), chunk):
        index = n // chunk
        name = f"patients_{2018 + index}.csv"
        if index % 3 == 2:  # every third export only survives in an old archive
            path = f"archives/exports_anciens.zip!/exports/{name}"
            text = _csv_rows(dump, path, in_csv[n : n + chunk])
            zipped.setdefault("archives/exports_anciens.zip", {})[f"exports/{name}"] = text.encode("cp1252", "replace")
        else:
            path = f"exports/{name}"
            encoding = "cp1252" if index % 2 else "utf-8"
            dump.add(path, _csv_rows(dump, path, in_csv[n : n + chunk]).encode(encoding, "replace"))
    for n in range(0, len(in_hl7), 50):
        path = f"interfaces/hl7/adt_{n // 50:04d}.hl7"
        dump.add(path, _hl7(dump, path, in_hl7[n : n + 50], n).encode("utf-8"))
    for n, p in enumerate(in_letter):
        doctor = staff[n % len(staff)]
        if n % 4 == 3:
            path = f"archives/courriers_2021.zip!/courriers/lettre_{n:05d}.txt"
            zipped.setdefault("archives/courriers_2021.zip", {})[f"courriers/lettre_{n:05d}.txt"] = _letter(dump, path, p, doctor).encode("utf-8")
        else:
            path = f"courriers/{2020 + n % 3}/lettre_{n:05d}.txt"
            dump.add(path, _letter(dump, path, p, doctor).encode("cp1252" if n % 5 == 0 else "utf-8", "replace"))
    dump.add("bases/facturation.sql", _sql(dump, "bases/facturation.sql", in_bill, in_pay, staff).encode("utf-8"))
    if in_json:
        dump.add("api/rendez_vous.json", _appointments(dump, "api/rendez_vous.json", in_json).encode("utf-8"))
    for archive, members in zipped.items():
        dump.add(archive, _zip(members))
    first_export = next((path for path in sorted(dump.files) if path.startswith("exports/")), None)
    if first_export:  # an identical copy: scanned once, counted everywhere it appears
        copy = "sauvegarde/" + first_export.split("/")[-1]
        dump.add(copy, dump.files[first_export])
        for value in [v for v in dump.values if v["path"] == first_export]:
            dump.values.append({**value, "path": copy})
        for p in people:
            if first_export in p.files:
                p.files.add(copy)
    _decoys(dump, 4 + persons // 100)
    files = dump.write()
    present = [p for p in people if p.files]
    truth = {
        "format": TRUTH_FORMAT,
        "version": TRUTH_VERSION,
        "seed": seed,
        "generator": names.source,
        "dump": DUMP_DIR,
        "persons_count": len(present),
        "persons": [
            {
                "id": p.id,
                "first_name": p.first,
                "last_name": p.last,
                "birth_date": p.birth.isoformat(),
                "staff": p.staff,
                "categories": sorted(p.categories),
                "files": sorted(p.files),
            }
            for p in present
        ],
        "values": dump.values,
        "decoys": sorted(dump.decoys),
        "files": files,
    }
    (out / TRUTH_FILE).write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return truth
