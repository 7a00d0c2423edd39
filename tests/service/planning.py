"""Test helpers for the plan repository: a small portfolio, plan items and ledger calls."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dialer.records import Outcome
from scheduler.model import ExpertPlan, Plan, PlanItem, Reason, ReasonCode
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.imports.runner import import_rows
from tests.service.builders import closed_call

MSK = ZoneInfo("Europe/Moscow")

# ivanova (Expert): C-1 {K-1, K-2}, C-2 {K-3, K-4}; smirnova (supervisor): C-3 {K-5}.
PORTFOLIO: dict[str, list[dict[str, str]]] = {
    "experts": [
        {"login": "ivanova", "full_name": "Иванова Мария", "extension": "101", "daily_target": "16"},
        {"login": "petrov", "full_name": "Петров Павел", "extension": "102",
         "timezone": "Asia/Novosibirsk"},
        {"login": "smirnova", "full_name": "Смирнова Анна", "role": "supervisor"},
    ],
    "clients": [
        {"external_id": "C-1", "name": "ООО «Ромашка»", "segment": "ДС", "expert_login": "ivanova",
         "version": "online", "debt_rub": "1 500,75", "contact_every_days": "14"},
        {"external_id": "C-2", "name": "АО «Вектор»", "segment": "ДС", "expert_login": "ivanova",
         "timezone": "Asia/Yekaterinburg"},
        {"external_id": "C-3", "name": "ИП Кедров", "segment": "КС", "expert_login": "smirnova"},
        {"external_id": "C-4", "name": "ООО «Заря»", "segment": "ДС", "expert_login": "petrov"},
    ],
    "contacts": [
        {"external_id": "K-1", "client_external_id": "C-1", "full_name": "Ольга", "phone": "89115550001",
         "is_user": "да", "call_from": "09:00", "call_to": "12:00"},
        {"external_id": "K-2", "client_external_id": "C-1", "full_name": "Андрей", "phone": "89115550002"},
        {"external_id": "K-3", "client_external_id": "C-2", "full_name": "Наталья", "position": "юрист"},
        {"external_id": "K-4", "client_external_id": "C-2", "full_name": "Ирина"},
        {"external_id": "K-5", "client_external_id": "C-3", "full_name": "Пётр"},
        {"external_id": "K-6", "client_external_id": "C-4", "full_name": "Галина"},
    ],
}


async def seed_portfolio(sessions: SessionMaker) -> None:
    for kind, rows in PORTFOLIO.items():
        await import_rows(kind, rows, sessions)


def history_row(client: str, contact: str, day: str, result: str, topic: str = "",
                comment: str = "") -> dict[str, str]:
    return {"client_external_id": client, "contact_external_id": contact, "date": day,
            "result": result, "topic": topic, "comment": comment}


def item(contact: str, client: str, slot: datetime, expert: str = "ivanova",
         reason: ReasonCode = ReasonCode.CADENCE, topic: str = "Обзор новостей",
         previous_comment: str | None = None) -> PlanItem:
    return PlanItem(expert_login=expert, client_external_id=client, contact_external_id=contact,
                    slot=slot, reasons=(Reason(reason, f"причина: {reason.value}"),), topic=topic,
                    previous_comment=previous_comment)


def plan(day: date, *items: PlanItem, notes: tuple[str, ...] = ()) -> Plan:
    by_expert: dict[str, list[PlanItem]] = {}
    for one in items:
        by_expert.setdefault(one.expert_login, []).append(one)
    experts = tuple(ExpertPlan(login, day, tuple(its), notes=notes) for login, its in by_expert.items())
    return Plan(day=day, experts=experts)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Moscow wall-clock time on `day`, as an aware datetime."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=MSK)


async def record_calls(sessions: SessionMaker, public_id: str,
                       calls: list[tuple[Outcome, datetime]]) -> None:
    """Ledger calls for a plan item, one per (outcome, start)."""
    records = [
        closed_call(f"{public_id}.{n}", outcome=outcome, planned_call_id=public_id,
                    started_at=start.astimezone(UTC), ringing_at=None,
                    answered_at=start if outcome == Outcome.ANSWERED else None,
                    ended_at=start + timedelta(seconds=30), duration_s=30.0, talk_s=0.0)
        for n, (outcome, start) in enumerate(calls)
    ]
    await LedgerRepository(sessions).upsert_calls(records)
