"""The campaign for ДС in the stored plan (issue 15): the loader hands the builder the campaign's clients
(with their contacts, even outside any Expert's portfolio) and the build plans their calls."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

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
