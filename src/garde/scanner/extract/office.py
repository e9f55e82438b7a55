"""Word-processing documents (DOCX, ODT): paragraphs of text from their XML, no layout."""

import html
import re
import zipfile

from garde.scanner.extract.base import ExtractionError, Source, extractor, text_records

_PARAGRAPH_END = re.compile(r"</w:p>|</text:p>|</text:h>|<w:br/>|<text:line-break/>|<w:tab/>|<text:tab/>")
_TAG = re.compile(r"<[^>]+>")
_PARTS = ("word/document.xml", "word/header1.xml", "word/footer1.xml", "content.xml")
_MAX_PART = 256 << 20


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
                    if archive.getinfo(part).file_size > _MAX_PART:
                        raise ExtractionError(f"{part} is larger than {_MAX_PART >> 20} MiB")
                    xml = archive.read(part).decode("utf-8", errors="replace")
                    texts.append(html.unescape(_TAG.sub("", _PARAGRAPH_END.sub("\n", xml))))
    except (zipfile.BadZipFile, RuntimeError) as error:
        raise ExtractionError(f"not a readable document ({error})") from None
    yield from text_records("\n".join(texts))
