"""The monthly reports as an XLSX workbook: one sheet per report, numbers as numbers. Pure.

Columns: the presentation's row, the figure, then one column per person and the department's.
Counts are whole numbers, shares 0.0 %, money #,##0.00 ₽; a figure without data is the text
«нет данных». Names come from the CRM import: every row goes through service/xlsx_rows.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from service.month.report import EXPERT_TITLE, Figure, Table, Unit
from service.xlsx_rows import write_row

# «0.##» showed a whole count as «30,» in Excel (found trying it): whole counts get «#,##0».
FORMATS = {Unit.COUNT: "#,##0", Unit.SHARE: "0.0%", Unit.RUB: '#,##0.00 "₽"'}
FRACTION_COUNT = "#,##0.00"  # an imported plan with a fraction
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
        write_row(first, 1, [f"Нет Экспертов и ПМ по ДС за {period_title}"])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _table_sheet(sheet: Worksheet, table: Table, period_title: str, generated_at: datetime) -> None:
    write_row(sheet, 1, [f"{table.title}: {period_title}"])[0].font = Font(bold=True, size=12)
    write_row(sheet, 2, [f"Сформирован {generated_at:%d.%m.%Y %H:%M}"])
    header = 3
    titles = ["Параметр отчета", "Показатель", *(c.title for c in table.columns), "Откуда"]
    for cell in write_row(sheet, header, titles):
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    row_number = header
    for row in table.rows:
        for n, line in enumerate(row.lines):
            row_number += 1
            values = [row.title if n == 0 else None, line.label, *(_value(f) for f in line.cells),
                      row.source if n == 0 else None]
            cells = write_row(sheet, row_number, values)
            for cell, figure in zip(cells[2:], line.cells, strict=False):
                if figure.value is not None:
                    whole = figure.value == figure.value.to_integral_value()
                    cell.number_format = FORMATS[figure.unit] if whole or figure.unit is not Unit.COUNT \
                        else FRACTION_COUNT
            cells[0].alignment = Alignment(wrap_text=True, vertical="top")
    widths = [48, 36, *([18] * len(table.columns)), 40]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"C{header + 1}"


def _value(figure: Figure) -> float | str:
    if figure.value is None:
        return NO_DATA
    return float(figure.value)  # Excel keeps doubles: exact enough for kopecks and tenths of a per cent
