"""Plain text and logs (encoding detected), and HTML reduced to its text."""

from html.parser import HTMLParser

from garde.scanner.extract.base import Source, extractor, text_records

_STREAM_BLOCK = 4 << 20


@extractor(
    "text",
    extensions={".txt", ".log", ".md", ".text", ".out", ".err", ".ini", ".cfg", ".conf", ".env", ".yaml", ".yml"},
    mime_types={"text/plain", "text/markdown"},
)
def extract_text(source: Source):
    if source.size <= _STREAM_BLOCK:
        yield from text_records(source.read_text())
        return
    # Large files are read in blocks cut at a blank line (or a line end) to keep memory bounded.
    with source.text_stream() as stream:
        carry, first_line = "", 1
        while block := stream.read(_STREAM_BLOCK):
            block = (carry + block).replace("\r\n", "\n")
            cut = block.rfind("\n\n")
            cut = cut if cut > 0 else block.rfind("\n")
            cut = cut if cut > 0 else len(block)
            part, carry = block[:cut], block[cut:]
            yield from text_records(part, first_line=first_line, whole=False)
            first_line += part.count("\n")
        yield from text_records(carry, first_line=first_line, whole=False)


class _TextOfHtml(HTMLParser):
    _SKIP = {"script", "style", "noscript", "template"}
    _BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article", "td", "th"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n" if tag not in ("td", "th") else " ; ")

    def handle_endtag(self, tag):
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in ("p", "div", "tr", "table", "li"):
            self.parts.append("\n\n" if tag in ("p", "table") else "\n")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def _is_html(head: bytes) -> bool:
    start = head[:1024].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html"))


@extractor("html", extensions={".html", ".htm", ".xhtml"}, mime_types={"text/html"}, sniff=_is_html)
def extract_html(source: Source):
    yield from text_records(html_to_text(source.read_text()))
