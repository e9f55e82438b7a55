"""SQL dumps (MySQL, PostgreSQL, SQLite .dump): INSERT rows and COPY blocks become records whose
fields carry their column names, taken from the statement or from the CREATE TABLE before it."""

import itertools
import re

import pyarrow as pa

from garde.scanner.extract.base import ExtractionError, Source, extractor
from garde.scanner.extract.tabular import ROWS_AT_ONCE
from garde.scanner.model import Field, Record, Rows

_IDENT = r"[`\"\[]?([\w$]+)[`\"\]]?"
_CREATE = re.compile(rf"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:{_IDENT}\.)?{_IDENT}\s*\(", re.I)
_INSERT = re.compile(
    rf"INSERT\s+(?:IGNORE\s+)?INTO\s+(?:{_IDENT}\.)?{_IDENT}\s*(?:\(([^)]*)\))?\s*VALUES\s*", re.I
)
_COPY = re.compile(rf"COPY\s+(?:{_IDENT}\.)?{_IDENT}\s*(?:\(([^)]*)\))?\s+FROM\s+stdin", re.I)
_COLUMN_LINE = re.compile(rf"^\s*{_IDENT}\s+\w", re.I)
_NOT_COLUMNS = {"primary", "key", "constraint", "unique", "index", "foreign", "check", "fulltext", "spatial"}
_TOKEN = re.compile(
    r"'(?P<s>(?:[^'\\]|\\.|'')*)'|(?P<open>\()|(?P<close>\))|(?P<comma>,)|(?P<word>[^\s,()']+)|(?P<space>\s+)",
    re.S,
)
_MAX_STATEMENT = 64 << 20


def _is_sql(head: bytes) -> bool:
    start = head[:4096].upper()
    return b"INSERT INTO" in start or b"CREATE TABLE" in start or b"-- MYSQL DUMP" in start or b"POSTGRESQL DATABASE DUMP" in start


def _names(column_list: str) -> list[str]:
    return [name.strip().strip('`"[]') for name in column_list.split(",")]


def _unescape(value: str) -> str:
    return value.replace("''", "'").replace("\\'", "'").replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def insert_rows(values: str):
    """Tuples of an INSERT ... VALUES list, as lists of strings (None for NULL)."""
    row: list[str | None] = []
    depth = 0
    for match in _TOKEN.finditer(values):
        kind = match.lastgroup
        if kind == "open":
            depth += 1
            if depth == 1:
                row = []
        elif kind == "close":
            depth -= 1
            if depth == 0:
                yield row
        elif depth == 1 and kind == "s":
            row.append(_unescape(match.group("s")))
        elif depth == 1 and kind == "word":
            word = match.group()
            row.append(None if word.upper() == "NULL" else word)


def _balanced(statement: str) -> bool:
    return (statement.count("'") - statement.count("\\'") + statement.count("\\\\'")) % 2 == 0


def _items(source: Source, columnar: bool):
    """The records of a dump's rows; `columnar`: rows of an INSERT or a COPY block as model.Rows,
    ROWS_AT_ONCE at a time (the same records, built only for rows with findings)."""
    tables: dict[str, list[str]] = {}
    counters: dict[str, int] = {}
    buffer: list[str] = []
    copy: tuple[str, list[str]] | None = None
    copied: list[list] = []  # rows of the COPY block not yet handed on
    try:
        with source.text_stream() as stream:
            for line in stream:
                if copy is not None:
                    if line.startswith("\\."):
                        yield from _rows(copy[0], copy[1], copied, counters, columnar)
                        copy, copied = None, []
                        continue
                    copied.append([None if v == "\\N" else _unescape(v) for v in line.rstrip("\r\n").split("\t")])
                    if len(copied) >= ROWS_AT_ONCE:
                        yield from _rows(copy[0], copy[1], copied, counters, columnar)
                        copied = []
                    continue
                if not buffer and not line.lstrip().upper().startswith(("INSERT", "CREATE", "COPY ")):
                    continue
                buffer.append(line)
                statement = "".join(buffer)
                if len(statement) > _MAX_STATEMENT:
                    raise ExtractionError(f"an SQL statement is longer than {_MAX_STATEMENT >> 20} MiB")
                if statement.upper().lstrip().startswith("COPY"):
                    match = _COPY.match(statement.lstrip())
                    buffer = []
                    if match:
                        table = match.group(2)
                        copy = (table, _names(match.group(3)) if match.group(3) else tables.get(table, []))
                    continue
                if not statement.rstrip().endswith(";") or not _balanced(statement):
                    continue
                buffer = []
                yield from _statement(statement.lstrip(), tables, counters, columnar)
    except Exception:
        if copy is not None and copied:  # the rows read before the error are still scanned
            yield from _rows(copy[0], copy[1], copied, counters, columnar)
        raise
    if copy is not None and copied:  # a COPY block cut short by the end of the file
        yield from _rows(copy[0], copy[1], copied, counters, columnar)


@extractor("sql", extensions={".sql"}, mime_types={"application/sql"}, sniff=_is_sql, columnar=lambda source: _items(source, True))
def extract_sql(source: Source):
    yield from _items(source, False)


def _statement(statement: str, tables: dict, counters: dict, columnar: bool):
    create = _CREATE.match(statement)
    if create:
        columns = []
        for line in statement[create.end() :].splitlines():
            match = _COLUMN_LINE.match(line)
            if match and match.group(1).lower() not in _NOT_COLUMNS:
                columns.append(match.group(1))
        tables[create.group(2)] = columns
        return
    insert = _INSERT.match(statement)
    if insert:
        table = insert.group(2)
        columns = _names(insert.group(3)) if insert.group(3) else tables.get(table, [])
        rows = insert_rows(statement[insert.end() :])
        while block := list(itertools.islice(rows, ROWS_AT_ONCE)):
            yield from _rows(table, columns, block, counters, columnar)


def _rows(table: str, columns: list[str], rows: list[list], counters: dict, columnar: bool):
    """Records of `rows` one by one, or (columnar) as Rows of rows of the same width."""
    if not columnar:
        for values in rows:
            yield _record(table, columns, values, counters)
        return
    for width, group in itertools.groupby(rows, len):
        group = list(group)
        if width == 0:
            yield from (_record(table, columns, values, counters) for values in group)
            continue
        names = [columns[i] if i < len(columns) else None for i in range(width)]
        cells = [pa.array(["" if value is None else value for value in column], pa.string()) for column in zip(*group, strict=True)]
        yield Rows(names, cells, counters.get(table, 0) + 1, f"table {table} row ", every_row_a_record=True)
        counters[table] = counters.get(table, 0) + len(group)


def _record(table: str, columns: list[str], values: list, counters: dict) -> Record:
    counters[table] = counters.get(table, 0) + 1
    fields = [
        Field(columns[i] if i < len(columns) else None, value)
        for i, value in enumerate(values)
        if value is not None and value.strip()
    ]
    return Record(f"table {table} row {counters[table]}", fields)
