"""Files → a header and numbered rows. CSV (UTF-8 with or without BOM, or Windows-1251; `;` or
`,`, both detected) and XLSX (openpyxl, read-only). Rows can be read more than once (the
runner validates in one pass and writes in a second) without holding the file in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from service.imports import cells
from service.imports.errors import FileFormatError

Row = dict[str, object]
NumberedRow = tuple[int, Row]  # (row number as the user sees it, header = 1; cells by column)

_CHUNK = 1 << 20
_SAMPLE = 64 * 1024
_DELIMITERS = ";,"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls (Excel 97–2003)


class Table(Protocol):
    @property
    def header(self) -> tuple[str, ...]:
        """Column names of row 1, trimmed."""
        ...

    def rows(self) -> Iterator[NumberedRow]:
        """Data rows (blank ones skipped, their numbers kept), read from the file again each time."""
        ...


def open_table(path: Path, known_columns: Collection[str], sheet: str | None = None) -> Table:
    """A CSV or XLSX table; `known_columns` helps pick the CSV delimiter, `sheet` the XLSX sheet."""
    try:
        with path.open("rb") as file:
            head = file.read(_SAMPLE)
    except OSError as e:
        raise FileFormatError(f"cannot read {path}: {e.strerror or e}") from e
    if head.startswith(_OLE_MAGIC):
        raise FileFormatError("an old .xls workbook: save it as .xlsx or CSV")
    if head.startswith(_ZIP_MAGIC):
        return XlsxTable.open(path, sheet)
    return CsvTable.open(path, head, known_columns)


@dataclass(frozen=True, slots=True)
class CsvTable:
    path: Path
    encoding: str
    delimiter: str
    header: tuple[str, ...]

    @classmethod
    def open(cls, path: Path, head: bytes, known_columns: Collection[str]) -> CsvTable:
        encoding = detect_encoding(path)
        sample = head.decode(encoding, errors="ignore")  # a cut multibyte tail is harmless here
        if not sample.strip():
            raise FileFormatError("the file is empty: the first row must name the columns")
        delimiter = detect_delimiter(sample, known_columns)
        first = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
        return cls(path, encoding, delimiter, clean_header(first))

    def rows(self) -> Iterator[NumberedRow]:
        with self.path.open(encoding=self.encoding, newline="") as file:
            reader = csv.reader(file, delimiter=self.delimiter)
            next(reader, None)
            # A record is a row as a spreadsheet shows it, even when a quoted cell spans lines.
            for number, cells_ in enumerate(reader, start=2):
                if any(cell.strip() for cell in cells_):
                    yield number, dict(zip(self.header, cells_))


@dataclass(frozen=True, slots=True)
class XlsxTable:
    path: Path
    sheet: str
    header: tuple[str, ...]

    @classmethod
    def open(cls, path: Path, wanted: str | None) -> XlsxTable:
        workbook = _load_workbook(path)
        try:
            names = workbook.sheetnames
            sheet = wanted if wanted is not None and wanted in names else names[0]
            first = next(workbook[sheet].iter_rows(max_row=1, values_only=True), ())
        finally:
            workbook.close()
        return cls(path, sheet, clean_header([cells.text(v) for v in first]))

    def rows(self) -> Iterator[NumberedRow]:
        workbook = _load_workbook(self.path)
        try:
            values = workbook[self.sheet].iter_rows(min_row=2, values_only=True)
            for number, row in enumerate(values, start=2):
                if any(not cells.is_empty(v) for v in row):
                    yield number, dict(zip(self.header, row))
        finally:
            workbook.close()


def _load_workbook(path: Path):  # type: ignore[no-untyped-def]  # openpyxl has no stubs here
    from openpyxl import load_workbook  # imported on use: CSV imports never pay for it

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # zipfile/KeyError/InvalidFileException: all mean "not a workbook"
        raise FileFormatError(f"not a readable XLSX workbook: {e}") from e


def clean_header(names: list[str]) -> tuple[str, ...]:
    # Surrounding spaces and a BOM left by some exporters are not part of a column's name.
    return tuple(name.strip().lstrip("\ufeff").strip() for name in names)


def detect_encoding(path: Path) -> str:
    """utf-8-sig (with or without a BOM) when the whole file is valid UTF-8, else cp1251."""
    for encoding in ("utf-8-sig", "cp1251"):
        if _decodes(path, encoding):
            return encoding
    raise FileFormatError("the file is neither UTF-8 nor Windows-1251 text")


def _decodes(path: Path, encoding: str) -> bool:
    # Incremental, so a 300 MB history file is checked without being held in memory.
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as file:
            while chunk := file.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_delimiter(sample: str, known_columns: Collection[str]) -> str:
    """`;` or `,`: the one that splits the header into the most known column names."""
    first_line = sample.splitlines()[0] if sample else ""
    scores = {d: _known_count(first_line, d, known_columns) for d in _DELIMITERS}
    best = max(scores.values())
    winners = [d for d in _DELIMITERS if scores[d] == best]
    if len(winners) == 1:
        return winners[0]
    try:  # no known names either way: let the Sniffer judge the data
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ";"


def _known_count(line: str, delimiter: str, known_columns: Collection[str]) -> int:
    names = clean_header(next(csv.reader([line], delimiter=delimiter), []))
    return sum(1 for name in names if name in known_columns)
