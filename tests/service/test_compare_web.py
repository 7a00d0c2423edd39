"""GET /compare, /compare.xlsx and /compare/rows (issue 17, item 3) on a real database: the table's cells, the rows
behind a figure for each segment, the workbook's numbers, who may see it, bad addresses."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook

from service.app import create_app
from service.db.engine import SessionMaker
from service.passwords import use_hasher
from service.settings import Settings
from tests.service.test_compare_report import seed
from tests.service.web_helpers import HTML_ACCEPT, add_user, sign_in, use_cheap_hashes

MARCH = "from=2026-03-01&to=2026-03-31"


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    previous = use_cheap_hashes()
    yield
    use_hasher(previous)


@pytest.fixture
async def app_client(migrated_db: str, db_sessions: SessionMaker, aiohttp_client: Any) -> TestClient:
    settings = Settings.model_validate({"database": {"url": migrated_db}})
    await add_user(settings, "olga", role="supervisor", extension=None)
    await add_user(settings, "maria", role="expert", extension="101")
    await add_user(settings, "sidorov", role="sio", extension=None)
    await seed(db_sessions)
    return await aiohttp_client(create_app(settings))


def cell(page: str, figure: str, segment: str) -> str:
    row = page.split(f'data-figure="{figure}"', 1)[1].split("</tr>", 1)[0]
    found = re.search(rf'data-segment="{segment}">(.*?)</td>', row, re.S)
    assert found is not None
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found[1])).strip()


async def test_the_head_sees_both_columns_and_the_rows_behind_them(app_client: TestClient) -> None:
    await sign_in(app_client, "olga")
    page = await (await app_client.get(f"/compare?{MARCH}", headers=HTML_ACCEPT)).text()
    assert cell(page, "churn", "ДС") == "0 % (0 из 1)" and cell(page, "churn", "КС") == "33,3 % (1 из 3)"
    assert cell(page, "collection_completeness", "ДС") == "0,80 (по 2)"
    assert cell(page, "acts_on_time", "КС") == "0 % (0 из 2)"
    assert "Ушли к конкурентам (КС):\n  Гарант — 1" in page
    assert 'data-testid="chart-requests"' in page and "Ответов на опрос за период нет" in page
    acts = await (await app_client.get(f"/compare/rows?figure=acts_on_time&segment=КС&{MARCH}",
                                       headers=HTML_ACCEPT)).text()
    rows = re.findall(r"<tr>(.*?)</tr>", acts.split("<tbody>")[1], re.S)
    # C-1 was КС on 10.03 (it moved on 15.03): its act is КС's.
    assert sorted(re.findall(r"\((C-\d)\)", acts)) == ["C-1", "C-4"] and len(rows) == 2
    assert "не возвращён" in acts and "Всего: 2." in acts
    requests = await (await app_client.get(f"/compare/rows?figure=requests&segment=ДС&{MARCH}",
                                           headers=HTML_ACCEPT)).text()
    assert re.findall(r"\((C-\d)\)", requests) == ["C-1", "C-2"]  # newest first: 20.03 (C-1 on ДС by then), 01.03
    assert "всего — в таблице сравнения (2)" in requests
    clients = await (await app_client.get(f"/compare/rows?figure=prepayment_share&segment=КС&{MARCH}",
                                          headers=HTML_ACCEPT)).text()
    assert sorted(re.findall(r'href="/clients/(C-\d)"', clients)) == ["C-4"]  # C-3 left on 20.03


async def test_the_xlsx_holds_the_table_as_numbers(app_client: TestClient) -> None:
    await sign_in(app_client, "olga")
    response = await app_client.get(f"/compare.xlsx?{MARCH}")
    assert response.status == 200 and "compare-20260301-20260331.xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(await response.read()))
    assert book.sheetnames == ["Сравнение", "По месяцам", "Рассылки", "Опрос", "Ушли"]
    assert [c.value for c in book["Ушли"][2]] == ["20.03.2026", "C-3", "Ушедший к Гаранту", "Уход к конкуренту",
                                                  "Гарант"]
    assert book["По месяцам"]["B2"].value == "%" and book["Сравнение"].freeze_panes == "A3"
    table = {row[0]: row[1:5] for row in book["Сравнение"].iter_rows(min_row=3, values_only=True)}
    assert table["Отвал"] == ("%", 0.0, 33.3, -33.3)
    assert table["Полнота сбора"] == ("доля", 0.8, 0.6, pytest.approx(0.2))
    mailings = {row[0]: row[1:] for row in book["Рассылки"].iter_rows(min_row=2, values_only=True)}
    assert mailings["обзоры"] == (1, 100, 42.0, 13.0) and mailings["новости по аудиториям"][3] == "нет данных"


@pytest.mark.parametrize("login", ["maria", "sidorov"])
async def test_only_the_head_may_compare(app_client: TestClient, login: str) -> None:
    await sign_in(app_client, login)
    for path in ("/compare", "/compare.xlsx", "/compare/rows?figure=churn&segment=ДС"):
        assert (await app_client.get(path, headers=HTML_ACCEPT)).status == 403, path


async def test_whole_months_step_by_months_and_the_future_is_refused(app_client: TestClient) -> None:
    await sign_in(app_client, "olga")
    page = await (await app_client.get("/compare?from=2026-06-01&to=2026-11-30", headers=HTML_ACCEPT)).text()
    assert 'href="/compare?from=2025-12-01&amp;to=2026-05-31"' in page  # not 30.11.2025–31.05.2026
    future = await app_client.get("/compare?from=2099-01-01&to=2099-03-31", headers=HTML_ACCEPT)
    assert future.status == 400 and "Период ещё не начался" in await future.text()
    # A bad period keeps what was typed in the form.
    typed = await (await app_client.get("/compare?from=2026-04-01&to=2026-03-01", headers=HTML_ACCEPT)).text()
    assert 'value="2026-04-01"' in typed and 'value="2026-03-01"' in typed


async def test_the_survey_counts_ds_clients_and_rounds_once(app_client: TestClient, db_sessions: SessionMaker) -> None:
    from service.compare.survey import DEFAULT_SURVEY
    from service.imports.runner import import_rows

    question = DEFAULT_SURVEY["lk_regular"].column
    blank = dict.fromkeys((q.column for q in DEFAULT_SURVEY.values()), "")
    rows = [{**blank, "Адрес электронной почты": f"r{n}@example.org", "Отметка времени": "14.03.2026 10:00:00",
             "Код организации": "C-2", question: "Да" if n < 12 else "Нет"} for n in range(22)]
    rows.append({**blank, "Адрес электронной почты": "ks@example.org", "Отметка времени": "14.03.2026 11:00:00",
                 "Код организации": "C-4", question: "Нет"})  # a КС client: left out of the ДС survey
    await import_rows("survey", rows, db_sessions)
    await sign_in(app_client, "olga")
    page = await (await app_client.get(f"/compare?{MARCH}", headers=HTML_ACCEPT)).text()
    assert "Респондентов: 22" in page and "54,5 %" in page  # 12 of 22, not 54,6 %
    assert "Не учтены ответы клиентов не на ДС (в день ответа): 1." in page


@pytest.mark.parametrize(("query", "said"), [
    ("from=2026-04-01&to=2026-03-01", "позже конца"),
    ("from=1999-12-31&to=2026-03-01", "вне 2000–2099 годов"),
    ("from=2020-01-01&to=2026-03-01", "длиннее трёх лет"),
    ("from=2026-13-01", "«2026-13-01» — не дата"),
])
async def test_a_bad_period_is_said_in_russian(app_client: TestClient, query: str, said: str) -> None:
    await sign_in(app_client, "olga")
    response = await app_client.get(f"/compare?{query}", headers=HTML_ACCEPT)
    assert response.status == 400 and said in await response.text()
    rows = await app_client.get(f"/compare/rows?figure=nonsense&segment=ДС&{MARCH}", headers=HTML_ACCEPT)
    assert rows.status == 400 and "Неизвестный показатель" in await rows.text()
