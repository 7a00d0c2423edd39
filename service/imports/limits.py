"""What an import file may cost: the budgets every reader of an untrusted file stays within. Pure.

An import file comes from outside (a CRM export, a spreadsheet passed around by e-mail), so
its size, its rows, its cells and, for XLSX, what its ZIP parts unpack to are all bounded, and
each bound broken is a clear message instead of gigabytes of memory or a traceback. The values
are sized for the largest real department (3M history rows are ~300 MB of CSV; an XLSX sheet
holds at most 1,048,576 rows); docs/import.md lists them for people.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_FILE_BYTES = 1 << 30  # 1 GiB: the file as it is on disk, CSV or XLSX
MAX_ROWS = 5_000_000  # rows after the header, blank ones included (they keep their numbers)
MAX_COLUMNS = 256  # header cells; a CRM export has a few dozen, the import knows at most 16
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell, and so ours for any cell of any file
MAX_LINE_CHARS = 1 << 20  # one physical line of a CSV file (a row of 16 full cells fits twice)

MAX_XLSX_PARTS = 1000  # files inside the workbook's ZIP (Excel writes about 10)
MAX_XLSX_DIRECTORY_BYTES = 1 << 20  # the ZIP's central directory, checked before it is parsed
MAX_XLSX_SHEET_BYTES = 256 << 20  # a worksheet unpacked: read as a stream, ~400k rows of 15 cells
MAX_XLSX_PART_BYTES = 64 << 20  # any other part unpacked: openpyxl keeps these (shared strings) whole
MAX_XLSX_ROW_BYTES = 8 << 20  # one sheet row's XML: openpyxl builds a row whole before it gives it
MAX_XML_TOKEN_BYTES = 1 << 20  # one XML tag, attribute or comment (a cell's text is counted in chars)

MAX_KEPT_ERRORS = 10_000  # bad cells listed; beyond this they are only counted
MAX_QUOTED_CHARS = 60  # of a bad cell's value in a message (the rest is cut, its length given)


@dataclass(frozen=True, slots=True)
class XlsxLimits:
    """The XLSX budgets above as one value: xlsx_guard takes it, so a test can lower them to kilobytes."""

    parts: int = MAX_XLSX_PARTS
    directory_bytes: int = MAX_XLSX_DIRECTORY_BYTES
    sheet_bytes: int = MAX_XLSX_SHEET_BYTES
    part_bytes: int = MAX_XLSX_PART_BYTES
    row_bytes: int = MAX_XLSX_ROW_BYTES
    token_bytes: int = MAX_XML_TOKEN_BYTES


XLSX_LIMITS = XlsxLimits()


def show(number: int) -> str:
    """32 767: digits grouped by spaces, the way Russian text writes them."""
    return f"{number:,}".replace(",", " ")


def show_bytes(size: int) -> str:
    return f"{show(size >> 20)} МБ" if size >= 1 << 20 else f"{show(size)} байт"
