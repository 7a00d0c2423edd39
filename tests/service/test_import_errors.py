"""Bad rows and bad files: every problem listed (row, column, value, reason), nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.db import models as m
from service.db.engine import SessionMaker
from service.imports.errors import FileFormatError, RowError, RowsRejected
from service.imports.runner import import_file
from tests.service.importing import DEPARTMENT, write_table

REPO = Path(__file__).resolve().parents[2]
DSDESK = Path(sys.executable).with_name("dsdesk")
TABLES = (m.Expert, m.Client, m.ClientContact, m.HistoryEntry, m.ClientSignal, m.ExpertAbsence)
Rows = list[list[str]]


@pytest.fixture
async def department(db_sessions: SessionMaker, tmp_path: Path) -> SessionMaker:
    """Experts ivanova/petrov, clients C-501/C-502, contacts K-1001/K-1002 (C-501), K-1003 (C-502)."""
    for kind in ("experts", "clients", "contacts"):
        await import_file(kind, write_table(tmp_path, kind, DEPARTMENT[kind], "csv-utf8-comma"), db_sessions)
    return db_sessions


def clients(*rows: list[str]) -> tuple[list[str], Rows]:
    return ["external_id", "name", "segment", "expert_login", "debt_rub", "terms_end"], list(rows)


def contacts(*rows: list[str]) -> tuple[list[str], Rows]:
    return ["external_id", "client_external_id", "full_name", "phone", "is_user", "call_from",
            "call_to"], list(rows)


def history(*rows: list[str]) -> tuple[list[str], Rows]:
    return ["client_external_id", "contact_external_id", "date", "result"], list(rows)


CASES = {
    "bad date": ("clients", clients(["C-601", "Альфа", "ДС", "", "", "31.02.2026"],
                                    ["C-602", "Бета", "ДС", "", "", "2026/03/01"]), [
        RowError(2, "terms_end", "31.02.2026", "нет такой даты"),
        RowError(3, "terms_end", "2026/03/01", "не дата (ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)")]),
    "bad bool": ("contacts", contacts(["K-2001", "C-501", "Орлова", "", "может быть", "", ""]), [
        RowError(2, "is_user", "может быть", "не «да/нет» (1/0, да/нет, true/false)")]),
    "bad number": ("clients", clients(["C-601", "Альфа", "ДС", "", "1,234.50", ""]), [
        RowError(2, "debt_rub", "1,234.50",
                 "не число (копейки — после одной запятой или точки, тысячи — через пробел)")]),
    "empty required cell and bad choice": ("clients", clients(["C-601", "", "DS2", "", "", ""]), [
        RowError(2, "name", "", "обязательная ячейка пуста"),
        RowError(2, "segment", "DS2", "допустимо одно из: ДС, КС, VIP")]),
    "unknown client": ("contacts", contacts(["K-2001", "C-999", "Орлова", "", "1", "", ""]), [
        RowError(2, "client_external_id", "C-999", "нет такого клиента (сначала импортируйте clients)")]),
    "unknown expert": ("clients", clients(["C-601", "Альфа", "ДС", "sidorov", "", ""]), [
        RowError(2, "expert_login", "sidorov", "нет такого Эксперта")]),
    "duplicate external id": ("clients", clients(["C-601", "Альфа", "ДС", "", "", ""],
                                                 ["C-602", "Бета", "ДС", "", "", ""],
                                                 ["C-601", "Гамма", "ДС", "", "", ""]), [
        # Row numbers here are before the good row is put on top; the reason names the shifted row.
        RowError(4, "external_id", "C-601", "повтор: такой же external_id в строке 3")]),
    "contact of another client": ("history", history(["C-502", "K-1001", "2026-02-01", "contact_made"]), [
        RowError(2, "contact_external_id", "K-1001", "это контакт клиента C-501, а не C-502")]),
    "unknown contact": ("history", history(["C-501", "K-9999", "2026-02-01", "contact_made"]), [
        RowError(2, "contact_external_id", "K-9999", "нет такого контакта (сначала импортируйте contacts)")]),
    "bad phone and window": ("contacts", contacts(["K-2001", "C-501", "Орлова", "доб. 1", "", "", ""],
                                                  ["K-2002", "C-501", "Пахомова", "", "", "18:00", "09:00"]), [
        RowError(2, "phone", "доб. 1", "не номер телефона"),
        RowError(3, "call_to", "09:00", "должно быть позже call_from 18:00")]),
    "absence ends before it starts": ("absences", (["login", "from", "to"],
                                                   [["ivanova", "2026-03-12", "2026-03-10"]]), [
        RowError(2, "to", "2026-03-10", "не раньше from 12.03.2026")]),
    "missing required column": ("history", (["client_external_id", "date"], [["C-501", "2026-02-01"]]), [
        RowError(1, "result", "", "нет обязательного столбца (подходят названия: «result», «Результат», "
                                  "«Результат контакта»); в файле столбцы: «client_external_id», «date»")]),
}


@pytest.mark.parametrize("case", CASES)
async def test_a_bad_row_imports_nothing(department: SessionMaker, tmp_path: Path, case: str) -> None:
    kind, table, expected = CASES[case]
    # The good rows come first, so that a half-written import would show.
    header, bad_rows = table
    good = _good_rows(kind, header)
    path = write_table(tmp_path, "bad", (header, good + bad_rows), "csv-utf8bom-semicolon")
    before = await _counts(department)
    with pytest.raises(RowsRejected) as raised:
        await import_file(kind, path, department)
    shift = len(good)  # the bad rows sit below the good ones
    assert list(raised.value.errors) == [
        RowError(e.row + shift if e.row > 1 else e.row, e.column, e.value, e.reason) for e in expected]
    assert await _counts(department) == before


def _good_rows(kind: str, header: list[str]) -> Rows:
    good = {
        "clients": {"external_id": "C-700", "name": "Омега", "segment": "КС"},
        "contacts": {"external_id": "K-700", "client_external_id": "C-502", "full_name": "Фомина"},
        "history": {"client_external_id": "C-501", "date": "2026-01-05", "result": "not_reached"},
        "absences": {"login": "petrov", "from": "2026-05-04", "to": "2026-05-08"},
    }[kind]
    return [[good.get(name, "") for name in header]]


async def _counts(sessions: SessionMaker) -> list[int]:
    async with sessions() as session:
        return [int(await session.scalar(select(func.count()).select_from(t)) or 0) for t in TABLES]


async def test_every_bad_row_is_listed(department: SessionMaker, tmp_path: Path) -> None:
    rows = [[f"C-60{i}", "Альфа", "ДС", "", "x" if i % 2 else "", ""] for i in range(6)]
    with pytest.raises(RowsRejected) as raised:
        await import_file("clients", write_table(tmp_path, "c", clients(*rows), "xlsx"), department)
    assert [(e.row, e.column, e.value) for e in raised.value.errors] == [
        (3, "debt_rub", "x"), (5, "debt_rub", "x"), (7, "debt_rub", "x")]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "файл пуст"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest of an old workbook", r"старая книга Excel \(\.xls\)"),
    (b"login,full_name\n\x98\x98\n", "не в UTF-8 и не в Windows-1251 и без метки UTF-16"),
    (b"PK\x03\x04not really a zip", r"не книга Excel \(\.xlsx\)"),
])
def test_unreadable_files(tmp_path: Path, content: bytes, message: str) -> None:
    from service.imports.readers import open_table

    path = tmp_path / "file.csv"
    path.write_bytes(content)
    with pytest.raises(FileFormatError, match=message):
        open_table(path, ["login"])


async def test_cli_exit_code_and_messages(department: SessionMaker, migrated_db: str,
                                          tmp_path: Path) -> None:
    path = write_table(tmp_path, "bad", clients(["C-601", "Альфа", "ДС", "sidorov", "12,3,4", ""]),
                       "csv-cp1251-semicolon")
    result = run_cli("import", "clients", str(path), url=migrated_db)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"dsdesk import clients: {path}: ошибок: 2; ничего не импортировано",
        "  строка 2, столбец «expert_login», значение «sidorov»: нет такого Эксперта",
        "  строка 2, столбец «debt_rub», значение «12,3,4»: не число",
    ]


async def test_cli_import_and_absences(department: SessionMaker, migrated_db: str,
                                       tmp_path: Path) -> None:
    path = write_table(tmp_path, "signals", DEPARTMENT["signals"], "csv-utf8-comma")
    result = run_cli("import", "signals", str(path), url=migrated_db)
    assert (result.returncode, result.stdout) == (
        0, "signals: импортировано строк: 2 (новых 2, изменённых 0, без изменений 0)\n")
    result = run_cli("experts", "absent", "petrov", "--from", "04.05.2026", "--to", "2026-05-08",
                     url=migrated_db)
    assert (result.returncode, result.stdout) == (0, "petrov отсутствует 04.05.2026–08.05.2026\n")
    again = run_cli("experts", "absent", "petrov", "--from", "2026-05-04", "--to", "2026-05-08",
                    url=migrated_db)
    assert again.stdout == "petrov отсутствует 04.05.2026–08.05.2026 (уже было отмечено)\n"
    listed = run_cli("experts", "absences", url=migrated_db)
    assert listed.stdout == "petrov\t04.05.2026\t08.05.2026\n"
    unknown = run_cli("experts", "absent", "nobody", "--from", "2026-05-04", "--to", "2026-05-08",
                      url=migrated_db)
    assert (unknown.returncode, unknown.stderr) == (2, "dsdesk experts absent: нет Эксперта с логином «nobody»\n")
    reversed_ = run_cli("experts", "absent", "petrov", "--from", "2026-05-08", "--to", "2026-05-04",
                        url=migrated_db)
    assert (reversed_.returncode, reversed_.stderr) == (2, "dsdesk experts absent: дата --from позже даты --to\n")


def run_cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DSDESK_DATABASE_URL": url}
    env.pop("DSDESK_CONFIG", None)
    return subprocess.run([str(DSDESK), "-q", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, encoding="utf-8", timeout=60)
