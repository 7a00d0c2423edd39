"""One row of an XLSX sheet written safely and in constant time per row.

Every text goes through service/exports_safety.py (no cell becomes a formula) and is typed as text.
The row is addressed by its number: `sheet.append` followed by `sheet[sheet.max_row]` is quadratic,
because openpyxl's `max_row` scans every cell written so far (bench/month.py: 17.7 s for the
department's month report at 1,000 people, 0.52 s by row number).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

from service.exports_safety import spreadsheet_value

CellValue = str | int | float | date | datetime | None


def write_row(sheet: Worksheet, row: int, values: Sequence[CellValue]) -> list[Cell]:
    """Row `row` (1-based), cell by cell from column A; its cells, for formats."""
    cells = []
    for column, raw in enumerate(values, start=1):
        value = spreadsheet_value(raw)
        cell = sheet.cell(row=row, column=column, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        cells.append(cell)
    return cells
