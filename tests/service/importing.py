"""Test helpers for imports: a small department as rows, written as CSV or XLSX in any variant."""

from __future__ import annotations

import csv
import re
from datetime import date, time
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"
Table = tuple[list[str], list[list[str]]]  # header, rows (cells as text)

# (encoding, delimiter) per CSV variant; "xlsx" writes typed cells (dates, numbers, times).
CSV_VARIANTS = {
    "csv-utf8-comma": ("utf-8", ","),
    "csv-utf8bom-semicolon": ("utf-8-sig", ";"),
    "csv-cp1251-semicolon": ("cp1251", ";"),
    "csv-cp1251-comma": ("cp1251", ","),
    "csv-utf16-tab": ("utf-16", "\t"),  # Excel's «Текст в Юникоде»: a BOM, then UTF-16 LE, tabs, CRLF
}
FORMATS = (*CSV_VARIANTS, "xlsx")
KINDS_IN_ORDER = ("experts", "clients", "contacts", "history", "signals", "absences")

DEPARTMENT: dict[str, Table] = {
    "experts": (
        ["login", "full_name", "role", "extension", "timezone", "daily_target"],
        [["ivanova", "Иванова Мария Сергеевна", "expert", "101", "Europe/Moscow", "16"],
         ["petrov", "Петров Павел Андреевич", "Expert", "102", "Asia/Novosibirsk", ""],
         ["smirnova", "Смирнова Анна Викторовна", "supervisor", "", "", ""]],
    ),
    "clients": (
        # Order differs from the documentation and there is an extra column: both are allowed.
        ["name", "external_id", "segment", "expert_login", "inn", "territory", "timezone", "version",
         "online_last_login", "online_logins_30d", "debt_rub", "prepaid_months", "terms_end",
         "ds_since", "contact_every_days", "manager"],
        [["ООО «Ромашка»", "C-501", "ДС", "ivanova", "7701234567", "БГ", "Europe/Moscow", "online",
          "15.02.2026", "12", "1 234,50", "3", "2026-04-30", "2024-09-01", "14", "Орлова"],
         ["АО «Вектор»", "C-502", "VIP", "petrov", "", "УТ", "", "internet_update",
          "", "", "0", "", "", "15.01.2025", "", ""]],
    ),
    "contacts": (
        ["external_id", "client_external_id", "full_name", "position", "phone", "email", "is_user",
         "call_from", "call_to"],
        [["K-1001", "C-501", "Иванова Ольга Петровна", "главный бухгалтер", "8 (911) 555-01-01",
          "o.ivanova@romashka.ru", "да", "09:00", "12:00"],
         ["K-1002", "C-501", "Соколов Андрей Михайлович", "юрист", "+7 911 555-01-02", "", "НЕТ", "", ""],
         ["K-1003", "C-502", "Лебедева Наталья Сергеевна", "", "79115550103", "", "true", "14:00", "17:30"]],
    ),
    "history": (
        ["client_external_id", "contact_external_id", "date", "result", "topic", "comment"],
        [["C-501", "K-1001", "12.01.2026", "contact_made", "Обзор новостей", "Показала поиск; просила семинар"],
         ["C-501", "K-1001", "2026-02-10", "not_reached", "", ""],
         ["C-502", "", "2026-02-11", "contact_made", "Продление финансовых условий", ""]],
    ),
    "signals": (
        ["client_external_id", "contact_external_id", "kind", "occurred_on", "note"],
        [["C-501", "K-1001", "hotline_request", "2026-02-12", "Вопрос по поиску"],
         ["C-502", "", "new_user", "13.02.2026", ""]],
    ),
    "absences": (
        ["login", "from", "to"],
        [["ivanova", "2026-03-10", "2026-03-12"], ["petrov", "01.04.2026", "01.04.2026"]],
    ),
}

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_RU = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})")
_TIME = re.compile(r"(\d{2}):(\d{2})")


def write_table(directory: Path, name: str, table: Table, fmt: str) -> Path:
    """The table as a file in `fmt` (one of FORMATS); returns its path."""
    header, rows = table
    if fmt == "xlsx":
        return _write_xlsx(directory / f"{name}.xlsx", header, rows)
    encoding, delimiter = CSV_VARIANTS[fmt]
    path = directory / f"{name}.csv"
    with path.open("w", encoding=encoding, newline="") as file:
        writer = csv.writer(file, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _write_xlsx(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new workbook opens on its one worksheet
    sheet.append(header)
    for row in rows:
        sheet.append([xlsx_cell(value) for value in row])
    workbook.save(path)
    return path


def xlsx_cell(value: str) -> object:
    """What a spreadsheet user would have typed: real dates, times and numbers, not text."""
    if not value:
        return None
    if _ISO.fullmatch(value):
        return date.fromisoformat(value)
    if ru := _RU.fullmatch(value):
        return date(int(ru[3]), int(ru[2]), int(ru[1]))
    if t := _TIME.fullmatch(value):
        return time(int(t[1]), int(t[2]))
    if value.isdigit() and not value.startswith("0") and len(value) <= 12:
        return int(value)
    return value
