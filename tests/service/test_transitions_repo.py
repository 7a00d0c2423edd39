"""The transition campaign's repository (service/db/transitions.py): assigning candidates (all or nothing),
changing a status through the machine, «переведён» putting the client on ДС, current status and history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.db.models import Call, Client, ClientTransition, Expert, ExpertAbsence
from service.db.transitions import TransitionsRepository
from service.errors import UnknownClientError
from service.transition.errors import AssignError, TransitionError
from service.transition.machine import Status
from tests.service.builders import closed_call

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)  # 10:00 in Moscow, Wednesday 02.12.2026
S = Status


async def department(sessions: SessionMaker) -> dict[str, int]:
    """Experts maria (ДС Expert), olga (absent today), ivan (left), boss (a supervisor); four КС clients and one ДС."""
    async with sessions.begin() as session:
        people = [Expert(login="maria", full_name="Смирнова Мария Андреевна", role="expert"),
                  Expert(login="olga", full_name="Орлова Ольга Ивановна", role="expert"),
                  Expert(login="ivan", full_name="Иванов Иван Иванович", role="expert", active=False),
                  Expert(login="boss", full_name="Петрова Анна Сергеевна", role="supervisor")]
        session.add_all(people)
        await session.flush()
        session.add(ExpertAbsence(expert_id=people[1].id, from_date=date(2026, 12, 1), to_date=date(2026, 12, 10)))
        clients = [Client(external_id=f"C-{n}", name=f"ООО «Клиент {n}»", segment="КС", version="online")
                   for n in range(1, 5)]
        clients.append(Client(external_id="C-9", name="ООО «Уже ДС»", segment="ДС", version="online"))
        session.add_all(clients)
        await session.flush()
        return {**{p.login: p.id for p in people}, **{c.external_id: c.id for c in clients}}


async def rows(sessions: SessionMaker) -> int:
    async with sessions() as session:
        return int((await session.scalar(select(func.count()).select_from(ClientTransition))) or 0)


@pytest.fixture
async def ids(db_sessions: SessionMaker) -> dict[str, int]:
    return await department(db_sessions)


@pytest.fixture
def repo(db_sessions: SessionMaker) -> TransitionsRepository:
    return TransitionsRepository(db_sessions, tz=MSK)


async def test_assigning_makes_candidates_of_the_expert(repo: TransitionsRepository, ids: dict[str, int],
                                                       db_sessions: SessionMaker) -> None:
    result = await repo.assign(["C-1", " C-2", "C-1"], "maria", ids["boss"], NOW)
    assert (result.assigned, result.unchanged) == (2, 0)
    current = await repo.current()
    assert set(current) == {ids["C-1"], ids["C-2"]}
    state = current[ids["C-1"]]
    assert (state.status, state.expert_login, state.expert_name, state.at.replace(tzinfo=UTC)) == (
        S.CANDIDATE, "maria", "Смирнова Мария Андреевна", NOW)
    assert (await repo.current([ids["C-2"], ids["C-3"]])).keys() == {ids["C-2"]}
    assert await repo.current([]) == {}
    # Again: nothing new; the same candidate for another Expert is reassigned.
    again = await repo.assign(["C-1", "C-2"], "maria", ids["boss"], NOW + timedelta(minutes=1))
    assert (again.assigned, again.unchanged) == (0, 2)
    async with db_sessions.begin() as session:  # olga comes back from leave
        await session.execute(delete(ExpertAbsence))
    await repo.assign(["C-2"], "olga", ids["boss"], NOW + timedelta(minutes=2))
    assert (await repo.current([ids["C-2"]]))[ids["C-2"]].expert_login == "olga"


@pytest.mark.parametrize(("clients", "login", "problems"), [
    (["C-1", "C-404"], "maria", ["нет клиента «C-404»"]),
    (["C-1"], "nobody", ["нет пользователя «nobody»"]),
    (["C-1"], "boss", ["«boss» (Петрова Анна Сергеевна) — не Эксперт, а руководитель группы"]),
    (["C-1"], "ivan", ["Эксперт «ivan» (Иванов Иван Иванович) отключён"]),
    (["C-1"], "olga", ["Эксперт «olga» (Орлова Ольга Ивановна) отсутствует сегодня (01.12–10.12)"]),
    (["C-1", "C-9"], "maria", ["C-9 (ООО «Уже ДС»): уже на ДС"]),
    (["C-1", "C-3"], "maria", ["C-3 (ООО «Клиент 3»): уже не кандидат: «предложено»"]),
    (["C-4", "C-404", "C-9"], "olga", ["отсутствует сегодня", "нет клиента «C-404»", "C-9 (ООО «Уже ДС»): уже на ДС"]),
    ([" ", ""], "maria", ["Не выбран ни один клиент"]),
])
async def test_a_bad_assignment_says_why_and_assigns_nobody(repo: TransitionsRepository, ids: dict[str, int],
                                                           db_sessions: SessionMaker,
                                                           clients: list[str], login: str,
                                                           problems: list[str]) -> None:
    await repo.assign(["C-3"], "maria", ids["boss"], NOW - timedelta(days=1))
    await repo.change(ids["C-3"], S.OFFERED, ids["maria"], NOW - timedelta(hours=1))
    before = await rows(db_sessions)
    with pytest.raises(AssignError) as refused:
        await repo.assign(clients, login, ids["boss"], NOW)
    assert all(problem in refused.value.message for problem in problems), refused.value.message
    assert await rows(db_sessions) == before  # nothing half-done


async def test_absence_is_judged_on_the_organisations_day(repo: TransitionsRepository, ids: dict[str, int],
                                                         db_sessions: SessionMaker) -> None:
    # 30.11 23:30 UTC is already 01.12 in Moscow: olga's leave has begun.
    with pytest.raises(AssignError, match="отсутствует сегодня"):
        await repo.assign(["C-1"], "olga", ids["boss"], datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    assert (await TransitionsRepository(db_sessions).assign(  # UTC's day: still 30.11
        ["C-1"], "olga", ids["boss"], datetime(2026, 11, 30, 23, 30, tzinfo=UTC))).assigned == 1


async def test_the_way_to_ds_and_the_client_joins_the_portfolio(repo: TransitionsRepository,
                                                                ids: dict[str, int],
                                                                db_sessions: SessionMaker) -> None:
    client = ids["C-1"]
    await repo.assign(["C-1"], "maria", ids["boss"], NOW - timedelta(days=3))
    with pytest.raises(TransitionError, match="сразу в «переведён»"):
        await repo.change(client, S.MOVED, ids["boss"], NOW, until=date(2026, 12, 2))
    assert await rows(db_sessions) == 1
    await repo.change(client, S.OFFERED, ids["maria"], NOW - timedelta(days=2), note="  выслала  предложение ")
    await repo.change(client, S.AGREED, ids["maria"], NOW - timedelta(days=1))
    with pytest.raises(TransitionError, match="Дата перевода не может быть в будущем"):
        await repo.change(client, S.MOVED, ids["boss"], NOW, until=date(2026, 12, 3))
    await repo.change(client, S.MOVED, ids["boss"], NOW, until=date(2026, 12, 1))
    async with db_sessions() as session:
        moved = (await session.execute(select(Client.segment, Client.ds_since, Client.expert_id)
                                       .where(Client.id == client))).one()
    assert tuple(moved) == ("ДС", date(2026, 12, 1), ids["maria"])
    history = await repo.history(client)
    assert [(h.status, h.expert_name, h.author_name) for h in history] == [
        (S.MOVED, "Смирнова Мария Андреевна", "Петрова Анна Сергеевна"),
        (S.AGREED, "Смирнова Мария Андреевна", "Смирнова Мария Андреевна"),
        (S.OFFERED, "Смирнова Мария Андреевна", "Смирнова Мария Андреевна"),
        (S.CANDIDATE, "Смирнова Мария Андреевна", "Петрова Анна Сергеевна")]
    assert (history[0].until, history[2].note) == (date(2026, 12, 1), "выслала предложение")
    with pytest.raises(TransitionError, match="уже решён"):
        await repo.change(client, S.DECLINED, ids["boss"], NOW, reason="Другое")


async def test_a_call_is_the_offer_and_a_refusal_keeps_its_reason(repo: TransitionsRepository, ids: dict[str, int],
                                                                  ledger: LedgerRepository,
                                                                  db_sessions: SessionMaker) -> None:
    await ledger.upsert_calls([closed_call("1700000000.1")])
    async with db_sessions() as session:
        call_id = (await session.execute(select(Call.id))).scalar_one()
    await repo.assign(["C-1", "C-2"], "maria", ids["boss"], NOW - timedelta(days=1))
    added = await repo.change(ids["C-1"], S.AGREED, ids["maria"], NOW, call_id=call_id)
    assert [step.status for step in added] == [S.OFFERED, S.AGREED]
    history = await repo.history(ids["C-1"])
    assert [(h.status, h.call_id) for h in history[:2]] == [(S.AGREED, call_id), (S.OFFERED, call_id)]
    with pytest.raises(TransitionError) as refused:
        await repo.change(ids["C-2"], "declined", ids["maria"], NOW, reason="Дорого", call_id=call_id)
    assert refused.value.field == "reason"
    await repo.change(ids["C-2"], "declined", ids["maria"], NOW, reason="Не устраивает цена", call_id=call_id)
    state = (await repo.current([ids["C-2"]]))[ids["C-2"]]
    assert (state.status, state.reason, state.expert_login) == (S.DECLINED, "Не устраивает цена", "maria")


async def test_postponing_needs_a_day_and_bad_requests_are_refused(repo: TransitionsRepository,
                                                                   ids: dict[str, int]) -> None:
    await repo.assign(["C-1"], "maria", ids["boss"], NOW - timedelta(days=1))
    with pytest.raises(TransitionError, match="только до дня в будущем"):
        await repo.change(ids["C-1"], S.POSTPONED, ids["maria"], NOW, until=date(2026, 12, 2))
    await repo.change(ids["C-1"], S.POSTPONED, ids["maria"], NOW, until=date(2027, 1, 15))
    state = (await repo.current([ids["C-1"]]))[ids["C-1"]]
    assert (state.status, state.until, state.expert_login) == (S.POSTPONED, date(2027, 1, 15), "maria")
    with pytest.raises(TransitionError, match="Неизвестный статус перехода «maybe»"):
        await repo.change(ids["C-1"], "maybe", ids["maria"], NOW)
    with pytest.raises(TransitionError, match="не участвует в переходе"):
        await repo.change(ids["C-2"], S.OFFERED, ids["maria"], NOW)
    with pytest.raises(UnknownClientError):
        await repo.change(999_999, S.OFFERED, ids["maria"], NOW)
    assert [h.status for h in await repo.history(ids["C-1"])] == [S.POSTPONED, S.CANDIDATE]
    assert await repo.history(ids["C-2"]) == []
