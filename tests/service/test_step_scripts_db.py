"""Step scripts in the database on SQLite and PostgreSQL: drafts, published versions (never changed in place),
rollback, the desk's lookup, a call's step log written once per move, and the rows «Что работает» reads."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from dialer.records import CallRecord, Direction, Outcome
from service.coaching.what_works import what_works
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.db.models import StepScriptVersion
from service.db.step_figures import logged_calls
from service.db.step_scripts import StepScriptsRepository
from service.db.users import UsersRepository
from service.figures.model import Period, PeriodKind
from service.scripts.steps import Branch, Step, StepScript

T0 = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
MOSCOW = ZoneInfo("Europe/Moscow")
V1 = StepScript("Обзор", (
    Step("greeting", "Приветствие", "Здравствуйте, {ИО контакта}!", branches=(Branch("занят", "callback"),)),
    Step("login", "Заход в систему", "Откройте систему.", login=True),
    Step("callback", "Перезвонить", "Когда перезвонить?"),
))
V2 = StepScript("Обзор новостей", (*V1.steps, Step("next", "Следующий контакт", "Когда созвонимся?")))


async def _script(sessions: SessionMaker) -> tuple[StepScriptsRepository, int, int]:
    repo = StepScriptsRepository(sessions)
    olga = (await UsersRepository(sessions).add("olga", "Орлова Ольга Игоревна", "supervisor", None, None)).id
    assert await repo.create("news_review", "news_review.j2", V1, olga, T0)
    row = await repo.by_key("news_review")
    assert row is not None
    return repo, row.id, olga


async def test_publish_adds_versions_clears_the_draft_and_rollback_adds_another(db_sessions: SessionMaker) -> None:
    repo, script_id, olga = await _script(db_sessions)
    row = await repo.by_key("news_review")
    assert row is not None and row.draft == V1 and row.published is None and row.catalog_file == "news_review.j2"
    assert await repo.published_for("news_review.j2") is None  # a draft is nobody's on the desk

    assert await repo.publish(script_id, V1, olga, T0 + timedelta(minutes=1)) == 1
    await repo.save_draft(script_id, V2, olga, T0 + timedelta(minutes=2))
    row = await repo.by_key("news_review")
    assert row is not None and row.draft == V2 and row.published == 1
    desk = await repo.published_for("news_review.j2")
    assert desk is not None and desk.script == V1  # the draft is not published

    assert await repo.publish(script_id, V2, olga, T0 + timedelta(minutes=3)) == 2
    row = await repo.by_key("news_review")
    assert row is not None and row.draft is None and row.published == 2
    assert await repo.publish(script_id, V1, olga, T0 + timedelta(minutes=4), rolled_back_to=1) == 3
    versions = await repo.versions(script_id)
    assert [(v.number, v.rolled_back_to) for v in versions] == [(3, 1), (2, None), (1, None)]
    assert versions[0].changes == ["возврат к версии 1", "название: «Обзор новостей» → «Обзор»",
                                   "удалён шаг «Следующий контакт»"]
    assert versions[1].changes == ["название: «Обзор» → «Обзор новостей»", "добавлен шаг «Следующий контакт»"]
    assert versions[2].changes == ["первая версия: 3 шага"]
    assert versions[0].author_name == "Орлова Ольга Игоревна" and versions[0].created_at.tzinfo is not None
    desk = await repo.published_for("news_review.j2")
    assert desk is not None and desk.number == 3 and desk.script == V1
    # Published versions stay as they were published.
    async with db_sessions() as session:
        bodies = (await session.execute(select(StepScriptVersion.number, StepScriptVersion.body)
                                        .order_by(StepScriptVersion.number))).all()
    assert [number for number, _ in bodies] == [1, 2, 3] and bodies[0].body == bodies[2].body


async def test_one_step_script_per_key_and_per_catalog_script(db_sessions: SessionMaker) -> None:
    repo, _, olga = await _script(db_sessions)
    assert not await repo.create("news_review", "training.j2", V1, olga, T0)
    assert not await repo.create("other", "news_review.j2", V1, olga, T0)
    assert [row.key for row in await repo.all()] == ["news_review"]


async def test_two_publishes_at_once_get_two_numbers(db_sessions: SessionMaker) -> None:
    repo, script_id, olga = await _script(db_sessions)
    numbers = await asyncio.gather(*(repo.publish(script_id, V1, olga, T0) for _ in range(3)))
    assert sorted(numbers) == [1, 2, 3]


async def test_a_move_is_written_once_and_the_call_reads_in_order(db_sessions: SessionMaker) -> None:
    repo, script_id, olga = await _script(db_sessions)
    await repo.publish(script_id, V1, olga, T0)
    version = await repo.published_for("news_review.j2")
    assert version is not None
    assert await repo.log_step("1765000000.1", 1, olga, version.id, "login", T0 + timedelta(seconds=30))
    assert await repo.log_step("1765000000.1", 0, olga, version.id, "greeting", T0)
    assert not await repo.log_step("1765000000.1", 1, olga, version.id, "callback", T0 + timedelta(seconds=31))
    steps = await repo.steps_of_call("1765000000.1")
    assert [(s.seq, s.step_key, s.entered_at) for s in steps] == [
        (0, "greeting", T0), (1, "login", T0 + timedelta(seconds=30))]


def _call(linkedid: str, ext: str, answered: datetime, talk_s: float) -> CallRecord:
    return CallRecord(linkedid=linkedid, direction=Direction.OUTBOUND, expert_ext=ext, client_number="+79115550001",
                      started_at=answered - timedelta(seconds=10), answered_at=answered,
                      ended_at=answered + timedelta(seconds=talk_s), duration_s=talk_s + 10, talk_s=talk_s,
                      outcome=Outcome.ANSWERED, hangup_cause=16, recording=None, planned_call_id=None,
                      client_id=None)


async def test_what_works_reads_the_periods_logged_calls(db_sessions: SessionMaker) -> None:
    repo, script_id, olga = await _script(db_sessions)
    await repo.publish(script_id, V1, olga, T0)
    version = await repo.published_for("news_review.j2")
    assert version is not None
    anna = (await UsersRepository(db_sessions).add("anna", "Смирнова Анна", "expert", "101", None)).id
    calls = [_call("1765000000.1", "101", T0, 600), _call("1765000000.2", "101", T0 + timedelta(hours=1), 90),
             _call("1765000000.3", "101", T0 - timedelta(days=3), 300)]  # another week
    await LedgerRepository(db_sessions).upsert_calls(calls)
    for call, moves in zip(calls, ([("greeting", 0), ("login", 40)], [("greeting", 0)], [("greeting", 0)]),
                           strict=True):
        for seq, (key, after) in enumerate(moves):
            assert call.answered_at is not None
            await repo.log_step(call.linkedid, seq, anna, version.id, key, call.answered_at + timedelta(seconds=after))
    rows = await logged_calls(db_sessions, script_id, Period(PeriodKind.DAY, date(2026, 12, 7), date(2026, 12, 7)),
                              MOSCOW, T0 + timedelta(days=1))
    figures = what_works(rows, frozenset({"login"}))
    assert figures.total.calls == 2 and figures.experts[0].expert == "Смирнова Анна"
    assert figures.total.steps["greeting"].mean_s == (40 + 90) / 2
    assert figures.total.steps["login"].mean_s == 560
    assert figures.total.reach_share("login") == 0.5
    assert figures.total.logged_in == 0 and figures.total.productive == 0  # no wrap-up: neither


async def test_the_desk_sees_a_login_during_a_call_that_is_still_up(db_sessions: SessionMaker) -> None:
    """The login step's live view (service/web/call_steps.py): measured from the imported usage data only."""
    from service.db.logins import LoginsRepository
    from service.db.models import ClientLogin

    answered = T0
    now = T0 + timedelta(minutes=6)
    async with db_sessions.begin() as session:
        session.add_all([
            ClientLogin(client_external_id="C-1", contact_external_id="K-1", started_at=T0 - timedelta(hours=3),
                        ended_at=T0 - timedelta(hours=2), imported_at=T0),  # long before: not this call
            ClientLogin(client_external_id="C-2", contact_external_id="K-9", started_at=T0 + timedelta(minutes=2),
                        ended_at=None, imported_at=T0),  # another client
        ])
    logins = LoginsRepository(db_sessions)
    assert await logins.login_during("C-1", answered, now, 120) is None
    async with db_sessions.begin() as session:
        session.add(ClientLogin(client_external_id="C-1", contact_external_id="K-1",
                                started_at=T0 + timedelta(minutes=4), ended_at=T0 + timedelta(minutes=20),
                                imported_at=now))
    found = await logins.login_during("C-1", answered, now, 120)
    assert found is not None and found.started_at == T0 + timedelta(minutes=4)
    assert await logins.login_during("C-1", answered, T0 + timedelta(minutes=1), 120) is None  # not yet then
