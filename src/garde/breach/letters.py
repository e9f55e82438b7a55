"""Letters to the persons concerned (GDPR art. 34), in clear French or English, and their exports.

A letter says only what leaked about its own addressee: the text is built from that person's categories
and detectors, never from the file as a whole. The wording lives here, per language, rather than in the
translation catalogue: it is a legal text the DPO reviews as a whole, and the French letter must not depend
on the state of the interface's translation.

Exports (PDF, CSV) are written under the data directory with owner-only permissions, then served.
"""

import csv
import io
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.translation import override

from garde.breach import crypto
from garde.breach.models import CATEGORIES, Breach, Person

WHAT = {
    "fr": {
        "last_name": "votre nom", "first_name": "votre prénom", "person_name": "vos nom et prénom",
        "birth_date": "votre date de naissance", "ipp": "votre numéro de patient à l'hôpital (IPP)",
        "nda": "un numéro de dossier de séjour", "nir": "votre numéro de sécurité sociale (NIR)",
        "address": "votre adresse postale", "postal_code": "votre code postal", "city": "votre commune",
        "phone": "votre numéro de téléphone", "email": "votre adresse électronique",
        "cim10": "des codes de diagnostic médical", "health_note": "des informations médicales",
        "health_term": "des termes médicaux vous concernant", "iban": "vos coordonnées bancaires (IBAN)",
        "payment_card": "un numéro de carte de paiement", "password": "un mot de passe",
        "password_hash": "une empreinte de mot de passe", "secret": "un secret d'authentification",
    },
    "en": {
        "last_name": "your surname", "first_name": "your first name", "person_name": "your full name",
        "birth_date": "your date of birth", "ipp": "your hospital patient number (IPP)",
        "nda": "a hospital stay number", "nir": "your French social security number (NIR)",
        "address": "your postal address", "postal_code": "your postcode", "city": "your town",
        "phone": "your phone number", "email": "your e-mail address",
        "cim10": "medical diagnosis codes", "health_note": "medical information",
        "health_term": "medical terms about you", "iban": "your bank details (IBAN)",
        "payment_card": "a payment card number", "password": "a password",
        "password_hash": "a password hash", "secret": "an authentication secret",
    },
}

ADVICE = {
    "fr": {
        "identity": "Méfiez-vous des messages, appels ou courriers qui se recommandent de l'hôpital ou de "
                    "l'Assurance maladie et citent vos informations pour gagner votre confiance (hameçonnage). "
                    "L'hôpital ne vous demandera jamais vos mots de passe ni vos coordonnées bancaires.",
        "national_identifier": "Votre numéro de sécurité sociale peut servir à usurper votre identité : "
                               "consultez régulièrement vos remboursements sur votre compte ameli.",
        "contact": "Attendez-vous à des courriels, SMS ou appels frauduleux : ne cliquez pas sur les liens et "
                   "ne rappelez pas les numéros qu'ils donnent.",
        "health": "Des informations sur votre santé ont été exposées. Si quelqu'un s'en sert pour faire "
                  "pression sur vous, ne répondez pas et contactez-nous ainsi que la police.",
        "financial": "Surveillez vos comptes ; prévenez votre banque, et opposez-vous à tout prélèvement que "
                     "vous n'avez pas autorisé. Faites opposition à votre carte si son numéro est concerné.",
        "credentials": "Changez sans attendre le mot de passe concerné, et partout où vous utilisiez le même.",
    },
    "en": {
        "identity": "Be wary of messages, calls or letters claiming to come from the hospital or the health "
                    "insurance and quoting your details to win your trust (phishing). The hospital will never "
                    "ask for your passwords or bank details.",
        "national_identifier": "Your social security number can be used to impersonate you: check your "
                               "reimbursements regularly on your ameli account.",
        "contact": "Expect fraudulent e-mails, text messages or calls: do not click their links and do not "
                   "call back the numbers they give.",
        "health": "Information about your health was exposed. If anyone uses it to put pressure on you, do not "
                  "answer and contact us and the police.",
        "financial": "Watch your accounts; tell your bank, and oppose any direct debit you did not authorise. "
                     "Block your card if its number is concerned.",
        "credentials": "Change the password concerned at once, and everywhere you used the same one.",
    },
}


@dataclass
class Letter:
    person: Person
    language: str
    name: str
    address_lines: list[str]
    exposed: list[str]
    advice: list[str]

    @property
    def address_missing(self) -> bool:
        return not self.address_lines


def address_of(person: Person) -> dict:
    return crypto.decrypt(person.address_token)


def identity_of(person: Person) -> dict:
    return crypto.decrypt(person.identity_token)


def display_name(identity: dict) -> str:
    if identity.get("last_name"):
        return f"{identity.get('first_name', '').title()} {identity['last_name'].upper()}".strip()
    return identity.get("person_name", "")


def address_lines(address: dict) -> list[str]:
    if not address:
        return []
    lines = [line.strip() for line in address.get("lines", "").splitlines() if line.strip()]
    town = f"{address.get('postal_code', '')} {address.get('city', '')}".strip()
    if town:
        lines.append(town)
    if address.get("country"):
        lines.append(address["country"])
    return lines


def letter_for(person: Person, language: str | None = None) -> Letter:
    language = language or person.language
    identity = identity_of(person)
    address = address_of(person)
    name = address.get("name") or display_name(identity)
    words = WHAT[language]
    exposed = [words[d] for d in person.detectors if d in words]
    advice = [ADVICE[language][category] for category in CATEGORIES if getattr(person, category)]
    return Letter(person, language, name, address_lines(address), exposed, advice)


def _context(breach: Breach, letters: list[Letter], for_mailing: bool) -> dict:
    missing = [letter for letter in letters if letter.address_missing] if for_mailing else []
    return {"breach": breach, "crisis": breach.crisis, "letters": [x for x in letters if x not in missing],
            "missing": missing,
            "today": formats.date_format(timezone.localdate(), "DATE_FORMAT"), "site_name": settings.SITE_NAME}


LETTERS_CSS = "breach/letters.css"


def pdf(breach: Breach, letters: list[Letter], for_mailing: bool = True) -> bytes:
    """The letters in one PDF, one per sheet. For mailing, letters without an address are not printed but
    listed on a last page, so that none is forgotten."""
    from weasyprint import CSS, HTML  # imported here, as in garde.printing: Pango is slow to load
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=["data"])  # a letter never reaches outside
    languages = {letter.language for letter in letters}
    language = languages.pop() if len(languages) == 1 else "fr"
    with override(language):
        html = render_to_string("breach/print/letters.html", _context(breach, letters, for_mailing))
    with open(finders.find(LETTERS_CSS), encoding="utf-8") as css_file:
        stylesheet = CSS(string=css_file.read(), url_fetcher=fetcher)
    return HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=[stylesheet])


CSV_COLUMNS = ["reference", "language", "name", "address_1", "address_2", "address_3", "postal_code", "city",
               "country", "status"]


def mailing_csv(letters: list[Letter]) -> bytes:
    """For a mailing house: who and where, nothing about what leaked. Missing addresses are listed."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(CSV_COLUMNS)
    for letter in letters:
        writer.writerow(_csv_row(letter))
    return out.getvalue().encode("utf-8-sig")


# Letters are laid out by WeasyPrint in chunks (its memory grows with the pages of one document), then the
# chunks are joined page by page into one PDF by pdfium: 100,000 letters never sit in memory at once.
PDF_CHUNK = 500


def letters_to_send(breach: Breach, limit: int | None = None) -> Iterator[Letter]:
    """The letters of the persons still to inform, in reference order, read from the database in batches."""
    people = Person.objects.filter(breach=breach, status=Person.Status.TO_INFORM).order_by("reference")
    if limit is not None:
        people = people[:limit]
    for person in people.iterator(chunk_size=2000):
        yield letter_for(person)


def _private_file(path: Path):
    """A new file readable by Garde's own account only (0600), opened for writing in binary."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "wb")


def write_letters_pdf(breach: Breach, path: Path, letters: Iterable[Letter] | None = None,
                      limit: int | None = None) -> tuple[Path, int]:
    """Write the letters for mailing as one PDF at `path` (0600): one letter per sheet for every person with
    an address, then a last page listing those without one. Returns (path, letters printed)."""
    import pypdfium2 as pdfium

    letters = letters_to_send(breach, limit) if letters is None else letters
    path = Path(path)
    printed = 0
    missing: list[Letter] = []
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".letters-") as work:
        os.chmod(work, 0o700)
        parts: list[Path] = []

        def flush(chunk: list[Letter], extra: list[Letter]) -> None:
            part = Path(work) / f"{len(parts):05d}.pdf"
            with _private_file(part) as stream:
                stream.write(_render(breach, chunk, extra))
            parts.append(part)

        chunk: list[Letter] = []
        for letter in letters:
            if letter.address_missing:
                # Only what the last page lists is kept: reference and name, not the letter's content.
                missing.append(Letter(letter.person, letter.language, letter.name, [], [], []))
                continue
            chunk.append(letter)
            printed += 1
            if len(chunk) == PDF_CHUNK:
                flush(chunk, [])
                chunk = []
        if chunk or missing or not parts:
            flush(chunk, missing)
        merged = pdfium.PdfDocument.new()
        try:
            for part in parts:
                source = pdfium.PdfDocument(str(part))
                try:
                    merged.import_pages(source)
                finally:
                    source.close()
            temporary = Path(work) / "merged.pdf"
            with _private_file(temporary) as stream:
                merged.save(stream)
        finally:
            merged.close()
        os.replace(temporary, path)
    return path, printed


def _render(breach: Breach, letters: list[Letter], missing: list[Letter]) -> bytes:
    """One chunk of the mailing PDF: these letters, and the page of missing addresses when given."""
    return pdf(breach, [*letters, *missing], for_mailing=True)


def write_letters_zip(breach: Breach, path: Path, letters: Iterable[Letter] | None = None,
                      limit: int | None = None) -> tuple[Path, int]:
    """One PDF per person with an address (`lettre-<reference>-<language>.pdf`) in a ZIP at `path` (0600),
    with `adresses-manquantes.csv` listing the persons without one. Returns (path, letters)."""
    letters = letters_to_send(breach, limit) if letters is None else letters
    path = Path(path)
    count = 0
    missing = io.StringIO()
    writer = csv.writer(missing, delimiter=";")
    writer.writerow(["reference", "name", "status"])
    temporary = path.with_name(f".{path.name}.part")
    with _private_file(temporary) as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        for letter in letters:
            if letter.address_missing:
                writer.writerow([letter.person.reference, letter.name or letter.person.label, "address missing"])
                continue
            archive.writestr(f"lettre-{letter.person.reference}-{letter.language}.pdf",
                             pdf(breach, [letter], for_mailing=False))
            count += 1
        archive.writestr("adresses-manquantes.csv", missing.getvalue().encode("utf-8-sig"))
    os.replace(temporary, path)
    return path, count


def write_mailing_csv(breach: Breach, path: Path, letters: Iterable[Letter] | None = None,
                      limit: int | None = None) -> tuple[Path, int]:
    """The mailing CSV written row by row at `path` (0600). Returns (path, rows)."""
    letters = letters_to_send(breach, limit) if letters is None else letters
    rows = 0
    with _private_file(Path(path)) as binary, io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text:
        writer = csv.writer(text, delimiter=";")
        writer.writerow(CSV_COLUMNS)
        for letter in letters:
            writer.writerow(_csv_row(letter))
            rows += 1
    return Path(path), rows


def _csv_row(letter: Letter) -> list[str]:
    address = address_of(letter.person)
    lines = [line for line in address.get("lines", "").splitlines() if line.strip()][:3]
    lines += [""] * (3 - len(lines))
    return [letter.person.reference, letter.language, letter.name, *lines, address.get("postal_code", ""),
            address.get("city", ""), address.get("country", ""), "address missing" if letter.address_missing else "ok"]


def export_dir(breach: Breach) -> Path:
    directory = Path(settings.DATA_DIR) / "breach-exports" / str(breach.pk)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    return directory


def write_export(breach: Breach, name: str, content: bytes) -> Path:
    """Write an export readable by Garde's own account only (0600), replacing an older one of that name."""
    path = export_dir(breach) / name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(content)
    return path
