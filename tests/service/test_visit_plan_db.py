"""The PMs' visit plans on a real database (issue 16, item 1): built to the norm or her own plan, only
topped up (again, or twice at once), shown on /visits with the visits that took place, and the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.cli import main
from service.db.engine import SessionMaker
from service.db.models import Client, PlannedVisit
from service.imports.runner import import_rows
from service.passwords import use_hasher
from service.plan_setup import build_visit_plans
from service.settings import ENV_DATABASE_URL, Settings
from tests.service.web_helpers import HTML_ACCEPT, add_user, sign_in, use_cheap_hashes

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 10, 7, 0, tzinfo=UTC)  # Tuesday 10.11.2026, 10:00 in Moscow


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    previous = use_cheap_hashes()
    yield
    use_hasher(previous)


@pytest.fixture
async def settings(migrated_db: str, db_sessions: SessionMaker) -> Settings:
    settings = Settings.model_validate({"database": {"url": migrated_db},
                                        "targets": {"pm_visits_planned_min": 1, "pm_visits_planned_max": 2}})
    await add_user(settings, "petrova", role="pm", extension="150", full_name="Петрова Анна Ильинична")
    await add_user(settings, "maria", role="expert", extension="101")
    await import_rows("clients", [
        {"external_id": f"C-{n}", "name": f"ООО «Клиент {n}»", "segment": "ДС", "expert_login": "petrova",
         "debt_rub": "1000" if n == 3 else "0"} for n in range(1, 6)]
        + [{"external_id": "C-9", "name": "ООО «Чужой»", "segment": "ДС", "expert_login": "maria"}], db_sessions)
    await import_rows("contacts", [
        {"external_id": f"K-{n}", "client_external_id": f"C-{n}", "full_name": f"Контакт {n}", "is_user": "да"}
        for n in (*range(1, 6), 9)], db_sessions)
    return settings


async def planned(db_sessions: SessionMaker) -> list[str]:
    async with db_sessions() as session:
        return list(await session.scalars(select(Client.external_id).join(PlannedVisit,
                                                                          PlannedVisit.client_id == Client.id)
                                          .order_by(PlannedVisit.rank)))


async def test_the_plan_is_built_to_the_norm_then_only_topped_up(settings: Settings, db_sessions: SessionMaker) -> None:
    assert await build_visit_plans(settings, db_sessions, NOW) == 2  # targets.pm_visits_planned_max
    first = await planned(db_sessions)
    assert first[0] == "C-3" and "C-9" not in first  # the debt first; never another's client
    assert await build_visit_plans(settings, db_sessions, NOW) == 0
    await import_rows("plans", [{"employee_login": "petrova", "month": "2026-11", "kind": "pm_visits_planned",
                                 "value": "4"}], db_sessions)
    added = await asyncio.gather(build_visit_plans(settings, db_sessions, NOW),
                                 build_visit_plans(settings, db_sessions, NOW))
    assert sum(added) == 2 and len(await planned(db_sessions)) == 4  # two at once: no client twice
    assert (await planned(db_sessions))[:2] == first


async def test_a_past_month_is_not_built(settings: Settings, db_sessions: SessionMaker) -> None:
    assert await build_visit_plans(settings, db_sessions, NOW, NOW.date().replace(month=10, day=1)) == 0
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PlannedVisit)) == 0


async def test_visits_shows_the_plan_and_what_was_visited(settings: Settings, db_sessions: SessionMaker,
                                                          aiohttp_client: Any) -> None:
    now = datetime.now(UTC)
    await build_visit_plans(settings, db_sessions, now)
    client: TestClient = await aiohttp_client(create_app(settings, with_pbx=False))
    token = await sign_in(client, "petrova")
    page = await (await client.get("/visits", headers=HTML_ACCEPT)).text()
    assert page.count('data-testid="planned-visit"') == 2 and "задолженность 1" in page, page
    assert "Посещено 0 из 2" in page
    async with db_sessions() as session:
        c3 = await session.scalar(select(Client.id).where(Client.external_id == "C-3"))
    today = now.astimezone(MSK).date().isoformat()
    await client.post("/visits", headers=HTML_ACCEPT, data={
        "_csrf": token, "client_id": str(c3), "day": today, "planned": "yes", "result": "done"})
    page = await (await client.get("/visits", headers=HTML_ACCEPT)).text()
    assert "Посещено 1 из 2" in page and page.count('data-testid="visited"') == 1


async def test_the_cli_builds_the_month_and_refuses_a_past_one(settings: Settings, migrated_db: str,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(ENV_DATABASE_URL, migrated_db)
    monkeypatch.setenv("DSDESK_TARGETS__PM_VISITS_PLANNED_MAX", "2")
    assert await asyncio.to_thread(main, ["visits", "plan", "--month", "2020-01"]) == 2
    assert "январь 2020 уже прошёл" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        await asyncio.to_thread(main, ["visits", "plan", "--month", "2026-13"])
    assert refused.value.code == 2 and "неверный месяц «2026-13»" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["visits", "plan"]) == 0
    assert "План визитов на" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["visits", "plan", "--pm", "maria", "--pm", "nobody"]) == 2
    assert "Нет ПМ по ДС с логином «maria», «nobody»" in capsys.readouterr().err
