"""Reading an exported works file back, as the CRM's import would: CSV (Windows-1251, `;`) or XLSX."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from service.exports.files import SHEET
from service.exports.works import HEADERS


def read_works(data: bytes, file_format: str) -> list[dict[str, str]]:
    """Every row as {header: text}; an empty cell is ""; numbers as their text."""
    if file_format == "csv":
        lines = list(csv.reader(io.StringIO(data.decode("cp1251"), newline=""), delimiter=";"))
    else:
        sheet = load_workbook(io.BytesIO(data), read_only=True)[SHEET]
        lines = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert tuple(lines[0]) == HEADERS, lines[0]
    return [dict(zip(HEADERS, [*line, *[""] * (len(HEADERS) - len(line))], strict=True)) for line in lines[1:]]
