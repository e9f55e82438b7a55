"""Presentations (PPTX, ODP): one record per slide, speaker notes included; written by the tests."""

import zipfile

import pytest

from garde.scanner import ScanSettings, scan
from garde.scanner.detect import detect_record
from garde.scanner.extract import ExtractionError, Source, choose
from garde.scanner.model import Record

from .helpers import NIR_DUPONT


def slide_xml(*paragraphs: str) -> str:
    runs = "".join(f"<a:p><a:r><a:t>{text}</a:t></a:r></a:p>" for text in paragraphs)
    return f'<p:sld xmlns:a="a" xmlns:p="p"><p:cSld><p:spTree><p:sp><p:txBody>{runs}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>'


def write_pptx(path, slides: list[list[str]], notes: dict[int, str] | None = None):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ppt/presentation.xml", "<p:presentation/>")
        for number, paragraphs in enumerate(slides, start=1):
            archive.writestr(f"ppt/slides/slide{number}.xml", slide_xml(*paragraphs))
        for number, text in (notes or {}).items():
            archive.writestr(f"ppt/notesSlides/notesSlide{number}.xml", slide_xml(text))
    return path


def records_of(path) -> list[Record]:
    source = Source(path, path.name)
    chosen = choose(source)
    assert chosen.name == "presentation"
    return [r for r in chosen.run(source) if isinstance(r, Record)]


def test_it_reads_each_slide_of_a_pptx_as_a_record_with_its_notes(tmp_path):
    path = write_pptx(
        tmp_path / "staff-cardio.pptx",
        [["Staff de cardiologie"], ["Cas n°2 : M. Jean DUPONT, né le 12/03/1965", "Infarctus du myocarde"]],
        notes={2: f"NIR {NIR_DUPONT} &amp; suivi"},
    )
    records = records_of(path)
    assert [r.locator for r in records] == ["slide 1 document", "slide 2 document"]
    assert "NIR" in records[1].fields[0].value and "& suivi" in records[1].fields[0].value
    assert {"birth_date", "nir", "person_name"} <= {f.detector for f in detect_record(records[1])}
    assert not [f for f in detect_record(records[0]) if f.category != "health"]


def test_it_keeps_slides_in_their_number_order(tmp_path):
    path = write_pptx(tmp_path / "deck.pptx", [[f"Diapositive {n}"] for n in range(1, 12)])
    assert [r.fields[0].value.strip() for r in records_of(path)][9:] == ["Diapositive 10", "Diapositive 11"]


def test_it_reads_the_pages_of_an_odp(tmp_path):
    path = tmp_path / "rmm.odp"
    content = (
        "<office:document-content><office:body><office:presentation>"
        '<draw:page draw:name="p1"><text:p>Réunion de morbi-mortalité</text:p></draw:page>'
        f'<draw:page draw:name="p2"><text:p>Patient IPP 00123, NIR {NIR_DUPONT}</text:p></draw:page>'
        "</office:presentation></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.presentation")
        archive.writestr("content.xml", content)
    records = records_of(path)
    assert [r.locator for r in records] == ["slide 1 document", "slide 2 document"]
    assert "nir" in {f.detector for f in detect_record(records[1])}


def test_it_records_a_broken_presentation_and_goes_on(tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "broken.pptx").write_bytes(b"PK\x03\x04 not really a zip")
    write_pptx(dump / "ok.pptx", [[f"NIR {NIR_DUPONT}"]])
    result = scan([dump], tmp_path / "out", ScanSettings(jobs=0))
    assert result.summary["files"]["errors"] == 1
    assert result.summary["file_types"]["presentation"]["findings"] >= 1


def test_it_refuses_a_slide_part_larger_than_the_limit(tmp_path, monkeypatch):
    from garde.scanner.extract import office

    monkeypatch.setattr(office, "_MAX_PART", 10)
    path = write_pptx(tmp_path / "big.pptx", [["Une diapositive assez longue"]])
    with pytest.raises(ExtractionError, match="larger than"):
        records_of(path)
