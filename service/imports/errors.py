"""Errors of the import package.

    ImportFailed          base: nothing was imported
    ├── FileFormatError   the file cannot be read at all (format, encoding, no header)
    └── RowsRejected      rows are bad; `.errors` lists every one (RowError)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.errors import ServiceError


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad cell: row as numbered in the file (header = row 1), column, value as given."""

    row: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        if not self.value:  # a missing column or an empty cell: there is no value to quote
            return f"row {self.row}, column {self.column}: {self.reason}"
        return f"row {self.row}, column {self.column}, value {self.value!r}: {self.reason}"


class ImportFailed(ServiceError):
    """Nothing was imported."""


class FileFormatError(ImportFailed):
    """The file is not CSV/XLSX we can read (the message says why)."""


class RowsRejected(ImportFailed):
    """At least one row is bad; every bad cell is listed, nothing was written."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = tuple(errors)
        super().__init__(f"{len(self.errors)} error(s); nothing was imported")
