"""GET/POST /visits (issue 16, item 1) over HTTP: a ПМ по ДС records a visit, bad input is listed in Russian and
nothing saved, the month's plan/fact counts visits that took place and her calls, and who may see what."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, insert, select

from service.app import create_app
from service.db.engine import SessionMaker, create_engine, create_sessionmaker
from service.db.models import Call, Client, Expert, Visit
from service.imports.runner import import_rows
from service.passwords import use_hasher
from service.settings import Settings
from tests.service.web_helpers import HTML_ACCEPT, add_user, sign_in, use_cheap_hashes

MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    previous = use_cheap_hashes()
    yield
    use_hasher(previous)


@pytest.fixture
async def sessions(migrated_db: str) -> AsyncIterator[SessionMaker]:
    engine = create_engine(migrated_db)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def app_client(migrated_db: str, sessions: SessionMaker, aiohttp_client: Any) -> TestClient:
    settings = Settings.model_validate({"database": {"url": migrated_db},
                                        "targets": {"pm_visits_planned_min": 1, "pm_visits_planned_max": 2}})
    await add_user(settings, "petrova", role="pm", extension="150", full_name="Петрова Анна Ильинична")
    await add_user(settings, "orlova", role="pm", extension="151", full_name="Орлова Вера Павловна")
    await add_user(settings, "ivanova", role="expert", extension="101")
    await add_user(settings, "sidorov", role="sio", extension=None)
    await add_user(settings, "smirnova", role="supervisor", extension=None)
    await import_rows("clients", [
        {"external_id": "C-501", "name": "ООО «Ромашка»", "segment": "ДС", "expert_login": "petrova"},
        {"external_id": "C-502", "name": "АО «Вектор»", "segment": "ДС", "expert_login": "ivanova"}], sessions)
    client: TestClient = await aiohttp_client(create_app(settings, with_pbx=False))
    return client


async def client_id(sessions: SessionMaker, code: str) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(Client.id).where(Client.external_id == code)) or 0)


async def visits(sessions: SessionMaker) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Visit)) or 0)


def form(token: str, client: int, **values: str) -> dict[str, Any]:
    today = datetime.now(UTC).astimezone(MSK).date().isoformat()
    return {"_csrf": token, "client_id": str(client), "day": today, "planned": "yes", "result": "done",
            "contacts_met": "Главбух", "topic": "", "comment": "Показала поиск", **values}


def facts(html: str) -> list[str]:
    return [part.split("</span>", 1)[0] for part in html.split('data-testid="fact">')[1:]]


async def test_a_pm_records_a_visit_and_sees_it_counted(app_client: TestClient, sessions: SessionMaker) -> None:
    token = await sign_in(app_client, "petrova")
    page = await (await app_client.get("/visits", headers=HTML_ACCEPT)).text()
    assert "Мои визиты" in page and "ООО «Ромашка» (C-501)" in page and "АО «Вектор»" not in page
    assert facts(page) == ["0", "0", "0"]
    c501 = await client_id(sessions, "C-501")
    response = await app_client.post("/visits", data=form(token, c501), headers=HTML_ACCEPT, allow_redirects=False)
    assert response.status == 303 and "saved=1" in response.headers["Location"]
    await app_client.post("/visits", data=form(token, c501, planned="no", result="moved"), headers=HTML_ACCEPT)
    async with sessions() as session:  # one call of hers in the ledger this month, one of someone else
        petrova = await session.scalar(select(Expert.id).where(Expert.login == "petrova"))
        now = datetime.now(UTC)
        await session.execute(insert(Call), [
            {"linkedid": f"l-{n}", "direction": "outbound", "expert_id": owner, "started_at": now,
             "created_at": now, "updated_at": now} for n, owner in ((1, petrova), (2, None))])
        await session.commit()
    page = await (await app_client.get(response.headers["Location"], headers=HTML_ACCEPT)).text()
    assert "Визит записан." in page and page.count('data-testid="visit"') == 2
    assert facts(page) == ["1", "0", "1"]  # the moved unplanned visit did not take place
    assert 'class="status-ok"' in page and 'class="status-low"' in page
    # The same visit again (same client, day, planned) updates it: no second row.
    await app_client.post("/visits", data=form(token, c501, comment="ещё раз"), headers=HTML_ACCEPT)
    assert await visits(sessions) == 2


async def test_bad_input_is_listed_in_russian_and_nothing_saved(app_client: TestClient,
                                                                sessions: SessionMaker) -> None:
    token = await sign_in(app_client, "petrova")
    foreign = await client_id(sessions, "C-502")  # Иванова's client, not hers
    response = await app_client.post("/visits", headers=HTML_ACCEPT, data=form(
        token, foreign, day="2026-02-31", result="maybe", planned="", topic="Не из списка", comment="x" * 2001))
    page = await response.text()
    assert response.status == 422 and "Визит не записан" in page
    for message in ("Такого клиента нет в вашем портфеле", "Укажите дату визита",
                    "Выберите результат визита", "плановый визит или внеплановый", "Выберите тему из списка",
                    "Комментарий длиннее 2000 знаков"):
        assert message in page, message
    assert await visits(sessions) == 0
    missing_csrf = await app_client.post("/visits", headers=HTML_ACCEPT,
                                         data={k: v for k, v in form(token, foreign).items() if k != "_csrf"})
    assert missing_csrf.status == 403 and await visits(sessions) == 0
    # Found trying it: a «состоялся» dated 25.12 was counted on 07.12. A moved visit may name a later day.
    ahead = (datetime.now(UTC).astimezone(MSK) + timedelta(days=18)).date()
    c501 = await client_id(sessions, "C-501")
    for result in ("done", "not_done"):
        response = await app_client.post("/visits", headers=HTML_ACCEPT,
                                         data=form(token, c501, day=ahead.isoformat(), result=result))
        assert response.status == 422 and f"Визит {ahead:%d.%m.%Y} ещё впереди" in await response.text()
    assert await visits(sessions) == 0
    moved = await app_client.post("/visits", headers=HTML_ACCEPT, allow_redirects=False,
                                  data=form(token, c501, day=ahead.isoformat(), result="moved"))
    assert moved.status == 303 and await visits(sessions) == 1


@pytest.mark.parametrize("login", ["ivanova", "sidorov"])
async def test_an_expert_and_a_sio_get_403(app_client: TestClient, sessions: SessionMaker, login: str) -> None:
    token = await sign_in(app_client, login)
    assert (await app_client.get("/visits", headers=HTML_ACCEPT)).status == 403
    response = await app_client.post("/visits", headers=HTML_ACCEPT,
                                     data=form(token, await client_id(sessions, "C-502")))
    assert response.status == 403 and await visits(sessions) == 0


async def test_a_supervisor_sees_every_pm_and_a_pm_only_herself(app_client: TestClient,
                                                                sessions: SessionMaker) -> None:
    token = await sign_in(app_client, "petrova")
    await app_client.post("/visits", data=form(token, await client_id(sessions, "C-501")), headers=HTML_ACCEPT)
    assert (await app_client.get("/visits?pm=orlova", headers=HTML_ACCEPT)).status == 403
    await app_client.post("/logout", data={"_csrf": token}, headers=HTML_ACCEPT)
    token = await sign_in(app_client, "smirnova")
    overview = await (await app_client.get("/visits", headers=HTML_ACCEPT)).text()
    assert "Петрова Анна Ильинична" in overview and "Орлова Вера Павловна" in overview
    assert overview.count('data-testid="plan-fact"') == 2
    page = await (await app_client.get("/visits?pm=petrova", headers=HTML_ACCEPT)).text()
    assert "Визиты: Петрова Анна Ильинична" in page and page.count('data-testid="visit"') == 1
    assert 'data-testid="visit-form"' not in page and facts(page)[0] == "1"
    assert (await app_client.get("/visits?pm=ivanova", headers=HTML_ACCEPT)).status == 404  # not a PM
    assert (await app_client.get("/visits?month=2026-13", headers=HTML_ACCEPT)).status == 400
    response = await app_client.post("/visits", headers=HTML_ACCEPT,
                                     data=form(token, await client_id(sessions, "C-501")))
    assert response.status == 403  # supervisors look, they do not record for her


def targets(html: str) -> list[str]:
    return [part.split("</span>", 1)[0] for part in html.split('data-testid="target">')[1:]]


async def test_her_own_imported_plan_replaces_the_norm(app_client: TestClient, sessions: SessionMaker) -> None:
    month = datetime.now(UTC).astimezone(MSK).strftime("%Y-%m")
    await import_rows("plans", [{"employee_login": "petrova", "month": month, "kind": "pm_visits_planned",
                                 "value": "1"},
                                {"employee_login": "petrova", "month": month, "kind": "pm_calls", "value": "3"}],
                      sessions)
    token = await sign_in(app_client, "petrova")
    page = await (await app_client.get("/visits", headers=HTML_ACCEPT)).text()
    # Planned visits and calls: her plan; unplanned visits: the norm (none imported for her).
    assert targets(page) == ["личный план 1", "план 10–12", "личный план 3"]
    c501 = await client_id(sessions, "C-501")
    await app_client.post("/visits", data=form(token, c501), headers=HTML_ACCEPT)
    tomorrow = (datetime.now(UTC).astimezone(MSK) + timedelta(days=1)).date()
    if tomorrow.strftime("%Y-%m") == month:  # a second planned visit: above her plan is still on target
        await app_client.post("/visits", data=form(token, c501, day=tomorrow.isoformat()), headers=HTML_ACCEPT)
    page = await (await app_client.get("/visits", headers=HTML_ACCEPT)).text()
    first = page.split('data-testid="figure-1"', 1)[0].rsplit("<li", 1)[1]
    assert 'class="status-ok"' in first
    assert (await app_client.get("/visits?pm=orlova", headers=HTML_ACCEPT)).status == 403
