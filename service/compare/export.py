"""The comparison as an XLSX workbook: the table, the monthly series, the mailings and the survey. Pure.

Numbers are numbers; a figure without data is the text «нет данных»; every row goes through
service/xlsx_rows.py (names and notes come from imports).
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from service.compare.report import FIGURES, SEGMENTS, Comparison
from service.xlsx_rows import write_row

NO_DATA = "нет данных"


def _cell(value: Any) -> Any:
    return NO_DATA if value is None else float(value)


def compare_xlsx(found: Comparison, rows: Sequence[Any]) -> bytes:
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
    monthly = book.create_sheet("По месяцам")
    write_row(monthly, 1, ["Показатель", "Сегмент", *(f"{m:%m.%Y}" for m in found.months)])
    line = 2
    for figure in FIGURES:
        for segment in SEGMENTS:
            write_row(monthly, line, [figure.label, segment, *(_cell(v) for v in found.series[figure.key][segment])])
            line += 1
    mailings = book.create_sheet("Рассылки")
    write_row(mailings, 1, ["Вид рассылки", "Рассылок", "Доставлено", "Открытий, %", "Переходов, %"])
    for index, m in enumerate(found.mailings, start=2):
        write_row(mailings, index, [m.label, m.campaigns, m.delivered, _share(m.opened.value), _share(m.clicked.value)])
    survey = book.create_sheet("Опрос")
    write_row(survey, 1, [f"Респондентов: {found.respondents}"])
    write_row(survey, 2, ["Показатель", "Да, %", "Ответили"])
    for index, s in enumerate(found.survey, start=3):
        write_row(survey, index, [s.label, _share(s.share.value), s.share.whole])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _share(value: Any) -> Any:
    return NO_DATA if value is None else round(float(value) * 100, 1)
