"""Tables: CSV/TSV (delimiter sniffed) and spreadsheets (every sheet, through calamine). The header
row names each column; one row is one record."""

import csv
import sys
from collections import Counter
from datetime import date, datetime, time

from garde.scanner.detect.columns import meaning_of
from garde.scanner.extract.base import ExtractionError, Source, extractor
from garde.scanner.model import Field, Record

csv.field_size_limit(min(sys.maxsize, 64 << 20))
_DELIMITERS = (";", ",", "\t", "|")


def sniff_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut
    best, best_score = ",", -1.0
    for delimiter in _DELIMITERS:
        counts = [line.count(delimiter) for line in lines]
        if not counts or max(counts) == 0:
            continue
        mode, frequency = Counter(counts).most_common(1)[0]
        score = frequency / len(counts) * (1 + min(mode, 20) / 20)
        if mode > 0 and score > best_score:
            best, best_score = delimiter, score
    return best


def looks_like_header(row: list[str]) -> bool:
    cells = [cell.strip() for cell in row if cell.strip()]
    if not cells:
        return False
    if any(meaning_of(cell) for cell in cells):
        return True
    wordy = sum(1 for cell in cells if not any(c.isdigit() for c in cell) and len(cell) <= 40)
    return wordy == len(cells) and len(set(cells)) == len(cells)


def table_records(rows, locator_prefix: str = "row ", first_row_number: int = 1, texts: bool = False):
    """Records of a table's rows; `texts`: every cell is already a str (csv.reader), no conversion."""
    names: list[str | None] | None = None
    for number, row in enumerate(rows, start=first_row_number):
        cells = row if texts else ["" if cell is None else _cell_text(cell) for cell in row]
        if names is None:
            if not any(cell.strip() for cell in cells):
                continue
            header = [cell.strip() for cell in cells]
            if looks_like_header(header):
                names = [name or None for name in header]
                continue
            names = [None] * len(cells)
        row_names = names if len(cells) <= len(names) else names + [None] * (len(cells) - len(names))  # a ragged row: its extra cells have no column
        fields = [Field(name, cell) for name, cell in zip(row_names, cells, strict=False) if cell and not cell.isspace()]
        if fields:
            yield Record(f"{locator_prefix}{number}", fields)


def _cell_text(cell) -> str:
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == time() else cell.isoformat(sep=" ")
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


@extractor("csv", extensions={".csv", ".tsv", ".tab", ".psv"}, mime_types={"text/csv", "text/tab-separated-values"})
def extract_csv(source: Source):
    sample = source.head.decode(source.encoding, errors="replace")
    delimiter = "\t" if source.extension == ".tsv" else sniff_delimiter(sample)
    with source.text_stream() as stream:
        yield from table_records(csv.reader(stream, delimiter=delimiter), texts=True)


def _is_ole(head: bytes) -> bool:
    return head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


@extractor(
    "spreadsheet",
    extensions={".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"},
    mime_types={
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel",
        "application/vnd.oasis.opendocument.spreadsheet",
    },
    text_based=False,
)
def extract_spreadsheet(source: Source):
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    try:
        workbook = CalamineWorkbook.from_path(str(source.path))
    except PasswordError:
        raise ExtractionError("encrypted spreadsheet (password protected): not read") from None
    except (CalamineError, ValueError, OSError) as error:
        raise ExtractionError(f"not a readable spreadsheet ({error})") from None
    for sheet_name in workbook.sheet_names:
        try:
            rows = workbook.get_sheet_by_name(sheet_name).iter_rows()
        except (CalamineError, ValueError) as error:
            raise ExtractionError(f"sheet {sheet_name!r} cannot be read ({error})") from None
        yield from table_records(rows, locator_prefix=f"sheet {sheet_name} row ")
