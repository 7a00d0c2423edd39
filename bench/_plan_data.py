"""Deterministic bulk data for bench/plan_build.py: a department of `10·k` Experts.

Per multiple `k` of the small size (the full size ÷ 100): 10·k Experts, 1,000·k organisations
(100 per Expert), 2,500·k contacts (2 or 3 per organisation), ~30,000·k history rows (8–16 per
contact, mean 12, over the two years before the plan day, ~80% contact_made), signals for ~12%
of the contacts, the last 10 working days of plans (16 items per Expert a day, most finished and
linked to ledger calls, 2 per Expert left unfinished on the last day so roll-over has work) and
open callbacks. Rows are written set-based straight into the tables: executemany on SQLite
(synchronous=OFF), COPY (asyncpg `copy_records_to_table`) on PostgreSQL. Explicit ids, so
foreign keys need no round trip; PostgreSQL sequences are moved past them afterwards.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

SEED = 20261201
MSK = ZoneInfo("Europe/Moscow")
BATCH = 50_000
HISTORY_DAYS = 730
PLAN_DAYS = 10  # past working days with plans and ledger calls
ITEMS_PER_DAY = 16
UNFINISHED_PER_EXPERT = 2

SURNAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
            "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров"]
NAMES = ["Анна", "Мария", "Елена", "Ольга", "Татьяна", "Ирина", "Сергей", "Андрей", "Алексей",
         "Дмитрий", "Наталья", "Светлана", "Игорь", "Юлия", "Павел", "Марина"]
POSITIONS = ["главный бухгалтер", "бухгалтер", "юрист", "директор", "кадровик", "экономист", None]
TOPICS = ["Обновление системы", "Обучение работе с системой", "Новые документы по НДС",
          "Продление договора", "Семинар для бухгалтеров", "Онлайн-версия", "Задолженность"]
COMMENTS = ["Просила перезвонить после отчётного периода", "Всё устраивает, пользуется ежедневно",
            "Интересуется судебной практикой", "Нужна помощь с поиском", None, None]
ZONES = [None, None, None, "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk",
         "Europe/Samara", "Asia/Vladivostok"]
SIGNAL_KINDS = ["hotline_request", "consultation_request", "problem", "task", "new_user",
                "seminar_invite"]
NOT_REACHED = ["no_answer", "busy", "rejected", "congestion"]


def counts(k: int) -> dict[str, int]:
    return {"experts": 10 * k, "clients": 1000 * k, "contacts": 2500 * k, "history": 30000 * k}


def batched(rows: Iterator[tuple[Any, ...]], size: int = BATCH) -> Iterator[list[tuple[Any, ...]]]:
    while chunk := list(islice(rows, size)):
        yield chunk


class Department:
    """The generated rows, table by table, as Python values (date, time, aware datetime…)."""

    def __init__(self, k: int, day: date) -> None:
        self.k, self.day = k, day
        self.n = counts(k)
        rnd = random.Random(SEED)
        # Contacts per organisation: 2 or 3 alternately → 2.5 on average, exact totals.
        self.org_contacts = [2 + (i % 2) for i in range(self.n["clients"])]
        self.contact_org: list[int] = []  # contact id - 1 → client id
        for org, count in enumerate(self.org_contacts, start=1):
            self.contact_org.extend([org] * count)
        self.org_expert = [(org - 1) // 100 + 1 for org in range(1, self.n["clients"] + 1)]
        self.history_per_contact = [rnd.randint(8, 16) for _ in self.contact_org]
        self.work_days = _past_work_days(day, PLAN_DAYS)

    # -- tables -------------------------------------------------------------------------------

    experts_cols = ("id", "login", "full_name", "role", "extension", "timezone", "daily_target")

    def experts(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(SEED + 1)
        for i in range(1, self.n["experts"] + 1):
            yield (i, f"e{i:04d}", f"{rnd.choice(SURNAMES)}а {rnd.choice(NAMES)}", "expert",
                   str(1000 + i), None, None)

    clients_cols = ("id", "external_id", "name", "inn", "segment", "territory", "expert_id",
                    "timezone", "version", "online_last_login", "online_logins_30d", "debt_rub",
                    "prepaid_months", "terms_end", "ds_since", "contact_every_days")

    def clients(self) -> Iterator[tuple[Any, ...]]:
        rnd, day = random.Random(SEED + 2), self.day
        for i in range(1, self.n["clients"] + 1):
            version = rnd.choices(["online", "internet_update", "other"], [6, 3, 1])[0]
            online = version == "online"
            yield (i, f"C-{i}", f"ООО «{rnd.choice(SURNAMES)} и партнёры {i}»", f"77{i:08d}",
                   rnd.choices(["ДС", "КС", "VIP"], [85, 10, 5])[0], "Москва",
                   self.org_expert[i - 1], rnd.choice(ZONES), version,
                   day - timedelta(days=rnd.randint(0, 60)) if online else None,
                   rnd.randint(0, 40) if online else None,
                   Decimal(rnd.choice([0, 0, 0, 0, 0, 0, 0, 0, 12500, 48000])),
                   rnd.randint(0, 12),
                   day + timedelta(days=rnd.randint(-30, 365)),
                   day - timedelta(days=rnd.randint(100, 4000)),
                   rnd.choice([None, None, None, 7, 30]))

    contacts_cols = ("id", "client_id", "full_name", "phone_e164", "external_id", "position",
                     "phone", "email", "is_user", "call_from", "call_to")

    def contacts(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(SEED + 3)
        for i, org in enumerate(self.contact_org, start=1):
            phone = f"+7495{i:07d}"
            window = rnd.random() < 0.2
            yield (i, org, f"{rnd.choice(SURNAMES)} {rnd.choice(NAMES)}", phone, f"P-{i}",
                   rnd.choice(POSITIONS), phone, f"p{i}@example.ru", rnd.random() < 0.7,
                   time(10, 0) if window else None, time(16, 0) if window else None)

    history_cols = ("id", "client_id", "contact_id", "date", "result", "topic", "comment", "row_key")

    def history(self) -> Iterator[tuple[Any, ...]]:
        rnd, day, row_id = random.Random(SEED + 4), self.day, 0
        for contact, (org, count) in enumerate(zip(self.contact_org, self.history_per_contact, strict=True), 1):
            for back in sorted((rnd.randint(1, HISTORY_DAYS) for _ in range(count)), reverse=True):
                row_id += 1
                made = rnd.random() < 0.8
                yield (row_id, org, contact, day - timedelta(days=back),
                       "contact_made" if made else "not_reached",
                       rnd.choice(TOPICS) if made else None,
                       rnd.choice(COMMENTS) if made else None, f"h{row_id:010d}")

    signals_cols = ("id", "client_id", "contact_id", "kind", "occurred_on", "note", "row_key")

    def signals(self) -> Iterator[tuple[Any, ...]]:
        rnd, day, sid = random.Random(SEED + 5), self.day, 0
        for contact, org in enumerate(self.contact_org, 1):
            if rnd.random() < 0.12:
                sid += 1
                yield (sid, org, contact if rnd.random() < 0.8 else None, rnd.choice(SIGNAL_KINDS),
                       day - timedelta(days=rnd.randint(1, 120)), "Обращение на линию", f"s{sid:09d}")

    planned_cols = ("id", "public_id", "plan_date", "expert_id", "client_id", "contact_id", "slot",
                    "state", "reasons", "topic", "comment", "result_comment", "rolled_from",
                    "created_at", "updated_at")
    calls_cols = ("id", "linkedid", "direction", "expert_ext", "client_number", "client_name",
                  "started_at", "ringing_at", "answered_at", "ended_at", "duration_s", "talk_s",
                  "outcome", "hangup_cause", "hangup_by", "recording", "planned_call_id",
                  "client_id", "quality", "created_at", "updated_at")

    def plans_and_calls(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Past plan items (unique per day and contact) and the ledger calls that worked them."""
        rnd = random.Random(SEED + 6)
        items: list[tuple[Any, ...]] = []
        calls: list[tuple[Any, ...]] = []
        reasons = [{"code": "cadence", "text": "Пора связаться: прошло больше 14 дней"}]
        per_expert = 250  # contacts of one Expert: 100 orgs × 2.5
        for n_day, plan_day in enumerate(self.work_days):
            last = n_day == len(self.work_days) - 1
            for expert in range(1, self.n["experts"] + 1):
                picks = rnd.sample(range(per_expert), ITEMS_PER_DAY)
                for slot_n, offset in enumerate(picks):
                    contact = (expert - 1) * per_expert + offset + 1
                    org = self.contact_org[contact - 1]
                    item_id = len(items) + 1
                    slot = datetime.combine(plan_day, time(9, 0), MSK) + timedelta(minutes=25 * slot_n)
                    if last and slot_n < UNFINISHED_PER_EXPERT:
                        state = "planned"
                    else:
                        state = rnd.choices(["contact_made", "not_reached", "cancelled"], [70, 25, 5])[0]
                    created = datetime.combine(plan_day, time(3, 30), UTC)
                    items.append((item_id, f"PC-{1000 + item_id}", plan_day, expert, org, contact,
                                  slot.astimezone(UTC), state, json.dumps(reasons, ensure_ascii=False),
                                  rnd.choice(TOPICS), None,
                                  "Договорились" if state == "contact_made" else None,
                                  None, created, created))
                    if state in ("contact_made", "not_reached"):
                        start = slot.astimezone(UTC) + timedelta(seconds=rnd.randint(0, 300))
                        answered = state == "contact_made"
                        talk = rnd.randint(120, 900) if answered else 0
                        ring = rnd.randint(3, 25)
                        outcome = "answered" if answered else rnd.choice(NOT_REACHED)
                        end = start + timedelta(seconds=ring + talk)
                        calls.append((len(calls) + 1, f"bench.{item_id}", "outbound",
                                      str(1000 + expert), f"+7495{contact:07d}", None, start,
                                      start + timedelta(seconds=1),
                                      start + timedelta(seconds=ring) if answered else None, end,
                                      float(ring + talk), float(talk), outcome,
                                      16 if answered else 19, "client", None, f"PC-{1000 + item_id}",
                                      f"C-{org}", "[]", end, end))
        return items, calls

    callbacks_cols = ("id", "contact_id", "client_id", "expert_id", "at", "topic", "comment", "done",
                      "created_at")

    def callbacks(self) -> Iterator[tuple[Any, ...]]:
        rnd, cid = random.Random(SEED + 7), 0
        for expert in range(1, self.n["experts"] + 1):
            for n in range(3):  # two due on the plan day, one done earlier
                cid += 1
                contact = (expert - 1) * 250 + rnd.randrange(250) + 1
                on = self.day if n < 2 else self.day - timedelta(days=3)
                at = datetime.combine(on, time(11 + n * 3, 30), MSK).astimezone(UTC)
                yield (cid, contact, self.contact_org[contact - 1], expert, at,
                       "Обещали перезвонить", "Просила позвонить в это время", n == 2,
                       at - timedelta(days=2))

    def tables(self) -> list[tuple[str, tuple[str, ...], Callable[[], Iterator[tuple[Any, ...]]]]]:
        items, calls = self.plans_and_calls()
        return [
            ("experts", self.experts_cols, self.experts),
            ("clients", self.clients_cols, self.clients),
            ("client_contacts", self.contacts_cols, self.contacts),
            ("history", self.history_cols, self.history),
            ("signals", self.signals_cols, self.signals),
            ("planned_calls", self.planned_cols, lambda: iter(items)),
            ("calls", self.calls_cols, lambda: iter(calls)),
            ("callbacks", self.callbacks_cols, self.callbacks),
        ]


def _past_work_days(day: date, n: int) -> list[date]:
    days: list[date] = []
    d = day
    while len(days) < n:
        d -= timedelta(days=1)
        if d.weekday() < 5:
            days.append(d)
    return sorted(days)


# -- writers ----------------------------------------------------------------------------------

def _sqlite_value(value: Any) -> Any:
    # The storage formats SQLAlchemy's SQLite dialect writes and parses back.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def load_sqlite(path: str, dept: Department, progress: Callable[[str], None]) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-262144")
    try:
        for table, cols, rows in dept.tables():
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            total = 0
            for chunk in batched(rows()):
                connection.executemany(sql, [tuple(map(_sqlite_value, row)) for row in chunk])
                total += len(chunk)
                if total % 500_000 < BATCH:
                    progress(f"{table}: {total:,}")
            connection.commit()
            progress(f"{table}: {total:,} rows")
        connection.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()


async def load_postgres(dsn: str, dept: Department, progress: Callable[[str], None]) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        for table, cols, rows in dept.tables():
            total = 0
            for chunk in batched(rows()):
                await connection.copy_records_to_table(table, records=chunk, columns=list(cols))
                total += len(chunk)
                if total % 500_000 < BATCH:
                    progress(f"{table}: {total:,}")
            progress(f"{table}: {total:,} rows")
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
