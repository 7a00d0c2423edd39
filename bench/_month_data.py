"""Data for bench/month.py: the department's month on top of bench/report.py's calls, generated inside PostgreSQL.

The month database is a copy of the report's (`CREATE DATABASE … TEMPLATE`, a file copy: the calls,
plan and wrap-ups are not generated twice) with this layer added by `INSERT … SELECT generate_series`,
deterministic (each row's attributes are hashes of its number). Bump VERSION when the layer changes:
a month database of another version is copied and filled again.

Shape, for E employees (1,000 at 10M calls) over the report data's working days (500, ending 27.11.2026):
- every 10th employee (id divisible by 10) is a ПМ по ДС (role `pm`): 100 PMs and 900 Experts; the PMs
  keep the calls the report data gave them (20 a working day);
- PORTFOLIO (100) clients per employee (`clients.expert_id`; client c belongs to employee (c − 1) mod E + 1;
  the report data's 20,000 clients first, more added as needed), each with its first contact and a
  second one; ~60 % of contacts are «пользователь» (`is_user`);
- business events: EVENTS_PER_CALL × calls (1,000,000 at 10M) spread evenly over the calendar days of the
  period and stored in their days' order (as the CRM's daily or monthly files append them), the kinds
  weighted as WEIGHTS (a sale, an upsell, a debt collected, a seminar sold carry an amount), each on a
  client of the portfolios, named on its owner (3 % with no employee), `row_key` the md5 of its number;
- monthly plans for every employee and month, the kinds service/month/dashboard.EXPECTED_PLANS lists for
  the role (training, СТ invitations, Баланс ВКСП, Полнота сбора; the PM also seminar sales, ГК
  subscriptions and planned visits);
- visits for the PMs: VISITS_PER_DAY (2) a working day, ~73 % planned (≈ 32 + 12 a month), 85 % done,
  a wrap-up topic each, on the PM's own clients.
"""

from __future__ import annotations

from datetime import date

from _report_data import TOPICS, Shape, days_table
from service.month.dashboard import EXPECTED_PLANS
from service.month.kinds import EVENT_KINDS

VERSION = 2  # 2: events in the order of their days, as imports append them
PM_EVERY = 10  # employee ids divisible by this are PMs
PORTFOLIO = 100  # clients per employee
EVENTS_PER_CALL = 0.1
VISITS_PER_DAY = 2
# Per mille of the events, in service/month/kinds.py's order.
WEIGHTS = {"terms_renewed": 120, "prepay_long": 60, "prepay_monthly": 30, "gk_subscription": 80, "seminar_sold": 70,
           "sale": 100, "upsell": 90, "problem_registered": 120, "problem_solved": 100, "debt_collected": 130,
           "client_disconnected": 30, "client_restored": 20, "competitor_lost": 25, "competitor_won": 25}
AMOUNTS = {"sale": (5000, 95000), "upsell": (1000, 30000), "debt_collected": (500, 40000),
           "seminar_sold": (1500, 6000)}  # base, spread (roubles)
# (low, spread): value = low + hash % spread; shares and balances scaled below.
PLAN_VALUES = {"training": (20, 40), "st_invitations": (5, 15), "seminar_sales": (1, 5), "gk_subscriptions": (2, 8),
               "vksp_balance": (-5, 16), "collection_completeness": (60, 39), "pm_visits_planned": (30, 3)}
assert tuple(WEIGHTS) == EVENT_KINDS and sum(WEIGHTS.values()) == 1000


def months(shape: Shape) -> list[date]:
    """The 1sts of the months the working days touch."""
    first, last = shape.working_days[0], shape.last_day
    out, month = [], first.replace(day=1)
    while month <= last:
        out.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return out


def events(shape: Shape) -> int:
    return int(shape.calls * EVENTS_PER_CALL)


def _kind_case(h: str) -> str:
    whens, bound = [], 0
    for kind, weight in WEIGHTS.items():
        bound += weight
        whens.append(f"WHEN {h} < {bound} THEN '{kind}'")
    return "CASE " + " ".join(whens) + " END"


def _amount_case(kind: str, n: str) -> str:
    whens = " ".join(f"WHEN '{k}' THEN {base} + ({n} * 31) % {spread}" for k, (base, spread) in AMOUNTS.items())
    return f"CASE {kind} {whens} END"


def _plan_value(kind: str, h: str) -> str:
    low, spread = PLAN_VALUES[kind]
    salt = list(PLAN_VALUES).index(kind) + 1
    value = f"({low} + ({h} / {salt}) % {spread})"
    return f"{value} / 100.0" if kind == "collection_completeness" else value


def statements(shape: Shape) -> list[tuple[str, str]]:
    """(what, SQL) in order, on a copy of the report data."""
    e, clients = shape.experts, shape.experts * PORTFOLIO
    first, last = shape.working_days[0], shape.last_day
    ndays = (last - first).days + 1
    month_list = ", ".join(f"('{m.isoformat()}'::date)" for m in months(shape))
    topics = "ARRAY[" + ", ".join(f"'{t}'" for t in TOPICS) + "]"
    plan_rows = " UNION ALL ".join(
        f"SELECT '{role}' AS role, '{kind}' AS kind, {_plan_value(kind, 'x.h')} AS value"
        for role, kinds in EXPECTED_PLANS.items() for kind in kinds)
    return [
        days_table(shape),
        ("PMs", f"UPDATE experts SET role = 'pm', full_name = 'ПМ ' || lpad(id::text, 4, '0') "
                f"WHERE id % {PM_EVERY} = 0"),
        ("more clients", f"""
            INSERT INTO clients (id, external_id, name, segment, version, debt_rub)
            SELECT g, 'C-' || g, 'Клиент ' || g, 'ДС', 'online', 0
            FROM generate_series((SELECT max(id) + 1 FROM clients), {clients}) AS g"""),
        ("their contacts", f"""
            INSERT INTO client_contacts (id, client_id, full_name, phone_e164, is_user)
            SELECT g, g, 'Контакт ' || g, '7911' || lpad(g::text, 7, '0'), false
            FROM generate_series((SELECT max(id) + 1 FROM client_contacts), {clients}) AS g"""),
        ("second contacts", f"""
            INSERT INTO client_contacts (id, client_id, full_name, phone_e164, is_user)
            SELECT 10000000 + g, g, 'Контакт ' || g || '-2', '7912' || lpad(g::text, 7, '0'), false
            FROM generate_series(1, {clients}) AS g"""),
        ("users", "UPDATE client_contacts SET is_user = (id::bigint * 2654435761) % 100 < 60"),
        ("portfolios", f"UPDATE clients SET expert_id = (id - 1) % {e} + 1 WHERE id <= {clients}"),
        ("business events", f"""
            INSERT INTO business_events (id, client_id, kind, occurred_on, amount_rub, employee_id, note,
                                         imported_at, row_key)
            SELECT n + 1, client, kind, day, {_amount_case('kind', 'n')},
                   CASE WHEN (n * 69069) % 100 < 3 THEN NULL ELSE (client - 1) % {e} + 1 END, NULL,
                   (day + time '20:00') AT TIME ZONE 'UTC', md5('bench-event-' || n)
            FROM (SELECT n, 1 + (n * 40503) % {clients} AS client, {_kind_case('(n * 2654435761) % 1000')} AS kind,
                         DATE '{first.isoformat()}' + (n * {ndays} / {events(shape)})::int AS day
                  FROM generate_series(0::bigint, {events(shape) - 1}::bigint) AS n) q"""),
        ("monthly plans", f"""
            INSERT INTO monthly_plans (employee_id, month, kind, value, imported_at)
            SELECT x.id, m.month, p.kind, p.value, m.month - interval '5 days'
            FROM (SELECT id, role, ((id::bigint * 7919 + month_i * 104729) * 2654435761) % 1000003 AS h, month_i
                  FROM experts, generate_series(0, {len(months(shape)) - 1}) AS month_i
                  WHERE role IN ('expert', 'pm')) x
            JOIN (SELECT (row_number() OVER (ORDER BY month) - 1)::int AS i, month
                  FROM (VALUES {month_list}) AS v(month)) m ON m.i = x.month_i
            CROSS JOIN LATERAL ({plan_rows}) p
            WHERE p.role = x.role"""),
        ("visits", f"""
            INSERT INTO visits (id, employee_id, client_id, day, planned, contacts_met, result, topic, comment,
                                source, created_at)
            SELECT n, pm, pm + {e} * ((b.i * {VISITS_PER_DAY} + s) % {PORTFOLIO}), b.d, (n * 40503) % 100 < 73,
                   'Контакт', CASE WHEN (n * 48271) % 100 < 85 THEN 'done'
                                   WHEN (n * 48271) % 100 < 95 THEN 'not_done' ELSE 'moved' END,
                   ({topics})[1 + (n % {len(TOPICS)})], NULL, 'import', (b.d + time '18:00') AT TIME ZONE 'UTC'
            FROM bench_days b, generate_series({PM_EVERY}, {e}, {PM_EVERY}) AS pm,
                 generate_series(0, {VISITS_PER_DAY - 1}) AS s,
                 LATERAL (SELECT ((b.i::bigint * {e} + pm) * {VISITS_PER_DAY} + s + 1) AS n) k"""),
        ("marker", f"CREATE TABLE bench_month_data AS SELECT {VERSION} AS version, "
                   f"(SELECT count(*) FROM calls) AS calls"),
    ]


INDEXED = ("business_events", "monthly_plans", "visits")
SEQUENCES = ("clients", "client_contacts", "business_events", "monthly_plans", "visits")
