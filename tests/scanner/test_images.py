"""Images (scans, photos, faxes): read by OCR with Debian's tesseract (installed by scripts/system-deps),
counted as needing OCR without it, refused when hostile. Images are drawn by the tests (never real people)."""

import pytest
from PIL import Image, ImageDraw, ImageFont

from garde.scanner import ScanSettings, scan
from garde.scanner.detect import detect_record
from garde.scanner.extract import Source, choose
from garde.scanner.extract import documents as documents_module
from garde.scanner.extract import images as images_module
from garde.scanner.model import Note, Record

from .helpers import NIR_MARTIN

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LINES = ["Objet : Mme Claire MARTIN", "née le 01/02/1980", f"NIR {NIR_MARTIN}"]

needs_tesseract = pytest.mark.skipif(
    documents_module.tesseract() is None, reason="tesseract is installed by scripts/system-deps"
)


def scanned_letter(lines=LINES, frames: int = 1) -> list[Image.Image]:
    """A white page with black text at about 300 dpi, like a scanner's output."""
    font = ImageFont.truetype(FONT, 48)
    pages = []
    for _ in range(frames):
        page = Image.new("L", (1700, 120 + 90 * len(lines)), 255)
        draw = ImageDraw.Draw(page)
        for number, line in enumerate(lines):
            draw.text((80, 60 + 90 * number), line, font=font, fill=0)
        pages.append(page)
    return pages


def produce(path):
    source = Source(path, path.name)
    chosen = choose(source)
    return chosen.name, list(chosen.run(source))


@needs_tesseract
@pytest.mark.parametrize("suffix, fmt", [(".png", "PNG"), (".jpg", "JPEG"), (".tif", "TIFF")])
def test_it_reads_a_scanned_letter_by_ocr(tmp_path, suffix, fmt):
    path = tmp_path / f"courrier{suffix}"
    scanned_letter()[0].save(path, format=fmt)
    name, produced = produce(path)
    assert name == "image"
    assert Note("images_ocr") in produced
    records = [p for p in produced if isinstance(p, Record)]
    detected = {f.detector: f.normalized for record in records for f in detect_record(record)}
    assert detected.get("nir") == NIR_MARTIN[:13]  # the NIR is normalised without its key
    assert "birth_date" in detected


@needs_tesseract
def test_it_reads_every_page_of_a_multipage_tiff(tmp_path):
    path = tmp_path / "fax.tif"
    first, *rest = scanned_letter(frames=3)
    first.save(path, format="TIFF", save_all=True, append_images=rest)
    _, produced = produce(path)
    assert produced.count(Note("images_ocr")) == 3
    assert [r.locator for r in produced if isinstance(r, Record)] == [
        f"frame {n} document" for n in (1, 2, 3)
    ]


def test_it_recognises_an_image_by_its_content_whatever_its_name(tmp_path):
    path = tmp_path / "piece-jointe.dat"
    scanned_letter()[0].save(path, format="PNG")
    assert choose(Source(path, path.name)).name == "image"


def test_it_counts_images_needing_ocr_when_tesseract_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(images_module, "tesseract", lambda: None)
    (tmp_path / "dump").mkdir()
    scanned_letter()[0].save(tmp_path / "dump" / "scan.png")
    result = scan([tmp_path / "dump"], tmp_path / "out", ScanSettings(jobs=0))
    assert result.summary["files"]["images_needing_ocr"] == 1
    assert result.summary["files"]["images_ocr"] == 0
    report = (tmp_path / "out" / "report.html").read_text()
    assert "1 images (scans, photos) were not read (no OCR installed)" in report


def test_it_refuses_an_image_claiming_too_many_pixels(tmp_path, monkeypatch):
    monkeypatch.setattr(images_module, "MAX_PIXELS", 1000)
    path = tmp_path / "bomb.png"
    Image.new("L", (2000, 2000), 255).save(path)
    with pytest.raises(images_module.ExtractionError, match="image refused"):
        produce(path)


def test_it_records_a_truncated_image_as_an_error_and_goes_on(tmp_path):
    (tmp_path / "dump").mkdir()
    scanned_letter()[0].save(tmp_path / "dump" / "full.png")
    data = (tmp_path / "dump" / "full.png").read_bytes()
    (tmp_path / "dump" / "cut.png").write_bytes(data[:200])
    (tmp_path / "dump" / "note.txt").write_text(f"NIR {NIR_MARTIN}")
    result = scan([tmp_path / "dump"], tmp_path / "out", ScanSettings(jobs=0))
    assert result.summary["files"]["errors"] == 1
    assert result.summary["categories"]["national_identifier"]["findings"] >= 1


def test_it_refuses_a_truncated_image_even_after_weasyprint_is_imported(tmp_path):
    import weasyprint  # noqa: F401  (it sets Pillow's LOAD_TRUNCATED_IMAGES for its own process)
    from PIL import ImageFile

    path = tmp_path / "cut.png"
    scanned_letter()[0].save(path)
    path.write_bytes(path.read_bytes()[:400])
    with pytest.raises(images_module.ExtractionError, match="not a readable image"):
        produce(path)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # WeasyPrint's setting is given back
