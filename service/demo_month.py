"""The demo department's month for `make run` (issue 16): monthly plans and CRM events, so /ktu shows real sheets.

This month's and last month's plans (training, СТ invitations; the PM's paid seminars and ГК
subscriptions) and imported values (Баланс ВКСП, Полнота сбора) for the demo Experts and the PM,
and some business events on their clients, through the same import path as a CRM file
(`import_rows` kinds "plans" and "events"). Pavel's Полнота сбора for this month is left out on
purpose: his sheet shows «нет данных» and cannot be approved until it is imported.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from service.db.engine import SessionMaker
from service.imports.runner import import_rows

log = logging.getLogger(__name__)

# login → (training plan, СТ invitations plan, Баланс ВКСП, Полнота сбора)
EXPERT_PLANS = {"maria": ("3", "2", "1.5", "0.85"), "anna": ("4", "1", "0", "0.92"),
                "pavel": ("2", "3", "-0.5", "0.68")}
# The PM: (training, paid seminars, ГК subscriptions, Баланс ВКСП, Полнота сбора)
PM_PLAN = ("irina", ("2", "2", "1", "0.7", "0.78"))
# (client, kind, day of the month, amount, employee, note): the demo's clients of each person
EVENTS = (
    ("C-1201", "seminar_sold", 2, "4500", "irina", "«Отпуска и больничные»"),
    ("C-1202", "seminar_sold", 4, "4500", "irina", "«НДС в 2026 году»"),
    ("C-1203", "gk_subscription", 3, "", "irina", "подписка на год"),
    ("C-1001", "terms_renewed", 2, "", "maria", "продлили на 12 месяцев"),
    ("C-1002", "upsell", 3, "12500", "anna", "СМАРТ-комплект для юриста"),
    ("C-1003", "problem_registered", 1, "", "pavel", "медленно открывается онлайн-версия"),
)


async def seed_demo_month(sessions: SessionMaker, today: date) -> None:
    """Import this month's and last month's plans and events of the demo department (once, when it is new)."""
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    plans = [row for month in (last_month, this_month) for row in _plans(month, complete=month == last_month)]
    await import_rows("plans", plans, sessions)
    events = [row for month in (last_month, this_month) for row in _events(month, today)]
    await import_rows("events", events, sessions)
    log.info("demo month imported: %d plans, %d events", len(plans), len(events))


def _plans(month: date, *, complete: bool) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for login, (training, st, balance, completeness) in EXPERT_PLANS.items():
        values = {"training": training, "st_invitations": st, "vksp_balance": balance,
                  "collection_completeness": completeness}
        if not complete and login == "pavel":
            del values["collection_completeness"]  # not imported yet: his sheet says so
        rows += _rows(login, month, values)
    login, (training, seminars, gk, balance, completeness) = PM_PLAN
    rows += _rows(login, month, {"training": training, "seminar_sales": seminars, "gk_subscriptions": gk,
                                 "vksp_balance": balance, "collection_completeness": completeness})
    return rows


def _rows(login: str, month: date, values: dict[str, str]) -> list[dict[str, str]]:
    return [{"employee_login": login, "month": f"{month:%Y-%m}", "kind": kind, "value": value}
            for kind, value in values.items()]


def _events(month: date, today: date) -> list[dict[str, str]]:
    """The events of `month`, none after today (this month's land on its days so far)."""
    last_day = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    latest = min(today, last_day)
    return [{"client_external_id": client, "kind": kind,
             "occurred_on": min(month.replace(day=day), latest).isoformat(), "amount_rub": amount,
             "employee_login": login, "note": note}
            for client, kind, day, amount, login, note in EVENTS]
