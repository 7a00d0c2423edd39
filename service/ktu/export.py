"""The payroll's XLSX of a month's КТУ (docs/ktu.md «XLSX»): one row per person, numbers as numbers. Pure.

КТУ points and the rate are numeric cells, the money a numeric cell with two decimals; names come
from the CRM import, so every row goes through service/xlsx_rows.py (no text becomes a formula).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from io import BytesIO
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from service.ktu.sheets import PersonSheet
from service.month.kinds import month_label
from service.xlsx_rows import CellValue, write_row

HEADER = ("ФИО", "Логин", "Роль", "Месяц", "КТУ", "Стоимость 0,1 КТУ, ₽", "Сумма, ₽", "Состояние", "Версия",
          "Утвердил", "Утверждено")
POINTS_FORMAT = "0.00#"
MONEY_FORMAT = "#,##0.00"
DATE_TIME_FORMAT = "DD.MM.YYYY HH:MM"
WIDTHS = (36, 14, 16, 14, 8, 14, 14, 14, 8, 20, 18)


def ktu_xlsx(sheets: Sequence[PersonSheet], month: date, tz: ZoneInfo) -> bytes:
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)  # a new workbook opens on the worksheet it starts with
    sheet.title = "КТУ"
    for cell in write_row(sheet, 1, list(HEADER)):
        cell.font = Font(bold=True)
    for row, person in enumerate(sheets, start=2):
        cells = write_row(sheet, row, _row(person, month, tz))
        cells[4].number_format = POINTS_FORMAT
        cells[5].number_format = MONEY_FORMAT
        cells[6].number_format = MONEY_FORMAT
        cells[10].number_format = DATE_TIME_FORMAT
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _row(person: PersonSheet, month: date, tz: ZoneInfo) -> list[CellValue]:
    latest = person.latest
    sheet = latest.sheet
    # Excel keeps doubles: exact for tenths of КТУ and kopecks at these sizes.
    numbers: list[CellValue] = ([float(sheet.points), float(sheet.rub_per_0_1), float(sheet.money)]
                             if sheet is not None else [None, None, None])
    # A date cell in the organisation's time (Excel has no zones), not text (found trying it).
    approved_at = latest.approved_at.astimezone(tz).replace(tzinfo=None) if latest.approved_at else None
    return [person.person.full_name, person.person.login, person.role.label, month_label(month), *numbers,
            latest.state.label, latest.number, latest.approved_by, approved_at]
