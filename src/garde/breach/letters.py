"""Letters to the persons concerned (GDPR art. 34), in clear French or English, and their exports.

A letter says only what leaked about its own addressee: the text is built from that person's categories
and detectors, never from the file as a whole. The wording lives here, per language, rather than in the
translation catalogue: it is a legal text the DPO reviews as a whole, and the French letter must not depend
on the state of the interface's translation.

Exports (PDF, ZIP, CSV) are written by a background task (tasks.make_letters) under the data directory with
owner-only permissions, then served; a single person's letter is laid out on the spot.
"""

import collections
import csv
import io
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
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
        "last_name": "votre nom",
        "first_name": "votre prénom",
        "person_name": "vos nom et prénom",
        "birth_date": "votre date de naissance",
        "ipp": "votre numéro de patient à l'hôpital (IPP)",
        "nda": "un numéro de dossier de séjour",
        "nir": "votre numéro de sécurité sociale (NIR)",
        "address": "votre adresse postale",
        "postal_code": "votre code postal",
        "city": "votre commune",
        "phone": "votre numéro de téléphone",
        "email": "votre adresse électronique",
        "cim10": "des codes de diagnostic médical",
        "health_note": "des informations médicales",
        "health_term": "des termes médicaux vous concernant",
        "iban": "vos coordonnées bancaires (IBAN)",
        "payment_card": "un numéro de carte de paiement",
        "password": "un mot de passe",
        "password_hash": "une empreinte de mot de passe",
        "secret": "un secret d'authentification",
    },
    "en": {
        "last_name": "your surname",
        "first_name": "your first name",
        "person_name": "your full name",
        "birth_date": "your date of birth",
        "ipp": "your hospital patient number (IPP)",
        "nda": "a hospital stay number",
        "nir": "your French social security number (NIR)",
        "address": "your postal address",
        "postal_code": "your postcode",
        "city": "your town",
        "phone": "your phone number",
        "email": "your e-mail address",
        "cim10": "medical diagnosis codes",
        "health_note": "medical information",
        "health_term": "medical terms about you",
        "iban": "your bank details (IBAN)",
        "payment_card": "a payment card number",
        "password": "a password",
        "password_hash": "a password hash",
        "secret": "an authentication secret",
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


REFERENCE = {"fr": "Référence : {}", "en": "Reference: {}"}


@dataclass
class Letter:
    """What one letter says, as plain data: it crosses to the worker processes that lay letters out."""

    reference: str
    label: str
    language: str
    name: str
    address: dict
    address_lines: list[str]
    exposed: list[str]
    advice: list[str]

    @property
    def address_missing(self) -> bool:
        return not self.address_lines

    @property
    def reference_line(self) -> str:
        return REFERENCE[self.language].format(self.reference)

    @property
    def shape(self) -> tuple:
        """Everything the body of the letter depends on: letters of one shape differ only by their heading."""
        return self.language, tuple(self.exposed), tuple(self.advice)


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
    address = address_of(person)
    name = address.get("name") or display_name(identity_of(person))
    words = WHAT[language]
    exposed = [words[d] for d in person.detectors if d in words]
    advice = [ADVICE[language][category] for category in CATEGORIES if getattr(person, category)]
    return Letter(
        person.reference, person.label, language, name, address, address_lines(address), exposed, advice
    )


def breach_context(breach: Breach) -> dict:
    """What every letter of the file says, as plain strings (the same for the whole run)."""
    return {
        "title": breach.title,
        "consequences": breach.consequences,
        "measures": breach.measures,
        "contact": breach.contact,
        "site_name": settings.SITE_NAME,
        "today": formats.date_format(timezone.localdate(), "DATE_FORMAT"),
    }


def _context(breach: Breach | dict, letters: list[Letter], for_mailing: bool, part: str = "whole") -> dict:
    context = breach if isinstance(breach, dict) else breach_context(breach)
    missing = [letter for letter in letters if letter.address_missing] if for_mailing else []
    printed = [letter for letter in letters if not letter.address_missing] if for_mailing else letters
    return {
        "breach": context,
        "letters": printed,
        "missing": missing,
        "today": context["today"],
        "site_name": context["site_name"],
        "part": part,
    }


LETTERS_CSS = "breach/letters.css"


def _document(
    breach: Breach | dict,
    letters: list[Letter],
    for_mailing: bool = False,
    part: str = "whole",
    missing: list[Letter] = (),
):
    """The letters laid out by WeasyPrint (one document: its per-document cost is paid once)."""
    from weasyprint import CSS, HTML  # imported here, as in garde.printing: Pango is slow to load
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=["data"])  # a letter never reaches outside
    languages = {letter.language for letter in letters}
    context = _context(breach, [*letters, *missing], for_mailing or bool(missing), part)
    with override(languages.pop() if len(languages) == 1 else "fr"):
        html = render_to_string("breach/print/letters.html", context)
    with open(finders.find(LETTERS_CSS), encoding="utf-8") as css_file:
        stylesheet = CSS(string=css_file.read(), url_fetcher=fetcher)
    return HTML(string=html, url_fetcher=fetcher).render(stylesheets=[stylesheet])


def pdf(breach: Breach | dict, letters: list[Letter], for_mailing: bool = True) -> bytes:
    """The letters in one PDF, laid out whole. For mailing, letters without an address are not printed but
    listed on a last page, so that none is forgotten."""
    return _document(breach, letters, for_mailing).write_pdf()


def _first_pages(document, count: int) -> list[int]:
    """The page where each of the `count` letters of a document starts (each has the anchor `letter-<n>`)."""
    starts = {}
    for number, page in enumerate(document.pages):
        for anchor in page.anchors:
            if anchor.startswith("letter-"):
                starts.setdefault(int(anchor[7:]), number)
    return [starts[n] for n in range(count)]


def _page_ranges(starts: list[int], end: int) -> list[range]:
    return [range(start, following) for start, following in zip(starts, [*starts[1:], end], strict=True)]


# ---------------------------------------------------------------------------------------------- layout
# WeasyPrint lays out a letter in 60-80 ms, far too slow for 100,000 letters. But the body of a letter depends
# only on its shape (language, what was exposed, advice), shared by thousands of persons: each shape is laid
# out once per process without heading, and each letter is that body (a PDF form XObject, stored once per
# chunk) plus its heading — reference, name and address, at fixed places on the first page — drawn by pdfium
# in the standard Helvetica font. A heading Helvetica cannot write (outside Windows-1252) or too long for the
# address window is laid out whole by WeasyPrint instead.
MM = 72 / 25.4
PAGE_TOP = 20 * MM  # @page margins and the absolute boxes of letters.css
PAGE_LEFT = 22 * MM
REFERENCE_BOX = (0, 8 * MM, 8.0)  # left, top within the page box, font size (pt)
RECIPIENT_BOX = (95 * MM, 17 * MM, 10.5)
LINE_HEIGHT = 1.4
RECIPIENT_LINES = 7  # name and six lines, the French postal standard (NF Z10-011)

_bodies: dict = {}  # (breach context, shape) -> (PDF of bodies, its page numbers), per process


def _stampable(letter: Letter) -> bool:
    try:
        "".join([letter.reference_line, letter.name, *letter.address_lines]).encode("cp1252")
    except UnicodeEncodeError:
        return False
    return len(letter.address_lines) < RECIPIENT_LINES


def _bodies_for(context: dict, letters: list[Letter]) -> None:
    """Lay out, in one WeasyPrint document, the bodies of the shapes of `letters` not laid out yet."""
    key = tuple(sorted(context.items()))
    if any(cached[0] != key for cached in _bodies):
        _bodies.clear()  # another file, or another day: the bodies no longer say the right thing
    shapes = list(dict.fromkeys(letter.shape for letter in letters if (key, letter.shape) not in _bodies))
    if not shapes:
        return
    samples = [next(letter for letter in letters if letter.shape == shape) for shape in shapes]
    document = _document(context, samples, part="body")
    ranges = _page_ranges(_first_pages(document, len(samples)), len(document.pages))
    bodies = document.write_pdf()
    for shape, pages in zip(shapes, ranges, strict=True):
        _bodies[(key, shape)] = (bodies, list(pages))


def _draw_text(document, page, font, text: str, left: float, top: float, size: float) -> None:
    import ctypes

    import pypdfium2.raw as pdfium_c

    height = page.get_height()
    baseline = top + (LINE_HEIGHT - 1.164) * size / 2 + 0.928 * size  # DejaVu Sans's ascent and descent
    text_object = pdfium_c.FPDFPageObj_CreateTextObj(document.raw, font, size)
    buffer = ctypes.create_string_buffer((text + "\x00").encode("utf-16-le"))
    pdfium_c.FPDFText_SetText(text_object, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)))
    pdfium_c.FPDFPageObj_Transform(text_object, 1, 0, 0, 1, PAGE_LEFT + left, height - PAGE_TOP - baseline)
    pdfium_c.FPDFPage_InsertObject(page.raw, text_object)


def _draw_heading(document, page, font, letter: Letter) -> None:
    left, top, size = REFERENCE_BOX
    _draw_text(document, page, font, letter.reference_line, left, top, size)
    left, top, size = RECIPIENT_BOX
    for number, line in enumerate([letter.name, *letter.address_lines]):
        _draw_text(document, page, font, line, left, top + number * size * LINE_HEIGHT, size)


# pdfium's time to add a page grows with the pages of the document: letters are drawn by groups of this many.
DRAW_GROUP = 20


def render_chunk(
    context: dict, letters: list[Letter], split: bool = True
) -> tuple[bytes, list[int], list[bytes]]:
    """Lay out letters (all with an address) as one PDF, in order. Returns the PDF, each letter's number of
    pages and, when `split`, each letter as a PDF of its own. Plain data in and out: runs in worker processes."""
    import pypdfium2 as pdfium

    _bodies_for(context, [letter for letter in letters if _stampable(letter)])
    whole = [letter for letter in letters if not _stampable(letter)]
    laid_out = None
    whole_pages: dict[str, range] = {}
    if whole:
        document = _document(context, whole)
        laid_out = pdfium.PdfDocument(document.write_pdf())
        ranges = _page_ranges(_first_pages(document, len(whole)), len(document.pages))
        whole_pages = {letter.reference: pages for letter, pages in zip(whole, ranges, strict=True)}
    key = tuple(sorted(context.items()))
    opened = {}  # the PDFs of bodies this chunk uses, open while it is drawn
    for letter in letters:
        bodies = _bodies.get((key, letter.shape), (None,))[0]
        if bodies is not None and id(bodies) not in opened:
            opened[id(bodies)] = pdfium.PdfDocument(bodies)
    chunk = pdfium.PdfDocument.new()
    counts: list[int] = []
    singles: list[bytes] = []
    try:
        for start in range(0, len(letters), DRAW_GROUP):
            group = letters[start : start + DRAW_GROUP]
            drawn, group_counts = _draw(key, group, opened, laid_out, whole_pages)
            try:
                chunk.import_pages(drawn)
                counts += group_counts
                first = 0
                for count in group_counts if split else ():
                    single = pdfium.PdfDocument.new()
                    try:
                        single.import_pages(drawn, list(range(first, first + count)))
                        singles.append(_save(single))
                    finally:
                        single.close()
                    first += count
            finally:
                drawn.close()
        return _save(chunk), counts, singles
    finally:
        chunk.close()
        for document in opened.values():
            document.close()
        if laid_out is not None:
            laid_out.close()


def _draw(key: tuple, letters: list[Letter], opened: dict, laid_out, whole_pages: dict[str, range]):
    """A PDF of these letters: each body (an XObject added once) with its heading, or the letter laid out whole."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    drawn = pdfium.PdfDocument.new()
    font = pdfium_c.FPDFText_LoadStandardFont(drawn.raw, b"Helvetica")
    forms: dict[tuple, object] = {}  # (body document, page) -> its XObject in this document
    counts = []
    for letter in letters:
        if letter.reference in whole_pages:
            pages = whole_pages[letter.reference]
            drawn.import_pages(laid_out, list(pages))
            counts.append(len(pages))
            continue
        pdf_of_bodies, pages = _bodies[(key, letter.shape)]
        bodies = opened[id(pdf_of_bodies)]
        for number, source in enumerate(pages):
            if (id(bodies), source) not in forms:
                forms[(id(bodies), source)] = bodies.page_as_xobject(source, drawn)
            width, height = bodies.get_page_size(source)
            page = drawn.new_page(width, height)
            page.insert_obj(forms[(id(bodies), source)].as_pageobject())
            if number == 0:
                _draw_heading(drawn, page, font, letter)
            page.gen_content()
            page.close()
        counts.append(len(pages))
    return drawn, counts


def _save(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------- exports
CSV_COLUMNS = [
    "reference",
    "language",
    "name",
    "address_1",
    "address_2",
    "address_3",
    "postal_code",
    "city",
    "country",
    "status",
]
MISSING_COLUMNS = ["reference", "name", "status"]

# Letters are read, laid out and joined by chunks: 100,000 letters never sit in memory at once. Chunks are laid
# out by PROCESSES worker processes (default: one per core).
PDF_CHUNK = 500
PROCESSES: int | None = None
CHUNK_TIMEOUT = 600  # seconds


def letters_to_send(
    breach: Breach, language: str | None = None, limit: int | None = None
) -> Iterator[Letter]:
    """The letters of the persons still to inform, in reference order, read from the database in batches."""
    people = Person.objects.filter(breach=breach, status=Person.Status.TO_INFORM).order_by("reference")
    if limit is not None:
        people = people[:limit]
    for person in people.iterator(chunk_size=2000):
        yield letter_for(person, language)


def _private_file(path: Path):
    """A new file readable by Garde's own account only (0600), opened for writing in binary."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "wb")


def _csv_row(letter: Letter) -> list[str]:
    address = letter.address
    lines = [line for line in address.get("lines", "").splitlines() if line.strip()][:3]
    lines += [""] * (3 - len(lines))
    return [
        letter.reference,
        letter.language,
        letter.name,
        *lines,
        address.get("postal_code", ""),
        address.get("city", ""),
        address.get("country", ""),
        "address missing" if letter.address_missing else "ok",
    ]


@dataclass
class Outcome:
    pdf: Path
    zip: Path
    csv: Path
    letters: int
    missing: list[str]  # references of the persons without address, listed everywhere, never skipped


def _chunks(letters: Iterable[Letter], size: int) -> Iterator[list[Letter]]:
    chunk: list[Letter] = []
    for letter in letters:
        chunk.append(letter)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def generate(
    breach: Breach,
    directory: Path,
    stem: str,
    language: str | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
    limit: int | None = None,
    processes: int | None = None,
) -> Outcome:
    """Write, for the persons still to inform, the merged PDF for printing, the ZIP of one PDF per person and
    the mailing CSV into `directory` (0600 each), as `<stem>.pdf`, `<stem>.zip`, `<stem>.csv`. Persons without
    address get no letter and are listed: on the PDF's last page, in the ZIP's `adresses-manquantes.csv`, in
    the CSV and in the outcome. Nothing is left behind when it fails."""
    import pypdfium2 as pdfium

    people = Person.objects.filter(breach=breach, status=Person.Status.TO_INFORM)
    total = min(people.count(), limit) if limit is not None else people.count()
    progress(0, total)
    context = breach_context(breach)
    processes = processes or PROCESSES or os.cpu_count() or 1
    if total <= PDF_CHUNK:
        processes = 1
    targets = [directory / f"{stem}.{extension}" for extension in ("pdf", "zip", "csv")]
    work = Path(tempfile.mkdtemp(dir=directory, prefix=".letters-"))
    pool = None
    try:
        if processes > 1:
            import multiprocessing

            import django

            # Spawned, not forked: a child never shares the parent's database connections or threads. Children
            # set Django up (templates, settings) and get plain data; they never touch the database.
            pool = multiprocessing.get_context("spawn").Pool(processes, initializer=django.setup)
        merged = pdfium.PdfDocument.new()
        done = printed = 0
        missing: list[Letter] = []
        with (
            _private_file(work / "zip") as zip_stream,
            zipfile.ZipFile(zip_stream, "w") as archive,
            _private_file(work / "csv") as csv_binary,
            io.TextIOWrapper(csv_binary, encoding="utf-8-sig", newline="") as csv_text,
        ):
            mailing = csv.writer(csv_text, delimiter=";")
            mailing.writerow(CSV_COLUMNS)
            pending: collections.deque = collections.deque()

            def collect(chunk: list[Letter], laid_out) -> None:
                nonlocal done, printed
                # A worker that cannot start is replaced again and again by the pool: a chunk that does not come
                # back in time fails the run instead of hanging it.
                content, _counts, singles = laid_out.get(CHUNK_TIMEOUT) if pool else laid_out
                source = pdfium.PdfDocument(content)
                try:
                    merged.import_pages(source)
                finally:
                    source.close()
                for letter, single in zip(chunk, singles, strict=True):
                    archive.writestr(f"lettre-{letter.reference}-{letter.language}.pdf", single)
                printed += len(chunk)
                done += len(chunk)
                progress(done, total)

            for chunk in _chunks(letters_to_send(breach, language, limit), PDF_CHUNK):
                for letter in chunk:
                    mailing.writerow(_csv_row(letter))
                lacking = [letter for letter in chunk if letter.address_missing]
                # Only what the lists need is kept: reference and name, not the letter's content.
                missing += [Letter(x.reference, x.label, x.language, x.name, {}, [], [], []) for x in lacking]
                done += len(lacking)
                chunk = [letter for letter in chunk if not letter.address_missing]
                if not chunk:
                    progress(done, total)
                    continue
                if pool is None:
                    collect(chunk, render_chunk(context, chunk))
                    continue
                pending.append((chunk, pool.apply_async(render_chunk, (context, chunk))))
                if len(pending) >= 2 * processes:
                    collect(*pending.popleft())
            while pending:
                collect(*pending.popleft())
            if missing or not printed:
                page = pdfium.PdfDocument(_document(context, [], missing=missing).write_pdf())
                try:
                    merged.import_pages(page)
                finally:
                    page.close()
            listing = io.StringIO()
            writer = csv.writer(listing, delimiter=";")
            writer.writerow(MISSING_COLUMNS)
            for letter in missing:
                writer.writerow([letter.reference, letter.name or letter.label, "address missing"])
            archive.writestr(
                "adresses-manquantes.csv",
                listing.getvalue().encode("utf-8-sig"),
                compress_type=zipfile.ZIP_DEFLATED,
            )
        with _private_file(work / "pdf") as stream:
            merged.save(stream)
        merged.close()
        for target, extension in zip(targets, ("pdf", "zip", "csv"), strict=True):
            os.replace(work / extension, target)
        return Outcome(*targets, letters=printed, missing=[letter.reference for letter in missing])
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        shutil.rmtree(work, ignore_errors=True)


def export_dir(breach: Breach) -> Path:
    directory = Path(settings.DATA_DIR) / "breach-exports" / str(breach.pk)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    return directory


def write_export(breach: Breach, name: str, content: bytes) -> Path:
    """Write an export readable by Garde's own account only (0600), replacing an older one of that name."""
    path = export_dir(breach) / name
    with _private_file(path) as stream:
        stream.write(content)
    return path
