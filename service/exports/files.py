"""Works rows as the CRM's import file: CSV in Windows-1251 with `;`, or XLSX. Pure.

The same rows give the same bytes, in both formats: the CRM's import upserts by «ID работы», and a
day exported again must read as nothing new (no timestamp inside the file: the XLSX's document
dates and its zip entries' times are fixed). Every text cell goes through service/exports_safety.py
(an imported name never becomes a formula); a character Windows-1251 lacks becomes its
compatibility form where that exists (² → 2), else its letter without the accent (Ç → C), else
«?», and never stops the export.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.writer.excel import ExcelWriter

from service.exports.works import COLUMNS, HEADERS, WorkRow
from service.exports_safety import spreadsheet_value

ENCODING = "cp1251"
DELIMITER = ";"
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {"csv": "text/csv; charset=windows-1251",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
SHEET = "Работы"
# The XLSX's document dates and zip entry times (the earliest a zip can say): no run's clock in the file.
FIXED_MOMENT = datetime(2000, 1, 1)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
Cell = str | int | None


def encode(rows: Iterable[WorkRow], file_format: str) -> bytes:
    """The file's bytes in `file_format` (csv | xlsx)."""
    if file_format == "xlsx":
        return works_xlsx(rows)
    if file_format == "csv":
        return works_csv(rows)
    raise ValueError(f"unknown format {file_format!r}; known: {FORMATS}")


def works_csv(rows: Iterable[WorkRow]) -> bytes:
    """A header line, then a line per work; `;` between cells, CR LF after each line, Windows-1251."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(safe_cells(row.cells()))
    return to_cp1251(out.getvalue())


def to_cp1251(text: str) -> bytes:
    """`text` in Windows-1251: what it cannot hold is replaced (its NFKC form, or the letter without its
    accents, if that fits; else «?»)."""
    try:
        return text.encode(ENCODING)
    except UnicodeEncodeError:
        return "".join(_cp1251_char(char) for char in text).encode(ENCODING)


def _cp1251_char(char: str) -> str:
    try:
        char.encode(ENCODING)
        return char
    except UnicodeEncodeError:
        pass
    compatible = unicodedata.normalize("NFKC", char)  # ² → 2, a narrow no-break space → a space
    bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))  # Ç → C
    for candidate in (compatible, bare):
        try:
            if candidate:
                candidate.encode(ENCODING)
                return candidate
        except UnicodeEncodeError:
            continue
    return "?"


def safe_cells(cells: Sequence[Cell]) -> list[Cell]:
    """Formula-like text apostrophed (service/exports_safety.py); None as an empty cell."""
    return ["" if value is None else spreadsheet_value(value) for value in cells]


def works_xlsx(rows: Iterable[WorkRow]) -> bytes:
    """One sheet «Работы»: the header in bold, then a row per work; text cells typed as text."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    for index, (_, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    header = _xlsx_cells(sheet, HEADERS)
    for cell in header:
        cell.font = Font(bold=True)
    sheet.append(header)
    for row in rows:
        sheet.append(_xlsx_cells(sheet, row.cells()))
    book.properties.created = book.properties.modified = FIXED_MOMENT
    raw = io.BytesIO()
    with ZipFile(raw, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, archive).save()  # not Workbook.save: that stamps «modified» with the clock
    return _fixed_zip_times(raw.getvalue())


def _xlsx_cells(sheet: WriteOnlyWorksheet, values: Sequence[Cell]) -> list[Any]:
    """Text as text cells (openpyxl would make `=…` a formula), numbers as numbers, "" as no cell."""
    cells: list[Any] = []  # WriteOnlyCell is a factory function in openpyxl, not a type
    for value in values:
        if isinstance(value, str) and value:
            cell = WriteOnlyCell(sheet, spreadsheet_value(value))
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(None if value == "" else value)
    return cells


def _fixed_zip_times(data: bytes) -> bytes:
    """The same archive with every entry dated ZIP_TIME (openpyxl dates them with the clock)."""
    out = io.BytesIO()
    with ZipFile(io.BytesIO(data)) as source, ZipFile(out, "w", ZIP_DEFLATED) as target:
        for entry in source.infolist():
            fixed = ZipInfo(entry.filename, date_time=ZIP_TIME)
            fixed.compress_type = ZIP_DEFLATED
            fixed.external_attr = entry.external_attr
            target.writestr(fixed, source.read(entry.filename))
    return out.getvalue()
