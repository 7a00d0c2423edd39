"""ContactSummary and the other plan inputs, computed in SQL, on a small hand-made portfolio."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from dialer.records import Outcome
from scheduler.inputs import Callback, Contact, ContactSummary, Expert, PlanInputs, Signal
from scheduler.model import PlanState, Segment, SignalKind, Version
from service.db.engine import SessionMaker
from service.db.plan import PlanRepository
from service.db.plan_inputs import load_plan_inputs
from service.imports.runner import import_rows
from tests.service.planning import MSK, at, history_row, item, plan, record_calls, seed_portfolio

DAY = date(2026, 2, 10)


@pytest.fixture
async def inputs(db_sessions: SessionMaker) -> PlanInputs:
    repo = PlanRepository(db_sessions)
    await seed_portfolio(db_sessions)
    await import_rows("history", [
        # K-1: a contact on 10.01, then two history misses and a plan item with six ledger calls.
        history_row("C-1", "K-1", "2026-01-10", "contact_made", "Обзор", "Позвонить после отчётности"),
        history_row("C-1", "K-1", "2026-01-20", "not_reached"),
        history_row("C-1", "K-1", "2026-01-25", "not_reached"),
        # K-2: missed, then reached in history; reached again through a plan item on 03.02.
        history_row("C-1", "K-2", "2026-01-05", "not_reached"),
        history_row("C-1", "K-2", "2026-01-15", "contact_made", "Обучение", "Обучили поиску"),
        # K-3: reached, then missed; history only (its time is a date: midday is assumed).
        history_row("C-2", "K-3", "2026-01-12", "contact_made", "Семинар", "Придёт на СТ"),
        history_row("C-2", "K-3", "2026-02-01", "not_reached", "Семинар", "Секретарь: в отпуске"),
        # The organisation C-2 was reached on 05.02 through someone not in the directory.
        history_row("C-2", "", "2026-02-05", "contact_made", "Продление", "Говорили с директором"),
        # Out of scope: the supervisor's client.
        history_row("C-3", "K-5", "2026-01-30", "not_reached"),
    ], db_sessions)
    k1_day, k2_day = date(2026, 2, 2), date(2026, 2, 3)
    created = (await repo.save_plan(plan(k1_day, item("K-1", "C-1", at(k1_day, 10))))).created
    await repo.set_state(created[0], PlanState.NOT_REACHED, result_comment="Не берут трубку")
    await record_calls(db_sessions, created[0], [
        (Outcome.NO_ANSWER, at(k1_day, 10, 0)), (Outcome.BUSY, at(k1_day, 10, 5)),
        (Outcome.REJECTED, at(k1_day, 10, 10)), (Outcome.CONGESTION, at(k1_day, 10, 15)),
        (Outcome.CANCELLED, at(k1_day, 10, 20)), (Outcome.EXPERT_NO_ANSWER, at(k1_day, 10, 25)),
    ])
    created = (await repo.save_plan(plan(k2_day, item("K-2", "C-1", at(k2_day, 11), topic="Смарт-комплект")))).created
    await repo.set_state(created[0], PlanState.CONTACT_MADE, result_comment="Интересуется Смарт-комплектом")
    # Not reached in the morning, reached later the same day: no open attempt remains.
    await record_calls(db_sessions, created[0], [(Outcome.NO_ANSWER, at(k2_day, 9)),
                                                 (Outcome.ANSWERED, at(k2_day, 11))])
    await import_rows("signals", [
        {"client_external_id": "C-1", "contact_external_id": "K-1", "kind": "problem", "occurred_on": "2026-01-09"},
        {"client_external_id": "C-1", "contact_external_id": "K-1", "kind": "task", "occurred_on": "2026-01-11",
         "note": "Проверить обновление"},
        {"client_external_id": "C-1", "contact_external_id": "K-2", "kind": "new_user", "occurred_on": "2026-02-03"},
        {"client_external_id": "C-2", "kind": "seminar_invite", "occurred_on": "2026-02-04"},
        {"client_external_id": "C-2", "kind": "hotline_request", "occurred_on": "2026-02-06"},
        {"client_external_id": "C-1", "kind": "consultation_request", "occurred_on": "2026-02-01"},
        {"client_external_id": "C-3", "contact_external_id": "K-5", "kind": "problem", "occurred_on": "2026-02-07"},
    ], db_sessions)
    await repo.add_callback("K-3", "ivanova", at(DAY, 10, 30), "Семинар", "Перезвонить после обеда")
    await repo.add_callback("K-4", "ivanova", at(DAY - timedelta(days=1), 15), "Обучение")  # overdue
    await repo.add_callback("K-1", "ivanova", at(DAY + timedelta(days=1), 9))  # tomorrow: not yet
    await import_rows("absences", [{"login": "ivanova", "from": "2026-02-20", "to": "2026-02-21"},
                                   {"login": "ivanova", "from": "2026-01-05", "to": "2026-01-06"}],
                      db_sessions)
    return await repo.load_plan_inputs(DAY, MSK)


def call_time(hour: int, minute: int) -> datetime:
    return at(date(2026, 2, 2), hour, minute)


async def test_contact_summaries(inputs: PlanInputs) -> None:
    summaries = {s.contact_external_id: s for s in inputs.summaries}
    assert list(summaries) == ["K-1", "K-2", "K-3", "K-4", "K-6"]  # K-5 is the supervisor's
    assert summaries["K-1"] == ContactSummary(
        "K-1", last_contact_on=date(2026, 1, 10), last_result="not_reached",
        # The cancelled call dialled the client; the Expert's own missed phone did not.
        last_attempt_at=call_time(10, 20),
        # 2 history misses + no_answer, busy, rejected, congestion; not cancelled/expert_no_answer.
        attempts_since_contact=6,
        last_comment="Не берут трубку", last_topic="Обзор новостей")
    assert summaries["K-2"] == ContactSummary(
        "K-2", last_contact_on=date(2026, 2, 3), last_result="contact_made",
        last_attempt_at=at(date(2026, 2, 3), 11), attempts_since_contact=0,
        last_comment="Интересуется Смарт-комплектом", last_topic="Смарт-комплект")
    assert summaries["K-3"] == ContactSummary(
        "K-3", last_contact_on=date(2026, 1, 12), last_result="not_reached",
        last_attempt_at=datetime(2026, 2, 1, 12, 0, tzinfo=MSK), attempts_since_contact=1,
        last_comment="Секретарь: в отпуске", last_topic="Семинар")
    assert summaries["K-4"] == ContactSummary("K-4")  # nothing yet: every field empty


async def test_only_signals_newer_than_the_last_contact(inputs: PlanInputs) -> None:
    assert inputs.signals == (
        Signal("C-1", "K-1", SignalKind.TASK, date(2026, 1, 11), "Проверить обновление"),
        Signal("C-2", None, SignalKind.HOTLINE_REQUEST, date(2026, 2, 6), ""),
    )


async def test_callbacks_due_by_the_end_of_the_day(inputs: PlanInputs) -> None:
    assert inputs.callbacks == (
        Callback("K-4", "C-2", "ivanova", at(DAY - timedelta(days=1), 15), "Обучение", None),
        Callback("K-3", "C-2", "ivanova", at(DAY, 10, 30), "Семинар", "Перезвонить после обеда"),
    )


async def test_experts_clients_and_contacts(inputs: PlanInputs) -> None:
    assert inputs.experts == (
        Expert("ivanova", "Иванова Мария", "101", "Europe/Moscow", 16,
               absences=((date(2026, 2, 20), date(2026, 2, 21)),)),  # past absences are left out
        Expert("petrov", "Петров Павел", "102", "Asia/Novosibirsk", None),
    )
    clients = {c.external_id: c for c in inputs.clients}
    assert list(clients) == ["C-1", "C-2", "C-4"]
    assert (clients["C-1"].segment, clients["C-1"].version, clients["C-1"].debt_rub) == (
        Segment.DS, Version.ONLINE, 1500.75)
    assert (clients["C-2"].timezone, clients["C-4"].timezone) == ("Asia/Yekaterinburg", "Europe/Moscow")
    contacts = {c.external_id: c for c in inputs.contacts}
    assert contacts["K-1"] == Contact("K-1", "C-1", "Ольга", "", "79115550001", True, time(9), time(12))
    assert contacts["K-3"].position == "юрист" and contacts["K-3"].phone is None


async def test_one_experts_inputs(db_sessions: SessionMaker, inputs: PlanInputs) -> None:
    mine = await PlanRepository(db_sessions).load_plan_inputs(DAY, MSK, expert_logins=["petrov"])
    assert [e.login for e in mine.experts] == ["petrov"]
    assert [c.external_id for c in mine.clients] == ["C-4"]
    assert [s.contact_external_id for s in mine.summaries] == ["K-6"]
    assert mine.signals == mine.callbacks == mine.existing == ()


async def test_one_connection_loads_the_same_as_two(db_sessions: SessionMaker, inputs: PlanInputs) -> None:
    """The repository computes the summaries on a second connection meanwhile; that changes nothing."""
    async with db_sessions() as session:
        alone = await load_plan_inputs(session, DAY, MSK)
    assert alone == inputs
    async with db_sessions() as session, db_sessions() as other:
        mine = await load_plan_inputs(session, DAY, MSK, ["petrov"], summaries_session=other)
    assert [s.contact_external_id for s in mine.summaries] == ["K-6"]


async def test_a_failing_summary_query_raises_its_own_error(db_sessions: SessionMaker) -> None:
    """Not an ExceptionGroup: the job records `type: message` of what went wrong."""
    async with db_sessions() as session:
        with pytest.raises(ConnectionError, match="connection lost"):
            await load_plan_inputs(session, DAY, MSK, summaries_session=_BrokenSession())  # type: ignore[arg-type]  # a fake


class _BrokenSession:
    """A session whose connection is gone."""

    def get_bind(self) -> None:
        raise ConnectionError("connection lost")
