"""A deactivated Expert gets no daily plan (found in review: the plan ignored `experts.active`)."""

from __future__ import annotations

from datetime import date

from service.db.engine import SessionMaker
from service.db.plan import PlanRepository
from service.db.users import UsersRepository
from tests.service.planning import MSK, seed_portfolio


async def test_a_deactivated_expert_gets_no_plan_inputs(db_sessions: SessionMaker) -> None:
    await seed_portfolio(db_sessions)
    repo = PlanRepository(db_sessions)
    day = date(2026, 3, 2)
    before = {e.login for e in (await repo.load_plan_inputs(day, MSK)).experts}
    assert {"ivanova", "petrov"} <= before
    assert await UsersRepository(db_sessions).deactivate("ivanova")
    after = {e.login for e in (await repo.load_plan_inputs(day, MSK)).experts}
    assert after == before - {"ivanova"}
