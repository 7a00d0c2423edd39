"""A call whose outcome or talk time is a guess (its end fell into a gap in the PBX link) is shown
as such and kept out of the figures: «N звонков с неточными данными» (issue 12, item 4)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text, update

from dialer.records import Q_END_INFERRED, Q_FROM_CDR, Direction, Outcome
from scheduler.model import PlanState
from service.app import create_app
from service.calllog.filters import CallFilters
from service.db.call_log import CallLogRepository
from service.db.engine import SessionMaker
from service.db.figures import FiguresRepository
from service.db.ledger import LedgerRepository
from service.db.models import Call, PlannedCall, WrapUp
from service.db.users import UsersRepository
from service.desk.queue import QueueRow
from service.figures.compute import FigureTargets
from service.passwords import hash_password, use_hasher
from service.settings import Settings
from tests.service.builders import closed_call
from tests.service.test_figures_db import DEPARTMENT, MON, MSK, TUE, WEEK, msk, seed_figures
from tests.service.web_helpers import DEFAULT_PASSWORD, HTML_ACCEPT, sign_in, use_cheap_hashes

NOW = datetime(2026, 3, 9, 12, tzinfo=UTC)


async def a_guessed_productive_call(sessions: SessionMaker, *, corrected: bool = False) -> None:
    """Maria's Monday call whose end fell into a gap: answered and wrapped up as productive."""
    started = msk(MON, 16)
    record = dataclasses.replace(
        closed_call("gap-1"), direction=Direction.OUTBOUND, expert_ext="101", started_at=started,
        answered_at=started + timedelta(seconds=5), ended_at=started + timedelta(seconds=905), talk_s=900.0,
        duration_s=905.0, outcome=Outcome.ANSWERED,
        quality=(Q_FROM_CDR,) if corrected else (Q_END_INFERRED,))
    async with sessions.begin() as s:  # the seed wrote its own ids: PostgreSQL's sequence moves on past them
        if s.get_bind().dialect.name == "postgresql":
            await s.execute(text("SELECT setval('calls_id_seq', 1000)"))
    await LedgerRepository(sessions).upsert_calls([record])
    async with sessions.begin() as s:
        cid = await s.scalar(select(Call.id).where(Call.linkedid == "gap-1"))
        await s.execute(insert(WrapUp), [{"call_id": cid, "expert_id": 1, "result": "contact_made", "topic": None,
                                          "logged_in": False, "productive": True, "created_at": NOW,
                                          "updated_at": NOW}])


async def test_a_guessed_call_is_counted_apart_and_in_no_figure(db_sessions: SessionMaker) -> None:
    await seed_figures(db_sessions)
    repo = FiguresRepository(db_sessions)
    before = {a.expert_id: a for a in await repo.day_aggregates(DEPARTMENT, WEEK, MSK) if a.day == MON}
    await a_guessed_productive_call(db_sessions)
    after = {a.expert_id: a for a in await repo.day_aggregates(DEPARTMENT, WEEK, MSK) if a.day == MON}
    maria_before, maria = before[1], after[1]
    assert maria.calls == maria_before.calls + 1 and maria.guessed == 1
    assert (maria.made, maria.productive, maria.productive_talk_s) == (
        maria_before.made, maria_before.productive, maria_before.productive_talk_s)
    report = await repo.report(DEPARTMENT, WEEK, MSK, NOW, FigureTargets())
    assert report.guessed == 1 and report.guessed_drill == {"guessed": "yes"}
    log = CallLogRepository(db_sessions, MSK)
    [row] = (await log.page(CallFilters(guessed=True), None, 100)).rows
    assert row.linkedid == "gap-1" and row.guessed
    assert all(not r.guessed for r in (await log.page(CallFilters(guessed=False), None, 100)).rows)


async def test_a_call_the_cdr_put_right_counts_as_fact(db_sessions: SessionMaker) -> None:
    await seed_figures(db_sessions)
    repo = FiguresRepository(db_sessions)
    before = {a.expert_id: a for a in await repo.day_aggregates(DEPARTMENT, WEEK, MSK) if a.day == MON}[1]
    await a_guessed_productive_call(db_sessions, corrected=True)
    maria = {a.expert_id: a for a in await repo.day_aggregates(DEPARTMENT, WEEK, MSK) if a.day == MON}[1]
    assert (maria.guessed, maria.made, maria.productive) == (0, before.made + 1, before.productive + 1)


async def test_the_figures_page_and_the_call_log_say_which_calls_are_inexact(
        aiohttp_client: Any, db_sessions: SessionMaker, migrated_db: str) -> None:
    previous = use_cheap_hashes()
    try:
        await seed_figures(db_sessions)
        await a_guessed_productive_call(db_sessions)
        client = await supervisor_client(aiohttp_client, db_sessions, migrated_db)
        page = await (await client.get("/figures?scope=department&period=week&date=2026-03-04",
                                       headers=HTML_ACCEPT)).text()
        assert "1 звонок с неточными данными" in page and "guessed=yes" in page
        log = await (await client.get("/calls?guessed=yes&from=2026-03-02&to=2026-03-08", headers=HTML_ACCEPT)).text()
        assert "≈ неточно" in log and 'data-linkedid="gap-1"' in log
        assert log.count("data-linkedid=") == 1
    finally:
        use_hasher(previous)


async def test_the_experts_own_miss_puts_her_item_back_and_asks_no_wrapup(db_sessions: SessionMaker) -> None:
    """Issue 13, item 5: «Эксперт не снял трубку» is no result: the item is planned again the same day;
    a call carrying another Expert's item id moves nothing of hers."""
    await seed_figures(db_sessions)
    async with db_sessions.begin() as s:
        await s.execute(update(PlannedCall).where(PlannedCall.public_id.in_(("PC-5", "PC-7")))
                        .values(state="in_progress"))
        if s.get_bind().dialect.name == "postgresql":
            await s.execute(text("SELECT setval('calls_id_seq', 1000)"))
    started = msk(TUE, 11)
    mine = dataclasses.replace(closed_call("miss-1"), expert_ext="101", planned_call_id="PC-5", started_at=started,
                               answered_at=None, talk_s=0.0, outcome=Outcome.EXPERT_NO_ANSWER)
    foreign = dataclasses.replace(mine, linkedid="miss-2", expert_ext="102", planned_call_id="PC-7")
    await LedgerRepository(db_sessions).upsert_calls([mine, foreign])
    async with db_sessions() as s:
        states = dict((await s.execute(select(PlannedCall.public_id, PlannedCall.state)
                                       .where(PlannedCall.public_id.in_(("PC-5", "PC-7"))))).all())
    assert states == {"PC-5": "planned", "PC-7": "in_progress"}
    row = QueueRow(public_id="PC-5", slot=started, state=PlanState.PLANNED, client_id="C-1", client_name="",
                   contact_id="K-1", contact_name="", phone="", reasons=(), topic=None, comment=None,
                   linkedid="miss-1", outcome="expert_no_answer")
    assert not row.needs_wrapup and dataclasses.replace(row, outcome="busy").needs_wrapup


async def test_productive_wrapups_older_than_the_rule_are_shown_beside_the_figure(
        aiohttp_client: Any, db_sessions: SessionMaker, migrated_db: str) -> None:
    """Issue 13, item 1: a wrap-up marked productive before the rule, for a 0:30 talk, is left as it was;
    the figures page says how many such there are beside «Результативные» and links to them."""
    previous = use_cheap_hashes()
    try:
        await seed_figures(db_sessions)
        async with db_sessions.begin() as s:
            if s.get_bind().dialect.name == "postgresql":
                await s.execute(text("SELECT setval('calls_id_seq', 1000)"))
        started = msk(MON, 17)
        short = dataclasses.replace(closed_call("short-1"), direction=Direction.OUTBOUND, expert_ext="101",
                                    started_at=started, answered_at=started + timedelta(seconds=5),
                                    ended_at=started + timedelta(seconds=35), talk_s=30.0, duration_s=35.0)
        await LedgerRepository(db_sessions).upsert_calls([short])
        async with db_sessions.begin() as s:
            cid = await s.scalar(select(Call.id).where(Call.linkedid == "short-1"))
            await s.execute(insert(WrapUp), [{"call_id": cid, "expert_id": 1, "result": "contact_made",
                                              "productive": True, "logged_in": False, "created_at": NOW,
                                              "updated_at": NOW}])
        report = await FiguresRepository(db_sessions).report(DEPARTMENT, WEEK, MSK, NOW, FigureTargets())
        assert report.short_productive == 1
        client = await supervisor_client(aiohttp_client, db_sessions, migrated_db)
        page = await (await client.get("/figures?scope=expert:maria&period=week&date=2026-03-04",
                                       headers=HTML_ACCEPT)).text()
        assert "результативных короче порога: 1" in page and "talk_below=2%3A00" in page
        log = await (await client.get("/calls?productive=yes&talk_below=2:00&from=2026-03-02&to=2026-03-08",
                                      headers=HTML_ACCEPT)).text()
        assert 'data-linkedid="short-1"' in log and log.count("data-linkedid=") == 1
    finally:
        use_hasher(previous)


async def supervisor_client(aiohttp_client: Any, sessions: SessionMaker, db_url: str) -> Any:
    """The service without a PBX, olga (supervisor) signed in (cheap hashes must be in use)."""
    await UsersRepository(sessions).set_password_hash("olga", hash_password(DEFAULT_PASSWORD))
    client = await aiohttp_client(create_app(Settings.model_validate({"database": {"url": db_url}}), with_pbx=False))
    await sign_in(client, "olga")
    return client
