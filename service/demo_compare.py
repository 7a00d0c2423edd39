"""The demo department's comparison inputs for `make run` (issue 17): six months of requests, trainings,
СТ attendance, acts, a few clients lost, SendPulse campaigns and a survey, so /compare shows real figures.

Deterministic (a seeded random), imported through the same path as the files (`import_rows`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from service.compare.survey import DEFAULT_SURVEY
from service.db.engine import SessionMaker
from service.imports.runner import import_rows
from service.imports.schemas import ImportContext

log = logging.getLogger(__name__)
MONTHS = 6
CAMPAIGNS = (("Обзор изменений законодательства", "Все клиенты", 0.42, 0.13),
             ("Новости для бухгалтера", "Бухгалтеры", 0.34, 0.027),
             ("Подписчикам ГК: новые формы", "Подписчики ГК", 0.49, 0.125),
             ("Анонс семинаров месяца", "Все клиенты", 0.41, 0.0186))
ANSWERS = ("Да", "Да", "Скорее да", "Скорее нет", "Нет")


def _months(today: date) -> list[date]:
    first = today.replace(day=1)
    found = []
    for _ in range(MONTHS):
        first = (first - timedelta(days=1)).replace(day=1)
        found.append(first)
    return sorted(found)


async def seed_demo_compare(sessions: SessionMaker, today: date, clients: Sequence[Mapping[str, str]],
                            contacts: Sequence[Mapping[str, str]]) -> None:
    """Import the demo's last six whole months of comparison inputs (once, when the department is new)."""
    rng = random.Random(17)
    months = _months(today)
    users = [c for c in contacts if c.get("is_user") in ("да", "1", "true", "Да")]
    rows: dict[str, list[dict[str, str]]] = {"requests": [], "trainings": [], "seminars": [], "acts": [],
                                             "events": [], "mailings": [], "survey": []}
    for client in clients:
        ds = client["segment"] == "ДС"
        for month in months:
            for _ in range(rng.choice((0, 1, 1, 2, 3) if ds else (0, 1, 2, 2, 3))):
                day = month + timedelta(days=rng.randint(0, 27))
                rows["requests"].append({"client_external_id": client["external_id"],
                                         "channel": rng.choice(("чат", "ЛК", "ЛК", "горячая линия")),
                                         "created_at": f"{day:%d.%m.%Y} {rng.randint(9, 17)}:{rng.randint(0, 59):02d}"})
            due = (month + timedelta(days=40)).replace(day=10)
            if due < today:
                late = rng.random() > (0.8 if ds else 0.9)
                returned = due + timedelta(days=rng.randint(1, 6)) if late else due - timedelta(days=rng.randint(0, 5))
                rows["acts"].append({"client_external_id": client["external_id"], "period": f"{month:%Y-%m}",
                                     "due_on": due.isoformat(),
                                     "returned_on": returned.isoformat() if returned <= today else ""})
        if rng.random() < (0.37 if ds else 0.68):
            day = months[rng.randrange(MONTHS)] + timedelta(days=rng.randint(0, 25))
            rows["seminars"].append({"client_external_id": client["external_id"], "date": day.isoformat(),
                                     "seminar": rng.choice(("НДС в 2026 году", "Отпуска и больничные"))})
    for user in users:
        if rng.random() < 0.5:
            day = months[rng.randrange(MONTHS)] + timedelta(days=rng.randint(0, 25))
            rows["trainings"].append({"client_external_id": user["client_external_id"],
                                      "contact_external_id": user["external_id"], "date": day.isoformat(),
                                      "kind": rng.choice(("первичное", "по новым формам"))})
    by_segment = {seg: [c["external_id"] for c in clients if c["segment"] == seg] for seg in ("ДС", "КС")}
    for segment, losses in (("ДС", (("client_disconnected", ""), ("competitor_lost", "Главбух"))),
                            ("КС", (("client_disconnected", ""), ("client_disconnected", ""),
                                    ("competitor_lost", "Гарант")))):
        for kind, note in losses:
            day = months[rng.randrange(MONTHS)] + timedelta(days=rng.randint(0, 25))
            rows["events"].append({"client_external_id": rng.choice(by_segment[segment]), "kind": kind,
                                   "occurred_on": day.isoformat(), "note": note})
    for month in months:
        for name, audience, opened, clicked in CAMPAIGNS:
            delivered = rng.randint(150, 400)
            sent_on = month + timedelta(days=2)
            rows["mailings"].append({"campaign": f"{name} — {month:%m.%Y}", "sent_on": f"{sent_on:%d.%m.%Y} 10:00",
                                     "audience": audience, "sent": str(delivered + rng.randint(0, 8)),
                                     "delivered": str(delivered), "opened": str(int(delivered * opened)),
                                     "clicked": str(int(delivered * clicked)), "unsubscribed": str(rng.randint(0, 3))})
    answered = months[-1] + timedelta(days=10)
    for n, client in enumerate(c for c in clients if c["segment"] == "ДС"):
        if n >= 22:
            break
        row = {"email": f"respondent{n}@example.org", "answered_at": f"{answered:%d.%m.%Y} 1{n % 8}:00:00",
               "client_external_id": client["external_id"]}
        for question in DEFAULT_SURVEY.values():
            row[question.column] = rng.choice(("5", "5", "4", "3") if "1 до 5" in question.column else ANSWERS)
        rows["survey"].append(row)
    context = ImportContext(mailing_rules=(("Обзор", "reviews"), ("Подписчикам ГК", "gk"), ("Новости", "news"),
                                           ("Анонс", "informational")))
    for kind in ("requests", "trainings", "seminars", "acts", "events", "mailings", "survey"):
        await import_rows(kind, rows[kind], sessions, context=context)
    log.info("demo comparison imported: %s", {kind: len(found) for kind, found in rows.items()})
