"""Russian CRM exports: columns named in Russian, Windows-1251 and Excel's UTF-16 «Текст в Юникоде», and
every message a person reads about a bad file or row in Russian, naming the row, the column as the file
names it, the value and the reason (real files through the real import, SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from service.db import models as m
from service.db.engine import SessionMaker
from service.db.records import Counts
from service.imports.aliases import ALIASES, normalise
from service.imports.errors import FileFormatError, RowsRejected
from service.imports.headers import accepted_names, all_names, read_header
from service.imports.readers import detect_delimiter, open_table
from service.imports.runner import import_file, import_rows
from service.imports.schemas import CLIENTS, KINDS, schema_for
from tests.service.importing import DEPARTMENT, Table, write_table
from tests.service.test_import_errors import REPO, run_cli

# As a CRM export names them, in any case and spacing, with an extra column nobody imports.
CLIENTS_RU: Table = (
    ["Код", "Наименование", "ИНН:", "сегмент", "Эксперт", "Часовой_пояс", "Долг, руб.", "Окончание условий",
     "Менеджер"],
    [["C-501", "ООО «Ромашка»", "7701234567", "ДС", "ivanova", "Europe/Moscow", "1 234,50", "30.04.2026", "Орлова"],
     ["C-502", "АО «Вектор»", "", "VIP", "petrov", "", "0", "", ""]],
)
CONTACTS_RU: Table = (
    ["Код", "Код клиента", "ФИО", "Должность", "Телефон", "E-mail", "Пользователь", "Звонить с", "Звонить до"],
    [["K-1001", "C-501", "Иванова Ольга Петровна", "главный бухгалтер", "8 (911) 555-01-01",
      "o.ivanova@romashka.ru", "да", "09:00", "12:00"],
     ["K-1002", "C-501", "Соколов Андрей Михайлович", "юрист", "+7 911 555-01-02", "", "нет", "", ""]],
)


@pytest.fixture
async def experts(db_sessions: SessionMaker) -> SessionMaker:
    header, rows = DEPARTMENT["experts"]
    await import_rows("experts", [dict(zip(header, row, strict=True)) for row in rows], db_sessions)
    return db_sessions


@pytest.fixture
async def with_clients(experts: SessionMaker) -> SessionMaker:
    header, rows = DEPARTMENT["clients"]
    await import_rows("clients", [dict(zip(header, row, strict=True)) for row in rows], experts)
    return experts


@pytest.mark.parametrize("fmt", ["csv-cp1251-semicolon", "csv-utf16-tab", "xlsx"])
async def test_clients_with_russian_column_names(experts: SessionMaker, tmp_path: Path, fmt: str) -> None:
    path = write_table(tmp_path, "clients", CLIENTS_RU, fmt)
    assert (await import_file("clients", path, experts, progress=False)).counts == Counts(new=2)
    async with experts() as session:
        stored = {c.external_id: c for c in await session.scalars(select(m.Client))}
        ivanova = await session.scalar(select(m.Expert.id).where(m.Expert.login == "ivanova"))
    romashka = stored["C-501"]
    assert (romashka.name, romashka.inn, romashka.segment, romashka.expert_id, romashka.timezone) == (
        "ООО «Ромашка»", "7701234567", "ДС", ivanova, "Europe/Moscow")
    assert (romashka.debt_rub, romashka.terms_end) == (Decimal("1234.50"), date(2026, 4, 30))
    assert stored["C-502"].segment == "VIP" and stored["C-502"].inn is None
    again = await import_file("clients", path, experts, progress=False)
    assert again.counts == Counts(unchanged=2)


@pytest.mark.parametrize("fmt", ["csv-utf8bom-semicolon", "csv-utf16-tab"])
async def test_contacts_with_russian_column_names(with_clients: SessionMaker, tmp_path: Path, fmt: str) -> None:
    path = write_table(tmp_path, "contacts", CONTACTS_RU, fmt)
    assert (await import_file("contacts", path, with_clients, progress=False)).counts == Counts(new=2)
    async with with_clients() as session:
        olga = await session.scalar(select(m.ClientContact).where(m.ClientContact.external_id == "K-1001"))
    assert olga is not None
    assert (olga.full_name, olga.position, olga.phone_e164, olga.email, olga.is_user, olga.call_from,
            olga.call_to) == ("Иванова Ольга Петровна", "главный бухгалтер", "79115550101",
                              "o.ivanova@romashka.ru", True, time(9), time(12))


async def test_excels_unicode_text_with_tabs_and_a_cell_of_two_lines(with_clients: SessionMaker,
                                                                     tmp_path: Path) -> None:
    """What Excel writes for «Текст в Юникоде»: a BOM, UTF-16 LE, tabs, CRLF; a cell with a line break
    or a tab quoted."""
    text = ("Код клиента\tДата\tРезультат\tКомментарий\r\n"
            'C-501\t12.01.2026\tcontact_made\t"Показала поиск\r\nпопросила\tсеминар"\r\n'
            "C-502\t2026-02-11\tnot_reached\t\r\n")
    path = tmp_path / "history.txt"
    path.write_bytes(("\ufeff" + text).encode("utf-16-le"))
    assert (await import_file("history", path, with_clients, progress=False)).counts == Counts(new=2)
    async with with_clients() as session:
        comments = (await session.scalars(select(m.HistoryEntry.comment).order_by(m.HistoryEntry.date))).all()
    assert comments == ["Показала поиск\nпопросила\tсеминар", None]


async def test_a_missing_column_names_the_accepted_names_and_the_files_own(experts: SessionMaker,
                                                                          tmp_path: Path) -> None:
    header, rows = CLIENTS_RU
    without_segment = ([h for h in header if h != "сегмент"], [[c for h, c in zip(header, row, strict=True)
                                                                 if h != "сегмент"] for row in rows])
    path = write_table(tmp_path, "clients", without_segment, "csv-cp1251-semicolon")
    with pytest.raises(RowsRejected) as raised:
        await import_file("clients", path, experts, progress=False)
    assert [str(e) for e in raised.value.errors] == [
        "строка 1, столбец «segment»: нет обязательного столбца (подходят названия: «segment», «Сегмент», "
        "«Вид сопровождения»); в файле столбцы: «Код», «Наименование», «ИНН:», «Эксперт», «Часовой_пояс», "
        "«Долг, руб.», «Окончание условий», «Менеджер»"]


async def test_a_wrong_delimiter_shows_as_one_long_column_name(experts: SessionMaker, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("Код|Наименование|Сегмент\nC-1|Альфа|ДС\n", encoding="utf-8")
    with pytest.raises(RowsRejected) as raised:
        await import_file("clients", path, experts, progress=False)
    assert str(raised.value.errors[0]).endswith("в файле столбцы: «Код|Наименование|Сегмент»")


async def test_a_column_named_twice_by_an_alias(experts: SessionMaker, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("external_id;Наименование;Сегмент;Код\nC-1;Альфа;ДС;C-1\n", encoding="utf-8")
    with pytest.raises(RowsRejected) as raised:
        await import_file("clients", path, experts, progress=False)
    assert [str(e) for e in raised.value.errors] == [
        "строка 1, столбец «external_id»: столбец повторяется («external_id», «Код»): оставьте один"]


BAD_CLIENTS: Table = (
    ["Код", "Наименование", "Сегмент", "Эксперт", "Долг, руб.", "Окончание условий"],
    [["C-601", "Альфа", "ДС", "", "12,3,4", "31.02.2026"],
     ["C-602", "Бета", "ХЗ", "sidorov", "", "2026-03-01"]],
)
BAD_CLIENT_LINES = [
    "строка 2, столбец «Долг, руб.» (debt_rub), значение «12,3,4»: не число",
    "строка 2, столбец «Окончание условий» (terms_end), значение «31.02.2026»: нет такой даты",
    "строка 3, столбец «Сегмент» (segment), значение «ХЗ»: допустимо одно из: ДС, КС, VIP",
    "строка 3, столбец «Эксперт» (expert_login), значение «sidorov»: нет такого Эксперта",
]


async def test_bad_cells_are_named_by_row_column_and_value(experts: SessionMaker, tmp_path: Path) -> None:
    path = write_table(tmp_path, "clients", BAD_CLIENTS, "csv-utf16-tab")
    with pytest.raises(RowsRejected) as raised:
        await import_file("clients", path, experts, progress=False)
    assert [str(e) for e in raised.value.errors] == BAD_CLIENT_LINES
    async with experts() as session:
        assert (await session.scalars(select(m.Client))).all() == []


async def test_a_bad_login_moment_names_its_russian_column(with_clients: SessionMaker, tmp_path: Path) -> None:
    path = tmp_path / "logins.csv"
    path.write_text("Код клиента;Начало сеанса;Конец сеанса\nC-501;31.02.2026 10:00;\n", encoding="cp1251")
    with pytest.raises(RowsRejected) as raised:
        await import_file("logins", path, with_clients, progress=False)
    assert [str(e) for e in raised.value.errors] == [
        "строка 2, столбец «Начало сеанса» (started_at), значение «31.02.2026 10:00»: нет такой даты или времени"]


async def test_the_cli_reports_in_russian(experts: SessionMaker, migrated_db: str, tmp_path: Path) -> None:
    bad = write_table(tmp_path, "bad", BAD_CLIENTS, "csv-cp1251-semicolon")
    result = run_cli("import", "clients", str(bad), url=migrated_db)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [f"dsdesk import clients: {bad}: ошибок: 4; ничего не импортировано",
                                          *(f"  {line}" for line in BAD_CLIENT_LINES)]
    good = write_table(tmp_path, "clients", CLIENTS_RU, "csv-utf16-tab")
    result = run_cli("import", "clients", str(good), url=migrated_db)
    assert (result.returncode, result.stdout) == (
        0, "clients: импортировано строк: 2 (новых 2, изменённых 0, без изменений 0)\n"), result.stderr
    junk = tmp_path / "clients.csv"
    junk.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    result = run_cli("import", "clients", str(junk), url=migrated_db)
    assert (result.returncode, result.stderr) == (
        2, f"dsdesk import clients: {junk}: это не таблица, а документ PDF: сохраните таблицу как «CSV UTF-8» "
           f"или книгу Excel (.xlsx)\n")


@pytest.mark.parametrize(("content", "message"), [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "это не таблица, а документ PDF"),
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "это не таблица, а архив gzip"),
    (b"\r\n<!DOCTYPE html><html><table><tr><td>\xca\xee\xe4</td></tr></table>", "это не таблица, а страница HTML"),
    ("external_id;name;segment\n".encode("utf-32"), "файл в кодировке UTF-32"),
    (bytes(range(256)) * 4, r"это не текст, а двоичные данные \(12 % первых байтов — управляющие; "
                            r"первые байты: 00 01 02 03 04 05 06 07\)"),
    ("Код;Наименование;Сегмент\n".encode("utf-16-be"), r"UTF-16 \(BE\) без метки порядка байтов"),
    ("\ufeffКод;Наименование\n".encode("utf-16-le") + b"\x00", "начинается с метки UTF-16, но дальше не текст"),
])
def test_what_is_no_text_table_is_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(content)
    with pytest.raises(FileFormatError, match=message):
        open_table(path, all_names(CLIENTS))


def test_a_file_that_cannot_be_opened_says_why_in_russian(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="^файл не читается: такого файла нет$"):
        open_table(tmp_path / "nothing.csv", ["login"])
    with pytest.raises(FileFormatError, match="^файл не читается: это папка, а не файл$"):
        open_table(tmp_path, ["login"])


def test_the_delimiter_is_found_by_russian_names_too() -> None:
    names = all_names(CLIENTS)
    assert detect_delimiter("Код\tНаименование\tСегмент\nC-1\tРога, копыта; и Ко\tДС\n", names) == "\t"
    assert detect_delimiter("Код;Наименование, полное;Сегмент\nC-1;А;ДС\n", names) == ";"
    assert detect_delimiter("Код,Наименование,Сегмент\nC-1,А;Б,ДС\n", names) == ","
    assert detect_delimiter("a\tb\tc\n1\t2\t3\n", names) == "\t"  # no known names: the data decides


def test_names_compare_without_case_spacing_yo_or_a_bom() -> None:
    assert normalise("\ufeff  Учётная_запись: ") == normalise("учетная   запись") == "учетная запись"
    assert normalise("Ф.И.О.") == "ф.и.о" and normalise("E-MAIL") == normalise("e-mail")
    assert normalise("Наименование*") == "наименование"


def test_an_experts_file_may_give_the_name_in_russian_parts() -> None:
    header = read_header(schema_for("experts"), ["Логин", "Фамилия", "Имя", "Отчество", "Роль", "Внутренний номер",
                                                 "Часовой пояс", "Группа", "Стаж"])
    assert header.found == (("Логин", "login"), ("Фамилия", "last_name"), ("Имя", "first_name"),
                            ("Отчество", "patronymic"), ("Роль", "role"), ("Внутренний номер", "extension"),
                            ("Часовой пояс", "timezone"), ("Группа", "group"))
    assert header.missing == () and header.repeated == ()
    assert header.renamed({"Логин": "ivanova", "Фамилия": "Иванова", "Стаж": "3"}) == {
        "login": "ivanova", "last_name": "Иванова"}


@pytest.mark.parametrize("kind", KINDS)
def test_every_column_has_a_russian_name_and_no_name_means_two_columns(kind: str) -> None:
    accepted = accepted_names(schema_for(kind))
    # A survey's question columns are named by their (Russian) question text in config.yaml: no alias needed.
    assert all(len(names) > 1 or re.search("[а-яё]", names[0], re.IGNORECASE) for names in accepted.values()), accepted
    normalised = [normalise(name) for names in accepted.values() for name in names]
    assert len(normalised) == len(set(normalised)), sorted(n for n in normalised if normalised.count(n) > 1)
    assert all(any(re.search("[а-яё]", name, re.IGNORECASE) for name in names) for names in accepted.values())


def test_docs_list_the_same_names() -> None:
    docs = (REPO / "docs" / "import.md").read_text(encoding="utf-8")
    section = docs.split("## Column names in Russian", 1)[1].split("\n## ", 1)[0]
    for kind, columns in ALIASES.items():
        table = section.split(f"### {kind}\n", 1)[1].split("\n###", 1)[0]
        rows = {line.split("|")[1].strip(" `"): line.split("|")[2].strip()
                for line in table.splitlines() if line.startswith("| `")}
        assert rows == {column: ", ".join(f"«{name}»" for name in names) for column, names in columns.items()}, kind
