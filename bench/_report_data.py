"""Data for bench/report.py: a department's two years of calls, generated inside PostgreSQL.

Everything is `INSERT … SELECT generate_series` on the server (10,000,000 calls take minutes, not
an hour of client round trips). Deterministic: each row's attributes are hashes of its number.

Shape, per Expert and working day (Monday–Friday): 16 planned items (55 % contact made, 20 % not
reached, 10 % callback, 5 % cancelled, 5 % rolled over, 5 % still planned) and 20 calls (10 %
inbound; outcomes 55 % answered, 15 % no answer, 6 % busy, 4 % rejected, 2 % congestion,
4 % cancelled, 4 % Expert did not pick up, 10 % no answer / missed); the first 16 outbound calls
of the day are linked to a planned item. Each call's owner (`calls.expert_id`, migration 0008) is the
Expert holding its extension. ~60 % of the ended calls have a wrap-up; answered ones
are mostly contacts (70 % of them productive, 45 % with the client logged in), over 14 topics.
With 1,000 Experts that is 20,000 calls a working day, ~420,000 in a month of 21 working days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

CALLS_PER_DAY = 20  # per Expert and working day
PLANNED_PER_DAY = 16
CONTACTS = 20_000
TOPICS = (
    "Переход на дистанционный сервис", "Комплект SMART", "Обзор новостей и изменений", "Обучение",
    "Обучение нового пользователя", "Продление финансовых условий", "Приглашение на сервис",
    "Приглашение на семинар", "Ответ на обращение на ГЛ", "Ответ на вопрос в Линию консультаций",
    "Решение проблемы", "Выполнение задания", "Задолженность", "Обратный звонок",
)
FIRST_EXTENSION = 1000


@dataclass(frozen=True)
class Shape:
    experts: int
    calls: int
    last_day: date  # the last working day with calls (organisation time)

    @property
    def working_days(self) -> list[date]:
        """The working days that hold `calls` (CALLS_PER_DAY per Expert), ending at last_day."""
        count = -(-self.calls // (self.experts * CALLS_PER_DAY))
        days: list[date] = []
        day = self.last_day
        while len(days) < count:
            if day.weekday() < 5:
                days.append(day)
            day -= timedelta(days=1)
        return days[::-1]


def _topics_array() -> str:
    return "ARRAY[" + ", ".join(f"'{t}'" for t in TOPICS) + "]"


def days_table(shape: Shape) -> tuple[str, str]:
    """The temporary table `bench_days` (i, d): the numbered working days (bench/_month_data.py too)."""
    days = ", ".join(f"('{d.isoformat()}'::date)" for d in shape.working_days)
    return ("working days", f"CREATE TEMP TABLE bench_days AS SELECT (row_number() OVER (ORDER BY d) - 1)::int AS i, "
                            f"d FROM (VALUES {days}) AS v(d)")


def statements(shape: Shape) -> list[tuple[str, str]]:
    """(what, SQL) in order; `bench_days` (i, d) is the numbered list of working days."""
    e, per_day, n = shape.experts, shape.experts * CALLS_PER_DAY, shape.calls
    return [
        days_table(shape),
        ("experts", f"""
            INSERT INTO experts (id, login, full_name, role, extension, group_name, daily_target, active)
            SELECT g, 'e' || g, 'Эксперт ' || lpad(g::text, 4, '0'), 'expert', ({FIRST_EXTENSION} + g - 1)::text,
                   'Группа ' || ((g - 1) / 10 + 1), 16, true
            FROM generate_series(1, {e}) AS g"""),
        ("clients", f"""
            INSERT INTO clients (id, external_id, name, segment, version, debt_rub)
            SELECT g, 'C-' || g, 'Клиент ' || g, 'ДС', 'online', 0 FROM generate_series(1, {CONTACTS}) AS g"""),
        ("contacts", f"""
            INSERT INTO client_contacts (id, client_id, full_name, phone_e164, is_user)
            SELECT g, g, 'Контакт ' || g, '7911' || lpad(g::text, 7, '0'), true
            FROM generate_series(1, {CONTACTS}) AS g"""),
        ("planned items", f"""
            INSERT INTO planned_calls (id, public_id, plan_date, expert_id, client_id, contact_id, slot, state,
                                       reasons, topic, created_at, updated_at)
            SELECT id, 'PC-' || id, d, ex, contact, contact, slot,
                   CASE WHEN h < 55 THEN 'contact_made' WHEN h < 75 THEN 'not_reached' WHEN h < 85 THEN 'callback'
                        WHEN h < 90 THEN 'cancelled' WHEN h < 95 THEN 'rolled_over' ELSE 'planned' END,
                   '[]'::json, ({_topics_array()})[1 + (id % {len(TOPICS)})], slot - interval '3 hours', slot
            FROM (SELECT (b.i::bigint * {e} + ex - 1) * {PLANNED_PER_DAY} + s + 1 AS id, b.d, ex, s,
                         ((ex - 1) * {PLANNED_PER_DAY} + s) % {CONTACTS} + 1 AS contact,
                         (b.d + time '06:00' + s * interval '25 minutes') AT TIME ZONE 'UTC' AS slot,
                         ((((b.i::bigint * {e} + ex - 1) * {PLANNED_PER_DAY} + s + 1) * 2654435761) % 100) AS h
                  FROM bench_days b, generate_series(1, {e}) AS ex,
                       generate_series(0, {PLANNED_PER_DAY - 1}) AS s) q"""),
        ("calls", f"""
            INSERT INTO calls (id, linkedid, direction, expert_ext, expert_id, client_number, started_at, answered_at,
                               ended_at, duration_s, talk_s, outcome, hangup_cause, planned_call_id, client_id,
                               quality, created_at, updated_at)
            SELECT n + 1, 'b' || n, CASE WHEN inbound THEN 'inbound' ELSE 'outbound' END,
                   ({FIRST_EXTENSION} + ex)::text, ex + 1, '7911' || lpad((n % {CONTACTS})::text, 7, '0'), started,
                   CASE WHEN outcome = 'answered' THEN started + interval '8 seconds' END,
                   started + make_interval(secs => 8 + talk), 8 + talk, talk, outcome, 16,
                   CASE WHEN NOT inbound AND seq < {PLANNED_PER_DAY}
                        THEN 'PC-' || ((day_i::bigint * {e} + ex) * {PLANNED_PER_DAY} + seq + 1) END,
                   'C-' || (n % {CONTACTS} + 1), '[]'::json, started, started
            FROM (SELECT n, b.i AS day_i, ex, seq, inbound, started, outcome,
                         CASE WHEN outcome = 'answered' THEN 60 + (n * 31) % 900 ELSE 0 END AS talk
                  FROM (SELECT n, n / {per_day} AS day_i, (n % {per_day}) % {e} AS ex, (n % {per_day}) / {e} AS seq,
                               (n * 7919) % 100 < 10 AS inbound, (n * 104729) % 100 AS h
                        FROM generate_series(0::bigint, {n - 1}::bigint) AS n) g
                  JOIN bench_days b ON b.i = g.day_i
                  CROSS JOIN LATERAL (SELECT
                      (b.d + time '06:00' + seq * interval '24 minutes' + (n % 300) * interval '1 second')
                          AT TIME ZONE 'UTC' AS started,
                      CASE WHEN h < 55 THEN 'answered' WHEN h < 70 THEN 'no_answer' WHEN h < 76 THEN 'busy'
                           WHEN h < 80 THEN 'rejected' WHEN h < 82 THEN 'congestion' WHEN h < 86 THEN 'cancelled'
                           WHEN h < 90 AND NOT inbound THEN 'expert_no_answer'
                           WHEN inbound THEN 'missed' ELSE 'no_answer' END AS outcome) o) c"""),
        ("wrap-ups", f"""
            INSERT INTO wrapups (call_id, expert_id, result, topic, logged_in, productive, created_at, updated_at)
            SELECT id, expert_id, result, ({_topics_array()})[1 + (id % {len(TOPICS)})],
                   result = 'contact_made' AND (id * 40503) % 100 < 45,
                   result = 'contact_made' AND (id * 69069) % 100 < 70,
                   ended_at + interval '1 minute', ended_at + interval '1 minute'
            FROM (SELECT id, expert_id, ended_at,
                         CASE WHEN outcome <> 'answered' THEN 'not_reached'
                              WHEN (id * 48271) % 100 < 85 THEN 'contact_made'
                              WHEN (id * 48271) % 100 < 92 THEN 'refused' ELSE 'callback' END AS result
                  FROM (SELECT id::bigint AS id, expert_id, ended_at, outcome FROM calls
                        WHERE id % 10 < 6 AND outcome <> 'expert_no_answer') c) w"""),
    ]


async def generate(connection: Any, shape: Shape, progress: Callable[[str], None]) -> None:
    """Fill a freshly migrated database (asyncpg connection)."""
    await load(connection, statements(shape), ("calls", "wrapups", "planned_calls"),
               ("experts", "clients", "client_contacts", "planned_calls", "calls", "wrapups"), progress)


async def load(connection: Any, steps: list[tuple[str, str]], indexed: tuple[str, ...], sequences: tuple[str, ...],
               progress: Callable[[str], None]) -> None:
    """Run `steps` (what, SQL) with the secondary indexes of the `indexed` tables dropped for the load and
    rebuilt after it, and foreign-key triggers off (the data is consistent by design); then move the id
    sequences of `sequences` past their rows and VACUUM ANALYZE."""
    import time

    names = ", ".join(f"'{table}'" for table in indexed)
    indexes = await connection.fetch(
        "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = 'public' "
        f"AND tablename IN ({names}) AND NOT EXISTS ("
        "SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)")
    for row in indexes:
        await connection.execute(f'DROP INDEX "{row["indexname"]}"')
    await connection.execute("SET session_replication_role = replica")
    for what, sql in steps:
        started = time.perf_counter()
        status = await connection.execute(sql)
        progress(f"{what}: {status} in {time.perf_counter() - started:.0f} s")
    await connection.execute("SET session_replication_role = DEFAULT")
    for row in indexes:
        started = time.perf_counter()
        await connection.execute(row["indexdef"])
        progress(f"index {row['indexname']} in {time.perf_counter() - started:.0f} s")
    for table in sequences:
        await connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
    started = time.perf_counter()
    await connection.execute("VACUUM ANALYZE")
    progress(f"vacuum analyze in {time.perf_counter() - started:.0f} s")
