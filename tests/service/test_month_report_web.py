"""GET /month, /month.xlsx and /month/events (issue 16, item 3) on a real database: every figure from the
rows stored, the department's column, links to the rows behind a figure, who may see what, bad addresses."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy import insert, select

from service.app import create_app
from service.db.engine import SessionMaker
from service.db.models import Call, Client, ClientContact, Expert, PlannedCall, WrapUp
from service.db.month import MonthRepository
from service.imports.runner import import_rows
from service.passwords import use_hasher
from service.settings import Settings
from tests.service.web_helpers import HTML_ACCEPT, add_user, sign_in, use_cheap_hashes

MSK = ZoneInfo("Europe/Moscow")
NOVEMBER = date(2026, 11, 1)


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    previous = use_cheap_hashes()
    yield
    use_hasher(previous)


def msk(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=MSK).astimezone(UTC)


@pytest.fixture
async def app_client(migrated_db: str, db_sessions: SessionMaker, aiohttp_client: Any) -> TestClient:
    settings = Settings.model_validate({"database": {"url": migrated_db}})
    await add_user(settings, "maria", role="expert", extension="101", full_name="Орлова Мария Сергеевна")
    await add_user(settings, "anna", role="expert", extension="102", full_name="Белова Анна Викторовна")
    await add_user(settings, "petrova", role="pm", extension="150", full_name="Петрова Анна Ильинична")
    await add_user(settings, "olga", role="supervisor", extension=None)
    await add_user(settings, "sidorov", role="sio", extension=None)
    await import_rows("clients", [
        {"external_id": "C-1", "name": "ООО «Ромашка»", "segment": "ДС", "expert_login": "maria"},
        {"external_id": "C-2", "name": "АО «Вектор»", "segment": "ДС", "expert_login": "maria"},
        {"external_id": "C-3", "name": "=HYPERLINK(\"x\")", "segment": "ДС", "expert_login": "petrova"},
        {"external_id": "C-4", "name": "ООО «Кедр»", "segment": "ДС", "expert_login": "petrova"}], db_sessions)
    await import_rows("contacts", [
        {"external_id": f"K-{n}", "client_external_id": client, "full_name": f"Контакт {n}", "is_user": user}
        for n, (client, user) in enumerate((("C-1", "да"), ("C-1", "да"), ("C-1", "нет"), ("C-2", "да")))],
        db_sessions)
    await _calls(db_sessions)
    await import_rows("visits", [
        {"employee_login": "petrova", "client_external_id": "C-3", "day": "2026-11-03", "planned": "да",
         "result": "состоялся"},
        {"employee_login": "petrova", "client_external_id": "C-4", "day": "2026-11-04", "planned": "да",
         "result": "не состоялся"},
        {"employee_login": "petrova", "client_external_id": "C-4", "day": "2026-11-05", "planned": "нет",
         "result": "состоялся"},
        {"employee_login": "petrova", "client_external_id": "C-4", "day": "2026-12-01", "planned": "нет",
         "result": "состоялся"}], db_sessions)
    await import_rows("plans", [{"employee_login": "petrova", "month": "2026-11", "kind": "pm_visits_planned",
                                 "value": "31"}], db_sessions)
    await import_rows("events", [
        {"client_external_id": "C-3", "kind": "prepay_long", "occurred_on": "2026-11-10", "employee_login": "petrova"},
        {"client_external_id": "C-3", "kind": "terms_renewed", "occurred_on": "2026-11-11",
         "employee_login": "petrova"},
        {"client_external_id": "C-4", "kind": "client_disconnected", "occurred_on": "2026-11-02",
         "employee_login": "petrova"},
        {"client_external_id": "C-4", "kind": "debt_collected", "occurred_on": "2026-11-12", "amount_rub": "1500,50",
         "employee_login": "petrova"},
        {"client_external_id": "C-3", "kind": "debt_collected", "occurred_on": "2026-11-13", "amount_rub": "100",
         "employee_login": "petrova"},
        {"client_external_id": "C-4", "kind": "client_restored", "occurred_on": "2026-11-20",
         "employee_login": "petrova"},
        {"client_external_id": "C-4", "kind": "debt_collected", "occurred_on": "2026-11-21", "amount_rub": "10",
         "employee_login": "petrova"},
        {"client_external_id": "C-1", "kind": "sale", "occurred_on": "2026-11-30", "amount_rub": "2000"},
        {"client_external_id": "C-1", "kind": "sale", "occurred_on": "2026-12-01", "amount_rub": "7"}], db_sessions)
    client: TestClient = await aiohttp_client(create_app(settings, with_pbx=False))
    return client


async def _calls(db_sessions: SessionMaker) -> None:
    """maria: 3 planned calls made of 4 planned items in November, 1 unplanned, 1 call on 1 December;
    wrap-ups: two contacts (one productive with login), a not reached; petrova: 2 calls."""
    now = datetime.now(UTC)
    async with db_sessions.begin() as s:
        ids = {login: i for login, i in await s.execute(select(Expert.login, Expert.id))}
        clients = {code: i for code, i in await s.execute(select(Client.external_id, Client.id))}
        contact = await s.scalar(select(ClientContact.id).where(ClientContact.external_id == "K-0"))
        await s.execute(insert(PlannedCall), [
            {"public_id": f"PC-{n}", "plan_date": date(2026, 11, 2 + n), "expert_id": ids["maria"],
             "client_id": clients["C-1"], "contact_id": contact, "slot": msk(2 + n, 10), "state": "planned",
             "reasons": [], "created_at": now, "updated_at": now} for n in range(4)])
        calls = [  # (linkedid, owner, ext, started, planned item, talk, wrap-up (result, topic, login, productive))
            ("m1", "maria", "101", msk(2, 10), "PC-0", 700, ("contact_made", "Обучение", True, True)),
            ("m2", "maria", "101", msk(3, 10), "PC-1", 200, ("contact_made", "Решение проблемы", False, False)),
            ("m3", "maria", "101", msk(4, 10), "PC-2", 0, ("not_reached", None, False, False)),
            ("m4", "maria", "101", msk(5, 12), None, 60, None),
            ("m5", "maria", "101", msk(1, 10, month=12), None, 60, None),
            ("p1", "petrova", "150", msk(6, 10), None, 60, None),
            ("p2", "petrova", "150", msk(7, 10), None, 60, None),
        ]
        for n, (linkedid, owner, ext, started, item, talk, wrap) in enumerate(calls, start=1):
            await s.execute(insert(Call), [{
                "id": n, "linkedid": linkedid, "direction": "outbound", "expert_ext": ext, "expert_id": ids[owner],
                "client_number": "79115550001", "started_at": started, "answered_at": started if talk else None,
                "ended_at": started + timedelta(seconds=talk + 10), "duration_s": talk + 10, "talk_s": talk,
                "outcome": "answered" if talk else "no_answer", "planned_call_id": item, "client_id": "C-1",
                "quality": [], "created_at": now, "updated_at": now}])
            if wrap:
                result, topic, logged_in, productive = wrap
                await s.execute(insert(WrapUp), [{
                    "call_id": n, "expert_id": ids[owner], "client_id": clients["C-1"], "result": result,
                    "topic": topic, "logged_in": logged_in, "productive": productive,
                    "created_at": started + timedelta(seconds=talk + 30),
                    "updated_at": started + timedelta(seconds=talk + 30)}])


def cells(page: str, section: str) -> dict[tuple[str, str], str]:
    """(figure label, column login or «Отдел») → the cell's text, from the section's table."""
    body = page.split(f'data-testid="report-{section}"', 1)[1].split("</section>", 1)[0]
    columns = re.findall(r'<th class="num"\s*(?:data-login="([^"]+)")?\s*>', body)
    out: dict[tuple[str, str], str] = {}
    for row in re.findall(r"<tr data-row.*?</tr>", body, re.S):
        tds = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        label, values = re.sub(r"<[^>]+>", "", tds[-len(columns) - 1]).strip(), tds[-len(columns):]
        for login, value in zip(columns, values, strict=True):
            text = re.sub(r"<br>.*", "", re.sub(r"<a [^>]+>|</a>", "", value), flags=re.S)
            out[(label, login or "Отдел")] = text.strip()
    return out


async def test_the_head_sees_the_departments_month(app_client: TestClient) -> None:
    await sign_in(app_client, "olga")
    response = await app_client.get("/month?from=2026-11&to=2026-11", headers=HTML_ACCEPT)
    page = await response.text()
    assert response.status == 200, page
    experts, pms = cells(page, "expert"), cells(page, "pm")
    assert experts[("организаций", "maria")] == "2" and experts[("пользователей", "maria")] == "3"
    assert experts[("плановых звонков", "maria")] == "4" and experts[("плановых звонков", "anna")] == "0"
    assert experts[("план звонков с заходом", "maria")] == "2"  # 4 × 0,6 = 2,4
    assert experts[("контакт состоялся", "maria")] == "2"
    assert experts[("из них результативных", "maria")] == "1"
    assert (experts[("плановых", "maria")], experts[("неплановых", "maria")]) == ("3", "1")  # December's aside
    assert experts[("доля от состоявшихся контактов", "maria")] == "50 %"
    assert experts[("доля от состоявшихся контактов", "anna")] == "нет данных"
    assert experts[("Обучение", "maria")] == "1" and experts[("Обучение", "Отдел")] == "1"
    assert experts[("рассылок", "maria")] == "нет данных"
    assert (pms[("план", "petrova")], pms[("факт (состоялись)", "petrova")]) == ("31", "1")
    assert pms[("неплановых визитов", "petrova")] == "1" and pms[("звонков", "petrova")] == "2"
    assert pms[("продлений", "petrova")] == "1"
    assert pms[("на длинную предоплату: клиентов", "petrova")] == "1"
    assert pms[("на длинную предоплату: доля", "petrova")] == "50 %"
    assert pms[("задолженность погашена: отключённые", "petrova")] == "1"
    assert pms[("сумма: отключённые", "petrova")] == "1\u202f500,50 ₽"
    assert pms[("задолженность погашена: действующие", "petrova")] == "2"  # C-3, and C-4 after its restoration
    assert pms[("продаж", "Отдел")] == "1"  # an event on nobody counts for the department only
    assert pms[("продаж", "petrova")] == "0"
    # Links: her calls in the call log, the visits of the month, the events behind a figure.
    assert "/calls?expert=101&amp;from=2026-11-01&amp;to=2026-11-30&amp;planned=yes" in page
    assert "/visits?pm=petrova&amp;month=2026-11" in page
    assert "/month/events?from=2026-11&amp;to=2026-11&amp;person=petrova&amp;kind=terms_renewed" in page


async def test_a_range_of_months_and_the_events_behind_a_figure(app_client: TestClient) -> None:
    await sign_in(app_client, "olga")
    page = await (await app_client.get("/month?from=2026-11&to=2026-12&person=petrova", headers=HTML_ACCEPT)).text()
    pms = cells(page, "pm")
    assert pms[("неплановых визитов", "petrova")] == "2" and 'data-testid="report-expert"' not in page
    assert "норма 20–40" not in page and "норма 40–100" in page  # two months of 20–50 calls
    # Her visit plan is imported for November only: the range's plan is not shown as if whole.
    assert pms[("план", "petrova")] == "нет данных" and "план визитов загружен за 1 из 2 мес. периода" in page
    events = await (await app_client.get("/month/events?from=2026-11&to=2026-11&kind=debt_collected",
                                         headers=HTML_ACCEPT)).text()
    assert "Всего событий: 3" in events and "1\u202f500,50" in events and "Погашение задолженности" in events
    # The split debt figures open their own payments (found trying it: both opened all three).
    gone = await (await app_client.get("/month/events?from=2026-11&to=2026-11&kind=debt_collected&disconnected=yes",
                                       headers=HTML_ACCEPT)).text()
    assert "Всего событий: 1" in gone and "1\u202f500,50" in gone and "клиент был отключён" in gone
    active = await (await app_client.get("/month/events?from=2026-11&to=2026-11&kind=debt_collected&disconnected=no",
                                         headers=HTML_ACCEPT)).text()
    assert "Всего событий: 2" in active and "1\u202f500,50" not in active


async def test_the_xlsx_holds_numbers_as_numbers(app_client: TestClient) -> None:
    await sign_in(app_client, "olga")
    response = await app_client.get("/month.xlsx?from=2026-11&to=2026-11")
    assert response.status == 200 and "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(await response.read()))
    assert book.sheetnames == ["Эксперты", "ПМ"]
    sheet = book["ПМ"]
    header = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "Параметр отчета")
    assert header[2:4] == ("Петрова Анна Ильинична", "Отдел")
    rows = {r[1]: r for r in sheet.iter_rows(values_only=True) if r[1]}
    assert rows["факт (состоялись)"][2] == 1 and isinstance(rows["факт (состоялись)"][2], int | float)
    assert rows["сумма: отключённые"][2] == pytest.approx(1500.5)
    assert rows["на длинную предоплату: доля"][2] == pytest.approx(0.5)
    experts = {r[1]: r for r in book["Эксперты"].iter_rows(values_only=True) if r[1]}
    assert experts["рассылок"][2] == "нет данных"
    share_cell = next(c for row in book["ПМ"].iter_rows() for c in row if c.value == pytest.approx(0.5))
    assert share_cell.number_format == "0.0%"
    assert next(c for c in book["ПМ"]["C"] if c.value == 1).number_format == "#,##0"  # not «0.##»: «1,» in Excel


async def test_an_expert_and_a_pm_see_only_their_own(app_client: TestClient) -> None:
    await sign_in(app_client, "maria")
    page = await (await app_client.get("/month?from=2026-11&person=petrova", headers=HTML_ACCEPT)).text()
    assert "Орлова Мария Сергеевна" in page and "Петрова Анна Ильинична" not in page
    assert 'data-testid="report-pm"' not in page and 'name="person"' not in page
    events = await (await app_client.get("/month/events?from=2026-11&person=petrova", headers=HTML_ACCEPT)).text()
    assert "Всего событий: 0" in events  # hers only, whatever the address says


async def test_a_sio_is_refused(app_client: TestClient) -> None:
    await sign_in(app_client, "sidorov")
    assert (await app_client.get("/month", headers=HTML_ACCEPT)).status == 403
    assert (await app_client.get("/month.xlsx")).status == 403


@pytest.mark.parametrize(("query", "status", "message"), [
    ("from=2026-13", 400, "Неверный месяц"),
    ("from=2026-11&to=2026-10", 400, "Конец периода раньше его начала"),
    ("from=2020-01&to=2026-11", 400, "Период длиннее 24 месяцев"),
    ("from=2026-11&person=nobody", 404, "Нет Эксперта или ПМ по ДС с логином «nobody»"),
])
async def test_a_bad_address_gets_a_russian_answer(app_client: TestClient, query: str, status: int,
                                                   message: str) -> None:
    await sign_in(app_client, "olga")
    response = await app_client.get(f"/month?{query}", headers=HTML_ACCEPT)
    assert response.status == status and message in await response.text()
    xlsx = await app_client.get(f"/month.xlsx?{query}")
    assert xlsx.status == status and message in await xlsx.text()
    events = await app_client.get(f"/month/events?{query}&kind=nothing", headers=HTML_ACCEPT)
    assert events.status in (400, 404)


async def test_the_heads_summary_says_what_is_missing_before_the_month_closes(app_client: TestClient) -> None:
    await sign_in(app_client, "olga")
    page = await (await app_client.get("/month?from=2026-11", headers=HTML_ACCEPT)).text()
    summary = page.split('data-testid="head-summary"', 1)[1].split("</section>", 1)[0]
    assert "Месяц нельзя закрыть: не утверждены ведомости КТУ — 3 из 3. Не хватает данных у 3" in summary
    rows = {login: row for login, row in re.findall(r'<tr data-login="([^"]+)".*?>(.*?)</tr>', summary, re.S)}
    assert set(rows) == {"maria", "anna", "petrova"}
    petrova = rows["petrova"]
    assert "плановые визиты 1 (план 31)" in petrova and "звонков 2 (норма 20–50)" in petrova
    # Her visit plan is imported; the rest of her plans and values are not.
    assert "не импортировано: Обучение, Продажа платных семинаров, Подписки на ГК, Баланс ВКСП, Полнота сбора" \
        in petrova
    assert "Плановые визиты" not in petrova.split("не импортировано:", 1)[1].split("</li>", 1)[0]
    assert "КТУ без данных" in petrova and "КТУ не утверждён" in petrova
    assert "черновик, версия 1" in petrova and "/ktu/petrova?month=2026-11" in petrova
    assert "плановых звонков 4" in rows["maria"] and "контакт состоялся 2" in rows["maria"]
    one = await (await app_client.get("/month?from=2026-11&person=maria", headers=HTML_ACCEPT)).text()
    assert 'data-testid="head-summary"' not in one  # one person: her report, not the department's summary
    two = await (await app_client.get("/month?from=2026-10&to=2026-11", headers=HTML_ACCEPT)).text()
    assert 'data-testid="head-summary"' not in two  # a range: the summary is a month's


async def test_the_summary_says_a_month_is_closed_or_not_over_yet(app_client: TestClient,
                                                                 db_sessions: SessionMaker) -> None:
    await sign_in(app_client, "olga")
    today = datetime.now(UTC).astimezone(MSK).date()
    page = await (await app_client.get(f"/month?from={today:%Y-%m}", headers=HTML_ACCEPT)).text()
    assert "Месяц нельзя закрыть: не утверждены ведомости КТУ" in page  # and the month is not over anyway
    await MonthRepository(db_sessions).close_month(NOVEMBER, None, datetime.now(UTC))
    page = await (await app_client.get("/month?from=2026-11", headers=HTML_ACCEPT)).text()
    assert "Месяц закрыт: его планы и ведомости КТУ больше не меняются." in page
