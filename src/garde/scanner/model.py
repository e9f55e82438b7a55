"""The values that travel between the steps of a scan: walk -> extract -> detect -> link -> report."""

from dataclasses import dataclass, field

CATEGORIES = ("identity", "national_identifier", "contact", "health", "financial", "credentials")


@dataclass(slots=True)
class Field:
    """One value of a record. `name` is the column, key or tag it came from (None in free text);
    `meaning` is set by extractors that know it for sure (HL7 PID-5 is a name), otherwise it is
    inferred from `name`."""

    name: str | None
    value: str
    meaning: str | None = None


@dataclass(slots=True)
class Record:
    """What one person's data is expected to sit in: a CSV row, an HL7 message, a letter."""

    locator: str
    fields: list[Field]


@dataclass(slots=True)
class Rows:
    """Rows of a table read column by column (a CSV read by Arrow, an SQL INSERT): they stand for the
    Records the extractor yields for them row by row, one per row with a non-blank cell (or every
    row), located "<prefix>N". Those Records are built only for the rows whose cells hold findings
    (detect/tables.py)."""

    names: list[str | None]  # the column names (None: no header, or a column without a name)
    columns: list  # one pyarrow string array per column, all of the same length
    first_row: int  # the number of the first row in the table (the header is row 1)
    locator_prefix: str = "row "
    every_row_a_record: bool = False  # a row of blank cells is a Record too (an SQL row of NULLs)

    def __len__(self) -> int:
        return len(self.columns[0])


@dataclass(slots=True)
class Finding:
    detector: str
    category: str
    confidence: float
    normalized: str
    raw: str
    field: str | None
    start: int
    end: int


@dataclass(slots=True)
class Child:
    """A file found inside a document (an e-mail attachment) that must be scanned on its own."""

    name: str
    data: bytes


@dataclass(slots=True)
class Note:
    """Something an extractor counts for the report without a record: a PDF page that needs OCR."""

    name: str
    count: int = 1


@dataclass
class Limits:
    """Guards against hostile dumps. Sizes are in bytes, times in seconds."""

    max_depth: int = 6
    max_ratio: float = 200.0
    ratio_floor: int = 1 << 20
    max_total_bytes: int = 200 << 30
    max_members: int = 2_000_000
    # Time allowed to scan a file: file_seconds, plus file_seconds_per_mb for each MB of it. A fixed
    # limit would stop a large legitimate export: a patient table is read at 0.4-0.6 MB/s per core,
    # prose with NER at about 0.1 MB/s (half that on a loaded machine), so a 700 MB table needs about
    # half an hour. 20 s per MB allows 0.05 MB/s; a hostile file still stops in bounded time.
    file_seconds: float = 600.0
    file_seconds_per_mb: float = 20.0
    file_memory: int = 4 << 30


@dataclass
class ScanSettings:
    jobs: int = 0
    reveal: bool = False
    resume: bool = False
    min_confidence: float = 0.5
    limits: Limits = field(default_factory=Limits)
    ner: bool = True  # person names in free text with spaCy NER as well as rules (rules alone if spaCy is missing)
    engine: str = "local"  # "local": worker processes of this machine; "dask": a Dask cluster
    scheduler: str | None = None  # dask: address of an existing scheduler; None starts a LocalCluster of `jobs` workers
