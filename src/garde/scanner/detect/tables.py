"""Detection over a table's rows column by column (model.Rows): each column's distinct values are
detected once, and Records are built only for the rows that hold a finding. The result is what
detect_records gives on the Records table_records would have yielded for the same rows (a test
compares them), without a Field and a dictionary lookup per cell: a table with no personal data
(lab results, stock, rooms) costs a few passes over its columns in Arrow."""

import numpy as np

from garde.scanner.detect.engine import NOTHING, detect_cells
from garde.scanner.model import Field, Finding, Record, Rows


class _Column:
    """One column of a block: its distinct values, which of them are blank, their findings (set by
    detect_rows), and each row's index into them."""

    __slots__ = ("blank", "findings", "indices", "name", "values")

    def __init__(self, name: str | None, array):
        encoded = array.dictionary_encode()
        self.name = name
        self.values: list[str] = encoded.dictionary.to_pylist()
        self.indices = encoded.indices.to_numpy(zero_copy_only=False)
        self.blank = np.fromiter((not value or value.isspace() for value in self.values), bool, len(self.values))
        self.findings: list = [NOTHING] * len(self.values)

    def rows_with_findings(self) -> np.ndarray:
        has = np.fromiter(map(bool, self.findings), bool, len(self.findings))
        return has[self.indices]


def _detect_distinct_values(columns: list[_Column], min_conf: float) -> None:
    """Sets the findings of every non-blank distinct value of the columns (one detection pass)."""
    names: list[str | None] = []
    values: list[str] = []
    filled_slots = []
    for column in columns:
        filled = np.flatnonzero(~column.blank).tolist()
        filled_slots.append(filled)
        names.extend([column.name] * len(filled))
        values.extend(column.values if len(filled) == len(column.values) else [column.values[slot] for slot in filled])
    found = detect_cells(names, values, min_conf)
    offset = 0
    for column, filled in zip(columns, filled_slots, strict=True):
        mine = found[offset : offset + len(filled)]
        offset += len(filled)
        if len(filled) == len(column.values):
            column.findings = mine
            continue
        for slot, findings in zip(filled, mine, strict=True):
            column.findings[slot] = findings


def detect_rows(rows: Rows, min_conf: float = 0.5) -> tuple[int, list[tuple[int, Record, list[Finding]]]]:
    """(the number of Records the rows stand for, [(position of the Record among them, Record, its
    findings)] for the Records with findings, in row order)."""
    columns = [_Column(name, array) for name, array in zip(rows.names, rows.columns, strict=True)]
    _detect_distinct_values(columns, min_conf)
    non_blank = np.zeros(len(rows), bool)
    with_findings = np.zeros(len(rows), bool)
    for column in columns:
        non_blank |= ~column.blank[column.indices]
        with_findings |= column.rows_with_findings()
    counted = np.ones(len(rows), bool) if rows.every_row_a_record else non_blank
    positions = np.cumsum(counted) - 1
    detected = []
    for row in np.flatnonzero(with_findings).tolist():
        fields: list[Field] = []
        findings: list[Finding] = []
        for column in columns:
            slot = column.indices[row]
            if not column.blank[slot]:
                fields.append(Field(column.name, column.values[slot]))
                findings.extend(column.findings[slot])
        detected.append((int(positions[row]), Record(f"{rows.locator_prefix}{rows.first_row + row}", fields), findings))
    return int(counted.sum()), detected
