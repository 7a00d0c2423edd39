"""A call is on a planned item only when its owner is the item's Expert (or a supervisor who called on it).

Found live: a call from extension 108 carrying PLANNED_CALL_ID=PC-1018 attached to maria's item; her
screen then demanded a wrap-up for a call she may not open (403). Every place that links the ledger to
the plan follows service/db/plan_links.py: the desk queue, the wrap-up and the plan state it sets, the
figures, the call log and the attempts the planner counts. SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from dialer.records import Outcome
from service.app import create_app
from service.calllog.filters import CallFilters
from service.db.call_log import CallLogRepository
from service.db.desk_queue import DeskQueueRepository
from service.db.engine import SessionMaker
from service.db.figures import FiguresRepository
from service.db.ledger import LedgerRepository
from service.db.models import Expert, HistoryEntry, PlannedCall
from service.db.plan import PlanRepository
from service.figures.model import Period, PeriodKind, Scope, ScopeKind
from service.settings import Settings
from tests.service.builders import closed_call
from tests.service.planning import MSK, at, item, plan
from tests.service.web_helpers import (
    HTML_ACCEPT,
    JSON_ACCEPT,
    seed_signed_in_portfolio,
    sign_in,
    use_cheap_hashes,
)


@dataclass
class World:
    settings: Settings
    sessions: SessionMaker
    day: date
    ids: dict[str, str]  # contact external id → planned item public id
    users: dict[str, int]  # login → user id


@pytest.fixture
async def world(db_sessions: SessionMaker, migrated_db: str, tmp_path: Path) -> AsyncIterator[World]:
    """ivanova (101) has K-1 and K-2 planned today, petrov (102) K-6; smirnova supervises from 201."""
    previous = use_cheap_hashes()
    settings, day = await seed_signed_in_portfolio(db_sessions, migrated_db, tmp_path / "rec")
    await PlanRepository(db_sessions).save_plan(plan(
        day, item("K-1", "C-1", at(day, 9, 30)), item("K-2", "C-1", at(day, 10, 0)),
        item("K-6", "C-4", at(day, 9, 0), expert="petrov")))
    async with db_sessions.begin() as session:
        await session.execute(update(Expert).where(Expert.login == "smirnova").values(extension="201"))
    async with db_sessions() as session:
        users = {login: id_ for login, id_ in await session.execute(select(Expert.login, Expert.id))}
    ids = {v.contact_external_id or "": v.public_id for v in await PlanRepository(db_sessions).list_plan(day)}
    yield World(settings, db_sessions, day, ids, users)
    from service.passwords import use_hasher
    use_hasher(previous)


async def add_call(world: World, linkedid: str, ext: str, planned_call_id: str | None, minute: int,
                   outcome: Outcome = Outcome.ANSWERED) -> None:
    start = at(world.day, 9, minute).astimezone(UTC)
    answered = outcome is Outcome.ANSWERED
    record = closed_call(linkedid, expert_ext=ext, started_at=start, ringing_at=None,
                         answered_at=start + timedelta(seconds=5) if answered else None,
                         ended_at=start + timedelta(seconds=65), duration_s=65.0, talk_s=60.0 if answered else 0.0,
                         outcome=outcome, client_id="C-1", client_number="79115550001", recording=None,
                         planned_call_id=planned_call_id)
    await LedgerRepository(world.sessions).upsert_calls([record])


async def client_for(aiohttp_client: Any, world: World, login: str) -> tuple[TestClient, str]:
    client = await aiohttp_client(create_app(world.settings, with_pbx=False))
    return client, await sign_in(client, login)


async def item_state(world: World, contact: str) -> str:
    async with world.sessions() as session:
        state: str = (await session.execute(
            select(PlannedCall.state).where(PlannedCall.public_id == world.ids[contact]))).scalar_one()
    return state


async def test_another_experts_call_carrying_an_items_id_is_never_attached(aiohttp_client: Any,
                                                                           world: World) -> None:
    k1 = world.ids["K-1"]
    await add_call(world, "FOREIGN.1", "102", k1, 40)  # petrov's phone, ivanova's item id
    queues = await DeskQueueRepository(world.sessions).queues(
        [world.users["ivanova"], world.users["petrov"]], world.day, MSK)
    [k1_row] = [r for r in queues[world.users["ivanova"]] if r.public_id == k1]
    assert k1_row.linkedid is None and not k1_row.needs_wrapup  # her item: no call, no wrap-up owed
    assert [(r.public_id, r.linkedid) for r in queues[world.users["petrov"]] if r.linkedid] == [
        (None, "FOREIGN.1")]  # petrov's own unplanned call

    ivanova, _ = await client_for(aiohttp_client, world, "ivanova")
    html = await (await ivanova.get("/desk", headers=HTML_ACCEPT)).text()
    assert "FOREIGN.1" not in html and 'data-needs-wrapup="0"' in html
    assert (await ivanova.get("/calls/FOREIGN.1/wrapup", headers=HTML_ACCEPT)).status == 403

    petrov, token = await client_for(aiohttp_client, world, "petrov")
    form = await (await petrov.get("/calls/FOREIGN.1/wrapup", headers=HTML_ACCEPT)).text()
    assert k1 not in form  # not offered as the item's wrap-up
    saved = await petrov.post("/calls/FOREIGN.1/wrapup", headers=JSON_ACCEPT,
                              data={"_csrf": token, "result": "contact_made"})
    assert saved.status == 200, await saved.text()
    assert await item_state(world, "K-1") == "planned"  # her item did not take his result
    async with world.sessions() as session:  # an unplanned call with a known client: history
        assert (await session.execute(select(HistoryEntry.result))).scalars().all() == ["contact_made"]


async def test_a_later_foreign_call_does_not_hide_the_items_own_latest_call(aiohttp_client: Any,
                                                                            world: World) -> None:
    k1 = world.ids["K-1"]
    await add_call(world, "OWN.1", "101", k1, 31, Outcome.BUSY)
    await add_call(world, "FOREIGN.2", "102", k1, 50)  # later, petrov's
    ivanova, token = await client_for(aiohttp_client, world, "ivanova")
    saved = await ivanova.post("/calls/OWN.1/wrapup", headers=JSON_ACCEPT,
                               data={"_csrf": token, "result": "not_reached"})
    assert saved.status == 200, await saved.text()
    assert await item_state(world, "K-1") == "not_reached"  # her call is the item's latest
    html = await (await ivanova.get("/desk", headers=HTML_ACCEPT)).text()
    assert "OWN.1" in html and "FOREIGN.2" not in html


async def test_a_supervisors_call_on_an_item_is_attached(aiohttp_client: Any, world: World) -> None:
    k6 = world.ids["K-6"]
    await add_call(world, "SUPER.1", "201", k6, 45)  # smirnova calls petrov's client from the plan
    queue = await DeskQueueRepository(world.sessions).queue(world.users["petrov"], world.day, MSK)
    assert [(r.public_id, r.linkedid) for r in queue] == [(k6, "SUPER.1")]
    smirnova, token = await client_for(aiohttp_client, world, "smirnova")
    saved = await smirnova.post("/calls/SUPER.1/wrapup", headers=JSON_ACCEPT,
                                data={"_csrf": token, "result": "contact_made"})
    assert saved.status == 200, await saved.text()
    assert await item_state(world, "K-6") == "contact_made"


async def test_figures_and_the_call_log_count_a_foreign_call_as_unplanned(world: World) -> None:
    k1 = world.ids["K-1"]
    await add_call(world, "OWN.2", "101", k1, 31)
    await add_call(world, "FOREIGN.3", "102", k1, 40)
    await add_call(world, "UNKNOWN.1", "102", "PC-999999", 41)  # an id no item has
    period = Period(PeriodKind.DAY, world.day, world.day)
    days = await FiguresRepository(world.sessions).day_aggregates(Scope(ScopeKind.DEPARTMENT), period, MSK)
    by_expert = {a.expert_id: (a.calls, a.unplanned) for a in days if a.calls}
    assert by_expert == {world.users["ivanova"]: (1, 0), world.users["petrov"]: (2, 2)}

    log = CallLogRepository(world.sessions, MSK)
    planned = await log.page(CallFilters(planned=True), None)
    unplanned = await log.page(CallFilters(planned=False), None)
    assert [r.linkedid for r in planned.rows] == ["OWN.2"]
    assert [r.linkedid for r in unplanned.rows] == ["UNKNOWN.1", "FOREIGN.3"]
    detail = await log.call("FOREIGN.3")
    assert detail is not None and detail.planned is None
    assert (detail.row.planned_call_id, detail.row.on_item) == (k1, False)  # kept as data
    own = await log.call("OWN.2")
    assert own is not None and own.planned is not None and own.planned.public_id == k1


async def test_the_call_log_page_says_a_foreign_id_was_not_attached(aiohttp_client: Any, world: World) -> None:
    await add_call(world, "FOREIGN.4", "102", world.ids["K-1"], 40)
    smirnova, _ = await client_for(aiohttp_client, world, "smirnova")
    html = await (await smirnova.get("/calls/FOREIGN.4", headers=HTML_ACCEPT)).text()
    assert "Внеплановый звонок" in html
    assert re.search(rf'data-testid="foreign-item">АТС передала номер работы {world.ids["K-1"]}', html)


async def test_a_foreign_call_uses_up_no_attempt_of_the_items_contact(world: World) -> None:
    k1 = world.ids["K-1"]
    for minute in (40, 42, 44):
        await add_call(world, f"FOREIGN.B{minute}", "102", k1, minute, Outcome.BUSY)
    await add_call(world, "OWN.B", "101", k1, 46, Outcome.BUSY)
    inputs = await PlanRepository(world.sessions).load_plan_inputs(world.day + timedelta(days=1), MSK)
    [k1_summary] = [s for s in inputs.summaries if s.contact_external_id == "K-1"]
    assert k1_summary.attempts_since_contact == 1
    assert k1_summary.last_attempt_at == at(world.day, 9, 46)


async def test_the_ledger_logs_a_foreign_planned_call_id(world: World, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="service.db.plan_links"):
        await add_call(world, "FOREIGN.5", "102", world.ids["K-1"], 40)
        await add_call(world, "SUPER.2", "201", world.ids["K-1"], 41)  # a supervisor's: fine
        await add_call(world, "OWN.3", "101", world.ids["K-1"], 42)
    warnings = [r.getMessage() for r in caplog.records if r.name == "service.db.plan_links"]
    assert len(warnings) == 1
    assert "FOREIGN.5" in warnings[0] and world.ids["K-1"] in warnings[0] and "not attached" in warnings[0]
