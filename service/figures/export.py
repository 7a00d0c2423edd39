"""A figures report as an XLSX workbook: Russian headers, numbers as numbers, dates as dates. Pure.

One sheet per table; the header row is frozen; off-target figures are filled the way the page
colours them. Durations are Excel times (fractions of a day, so Excel can sum them): a call's shown as
[m]:ss, a time in state as [h]:mm:ss; shares as 0.0 %. Names come from the
CRM import: every row goes through `_append`, so no text becomes a formula (exports_safety).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from service.exports_safety import spreadsheet_row
from service.figures.compute import ratio
from service.figures.funnel import STAGES
from service.figures.model import FigureRow, Status, Totals
from service.figures.report import FiguresReport, show_target
from texts.labels import FIGURE_STATUS_LABELS, PERIOD_LABELS, TRANSITION_LABELS

INT, DECIMAL, PERCENT, MINUTES, DATE = "0", "0.0", "0.0%", "[m]:ss", "DD.MM.YYYY"
# A time in state runs to hours: [m]:ss would show 67:26, which an office worker reads as 67 hours.
HOURS = "[h]:mm:ss"
SECONDS_PER_DAY = 86400
_FILLS = {Status.LOW: PatternFill("solid", fgColor="F8D7D7"), Status.HIGH: PatternFill("solid", fgColor="FFF0C2"),
          Status.OK: PatternFill("solid", fgColor="DCF2E3")}
Column = tuple[str, str | None, int]  # header, number format (None: text), width


@dataclass(frozen=True, slots=True)
class ExtraSheet:
    """A table another area adds to the report (coaching's call scores), written like the report's own."""

    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]


def report_xlsx(report: FiguresReport, generated_at: datetime, extras: Sequence[ExtraSheet] = ()) -> bytes:
    """The workbook's bytes; `generated_at` is shown in the organisation's time (naive: Excel has no zones)."""
    book = Workbook()
    first = book.active
    assert isinstance(first, Worksheet)  # a new workbook opens on the worksheet it starts with
    _figures_sheet(first, report)
    _experts_sheet(book.create_sheet("По экспертам"), report)
    _daily_sheet(book.create_sheet("По дням"), report)
    _times_sheet(book.create_sheet("Время"), report)
    if report.funnel is not None:
        _funnel_sheet(book.create_sheet("Переход на ДС"), report)
    _shares_sheet(book.create_sheet("Инфоповоды"), "Инфоповод", report.topics)
    _shares_sheet(book.create_sheet("Исходы"), "Исход звонка", report.outcomes)
    if report.pacing_lines:
        _pacing_sheet(book.create_sheet("Темп"), report)
    for extra in extras:
        _sheet(book.create_sheet(extra.title), extra.columns, extra.rows)
    _about_sheet(book.create_sheet("Параметры"), report, generated_at)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_name(report: FiguresReport) -> str:
    """An ASCII file name (the Russian one goes into the Content-Disposition filename*)."""
    return f"figures-{report.scope.kind.value}-{report.period.kind.value}-{report.period.first.isoformat()}.xlsx"


def _sheet(sheet: Worksheet, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> None:
    _append(sheet, [header for header, _, _ in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for values in rows:
        _append(sheet, values)
    for index, (_, number_format, width) in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = width
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
    sheet.freeze_panes = "A2"


def _append(sheet: Worksheet, values: Sequence[Any]) -> None:
    """The one way a row gets into a sheet: formula-like text apostrophed, every text cell typed as text.

    openpyxl makes any string starting with `=` a formula; after the apostrophe none does, and
    the explicit type keeps it so should the rule in exports_safety ever change.
    """
    sheet.append(spreadsheet_row(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _value(row: FigureRow, value: float | None) -> float | None:
    """Seconds become an Excel time (a fraction of a day); everything else stays as computed."""
    if value is None:
        return None
    return value / SECONDS_PER_DAY if row.kind == "seconds" else value


def _format(row: FigureRow) -> str:
    return {"seconds": MINUTES, "share": PERCENT, "rate": DECIMAL}.get(row.kind, INT)


def _figures_sheet(sheet: Worksheet, report: FiguresReport) -> None:
    sheet.title = "Показатели"
    columns: list[Column] = [("Показатель", None, 40), ("За период", None, 14),
                             ("В день на Эксперта", DECIMAL, 14), ("Цель", None, 16), ("Оценка", None, 14)]
    rows = [[r.label, _value(r, r.total), r.per_day, show_target(r.target, r.kind), FIGURE_STATUS_LABELS[r.status]]
            for r in report.rows]
    _sheet(sheet, columns, rows)
    for index, row in enumerate(report.rows, start=2):
        sheet.cell(index, 2).number_format = _format(row)
        if row.status in _FILLS:
            sheet.cell(index, 5).fill = _FILLS[row.status]


# (figure key, "total" | "per_day"): the columns of the per-Expert sheet after the Expert's own.
EXPERT_VALUES = (("planned", "total"), ("planned", "per_day"), ("finished", "total"), ("made", "total"),
                 ("calls_per_day", "total"), ("contacts", "total"), ("productive", "total"),
                 ("productive", "per_day"), ("unplanned", "total"), ("avg_productive", "total"),
                 ("login_share", "total"))
_OWN_COLUMNS: list[Column] = [("Эксперт", None, 30), ("Логин", None, 12), ("Доб.", None, 8), ("Группа", None, 14),
                              ("Рабочих дней", INT, 10)]


def _experts_sheet(sheet: Worksheet, report: FiguresReport) -> None:
    sample = {r.key: r for r in report.rows}
    columns = _OWN_COLUMNS + [
        (f"{sample[key].label} в день" if which == "per_day" else sample[key].label,
         DECIMAL if which == "per_day" else _format(sample[key]), 16) for key, which in EXPERT_VALUES]
    rows = []
    for line in report.breakdown:
        e = line.expert
        values = [_value(line.rows[key], getattr(line.rows[key], which)) for key, which in EXPERT_VALUES]
        rows.append([e.full_name, e.login, e.extension, e.group_name, line.totals.expert_days, *values])
    _sheet(sheet, columns, rows)
    for index, line in enumerate(report.breakdown, start=2):
        for offset, (key, which) in enumerate(EXPERT_VALUES, start=len(_OWN_COLUMNS) + 1):
            row = line.rows[key]
            compared = row.target is not None and row.target.per_day == (which == "per_day")
            if compared and row.status in (Status.LOW, Status.HIGH):
                sheet.cell(index, offset).fill = _FILLS[row.status]


def _daily_sheet(sheet: Worksheet, report: FiguresReport) -> None:
    columns: list[Column] = [
        ("Дата", DATE, 12), ("Эксперто-дней", INT, 12), ("Плановые звонки", INT, 12), ("Выполнено плановых", INT, 12),
        ("Сделано звонков", INT, 12), ("Контакт состоялся", INT, 12), ("Результативные", INT, 14),
        ("Внеплановые звонки", INT, 12), ("Средняя длительность результативного", MINUTES, 16),
        ("Доля контактов с заходом в систему", PERCENT, 16),
        ("Из контактов заход измерен по статистике", INT, 16), ("Расхождения статистики с отметкой", INT, 16)]
    _sheet(sheet, columns, [_daily_row(day, t) for day, t in report.daily])


def _times_sheet(sheet: Worksheet, report: FiguresReport) -> None:
    """Time in state per Expert-day (the page shows it per Expert per day, or per day for one Expert)."""
    columns: list[Column] = [
        ("Эксперт", None, 28), ("Логин", None, 12), ("Дата", DATE, 12), ("В разговоре, ч:мм:сс", HOURS, 13),
        ("На звонках (с набором), ч:мм:сс", HOURS, 15), ("В итогах, ч:мм:сс", HOURS, 13),
        ("На паузе, ч:мм:сс", HOURS, 13), ("Паузы по причинам", None, 40)]
    _sheet(sheet, columns, [
        [line.expert.full_name, line.expert.login, line.day, line.talk_s / SECONDS_PER_DAY,
         line.on_call_s / SECONDS_PER_DAY, line.wrapup_s / SECONDS_PER_DAY, line.pause_s / SECONDS_PER_DAY,
         line.pause_reasons_text] for line in report.day_times])


def _funnel_sheet(sheet: Worksheet, report: FiguresReport) -> None:
    """The funnel (the scope, then each Expert), the refusals by reason, the ДС portfolio now."""
    columns: list[Column] = [("Кто", None, 28), *[(TRANSITION_LABELS[s], INT, 12) for s in STAGES],
                             ("Конверсия (переведено ÷ предложено)", PERCENT, 16)]
    lines = [(report.title, report.funnel), *[(line.expert.full_name if line.expert else "", line)
                                              for line in report.funnel_lines]]
    _sheet(sheet, columns, [[who, *[f.reached[s] for s in STAGES], f.conversion] for who, f in lines if f])
    if report.funnel and report.funnel.declined_by_reason:
        _append(sheet, [])
        _append(sheet, ["Отказы по причинам"])
        for reason, n in report.funnel.declined_by_reason.items():
            _append(sheet, [reason, n])
    p = report.portfolio
    if p is not None:
        _append(sheet, [])
        for label, value in (("Клиентов на ДС", p.clients), ("Из них онлайн", p.online),
                             ("Доля онлайн", p.online_share), ("Пользователей", p.users),
                             ("Пользуются сервисами", p.with_services), ("На предоплате", p.prepaid)):
            _append(sheet, [label, value])
        sheet.cell(sheet.max_row - 3, 2).number_format = PERCENT


def _daily_row(day: date, t: Totals) -> list[Any]:
    average = ratio(t.productive_talk_s, t.productive)
    return [day, t.expert_days, t.planned, t.finished, t.made, t.contacts, t.productive, t.unplanned,
            None if average is None else average / SECONDS_PER_DAY, ratio(t.logged_in, t.contacts),
            t.login_measured, t.login_disagree]


def _shares_sheet(sheet: Worksheet, title: str, shares: Sequence[Any]) -> None:
    columns: list[Column] = [(title, None, 40), ("Звонков", INT, 10), ("Доля", PERCENT, 10)]
    _sheet(sheet, columns, [[s.label, s.count, s.share] for s in shares])


def _pacing_sheet(sheet: Worksheet, report: FiguresReport) -> None:
    columns: list[Column] = [("Эксперт", None, 30), ("Должно быть сделано к этому часу", INT, 16),
                             ("Выполнено", INT, 12), ("Отстаёт на", INT, 12), ("Темп", None, 34)]
    _sheet(sheet, columns, [[line.expert.full_name, line.pacing.due, line.pacing.finished, line.pacing.behind,
                             line.pacing.text] for line in report.pacing_lines])


def _about_sheet(sheet: Worksheet, report: FiguresReport, generated_at: datetime) -> None:
    columns: list[Column] = [("Параметр", None, 24), ("Значение", None, 30)]
    _sheet(sheet, columns, [
        ["Срез", report.title], ["Период", PERIOD_LABELS[report.period.kind]],
        ["С", report.period.first], ["По", report.period.last],
        ["Сформирован", generated_at.replace(tzinfo=None, microsecond=0)],
        ["Заход в систему", report.login.text if report.login else "по отметке эксперта"],
    ])
    for row in (4, 5):
        sheet.cell(row, 2).number_format = DATE
    sheet.cell(6, 2).number_format = "DD.MM.YYYY HH:MM"
