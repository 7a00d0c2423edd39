"""The КТУ pages over HTTP (docs/ktu.md «Pages»), on SQLite and PostgreSQL: the head's list, entries refused with
the rules' Russian message (422, nothing changed), approval and new versions, who may see what, the payroll
XLSX opened with openpyxl (numbers are numbers), closing the month on the web and with `dsdesk month close`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from io import BytesIO
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from service.app import create_app
from service.db.engine import SessionMaker
from service.db.models import KtuEntry
from service.imports.runner import import_rows
from service.passwords import use_hasher
from service.settings import Settings
from tests.service.test_import_errors import run_cli
from tests.service.test_ktu_store import full_plans
from tests.service.web_helpers import HTML_ACCEPT, add_user, sign_in, use_cheap_hashes

Q = "?month=2026-03"


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    previous = use_cheap_hashes()
    yield
    use_hasher(previous)


@pytest.fixture
async def app_client(migrated_db: str, db_sessions: SessionMaker, aiohttp_client: Any) -> TestClient:
    settings = Settings.model_validate({"database": {"url": migrated_db}})
    await add_user(settings, "ivanova", role="expert", extension="101", full_name="Иванова Мария Сергеевна")
    await add_user(settings, "petrov", role="expert", extension="102", full_name="=HYPERLINK(\"http://x\") Пётр")
    await add_user(settings, "orlova", role="pm", extension="150", full_name="Орлова Вера Павловна")
    await add_user(settings, "smirnova", role="supervisor", extension=None, full_name="Смирнова Ольга Викторовна")
    await add_user(settings, "sidorov", role="sio", extension=None)
    await import_rows("plans", full_plans("ivanova"), db_sessions)
    client: TestClient = await aiohttp_client(create_app(settings, with_pbx=False))
    return client


async def entries(sessions: SessionMaker) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(KtuEntry)) or 0)


def form(token: str, **values: str) -> dict[str, str]:
    return {"_csrf": token, "month": "2026-03", **values}


async def test_the_head_enters_approves_and_makes_a_new_version(app_client: TestClient,
                                                                 db_sessions: SessionMaker) -> None:
    token = await sign_in(app_client, "smirnova")
    listing = await (await app_client.get("/ktu" + Q, headers=HTML_ACCEPT)).text()
    assert "КТУ за март 2026" in listing and "Иванова Мария Сергеевна" in listing and "ПМ по ДС" in listing
    assert "нет данных: Баланс ВКСП, Выполнение плана по обучению" in listing
    assert listing.count("черновик, версия 1") == 3 and 'href="/ktu">КТУ</a>' in listing
    refused = await app_client.post("/ktu/ivanova/entry", headers=HTML_ACCEPT,
                                    data=form(token, component="deduction", value="-0.2", reason=" "))
    page = await refused.text()
    assert refused.status == 422 and 'data-testid="error-deduction"' in page
    assert "Снижение без причины не принимается: укажите причину («Снижение за нарушения»)" in page
    assert await entries(db_sessions) == 0
    # A computed or unknown component sent by hand: the refusal is said at the top (it was a 422 with no message).
    for component, message in (("vksp_balance", "«Баланс ВКСП» считается из данных и не вводится вручную"),
                               ("bogus", "нет составляющей «bogus»")):
        refused = await app_client.post("/ktu/ivanova/entry", headers=HTML_ACCEPT,
                                        data=form(token, component=component, value="0.3", reason="так"))
        page = await refused.text()
        assert refused.status == 422 and 'data-testid="error-entry"' in page and message in page, component
    ahead = await app_client.post("/ktu/ivanova/entry", headers=HTML_ACCEPT,  # found trying it: 2031-05 was taken
                                  data={**form(token, component="deduction", value="-0.1", reason="заранее"),
                                        "month": "2099-05"})
    assert ahead.status == 422 and "Месяц май 2099 ещё не начался" in await ahead.text()
    assert await entries(db_sessions) == 0
    saved = await app_client.post("/ktu/ivanova/entry", headers=HTML_ACCEPT, allow_redirects=False,
                                  data=form(token, component="deduction", value="-0.2", reason="два задания"))
    assert saved.status == 303 and await entries(db_sessions) == 1
    sheet = await (await app_client.get(saved.headers["Location"], headers=HTML_ACCEPT)).text()
    assert "введено: Смирнова О. В., два задания" in sheet, sheet[sheet.find('data-key="deduction"'):][:900]
    assert "0,3 × 1\u202f500,00 ₽ ÷ 0,1 = 4\u202f500,00 ₽" in sheet
    missing = await app_client.post("/ktu/petrov/approve", headers=HTML_ACCEPT, data=form(token))
    assert missing.status == 422 and "Нельзя утвердить: нет данных — «Баланс ВКСП»" in await missing.text()
    approved = await app_client.post("/ktu/ivanova/approve", headers=HTML_ACCEPT, data=form(token))
    page = await approved.text()
    assert approved.status == 200 and "Версия 1 — утверждена (Смирнова О. В." in page
    assert 'data-testid="locked"' in page and 'data-testid="entry-deduction"' not in page
    late = await app_client.post("/ktu/ivanova/entry", headers=HTML_ACCEPT,
                                 data=form(token, component="deduction", value="-0.5", reason="ещё"))
    assert late.status == 422 and "закрыта для правки" in await late.text() and await entries(db_sessions) == 1
    no_reason = await app_client.post("/ktu/ivanova/version", headers=HTML_ACCEPT, data=form(token, reason=""))
    assert no_reason.status == 422 and "только с указанием причины" in await no_reason.text()
    version = await app_client.post("/ktu/ivanova/version", headers=HTML_ACCEPT, data=form(token, reason="пересчёт"))
    page = await version.text()
    assert "Версия 2 — черновик" in page and 'data-testid="version-1"' in page and "Все версии" in page


async def test_an_expert_sees_only_her_own_sheet_read_only(app_client: TestClient, db_sessions: SessionMaker) -> None:
    token = await sign_in(app_client, "ivanova")
    own = await app_client.get("/ktu" + Q, headers=HTML_ACCEPT)
    assert own.status == 200 and str(own.url).endswith("/ktu/ivanova?month=2026-03")
    page = await own.text()
    assert "КТУ: Иванова Мария Сергеевна — март 2026" in page and "<form method=\"post\" action=\"/ktu/" not in page
    for path in ("/ktu/petrov" + Q, "/ktu.xlsx" + Q):
        assert (await app_client.get(path, headers=HTML_ACCEPT)).status == 403, path
    posted = await app_client.post("/ktu/ivanova/entry", headers=HTML_ACCEPT,
                                   data=form(token, component="deduction", value="-0.2", reason="сама себе"))
    assert posted.status == 403 and await entries(db_sessions) == 0


async def test_a_sio_never_and_bad_input_is_refused(app_client: TestClient) -> None:
    await sign_in(app_client, "sidorov")
    assert (await app_client.get("/ktu/ivanova" + Q, headers=HTML_ACCEPT)).status == 403
    await app_client.post("/logout", data={"_csrf": await _token(app_client)})
    token = await sign_in(app_client, "smirnova")
    assert (await app_client.get("/ktu?month=2026-13", headers=HTML_ACCEPT)).status == 400
    assert (await app_client.get("/ktu/nobody" + Q, headers=HTML_ACCEPT)).status == 404
    assert (await app_client.get("/ktu/smirnova" + Q, headers=HTML_ACCEPT)).status == 404  # no sheet for a head
    no_csrf = await app_client.post("/ktu/ivanova/approve", headers=HTML_ACCEPT, data={"month": "2026-03"})
    assert no_csrf.status == 403 and token


async def _token(client: TestClient) -> str:
    from tests.service.web_helpers import session_csrf_token

    return await session_csrf_token(client)


async def test_the_payroll_xlsx_has_numbers_and_safe_names(app_client: TestClient) -> None:
    token = await sign_in(app_client, "smirnova")
    await app_client.post("/ktu/ivanova/approve", headers=HTML_ACCEPT, data=form(token))
    response = await app_client.get("/ktu.xlsx" + Q)
    assert response.status == 200 and "ktu-2026-03.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(BytesIO(await response.read())).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("ФИО", "Логин", "Роль", "Месяц", "КТУ", "Стоимость 0,1 КТУ, ₽", "Сумма, ₽", "Состояние",
                       "Версия", "Утвердил", "Утверждено")
    by_login = {row[1]: row for row in rows[1:]}
    ivanova = by_login["ivanova"]
    assert ivanova[:9] == ("Иванова Мария Сергеевна", "ivanova", "Эксперт по ДС", "март 2026", 0.5, 1500, 7500,
                           "утверждена", 1)
    assert ivanova[9] == "Смирнова О. В." and isinstance(ivanova[10], datetime)  # a date cell, not text
    cells = {cell.column: cell for cell in sheet[2 + list(by_login).index("ivanova")]}
    assert all(cells[c].data_type == "n" for c in (5, 6, 7, 9)) and cells[7].number_format == "#,##0.00"
    assert str(by_login["petrov"][0]).startswith("'=HYPERLINK")  # a name that looks like a formula stays text
    assert by_login["orlova"][2] == "ПМ по ДС" and by_login["orlova"][7] == "черновик"


async def test_closing_the_month_on_the_web_and_with_the_cli(app_client: TestClient, migrated_db: str,
                                                             db_sessions: SessionMaker) -> None:
    token = await sign_in(app_client, "smirnova")
    refused = await app_client.post("/ktu/close", headers=HTML_ACCEPT, data=form(token))
    page = await refused.text()
    assert refused.status == 422 and "Месяц март 2026 не закрыт: не утверждены ведомости — " in page
    assert "Иванова Мария Сергеевна, Орлова Вера Павловна" in page
    cli = run_cli("month", "close", "2026-03", url=migrated_db)
    assert cli.returncode == 1 and "Месяц март 2026 не закрыт: не утверждены ведомости" in cli.stderr
    await import_rows("plans", full_plans("petrov") + [
        {"employee_login": "orlova", "month": "2026-03", "kind": kind, "value": "0"}
        for kind in ("training", "seminar_sales", "gk_subscriptions", "vksp_balance", "collection_completeness")],
        db_sessions)
    for login in ("ivanova", "petrov", "orlova"):
        assert (await app_client.post(f"/ktu/{login}/approve", headers=HTML_ACCEPT, data=form(token))).status == 200
    cli = run_cli("month", "close", "2026-03", url=migrated_db)
    assert cli.returncode == 0 and "Месяц март 2026 закрыт" in cli.stdout
    page = await (await app_client.get("/ktu/ivanova" + Q, headers=HTML_ACCEPT)).text()
    assert 'data-testid="month-closed"' in page and 'data-testid="version-form"' not in page
    again = await app_client.post("/ktu/close", headers=HTML_ACCEPT, data=form(token))
    assert again.status == 422 and "Месяц март 2026 уже закрыт" in await again.text()
