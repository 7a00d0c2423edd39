"""A day of the department's work written through the real repositories: the plan, the ledger's calls,
the Experts' wrap-ups, the usage data's logins and a PM's visits (Monday 07.12.2026, Europe/Moscow).

ivanova (Expert, 101) works C-1 and C-2, petrov (Expert, 102) C-4, irina (PM) visits; smirnova is the
supervisor (tests/service/planning.py's portfolio). `EXPECTED` is each work's id and state, written
by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from dialer.records import CallRecord, Direction, Outcome
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.db.models import Client, Visit
from service.db.plan import PlanRepository
from service.db.users import UsersRepository
from service.db.visits import VisitsRepository
from service.db.wrapups import WrapUpRepository
from service.desk.wrapup import WrapUpInput, WrapUpResult
from service.imports.runner import import_rows
from service.imports.schemas import ImportContext
from service.visits.rules import VisitRecord
from tests.service.builders import closed_call
from tests.service.planning import at, item, plan, seed_portfolio

MSK = ZoneInfo("Europe/Moscow")
DAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 20, 30, tzinfo=UTC)  # 23:30 in Moscow: the nightly run


@dataclass(frozen=True, slots=True)
class Seeded:
    visit_ids: tuple[int, int]


# linkedid → (state in the CRM, «Итог»), for every work of DAY; the rows come in this order (calls by start).
EXPECTED: dict[str, tuple[str, str]] = {
    "DS-L-01": ("контакт состоялся", "Контакт состоялся"),
    "DS-L-02": ("не дозвонились", "Не дозвонились"),
    "DS-L-03": ("перезвонить", "Просили перезвонить"),
    "DS-L-04": ("контакт состоялся", "Отказ от разговора"),
    "DS-L-05": ("не дозвонились", "Неверный номер"),
    "DS-L-06": ("не дозвонились", "без итога Эксперта: занято"),
    "DS-L-07": ("перезвонить", "без итога Эксперта: пропущен"),
    "DS-L-08": ("контакт состоялся", "Контакт состоялся"),
    "DS-L-12": ("контакт состоялся", "Контакт состоялся"),
}
WRAPPED_UP = {"L-01": "contact_made", "L-02": "not_reached", "L-03": "callback", "L-04": "refused",
              "L-05": "wrong_number", "L-08": "contact_made", "L-12": "contact_made"}
NOT_WORKS = ("DS-L-09", "DS-L-10", "DS-L-11")  # the Expert's own miss, a call still up, the next day's


def call(linkedid: str, hour: int, minute: int, outcome: Outcome, talk_s: float = 0.0,
         **changes: object) -> CallRecord:
    start = at(DAY, hour, minute).astimezone(UTC)
    answered = outcome == Outcome.ANSWERED
    values: dict[str, object] = {
        "started_at": start, "ringing_at": None, "answered_at": start + timedelta(seconds=10) if answered else None,
        "ended_at": start + timedelta(seconds=10 + talk_s), "duration_s": 10 + talk_s, "talk_s": talk_s,
        "outcome": outcome, "planned_call_id": None, "client_id": "C-1", "client_number": "79115550001",
        "recording": f"/var/spool/asterisk/monitor/{linkedid}.wav"}
    return closed_call(linkedid, **{**values, **changes})


async def seed_day(sessions: SessionMaker) -> Seeded:
    await seed_portfolio(sessions)
    users = UsersRepository(sessions)
    await users.add("irina", "Сергеева Ирина Павловна", "pm", "104", None)
    plans = PlanRepository(sessions)
    await plans.save_plan(plan(DAY, item("K-1", "C-1", at(DAY, 10), topic="Обучение"),
                               item("K-3", "C-2", at(DAY, 11), topic="Продление финансовых условий")),
                          NOW - timedelta(hours=14))
    public = {p.contact_external_id: p.public_id for p in await plans.list_plan(DAY)}
    ledger = LedgerRepository(sessions)
    await ledger.upsert_calls([
        call("L-01", 10, 0, Outcome.ANSWERED, 612.4, planned_call_id=public["K-1"]),
        call("L-02", 11, 0, Outcome.NO_ANSWER, planned_call_id=public["K-3"], client_id="C-2", client_number=None),
        call("L-03", 11, 30, Outcome.ANSWERED, 45.0, client_id="C-2", client_number=None),
        call("L-04", 12, 0, Outcome.ANSWERED, 30.0),
        call("L-05", 12, 15, Outcome.ANSWERED, 20.0, client_number="79115550002"),
        call("L-06", 12, 30, Outcome.BUSY),
        call("L-07", 14, 0, Outcome.MISSED, direction=Direction.INBOUND, client_id=None,
             client_number="74950000000", recording=None),
        call("L-08", 15, 0, Outcome.ANSWERED, 300.0, quality=("end_inferred_after_reconnect",)),
        call("L-09", 15, 30, Outcome.EXPERT_NO_ANSWER),
        call("L-12", 16, 0, Outcome.ANSWERED, 200.0, expert_ext="102", client_id="C-4", client_number=None),
    ])
    await ledger.upsert_calls([
        closed_call("L-10", started_at=at(DAY, 17).astimezone(UTC), ended_at=None, answered_at=None, outcome=None,
                    planned_call_id=None, client_id="C-1"),
        call("L-11", 10, 0, Outcome.ANSWERED, 60.0, started_at=at(DAY + timedelta(days=1), 10).astimezone(UTC)),
    ])
    await _wrap_up(sessions, users)
    await import_rows("logins", [{"client_external_id": "C-1", "contact_external_id": "K-1",
                                  "started_at": "07.12.2026 10:03", "ended_at": "07.12.2026 10:20"}],
                      sessions, context=ImportContext(MSK, NOW, 120.0))
    visits = VisitsRepository(sessions)
    await visits.upsert_visits([
        VisitRecord("irina", "C-4", DAY, True, "done", "Галина", "Продление финансовых условий", "Подписали"),
        VisitRecord("irina", "C-3", DAY, False, "moved"),
        VisitRecord("irina", "C-3", DAY + timedelta(days=1), True, "done"),
    ], "web", NOW)
    return Seeded(await _visit_ids(sessions))


async def _wrap_up(sessions: SessionMaker, users: UsersRepository) -> None:
    ivanova, petrov = await users.by_login("ivanova"), await users.by_login("petrov")
    assert ivanova is not None and petrov is not None
    wrapups = WrapUpRepository(sessions)
    texts = {"L-01": ("Обучение", "Показала поиск; «=СУММ»"), "L-03": ("Обратный звонок", "Просила в четверг"),
             "L-08": ("Обзор новостей и изменений", None)}
    for linkedid, result in WRAPPED_UP.items():
        topic, comment = texts.get(linkedid, (None, None))
        callback = at(DAY + timedelta(days=3), 11) if result == "callback" else None
        wrapup = WrapUpInput(result=WrapUpResult(result), topic=topic, logged_in=linkedid in ("L-04", "L-12"),
                             productive=False, comment=comment, next_contact_at=callback)
        expert = petrov if linkedid == "L-12" else ivanova
        await wrapups.save(linkedid, expert.id, wrapup, DAY, NOW - timedelta(hours=3))


async def _visit_ids(sessions: SessionMaker) -> tuple[int, int]:
    """The ids of DAY's visits: to C-4 (done), to C-3 (moved)."""
    async with sessions() as s:
        found = dict((await s.execute(select(Client.external_id, Visit.id).join(Client, Client.id == Visit.client_id)
                                      .where(Visit.day == DAY))).all())
    return found["C-4"], found["C-3"]
