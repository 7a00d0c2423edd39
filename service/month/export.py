"""The monthly reports as an XLSX workbook: one sheet per report, numbers as numbers. Pure.

Columns: the presentation's row, the figure, then one column per person and the department's.
Counts are whole numbers, shares 0.0 %, money #,##0.00 ₽; a figure without data is the text
«нет данных». Names come from the CRM import: every text goes through exports_safety.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from service.exports_safety import spreadsheet_row
from service.month.report import EXPERT_TITLE, Figure, Table, Unit

FORMATS = {Unit.COUNT: "0.##", Unit.SHARE: "0.0%", Unit.RUB: '#,##0.00 "₽"'}
NO_DATA = "нет данных"


def month_xlsx(tables: Sequence[Table], period_title: str, generated_at: datetime) -> bytes:
    book = Workbook()
    first = book.active
    assert isinstance(first, Worksheet)  # a new workbook opens on the worksheet it starts with
    for index, table in enumerate(tables):
        sheet = first if index == 0 else book.create_sheet()
        sheet.title = "Эксперты" if table.title == EXPERT_TITLE else "ПМ"
        _table_sheet(sheet, table, period_title, generated_at)
    if not tables:
        first.title = "Отчёт"
        _append(first, [f"Нет Экспертов и ПМ по ДС за {period_title}"])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _table_sheet(sheet: Worksheet, table: Table, period_title: str, generated_at: datetime) -> None:
    _append(sheet, [f"{table.title}: {period_title}"])
    sheet["A1"].font = Font(bold=True, size=12)
    _append(sheet, [f"Сформирован {generated_at:%d.%m.%Y %H:%M}"])
    _append(sheet, ["Параметр отчета", "Показатель", *(c.title for c in table.columns), "Откуда"])
    header = sheet.max_row
    for cell in sheet[header]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in table.rows:
        for n, line in enumerate(row.lines):
            values = [row.title if n == 0 else None, line.label, *(_value(f) for f in line.cells),
                      row.source if n == 0 else None]
            _append(sheet, values)
            for offset, figure in enumerate(line.cells):
                cell = sheet.cell(sheet.max_row, 3 + offset)
                if figure.value is not None:
                    cell.number_format = FORMATS[figure.unit]
            sheet.cell(sheet.max_row, 1).alignment = Alignment(wrap_text=True, vertical="top")
    widths = [48, 36, *([18] * len(table.columns)), 40]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"C{header + 1}"


def _value(figure: Figure) -> float | str:
    if figure.value is None:
        return NO_DATA
    return float(figure.value)  # Excel keeps doubles: exact enough for kopecks and tenths of a per cent


def _append(sheet: Worksheet, values: Sequence[object]) -> None:
    """Formula-like text apostrophed and every text cell typed as text (as service/figures/export.py)."""
    sheet.append(spreadsheet_row(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
