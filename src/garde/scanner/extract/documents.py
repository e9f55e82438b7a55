"""PDF (text layer through pypdfium2; pages without text by OCR when the `tesseract` program is
installed, otherwise counted as needing OCR), DICOM (patient, study and physician tags through
pydicom; pixel data is never read) and Outlook MSG (through extract-msg: headers, body, attachments
handed back as files of their own).

Each library is optional: without it the file is recorded with a reason ("install pypdfium2") and
the scan goes on.
"""

import shutil
import subprocess

from garde.scanner.extract.base import ExtractionError, Source, extractor, text_records
from garde.scanner.model import Child, Field, Note, Record

OCR_SECONDS = 120  # per page
OCR_SCALE = 300 / 72  # render at 300 dpi, what tesseract reads best


def _is_pdf(head: bytes) -> bool:
    return head[:1024].lstrip().startswith(b"%PDF-")


def tesseract() -> str | None:
    return shutil.which("tesseract")


def ocr_image(image, program: str) -> str:
    """Text of a PIL image by tesseract (French, then its default language if French data is not
    installed). The image goes through a pipe: nothing is written to disk."""
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    for language in (["-l", "fra"], []):
        completed = subprocess.run(
            [program, "stdin", "stdout", *language], input=buffer.getvalue(), capture_output=True, timeout=OCR_SECONDS,
            check=False,
        )
        if completed.returncode == 0:
            return completed.stdout.decode("utf-8", errors="replace")
    raise ExtractionError(f"tesseract failed: {completed.stderr.decode(errors='replace').strip()[:200]}")


@extractor("pdf", extensions={".pdf"}, mime_types={"application/pdf"}, sniff=_is_pdf, text_based=False)
def extract_pdf(source: Source):
    try:
        import pypdfium2 as pdfium
    except ImportError:
        raise ExtractionError("PDF not read: install pypdfium2") from None
    try:
        document = pdfium.PdfDocument(str(source.path))
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise ExtractionError("encrypted PDF (password protected): not read") from None
        raise ExtractionError(f"not a readable PDF ({error})") from None
    program = tesseract()
    try:
        for number in range(1, len(document) + 1):
            page = document[number - 1]
            text = page.get_textpage().get_text_range()
            if not text.strip():
                if program is None:
                    yield Note("pdf_pages_needing_ocr")
                    continue
                yield Note("pdf_pages_ocr")
                text = ocr_image(page.render(scale=OCR_SCALE, grayscale=True).to_pil(), program)
            yield from text_records(text.replace("\r\n", "\n").replace("\r", "\n"), prefix=f"page {number} ")
    finally:
        document.close()


# -- DICOM --------------------------------------------------------------------------------------

def _is_dicom(head: bytes) -> bool:
    return head[128:132] == b"DICM"


# keyword -> meaning (None: let the detectors and the keyword decide)
_DICOM_PATIENT = {
    "PatientID": "ipp",
    "OtherPatientIDs": "ipp",
    "PatientBirthDate": "birth_date",
    "PatientAddress": "address",
    "PatientTelephoneNumbers": "phone",
    "PatientMotherBirthName": "last_name",
    "PatientBirthName": "full_name",
    "AccessionNumber": "nda",
    "AdmissionID": "nda",
    "StudyDescription": "health",
    "SeriesDescription": "health",
    "RequestedProcedureDescription": "health",
    "AdmittingDiagnosesDescription": "health",
    "ReasonForTheRequestedProcedure": "health",
    "MedicalAlerts": "health",
    "Allergies": "health",
    "AdditionalPatientHistory": "health",
    "PatientComments": "health",
}
_DICOM_PHYSICIANS = ("ReferringPhysicianName", "PerformingPhysicianName", "OperatorsName", "PhysiciansOfRecord")


def _person_fields(value, prefix: str) -> list[Field]:
    """A DICOM person name (PN): LAST^FIRST^MIDDLE^PREFIX^SUFFIX."""
    text = str(value).split("=")[0]  # alphabetic representation; ideographic/phonetic ones follow "="
    parts = [part.strip() for part in text.split("^")]
    fields = []
    if parts and parts[0]:
        fields.append(Field(f"{prefix}.family", parts[0], "last_name"))
    if len(parts) > 1 and parts[1]:
        fields.append(Field(f"{prefix}.given", parts[1], "first_name"))
    return fields


def _values(element) -> list[str]:
    value = element.value
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value if str(v).strip()]
    return [str(value)] if str(value).strip() else []


@extractor("dicom", extensions={".dcm", ".dicom"}, mime_types={"application/dicom"}, sniff=_is_dicom, text_based=False)
def extract_dicom(source: Source):
    try:
        import pydicom
        from pydicom.errors import InvalidDicomError
    except ImportError:
        raise ExtractionError("DICOM not read: install pydicom") from None
    try:
        dataset = pydicom.dcmread(str(source.path), stop_before_pixels=True, force=not _is_dicom(source.head))
    except (InvalidDicomError, EOFError, ValueError, TypeError, AttributeError) as error:
        raise ExtractionError(f"not a readable DICOM file ({error})") from None
    patient: list[Field] = []
    if "PatientName" in dataset:
        patient.extend(_person_fields(dataset.PatientName, "PatientName"))
    for keyword, meaning in _DICOM_PATIENT.items():
        element = dataset.get(keyword)
        if element is None:
            continue
        element = dataset[keyword]
        for value in _values(element):
            patient.append(Field(keyword, value, meaning))
    if patient:
        yield Record("patient", patient)
    physicians: list[Field] = []
    for keyword in _DICOM_PHYSICIANS:
        if keyword in dataset:
            for value in _values(dataset[keyword]):
                physicians.extend(_person_fields(value, keyword))
    if physicians:
        yield Record("physicians", physicians)


# -- Outlook MSG ----------------------------------------------------------------------------------

@extractor("msg", extensions={".msg"}, mime_types={"application/vnd.ms-outlook"}, text_based=False)
def extract_msg(source: Source):
    try:
        import extract_msg
    except ImportError:
        raise ExtractionError("MSG not read: install extract-msg") from None
    try:
        message = extract_msg.openMsg(str(source.path), delayAttachments=False)
    except Exception as error:  # noqa: BLE001 - the library raises many kinds on a bad file
        raise ExtractionError(f"not a readable Outlook message ({type(error).__name__}: {error})") from None
    try:
        headers = []
        for label, value in (("From", message.sender), ("To", message.to), ("Cc", message.cc), ("Subject", message.subject)):
            if value:
                headers.append(Field(None, f"{label}: {value}"))
        if headers:
            yield Record("headers", headers)
        body = message.body or ""
        if body.strip():
            yield from text_records(body.replace("\r\n", "\n"), prefix="body ")
        for number, attachment in enumerate(getattr(message, "attachments", []), start=1):
            data = getattr(attachment, "data", None)
            if isinstance(data, bytes) and data:
                name = getattr(attachment, "longFilename", None) or getattr(attachment, "shortFilename", None)
                yield Child(name or f"attachment-{number}", data)
    finally:
        message.close()
