"""The campaign for ДС in the stored plan (issue 15): the loader hands the builder the campaign's clients
(with their contacts, even outside any Expert's portfolio) and the build plans their calls."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from scheduler.calendar import WorkCalendar
from scheduler.inputs import Transition
from scheduler.model import ReasonCode
from scheduler.planning import Planner
from scheduler.rules import PlanRules
from service.db import models as m
from service.db.engine import SessionMaker
from service.db.plan import PlanRepository
from service.db.transitions import TransitionsRepository
from service.imports.runner import import_rows
from service.transition.machine import Status
from tests.service.planning import MSK, seed_portfolio

DAY = date(2026, 3, 3)  # a Tuesday
ASSIGNED = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 16:00 on Monday 02.03 in Moscow


async def client_id(sessions: SessionMaker, external_id: str) -> int:
    async with sessions() as session:
        return (await session.execute(select(m.Client.id).where(m.Client.external_id == external_id))).scalar_one()


async def test_the_campaigns_client_is_loaded_and_planned_for_its_expert(db_sessions: SessionMaker) -> None:
    await seed_portfolio(db_sessions)  # C-3 {K-5}: a КС client of a supervisor, in no Expert's portfolio
    transitions = TransitionsRepository(db_sessions, tz=MSK)
    await transitions.assign(["C-3"], "ivanova", None, ASSIGNED)
    repo = PlanRepository(db_sessions)
    inputs = await repo.load_plan_inputs(DAY, MSK)
    assert inputs.transitions == (Transition("C-3", "ivanova", "candidate", date(2026, 3, 2)),)
    assert "C-3" in {c.external_id for c in inputs.clients} and "K-5" in {k.external_id for k in inputs.contacts}
    assert (await repo.load_plan_inputs(DAY, MSK, expert_logins=["petrov"])).transitions == ()

    now = datetime(2026, 3, 3, 3, 30, tzinfo=UTC)
    await Planner(repo, WorkCalendar(), PlanRules(), MSK).build_day(DAY, now)
    [item] = [v for v in await repo.list_plan(DAY) if v.client_external_id == "C-3"]
    assert (item.expert_login, item.contact_external_id, item.topic) == (
        "ivanova", "K-5", "Переход на дистанционный сервис")
    assert [(r.code, r.text) for r in item.reasons] == [
        (ReasonCode.TRANSITION, "переход на ДС: кандидат (назначен 02.03)")]


async def test_a_postponed_client_is_loaded_with_its_day_and_a_decided_one_is_not(db_sessions: SessionMaker) -> None:
    await seed_portfolio(db_sessions)
    await import_rows("clients", [{"external_id": "C-5", "name": "ООО «Лес»", "segment": "КС",
                                   "expert_login": "petrov"}], db_sessions)
    transitions = TransitionsRepository(db_sessions, tz=MSK)
    await transitions.assign(["C-3", "C-5"], "ivanova", None, ASSIGNED)
    c3, c5 = await client_id(db_sessions, "C-3"), await client_id(db_sessions, "C-5")
    later = ASSIGNED + timedelta(hours=1)
    await transitions.change(c3, Status.POSTPONED, None, later, until=date(2026, 3, 10))
    await transitions.change(c5, Status.DECLINED, None, later, reason="Нет интернета")
    inputs = await PlanRepository(db_sessions).load_plan_inputs(DAY, MSK)
    assert inputs.transitions == (Transition("C-3", "ivanova", "postponed", date(2026, 3, 10)),)
    # C-5 is petrov's own client: still in his portfolio, no longer in the campaign.
    assert {c.external_id: c.expert_login for c in inputs.clients}["C-5"] == "petrov"


async def test_building_tomorrows_plan_leaves_todays_open_calls_alone(db_sessions: SessionMaker) -> None:
    """Found trying issue 15: `plan build --date <tomorrow>` at 09:35 rolled today's 17 open calls over."""
    await seed_portfolio(db_sessions)
    repo = PlanRepository(db_sessions)
    planner = Planner(repo, WorkCalendar(), PlanRules(), MSK)
    morning = datetime(2026, 3, 3, 3, 30, tzinfo=UTC)  # 06:30 Moscow, Tuesday
    await planner.build_day(DAY, morning)
    today = [(v.public_id, v.state) for v in await repo.list_plan(DAY)]
    assert today and all(state == "planned" for _, state in today)
    await planner.build_day(DAY + timedelta(days=1), morning + timedelta(hours=3))
    assert [(v.public_id, v.state) for v in await repo.list_plan(DAY)] == today  # still planned, none rolled
    tomorrow = await repo.list_plan(DAY + timedelta(days=1))
    assert not {v.public_id for v in tomorrow} & {public_id for public_id, _ in today}


async def test_a_declined_or_reassigned_clients_planned_campaign_call_is_cancelled(db_sessions: SessionMaker) -> None:
    """Found trying issue 15: after «отказ» (or a new Expert) the planned «переход на ДС» call stayed on the desk."""
    await seed_portfolio(db_sessions)
    await seed_portfolio_second_client(db_sessions)
    transitions = TransitionsRepository(db_sessions, tz=MSK)
    await transitions.assign(["C-3", "C-7"], "ivanova", None, ASSIGNED)
    repo = PlanRepository(db_sessions)
    now = datetime(2026, 3, 3, 3, 30, tzinfo=UTC)
    await Planner(repo, WorkCalendar(), PlanRules(), MSK).build_day(DAY, now)

    def campaign(views: list[Any], client: str) -> list[tuple[str, str]]:
        return [(v.expert_login, v.state) for v in views if v.client_external_id == client]

    assert campaign(await repo.list_plan(DAY), "C-3") == [("ivanova", "planned")]
    assert campaign(await repo.list_plan(DAY), "C-7") == [("ivanova", "planned")]
    later = now + timedelta(hours=2)
    await transitions.change(await client_id(db_sessions, "C-3"), Status.DECLINED, None, later,
                             reason="Нет интернета")
    await transitions.assign(["C-7"], "petrov", None, later)
    plan = await repo.list_plan(DAY)
    assert campaign(plan, "C-3") == [("ivanova", "cancelled")]
    assert campaign(plan, "C-7") == [("ivanova", "cancelled")]


async def seed_portfolio_second_client(sessions: SessionMaker) -> None:
    """C-7, another КС client with a contact (K-9), for a second campaign call."""
    await import_rows("clients", [{"external_id": "C-7", "name": "ООО «Кедр»", "segment": "КС",
                                   "version": "online"}], sessions)
    await import_rows("contacts", [{"external_id": "K-9", "client_external_id": "C-7", "full_name": "Кедров Иван",
                                    "phone": "+79115550009", "is_user": "да"}], sessions)
