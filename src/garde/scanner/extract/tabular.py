"""Tables: CSV/TSV (delimiter sniffed) and spreadsheets (every sheet, through calamine). The header
row names each column; one row is one record."""

import csv
import io
import itertools
import sys
from collections import Counter
from datetime import date, datetime, time

import pyarrow as pa
import pyarrow.csv as pa_csv

from garde.scanner.detect.columns import meaning_of
from garde.scanner.extract.base import ExtractionError, Source, extractor
from garde.scanner.model import Field, Record, Rows

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


def _data_rows(rows, first_row_number: int, texts: bool, names):
    """(row number, cells, column names) of each row after the header: the header is the first
    non-blank row when it looks like one (otherwise that row is data and the columns have no name);
    `names` when the header was read before these rows."""
    for number, row in enumerate(rows, start=first_row_number):
        cells = row if texts else ["" if cell is None else _cell_text(cell) for cell in row]
        if names is None:
            if not any(cell.strip() for cell in cells):
                continue
            names = column_names(cells)
            if names is not None:
                continue
            names = [None] * len(cells)
        yield number, cells, names


def table_records(rows, locator_prefix: str = "row ", first_row_number: int = 1, texts: bool = False, names=None):
    """Records of a table's rows; `texts`: every cell is already a str (csv.reader), no conversion;
    `names`: the column names when the header was read before these rows."""
    for number, cells, columns in _data_rows(rows, first_row_number, texts, names):
        row_names = columns if len(cells) <= len(columns) else columns + [None] * (len(cells) - len(columns))  # a ragged row: its extra cells have no column
        fields = [Field(name, cell) for name, cell in zip(row_names, cells, strict=False) if cell and not cell.isspace()]
        if fields:
            yield Record(f"{locator_prefix}{number}", fields)


def table_rows(rows, locator_prefix: str = "row ", first_row_number: int = 1, texts: bool = False, names=None):
    """What table_records yields for `rows`, as Rows: blocks of at most ROWS_AT_ONCE consecutive
    rows of the same width after the header (a row of another width starts a new block)."""
    block: list[list[str]] = []
    block_start = first_row_number
    columns: list[str | None] = []
    for number, cells, columns in _data_rows(rows, first_row_number, texts, names):
        if block and (len(cells) != len(block[0]) or len(block) >= ROWS_AT_ONCE):
            yield _block(columns, block, block_start, locator_prefix)
            block = []
        if not cells:  # an empty line: no cell, no record
            continue
        if not block:
            block_start = number
        block.append(cells)
    if block:
        yield _block(columns, block, block_start, locator_prefix)


def _block(names: list[str | None], block: list[list[str]], first_row: int, locator_prefix: str) -> Rows:
    width = len(block[0])
    columns = [pa.array(column, pa.string()) for column in zip(*block, strict=True)]
    return Rows((names + [None] * width)[:width], columns, first_row, locator_prefix)


def column_names(cells: list[str]) -> list[str | None] | None:
    """The column names a table's first non-blank row gives, or None when it is not a header."""
    header = [cell.strip() for cell in cells]
    return [name or None for name in header] if looks_like_header(header) else None


def _cell_text(cell) -> str:
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == time() else cell.isoformat(sep=" ")
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _csv_delimiter(source: Source) -> str:
    return "\t" if source.extension == ".tsv" else sniff_delimiter(source.head.decode(source.encoding, errors="replace"))


def csv_rows(source: Source):
    """The rows of a CSV file column by column (model.Rows, ROWS_AT_ONCE at a time), read by Arrow:
    the same rows, cells and row numbers as csv.reader (a test compares them on random text). A
    file Arrow cannot read the same way (not UTF-8, rows of different lengths, a row longer than
    Arrow's block) goes on from where Arrow stopped with csv.reader and table_rows."""
    delimiter = _csv_delimiter(source)
    width = _first_row_width(source, delimiter)
    state = _Header()
    rows_read = 0
    if width:
        try:
            reader = pa_csv.open_csv(source.path, *_arrow_options(delimiter, width))
            if any(field.type != pa.string() for field in reader.schema):
                raise pa.ArrowInvalid("a first row wider than the head showed")  # a cell would not be text
            for batch in reader:
                yield from state.blocks(batch, rows_read)
                rows_read += batch.num_rows
        except (pa.ArrowInvalid, OSError):
            pass  # the rows of the batches read so far are done; csv.reader reads the rest
        else:
            return
    with source.text_stream() as stream:
        rows = csv.reader(stream, delimiter=delimiter)
        for _ in itertools.islice(rows, rows_read):
            pass
        yield from table_rows(rows, first_row_number=rows_read + 1, texts=True, names=state.names)


ROWS_AT_ONCE = 1024  # Rows a block holds: the worker's batch of records (worker.BATCH_RECORDS)
ARROW_BLOCK_BYTES = 1 << 20  # what Arrow parses at once; a longer row goes to csv.reader


class _Header:
    """Reads a table's column names from its first non-blank row, then cuts the batches after it
    into Rows."""

    def __init__(self):
        self.names: list[str | None] | None = None

    def blocks(self, batch, rows_before: int):
        start = 0
        if self.names is None:
            start = self._read_header(batch)
            if self.names is None:
                return
        for low in range(start, batch.num_rows, ROWS_AT_ONCE):
            piece = batch.slice(low, ROWS_AT_ONCE)
            yield Rows(self.names, piece.columns, rows_before + low + 1)

    def _read_header(self, batch) -> int:
        """Where the data rows start in `batch`, once the header (or the first data row) is found."""
        columns = batch.columns
        for row in range(batch.num_rows):
            cells = [column[row].as_py() for column in columns]
            if any(cell.strip() for cell in cells):
                self.names = column_names(cells)
                if self.names is not None:
                    return row + 1
                self.names = [None] * len(cells)
                return row
        return batch.num_rows


def _first_row_width(source: Source, delimiter: str) -> int:
    """The number of cells in the file's first row (Arrow's width for every row), or 0 when Arrow
    cannot read the file as csv.reader does: not UTF-8, or no whole first row in the head."""
    if source.encoding not in ("utf-8", "utf-8-sig"):
        return 0
    head = source.head.decode(source.encoding, errors="replace")
    first = next(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter), None)
    if not first or (len(source.head) < source.size and "\n" not in head and "\r" not in head):
        return 0
    return len(first)


def _arrow_options(delimiter: str, width: int):
    return (
        pa_csv.ReadOptions(autogenerate_column_names=True, use_threads=False, block_size=ARROW_BLOCK_BYTES),
        pa_csv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                            newlines_in_values=True, ignore_empty_lines=False),
        pa_csv.ConvertOptions(column_types={f"f{i}": pa.string() for i in range(width)}, strings_can_be_null=False,
                              quoted_strings_can_be_null=False),
    )


@extractor("csv", extensions={".csv", ".tsv", ".tab", ".psv"}, mime_types={"text/csv", "text/tab-separated-values"}, columnar=csv_rows)
def extract_csv(source: Source):
    with source.text_stream() as stream:
        yield from table_records(csv.reader(stream, delimiter=_csv_delimiter(source)), texts=True)


def _is_ole(head: bytes) -> bool:
    return head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def _sheets(source: Source, columnar: bool):
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
        yield from (table_rows if columnar else table_records)(rows, locator_prefix=f"sheet {sheet_name} row ")


@extractor(
    "spreadsheet",
    extensions={".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"},
    mime_types={
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel",
        "application/vnd.oasis.opendocument.spreadsheet",
    },
    text_based=False,
    columnar=lambda source: _sheets(source, True),
)
def extract_spreadsheet(source: Source):
    yield from _sheets(source, False)
