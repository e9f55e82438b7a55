"""Word-processing documents (DOCX, ODT) and presentations (PPTX, ODP): paragraphs of text from their
XML, no layout. A presentation gives one record per slide (speaker notes included), since a slide
about one patient is what a person record is expected to sit in."""

import html
import re
import zipfile

from garde.scanner.extract.base import ExtractionError, Source, extractor, text_records

_PARAGRAPH_END = re.compile(
    r"</w:p>|</a:p>|</text:p>|</text:h>|<w:br/>|<a:br/>|<text:line-break/>|<w:tab/>|<text:tab/>"
)
_TAG = re.compile(r"<[^>]+>")
_PARTS = ("word/document.xml", "word/header1.xml", "word/footer1.xml", "content.xml")
_MAX_PART = 256 << 20
_SLIDE = re.compile(r"ppt/slides/slide(\d+)\.xml")
_ODP_PAGE = re.compile(r"<draw:page\b.*?</draw:page>", re.DOTALL)


def _text(xml: str) -> str:
    return html.unescape(_TAG.sub("", _PARAGRAPH_END.sub("\n", xml)))


def _read_part(archive: zipfile.ZipFile, part: str) -> str:
    if archive.getinfo(part).file_size > _MAX_PART:
        raise ExtractionError(f"{part} is larger than {_MAX_PART >> 20} MiB")
    return archive.read(part).decode("utf-8", errors="replace")


@extractor(
    "office_text",
    extensions={".docx", ".docm", ".odt"},
    mime_types={
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.oasis.opendocument.text",
    },
    text_based=False,
)
def extract_office_text(source: Source):
    try:
        with zipfile.ZipFile(source.path) as archive:
            names = set(archive.namelist())
            texts = []
            for part in _PARTS:
                if part in names:
                    texts.append(_text(_read_part(archive, part)))
    except (zipfile.BadZipFile, RuntimeError) as error:
        raise ExtractionError(f"not a readable document ({error})") from None
    yield from text_records("\n".join(texts))


def _pptx_slides(archive: zipfile.ZipFile) -> list[str]:
    names = set(archive.namelist())
    numbered = sorted((int(m.group(1)), m.group(0)) for m in map(_SLIDE.fullmatch, names) if m)
    slides = []
    for number, part in numbered:
        notes = f"ppt/notesSlides/notesSlide{number}.xml"
        text = _text(_read_part(archive, part))
        if notes in names:
            text += "\n" + _text(_read_part(archive, notes))
        slides.append(text)
    return slides


def _odp_slides(archive: zipfile.ZipFile) -> list[str]:
    if "content.xml" not in archive.namelist():
        return []
    return [_text(page) for page in _ODP_PAGE.findall(_read_part(archive, "content.xml"))]


@extractor(
    "presentation",
    extensions={".pptx", ".pptm", ".odp"},
    mime_types={
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.presentation",
    },
    text_based=False,
)
def extract_presentation(source: Source):
    try:
        with zipfile.ZipFile(source.path) as archive:
            slides = _pptx_slides(archive) or _odp_slides(archive)
    except (zipfile.BadZipFile, RuntimeError) as error:
        raise ExtractionError(f"not a readable presentation ({error})") from None
    for number, text in enumerate(slides, start=1):
        yield from text_records(text, prefix=f"slide {number} ")
