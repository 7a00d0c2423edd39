"""The call log repository on SQLite and PostgreSQL: every filter, search, keyset paging, one call in full."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dialer.records import Q_END_INFERRED, Direction, Outcome
from service.calllog.filters import CallFilters
from service.db.call_log import BadCursor, CallLogRepository, decode_cursor, encode_cursor
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.db.models import Call, Client, ClientContact, Expert, PlannedCall, RecordingAccess, WrapUp
from tests.service.builders import T0, closed_call
from tests.service.planning import seed_portfolio
from texts.labels import call_timeline

DAY = timedelta(days=1)


def call(linkedid: str, start: datetime, **changes: Any) -> Any:
    talk = changes.pop("talk", 60.0)
    fields: dict[str, Any] = dict(started_at=start, answered_at=start + timedelta(seconds=5),
                                  ended_at=start + timedelta(seconds=5 + talk), duration_s=5 + talk,
                                  talk_s=talk, planned_call_id=None)
    return closed_call(linkedid, **{**fields, **changes})


# L-1 and L-2 share a start; L-5..L-9 share another: paging must break those ties by id.
CALLS = [
    call("L-1", T0, client_id="C-1", client_number="79115550001", talk=700.0, planned_call_id="PC-1001",
         quality=(Q_END_INFERRED,)),
    call("L-2", T0, client_id="C-2", client_number="79115550002", outcome=Outcome.NO_ANSWER, talk=0.0),
    call("L-3", T0 - DAY, expert_ext="102", direction=Direction.INBOUND, client_id="C-4",
         client_number="89125550006", talk=200.0),
    call("L-4", T0 - 2 * DAY, expert_ext="102", client_id=None, client_number="74950000000",
         outcome=Outcome.BUSY, talk=0.0),
    *[call(f"L-{n}", T0 - 3 * DAY, client_id="C-1", client_number="79115550001", talk=30.0)
      for n in range(5, 10)],
]
# linkedid → (result, topic, logged_in, productive)
WRAPUPS = {"L-1": ("contact_made", "Обучение", True, True),
           "L-3": ("contact_made", "Задолженность", False, False),
           "L-4": ("not_reached", None, False, False)}


@pytest.fixture
async def log(db_sessions: SessionMaker) -> CallLogRepository:
    await seed_portfolio(db_sessions)
    await LedgerRepository(db_sessions).upsert_calls(CALLS)
    async with db_sessions.begin() as s:
        ids = {linkedid: id_ for linkedid, id_ in await s.execute(select(Call.linkedid, Call.id))}
        ivanova = (await s.execute(select(Expert.id).where(Expert.login == "ivanova"))).scalar_one()
        for linkedid, (result, topic, logged_in, productive) in WRAPUPS.items():
            s.add(WrapUp(call_id=ids[linkedid], expert_id=ivanova, result=result, topic=topic,
                         logged_in=logged_in, productive=productive, comment=f"итог {linkedid}",
                         created_at=T0, updated_at=T0))
        client, contact = (await s.execute(select(Client.id, ClientContact.id).join(ClientContact)
                                           .where(ClientContact.external_id == "K-1"))).one()
        s.add(PlannedCall(public_id="PC-1001", plan_date=date(2026, 3, 2), expert_id=ivanova, client_id=client,
                          contact_id=contact, slot=T0, state="contact_made", topic="Обучение",
                          reasons=[{"code": "cadence", "text": "14 дней без контакта"}], created_at=T0,
                          updated_at=T0))
        await s.flush()
        s.add(RecordingAccess(call_id=ids["L-1"], user_id=ivanova, at=T0 + DAY, action="play",
                              remote="10.0.0.7"))
    return CallLogRepository(db_sessions)


async def linkedids(log: CallLogRepository, limit: int = 50, only: int | None = None, **f: Any) -> list[str]:
    page = await log.page(CallFilters(**f), None, limit, only_expert=only)
    return [r.linkedid for r in page.rows]


def newest_first(*ids: str) -> list[str]:
    """The expected order: by start, newest first; ties by id (= insertion order), highest first."""
    order = {c.linkedid: (c.started_at, n) for n, c in enumerate(CALLS)}
    return sorted(ids, key=lambda i: order[i], reverse=True)


ALL = [c.linkedid for c in CALLS]


async def test_without_filters_every_call_newest_first_with_names(log: CallLogRepository) -> None:
    page = await log.page(CallFilters(), None)
    assert [r.linkedid for r in page.rows] == newest_first(*ALL)
    assert (page.first, page.last, page.next_cursor) == (1, 9, None)
    first = page.rows[1]
    assert first.linkedid == "L-1"
    assert (first.expert_name, first.client_name) == ("Иванова Мария", "ООО «Ромашка»")
    assert (first.result, first.topic, first.logged_in, first.productive) == ("contact_made", "Обучение", True, True)
    assert page.rows[0].result is None and page.rows[0].logged_in is None  # L-2: no wrap-up


@pytest.mark.parametrize(("filters", "expected"), [
    ({"expert_ext": "102"}, ["L-3", "L-4"]),
    ({"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 1)}, ["L-3"]),  # Moscow days
    ({"date_from": date(2026, 3, 2)}, ["L-1", "L-2"]),
    ({"date_to": date(2026, 2, 27)}, [f"L-{n}" for n in range(5, 10)]),
    ({"outcome": "busy"}, ["L-4"]),
    ({"topic": "Задолженность"}, ["L-3"]),
    ({"client_id": "C-2"}, ["L-2"]),
    ({"direction": "inbound"}, ["L-3"]),
    ({"planned": True}, ["L-1"]),
    ({"planned": False}, [i for i in ALL if i != "L-1"]),
    ({"min_talk_s": 200.0}, ["L-1", "L-3"]),
    ({"max_talk_s": 30.0}, ["L-2", "L-4", *[f"L-{n}" for n in range(5, 10)]]),
    ({"min_talk_s": 100.0, "max_talk_s": 300.0}, ["L-3"]),
    ({"logged_in": True}, ["L-1"]),
    ({"logged_in": False}, ["L-3", "L-4"]),  # a wrap-up that says no; calls without one are not "no"
    ({"result": "contact_made"}, ["L-1", "L-3"]),
    ({"result": "none"}, ["L-2", *[f"L-{n}" for n in range(5, 10)]]),
    ({"productive": True}, ["L-1"]),
    ({"productive": False, "expert_ext": "102", "direction": "outbound"}, ["L-4"]),
])
async def test_each_filter(log: CallLogRepository, filters: dict[str, Any], expected: list[str]) -> None:
    assert await linkedids(log, **filters) == newest_first(*expected)


@pytest.mark.parametrize(("search", "expected"), [
    ("ромаШКА", ["L-1", *[f"L-{n}" for n in range(5, 10)]]),  # Cyrillic, any case, a part of the name
    ("«Заря»", ["L-3"]),
    ("Нет такого", []),
    ("8 (911) 555-00-01", ["L-1", *[f"L-{n}" for n in range(5, 10)]]),  # the whole number, another spelling
    ("+7 912 555 00 06", ["L-3"]),  # the ledger has it as 8912…
    ("7495", ["L-4"]),  # the beginning of a number
    ("0002", ["L-2"]),  # the end of a known contact's number
    ("100%", []),  # LIKE wildcards are text
])
async def test_search_by_name_or_number(log: CallLogRepository, search: str, expected: list[str]) -> None:
    assert await linkedids(log, search=search) == newest_first(*expected)


async def test_keyset_pages_cross_equal_timestamps_without_gaps_or_repeats(log: CallLogRepository) -> None:
    seen: list[str] = []
    cursor = None
    positions = []
    while True:
        page = await log.page(CallFilters(), cursor, 2)
        seen += [r.linkedid for r in page.rows]
        positions.append((page.first, page.last))
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == newest_first(*ALL)
    assert positions == [(1, 2), (3, 4), (5, 6), (7, 8), (9, 9)]


async def test_paging_keeps_the_filters(log: CallLogRepository) -> None:
    f = CallFilters(client_id="C-1")
    first = await log.page(f, None, 3)
    second = await log.page(f, first.next_cursor, 3)
    assert [r.linkedid for r in first.rows + second.rows] == newest_first("L-1", *[f"L-{n}" for n in range(5, 10)])
    assert second.next_cursor is None and second.first == 4


async def test_an_expert_sees_only_their_own_calls(log: CallLogRepository, db_sessions: SessionMaker) -> None:
    async with db_sessions() as s:
        ids = {login: id_ for login, id_ in await s.execute(select(Expert.login, Expert.id))}
    assert await linkedids(log, only=ids["petrov"]) == ["L-3", "L-4"]  # recorded on 102, petrov's
    assert await linkedids(log, only=ids["petrov"], expert_ext="101") == []  # the filter cannot widen it
    assert await linkedids(log, only=ids["smirnova"]) == []  # no extension, no calls


async def test_a_forged_cursor_is_refused(log: CallLogRepository) -> None:
    for bad in ("garbage!", encode_cursor(0, T0, 1)[:-3], "MHwyMDI2LTAzLTAyVDA3OjMwOjAwfDE"):
        with pytest.raises(BadCursor):
            await log.page(CallFilters(), bad)
    assert decode_cursor(encode_cursor(50, T0, 7)) == (50, (T0, 7))


async def test_one_call_in_full(log: CallLogRepository) -> None:
    detail = await log.call("L-1")
    assert detail is not None
    moments = {"started_at": detail.row.started_at, "ringing_at": detail.ringing_at,
               "answered_at": detail.answered_at, "ended_at": detail.ended_at}
    assert [label for label, _ in call_timeline(detail.row.direction, detail.hangup_by, moments)] == [
        "Начало", "Звонит у клиента", "Ответ", "Конец: трубку положил клиент"]
    assert detail.hangup_by == "client" and detail.hangup_cause == 16
    assert detail.quality == [Q_END_INFERRED]
    assert detail.wrapup is not None and detail.wrapup.comment == "итог L-1"
    assert detail.wrapup.expert_name == "Иванова Мария"
    assert detail.planned is not None
    assert (detail.planned.public_id, detail.planned.reasons) == ("PC-1001", ["14 дней без контакта"])
    assert [(a.user, a.action, a.remote) for a in detail.access] == [("Иванова Мария", "play", "10.0.0.7")]
    assert detail.recording is not None and detail.recording_purged_at is None
    unplanned = await log.call("L-2")
    assert unplanned is not None and unplanned.planned is None and unplanned.wrapup is None
    assert await log.call("L-404") is None
    assert await log.call("../../etc/passwd") is None
