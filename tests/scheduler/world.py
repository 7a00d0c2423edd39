"""Small hand-built inputs for the plan builder's tests, and one call to build a plan from them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.builder import build_plan
from scheduler.calendar import WorkCalendar
from scheduler.inputs import (
    Callback,
    Client,
    Contact,
    ContactSummary,
    ExistingItem,
    Expert,
    PlanInputs,
    Signal,
    Transition,
)
from scheduler.model import ExpertPlan, Plan, PlanItem, ReasonCode, Segment, Version
from scheduler.rules import PlanRules

MSK = ZoneInfo("Europe/Moscow")
VLAT = ZoneInfo("Asia/Vladivostok")
DAY = date(2026, 12, 1)  # a Tuesday, an ordinary working day
NOW = datetime(2026, 12, 1, 6, 30, tzinfo=MSK)  # the morning job
CALENDAR = WorkCalendar()
RULES = PlanRules()


def ago(n: int, day: date = DAY) -> date:
    return day - timedelta(days=n)


def at(hour: int, minute: int = 0, day: date = DAY, tz: ZoneInfo = MSK) -> datetime:
    return datetime.combine(day, time(hour, minute), tz)


def expert(login: str = "maria", **changes: Any) -> Expert:
    return dataclasses.replace(Expert(login, f"Эксперт {login}", "101", "Europe/Moscow"), **changes)


def client(cid: str, expert_login: str | None = "maria", **changes: Any) -> Client:
    base = Client(cid, f"ООО «{cid}»", Segment.DS, expert_login, "Europe/Moscow", Version.INTERNET_UPDATE)
    return dataclasses.replace(base, **changes)


def contact(kid: str, cid: str, **changes: Any) -> Contact:
    return dataclasses.replace(Contact(kid, cid, "Петрова Ольга Сергеевна"), **changes)


def summary(kid: str, **changes: Any) -> ContactSummary:
    return dataclasses.replace(ContactSummary(kid), **changes)


@dataclass
class World:
    """The `PlanInputs` of a test, but for the day, as lists to append to."""

    experts: list[Expert] = field(default_factory=lambda: [expert()])
    clients: list[Client] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    summaries: list[ContactSummary] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    existing: list[ExistingItem] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)

    def org(
        self,
        cid: str,
        *kids: str,
        last_contact: date | None = None,
        expert_login: str | None = "maria",
        **changes: Any,
    ) -> World:
        """An organisation with one contact per id; the first is a user; all last contacted then."""
        self.clients.append(client(cid, expert_login, **changes))
        for n, kid in enumerate(kids or (f"{cid}-1",)):
            self.contacts.append(contact(kid, cid, is_user=n == 0))
            if last_contact is not None:
                self.summaries.append(summary(kid, last_contact_on=last_contact, last_result="contact_made"))
        return self

    def calm_orgs(self, count: int, prefix: str = "Z", expert_login: str = "maria", day: date = DAY) -> World:
        """Organisations contacted the day before: nothing due, only good for filling the day."""
        for n in range(count):
            self.org(f"{prefix}{n:03}", last_contact=ago(1, day), expert_login=expert_login)
        return self

    def plan(
        self,
        day: date = DAY,
        now: datetime = NOW,
        rules: PlanRules = RULES,
        calendar: WorkCalendar = CALENDAR,
    ) -> Plan:
        return build_plan(self.inputs(day), calendar, rules, now)

    def inputs(self, day: date = DAY) -> PlanInputs:
        return PlanInputs(day, tuple(self.experts), tuple(self.clients), tuple(self.contacts),
                          tuple(self.summaries), tuple(self.signals), tuple(self.callbacks), tuple(self.existing),
                          tuple(self.transitions))


def only(plan: Plan, login: str = "maria") -> ExpertPlan:
    return next(p for p in plan.experts if p.expert_login == login)


def item_for(expert_plan: ExpertPlan, kid: str) -> PlanItem | None:
    return next((i for i in expert_plan.items if i.contact_external_id == kid), None)


def codes(item: PlanItem | None) -> tuple[ReasonCode, ...] | None:
    return None if item is None else tuple(r.code for r in item.reasons)


def texts(item: PlanItem | None) -> list[str]:
    return [] if item is None else [r.text for r in item.reasons]
