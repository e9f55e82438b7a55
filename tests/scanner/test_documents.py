"""PDF, DICOM and MSG extractors, on files written by the tests (never real people)."""

import json

import pytest

from garde.scanner import ScanSettings, scan
from garde.scanner.detect import detect_record
from garde.scanner.extract import Source, choose
from garde.scanner.extract import documents as documents_module
from garde.scanner.model import Note, Record

from .helpers import NIR_DUPONT


def minimal_pdf(pages: list[str | None]) -> bytes:
    """A PDF written by hand: one page per item, with that line of text (WinAnsi, Helvetica) or no
    text layer at all (None, as a scanned page)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    kids = []
    for text in pages:
        content = b""
        if text is not None:
            escaped = text.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
            content = b"BT /F1 11 Tf 50 750 Td (" + escaped + b") Tj ET"
        objects.append(content)
        content_number = len(objects)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {content_number} 0 R >>"
        )
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        if isinstance(body, bytes):
            out += f"{number} 0 obj\n<< /Length {len(body)} >>\nstream\n".encode() + body + b"\nendstream\nendobj\n"
        else:
            out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def run(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    source = Source(path, name)
    chosen = choose(source)
    return chosen.name, list(chosen.run(source))


def test_it_reads_the_text_layer_of_a_pdf_and_counts_pages_without_one(tmp_path, monkeypatch):
    pytest.importorskip("pypdfium2")
    monkeypatch.setattr(documents_module, "tesseract", lambda: None)
    pdf = minimal_pdf([f"Objet : Mme Claire Martin, née le 01/02/1980, NIR {NIR_DUPONT}", None, "Page trois"])
    name, produced = run(tmp_path, "compte-rendu.bin", pdf)
    assert name == "pdf"
    records = [p for p in produced if isinstance(p, Record)]
    assert [r.locator for r in records] == ["page 1 document", "page 3 document"]
    assert [p for p in produced if isinstance(p, Note)] == [Note("pdf_pages_needing_ocr")]
    detected = {f.detector for f in detect_record(records[0])}
    assert {"person_name", "birth_date", "nir"} <= detected


def test_it_reports_pdf_pages_needing_ocr_in_the_summary(tmp_path, monkeypatch):
    pytest.importorskip("pypdfium2")
    monkeypatch.setattr(documents_module, "tesseract", lambda: None)
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "scan.pdf").write_bytes(minimal_pdf([None, None, "Mme Claire Martin"]))
    result = scan([tmp_path / "dump"], tmp_path / "out", ScanSettings(jobs=0))
    assert result.summary["files"]["pdf_pages_needing_ocr"] == 2
    assert result.summary["file_types"]["pdf"]["findings"] >= 1


@pytest.mark.skipif(documents_module.tesseract() is None, reason="tesseract is installed by scripts/system-deps")
def test_it_reads_scanned_pages_by_ocr_when_tesseract_is_there(tmp_path):
    pytest.importorskip("pypdfium2")
    from .test_images import scanned_letter

    path = tmp_path / "scan.pdf"
    scanned_letter()[0].save(path, format="PDF", resolution=300)  # an image-only page, as a scanner writes
    _, produced = run(tmp_path, "scan.pdf", path.read_bytes())
    assert Note("pdf_pages_ocr") in produced
    records = [p for p in produced if isinstance(p, Record)]
    assert "nir" in {f.detector for record in records for f in detect_record(record)}


def test_it_records_a_broken_pdf_as_an_error(tmp_path):
    pytest.importorskip("pypdfium2")
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj garbage")
    result = scan([tmp_path / "dump"], tmp_path / "out", ScanSettings(jobs=0))
    assert result.summary["files"]["errors"] == 1


def dicom_file(path):
    pydicom = pytest.importorskip("pydicom")
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = pydicom.Dataset()
    dataset.file_meta = meta
    dataset.PatientName = "DUPONT^JEAN"
    dataset.PatientID = "00123"
    dataset.PatientBirthDate = "19650312"
    dataset.PatientSex = "M"
    dataset.StudyDescription = "Scanner thoracique, suspicion de cancer du poumon"
    dataset.ReferringPhysicianName = "LAMBERT^CLAIRE"
    dataset.Rows, dataset.Columns, dataset.BitsAllocated = 2, 2, 8
    dataset.PixelData = b"\x00\x01\x02\x03"
    dataset.save_as(path, enforce_file_format=True)
    return path


def test_it_reads_dicom_patient_tags_without_pixels(tmp_path):
    dicom_file(tmp_path / "IM0001")
    source = Source(tmp_path / "IM0001", "IM0001")
    chosen = choose(source)
    assert chosen.name == "dicom"
    records = list(chosen.run(source))
    patient = {f.name: (f.value, f.meaning) for f in records[0].fields}
    assert patient["PatientName.family"] == ("DUPONT", "last_name")
    assert patient["PatientID"] == ("00123", "ipp") and patient["PatientBirthDate"][1] == "birth_date"
    assert "PixelData" not in patient
    detected = {f.detector for f in detect_record(records[0])}
    assert {"last_name", "first_name", "ipp", "birth_date", "health_note"} <= detected
    assert records[1].locator == "physicians"


def test_it_links_a_dicom_file_to_the_same_patient_elsewhere(tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    dicom_file(dump / "IM0001.dcm")
    (dump / "patients.csv").write_text("IPP;Nom;Prénom\n00123;DUPONT;Jean\n", encoding="utf-8")
    result = scan([dump], tmp_path / "out", ScanSettings(jobs=0))
    assert result.summary["persons"]["best"] == 2  # Jean Dupont (linked on the IPP) and Dr Lambert
    assert result.summary["categories"]["health"]["findings"] >= 1


def test_it_records_an_unreadable_msg_as_an_error(tmp_path):
    pytest.importorskip("extract_msg")
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "message.msg").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    result = scan([tmp_path / "dump"], tmp_path / "out", ScanSettings(jobs=0))
    assert result.summary["files"]["errors"] == 1
    assert "Outlook" in json.loads((result.out / "manifest.json").read_text())["errors"][0]["reason"]
