"""The comparison as an XLSX workbook: the table, the monthly series, the mailings and the survey. Pure.

Numbers are numbers; a figure without data is the text «нет данных»; every row goes through
service/xlsx_rows.py (names and notes come from imports).
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from service.compare.report import FIGURES, SEGMENTS, Comparison
from service.xlsx_rows import write_row

NO_DATA = "нет данных"


def _cell(value: Any) -> Any:
    return NO_DATA if value is None else float(value)


def compare_xlsx(found: Comparison, rows: Sequence[Any], churned: Sequence[tuple[Any, ...]] = ()) -> bytes:
    book = Workbook()
    table = book.active
    assert isinstance(table, Worksheet)  # a new workbook opens on its one worksheet
    table.title = "Сравнение"
    period = f"{found.period.first:%d.%m.%Y}–{found.period.last:%d.%m.%Y}"
    write_row(table, 1, [f"Сравнение ДС и КС за {period}"])
    write_row(table, 2, ["Показатель", "Единица", "ДС", "КС", "Разница (ДС − КС)", "ДС: из", "КС: из", "Определение"])
    for index, row in enumerate(rows, start=3):
        ds, ks = found.table[row.figure.key]["ДС"], found.table[row.figure.key]["КС"]
        difference = None if ds.value is None or ks.value is None else ds.value - ks.value
        write_row(table, index, [row.figure.label, row.figure.unit, _cell(ds.value), _cell(ks.value), _cell(difference),
                                 row.ds_detail, row.ks_detail, row.figure.definition])
    _layout(table, (34, 12, 10, 10, 16, 12, 12, 80), "A3")
    monthly = book.create_sheet("По месяцам")
    write_row(monthly, 1, ["Показатель", "Единица", "Сегмент", *(f"{m:%m.%Y}" for m in found.months)])
    line = 2
    for figure in FIGURES:
        for segment in SEGMENTS:
            write_row(monthly, line, [figure.label, figure.unit, segment,
                                      *(_cell(v) for v in found.series[figure.key][segment])])
            line += 1
    _layout(monthly, (34, 12, 8, *([10] * len(found.months))), "D2")
    mailings = book.create_sheet("Рассылки")
    write_row(mailings, 1, ["Вид рассылки", "Рассылок", "Доставлено", "Открытий, %", "Переходов, %"])
    for index, m in enumerate(found.mailings, start=2):
        write_row(mailings, index, [m.label, m.campaigns, m.delivered, _share(m.opened.value), _share(m.clicked.value)])
    survey = book.create_sheet("Опрос")
    write_row(survey, 1, [f"Респондентов: {found.respondents}"])
    write_row(survey, 2, ["Показатель", "Доля, %", "Ответили"])
    for index, s in enumerate(found.survey, start=3):
        write_row(survey, index, [s.label, _share(s.share.value), s.share.whole])
    _layout(mailings, (28, 10, 12, 14, 14), "A2")
    _layout(survey, (60, 10, 10), "A3")
    lost = book.create_sheet("Ушли")
    write_row(lost, 1, ["Дата", "Код клиента", "Клиент", "Событие", "Примечание"])
    for index, (code, name, day, kind, note) in enumerate(churned, start=2):
        write_row(lost, index, [day.strftime("%d.%m.%Y"), code, name,
                                "Уход к конкуренту" if kind == "competitor_lost" else "Отключение", note or ""])
    _layout(lost, (12, 14, 40, 20, 40), "A2")
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _layout(sheet: Worksheet, widths: Sequence[int], frozen: str) -> None:
    """Column widths and the header rows frozen (found trying it: a sheet of default 8-character columns)."""
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = frozen


def _share(value: Any) -> Any:
    return NO_DATA if value is None else round(float(value) * 100, 1)
