"""Pure tests of the import cells, readers and validation (no database)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from service.imports import cells
from service.imports.headers import read_header
from service.imports.readers import CsvTable, XlsxTable, detect_delimiter, open_table
from service.imports.schemas import CLIENTS, CONTACTS, EXPERTS
from service.imports.validation import References, Validator, header_errors
from tests.service.importing import CSV_VARIANTS, DEPARTMENT, FORMATS, write_table


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-03-02", date(2026, 3, 2)), ("02.03.2026", date(2026, 3, 2)), ("2.3.2026", date(2026, 3, 2)),
    (" 2026-03-02 ", date(2026, 3, 2)), (datetime(2026, 3, 2, 0, 0), date(2026, 3, 2)),
    (date(2026, 3, 2), date(2026, 3, 2)),
])
def test_dates(raw: object, expected: date) -> None:
    assert cells.parse_date(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), [
    ("2026-02-30", "нет такой даты"), ("02/03/2026", "не дата"), ("03.2026", "не дата"),
    (46082, "не дата"),
])
def test_bad_dates(raw: object, reason: str) -> None:
    with pytest.raises(cells.CellError, match=reason):
        cells.parse_date(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    ("1", True), ("0", False), ("да", True), ("НЕТ", False), ("Да", True), ("TRUE", True),
    ("false", False), (True, True), (False, False), (1, True), (0, False), (1.0, True),
])
def test_booleans(raw: object, expected: bool) -> None:
    assert cells.parse_bool(raw) is expected


@pytest.mark.parametrize("raw", ["yes", "2", "д", "истина"])
def test_bad_booleans(raw: str) -> None:
    with pytest.raises(cells.CellError):
        cells.parse_bool(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    ("1 234,50", "1234.50"), ("1\u00a0234,5", "1234.50"), ("1234.5", "1234.50"), ("0", "0.00"),
    ("-12,30", "-12.30"), (4500, "4500.00"), (12.345, "12.35"), ("1\u202f000", "1000.00"),
])
def test_money(raw: object, expected: str) -> None:
    assert cells.money(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", ["1,234.50", "12,3,4", "abc", "NaN", "Infinity", True])
def test_bad_money(raw: object) -> None:
    with pytest.raises(cells.CellError):
        cells.money(raw)


# Found by schemathesis through the API's bulk upsert: an XLSX/JSON number like 1e166 made Decimal.quantize raise
# InvalidOperation (a 500, a crashed import), and 1e16 passed an unbounded integer check to fail the INSERT.
@pytest.mark.parametrize(("parse", "raw", "reason"), [
    (cells.money, 1.7976931348623157e308, "большое число"), (cells.money, -3.48e166, "большое число"),
    (cells.money, "1e15", "большое число"), (cells.money, 1e12, "большая сумма"),
    (cells.distance, 1e300, "большое число"), (cells.integer(0), 5.374e16, "большое число"),
    (cells.integer(), -(2**40), "большое число"),
])
def test_absurd_numbers_are_a_message_not_a_crash(parse: cells.Parser, raw: object, reason: str) -> None:
    with pytest.raises(cells.CellError, match="слишком " + reason):
        parse(raw)


def test_times_integers_and_text() -> None:
    assert cells.parse_time("9:05") == time(9, 5)
    assert cells.parse_time("17:30:15") == time(17, 30, 15)
    assert cells.parse_time(datetime(1899, 12, 30, 14, 0)) == time(14)
    with pytest.raises(cells.CellError, match="нет такого времени"):
        cells.parse_time("25:00")
    assert cells.integer(0)("1 000") == 1000 and cells.integer(0)(12.0) == 12
    with pytest.raises(cells.CellError, match="не меньше 1"):
        cells.integer(1, 366)("0")
    with pytest.raises(cells.CellError, match="не целое число"):
        cells.integer()("1.5")
    assert cells.text(" a\r\nb ") == "a\nb" and cells.text(7701234567.0) == "7701234567"


def test_phones_inn_zones_extensions() -> None:
    assert cells.phone("8 (911) 555-01-01") == ("8 (911) 555-01-01", "79115550101")
    assert cells.phone("+7 911 555 01 02; 8 912 000 00 00")[1] == "79115550102"
    assert cells.phone(79115550103) == ("79115550103", "79115550103")
    for bad in ("доб. 12", "1234", "1" * 16):
        with pytest.raises(cells.CellError):
            cells.phone(bad)
    assert cells.inn("7701234567") == "7701234567" and cells.inn(123456789) == "0123456789"
    with pytest.raises(cells.CellError):
        cells.inn("77012345")
    assert cells.timezone("Asia/Novosibirsk") == "Asia/Novosibirsk"
    with pytest.raises(cells.CellError, match="неизвестный часовой пояс"):
        cells.timezone("MSK")
    assert cells.extension(101) == "101"
    with pytest.raises(cells.CellError):
        cells.extension("1")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_back_the_same_rows(tmp_path: Path, fmt: str) -> None:
    path = write_table(tmp_path, "contacts", DEPARTMENT["contacts"], fmt)
    table = open_table(path, CONTACTS.names)
    header, rows = DEPARTMENT["contacts"]
    assert table.header == tuple(header)
    read = list(table.rows())
    assert [number for number, _ in read] == [2, 3, 4]
    assert [cells.text(r["full_name"]) for _, r in read] == [row[2] for row in rows]
    if fmt == "xlsx":
        assert isinstance(table, XlsxTable) and read[0][1]["call_from"] == time(9)
    else:
        encoding, delimiter = CSV_VARIANTS[fmt]
        read_as = {"utf-8": "utf-8-sig", "utf-8-sig": "utf-8-sig", "utf-16": "utf-16"}.get(encoding, "cp1251")
        assert isinstance(table, CsvTable) and (table.encoding, table.delimiter) == (read_as, delimiter)


def test_blank_rows_are_skipped_but_counted_and_multiline_cells_are_one_row(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text('login;full_name\nivanova;"Иванова\nМария"\n;\n\npetrov;Петров\n', encoding="utf-8")
    table = open_table(path, EXPERTS.names)
    assert [(n, r["login"]) for n, r in table.rows()] == [(2, "ivanova"), (5, "petrov")]


def test_the_delimiter_follows_the_known_column_names() -> None:
    # Commas inside the header names' neighbourhood must not fool it: `;` splits known names.
    assert detect_delimiter("external_id;name;inn\nC-1;Рога, копыта;1\n", CLIENTS.names) == ";"
    assert detect_delimiter("external_id,name\nC-1,\"a;b\"\n", CLIENTS.names) == ","
    assert detect_delimiter("a;b;c\n1;2;3\n4;5;6\n", CLIENTS.names) == ";"


def test_header_problems() -> None:
    header = read_header(CLIENTS, ("external_id", "name", "Наименование", "extra"))
    assert [(e.row, e.column, e.reason) for e in header_errors(CLIENTS, header)] == [
        (1, "segment", "нет обязательного столбца (подходят названия: «segment», «Сегмент», «Вид сопровождения»); "
                       "в файле столбцы: «external_id», «name», «Наименование», «extra»"),
        (1, "name", "столбец повторяется («name», «Наименование»): оставьте один")]


def test_validator_lists_cell_duplicate_and_reference_errors_of_one_row() -> None:
    validator = Validator(CLIENTS, References(experts=frozenset({"ivanova"})))
    good = {"external_id": "C-1", "name": "A", "segment": "ДС", "expert_login": "ivanova"}
    assert validator.check(2, good)[0].expert_login == "ivanova"
    record, errors = validator.check(3, {**good, "segment": "?", "expert_login": "petrov"})
    assert record is None
    assert [(e.column, e.reason) for e in errors] == [
        ("external_id", "повтор: такой же external_id в строке 2"), ("segment", "допустимо одно из: ДС, КС, VIP"),
        ("expert_login", "нет такого Эксперта")]


def test_experts_need_an_extension() -> None:
    record, errors = Validator(EXPERTS, References()).check(2, {"login": "a", "full_name": "A"})
    assert record is None and [(e.column, e.reason) for e in errors] == [
        ("extension", "обязателен для роли «эксперт» (внутренний номер Эксперта на АТС)")]
    record, errors = Validator(EXPERTS, References()).check(
        2, {"login": "a", "full_name": "A", "role": "Supervisor"})
    assert errors == [] and record.role == "supervisor" and record.extension is None
