"""The Experts import with the name in parts (Фамилия, Имя, Отчество) or whole (full_name), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.db import models as m
from service.db.engine import SessionMaker
from service.db.records import Counts
from service.imports.errors import RowsRejected
from service.imports.runner import import_file, import_rows
from tests.service.importing import write_table

Name = tuple[str, str, str | None, str]  # last, first, patronymic, full_name


async def stored_names(sessions: SessionMaker) -> dict[str, Name]:
    async with sessions() as session:
        rows = await session.execute(select(m.Expert.login, m.Expert.last_name, m.Expert.first_name,
                                            m.Expert.patronymic, m.Expert.full_name))
        return {login: (last, first, patronymic, full) for login, last, first, patronymic, full in rows}


@pytest.mark.parametrize("fmt", ["csv-utf8-comma", "xlsx"])
async def test_the_parts_are_stored_and_full_name_is_made_of_them(db_sessions: SessionMaker, tmp_path: Path,
                                                                  fmt: str) -> None:
    table = (["login", "last_name", "first_name", "patronymic", "extension"],
             [["ivanova", "Иванова", "Мария", "Сергеевна", "101"],
              ["petrov", " Петров ", "Павел", "", "102"],
              ["musina", "Мусина  Пушкина", "Анна", "Сергеевна", "103"]])
    path = write_table(tmp_path, "experts", table, fmt)
    assert (await import_file("experts", path, db_sessions)).counts == Counts(new=3)
    assert await stored_names(db_sessions) == {
        "ivanova": ("Иванова", "Мария", "Сергеевна", "Иванова Мария Сергеевна"),
        "petrov": ("Петров", "Павел", None, "Петров Павел"),
        "musina": ("Мусина Пушкина", "Анна", "Сергеевна", "Мусина Пушкина Анна Сергеевна"),
    }
    assert (await import_file("experts", path, db_sessions)).counts == Counts(unchanged=3)


async def test_russian_headers_name_the_parts(db_sessions: SessionMaker, tmp_path: Path) -> None:
    """A CRM export's own column names: «Логин», «Фамилия», «Имя», «Отчество» (Windows-1251, `;`)."""
    table = (["Логин", "Фамилия", "Имя", "Отчество", "Внутренний номер"],
             [["maria", "Орлова", "Мария", "Сергеевна", "101"]])
    path = write_table(tmp_path, "experts", table, "csv-cp1251-semicolon")
    assert (await import_file("experts", path, db_sessions)).counts == Counts(new=1)
    assert await stored_names(db_sessions) == {"maria": ("Орлова", "Мария", "Сергеевна", "Орлова Мария Сергеевна")}


async def test_a_file_with_only_full_name_is_split_surname_first(db_sessions: SessionMaker, tmp_path: Path) -> None:
    table = (["login", "full_name", "extension"],
             [["ivanova", "Иванова  Мария Сергеевна ", "101"],
              ["aliev", "Алиев Рустам Гейдар оглы", "102"],
              ["single", "Мария", "103"],
              ["orlova", "Мария Сергеевна Орлова", "104"]])  # another order is not guessed at
    path = write_table(tmp_path, "experts", table, "csv-utf8bom-semicolon")
    assert (await import_file("experts", path, db_sessions)).counts == Counts(new=4)
    assert await stored_names(db_sessions) == {
        "ivanova": ("Иванова", "Мария", "Сергеевна", "Иванова Мария Сергеевна"),
        "aliev": ("Алиев", "Рустам", "Гейдар оглы", "Алиев Рустам Гейдар оглы"),
        "single": ("", "Мария", None, "Мария"),
        "orlova": ("Мария", "Сергеевна", "Орлова", "Мария Сергеевна Орлова"),
    }
    # The same people in parts later: the parts are what is stored.
    rows = [{"login": "orlova", "last_name": "Орлова", "first_name": "Мария", "patronymic": "Сергеевна",
             "full_name": "Мария Сергеевна Орлова", "extension": "104"}]
    assert (await import_rows("experts", rows, db_sessions)).counts == Counts(updated=1)
    assert (await stored_names(db_sessions))["orlova"] == ("Орлова", "Мария", "Сергеевна", "Орлова Мария Сергеевна")


@pytest.mark.parametrize(("header", "row", "expected"), [
    (["login", "extension"], ["ivanova", "101"],
     [("last_name", "нет имени: заполните last_name и first_name (Фамилия, Имя) или full_name (ФИО)")]),
    (["login", "last_name", "first_name", "full_name", "extension"], ["ivanova", "", "", "", "101"],
     [("last_name", "нет имени: заполните last_name и first_name (Фамилия, Имя) или full_name (ФИО)")]),
    (["login", "last_name", "first_name", "patronymic", "extension"], ["ivanova", "", "", "Сергеевна", "101"],
     [("last_name", "пусто: нужна фамилия (ФИО дано по частям)"),
      ("first_name", "пусто: нужно имя (ФИО дано по частям)")]),
    (["login", "last_name", "first_name", "full_name", "extension"],
     ["ivanova", "Иванова", "", "Иванова Мария", "101"],
     [("first_name", "пусто: нужно имя (ФИО дано по частям)")]),
    (["login", "last_name", "first_name", "extension"], ["ivanova", "Я" * 81, "Мария", "101"],
     [("last_name", "длиннее 80 знаков")]),
])
async def test_a_row_without_a_name_is_refused_in_russian(db_sessions: SessionMaker, tmp_path: Path,
                                                          header: list[str], row: list[str],
                                                          expected: list[tuple[str, str]]) -> None:
    good = {"login": "petrov", "last_name": "Петров", "first_name": "Павел", "full_name": "Петров Павел",
            "extension": "102"}
    rows = [[good.get(name, "") for name in header], row]
    path = write_table(tmp_path, "experts", (header, rows), "csv-utf8-comma")
    with pytest.raises(RowsRejected) as raised:
        await import_file("experts", path, db_sessions)
    # Without any name column (the first case) the good row is refused too.
    errors = [(e.column, e.reason) for e in raised.value.errors if e.row == 3]
    assert len(errors) == len(expected), raised.value.errors
    for (column, reason), (want_column, want_reason) in zip(errors, expected, strict=True):
        assert column == want_column and want_reason in reason
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(m.Expert)) == 0
