"""Benchmark: the ДС-versus-КС comparison for a year (issue 17).

Target: a year's comparison over 100,000 clients, 1,000,000 requests and 500 campaigns ≤ 2 s on
PostgreSQL. PostgreSQL only (SPEC-NOTES "Benchmarks"). No peer runs here, so the figures are absolute,
plus a growth figure: the same organisation at 1/10 (10,000 clients, 100,000 requests, 50 campaigns).

Measured: what the page and `dsdesk compare` run, `service.db.compare.comparison(sessions, 2025, Europe/Moscow
(the configured zone), the configured survey mapping)` — the reads (the segment history of every client,
the events, users, trainings, clients, acts, СТ visits, the requests counted per client and month and read
one by one for the clients whose segment changed inside a month, the campaigns, the survey) and the pure
assembly (the table, the twelve months' series, competitors, mailings, survey) — in a fresh engine: cold
(the first run), then the median and best of `--runs`. Then the parts apart, to see what limits:
`CompareRepository(sessions).facts(...)` (of it: `SegmentsRepository.facts()` with the histories derived,
and the requests' read), `.mailings` + `.survey`, and `service.compare.report.compare(...)` on the facts
read. cProfile of one whole call when the median is over 2 s (or `--profile`).

Data (generated inside PostgreSQL by `statements` below, deterministic: each row's attributes are hashes
of its number), for C clients (100,000 at full size; everything scales with C): clients 40 % ДС / 60 % КС,
known since 2015–2025, 30 % of the ДС clients moved from КС inside 2025 (`ds_since`; a «переведён» step of
the transition campaign for half of them, a few days earlier), prepayment and collection completeness;
recorded segment changes for 2 % (ДС → КС back inside 2025, КС → ДС inside 2025; a third of the КС ones with
an earlier КС → ДС in 2024); 2 or 3 contacts a client (2.5 on average), 80 % users; trainings for 30 % of the
users over 2024–2025 (60,000); 50,000 СТ visits from July 2024; an act a quarter a client due in 2025
(400,000; 70 % on time, 18 % late, 12 % not back); 10 × C requests (chat / ЛК / hotline) over 2025; 0.8 × C
business events over 2024–2025, 10 % of them the three kinds the comparison reads (disconnections, lost to a
competitor, seminars sold: ~4,000 in 2025); C / 200 SendPulse campaigns in 2025 (four kinds); 0.3 % × C
survey responses with the six measures. Cached in `dsdesk_bench_compare_<clients>` while its VERSION and
client count match (`--fresh` rebuilds); migrated to head on every run.

    .venv/bin/python bench/compare.py [--clients 100000] [--no-growth] [--fresh] [--runs 5] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import io
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from sqlalchemy import text  # noqa: E402

from _report_data import load  # noqa: E402
from report import PG_HOST, log, ms  # noqa: E402
from service.compare.definitions import Period  # noqa: E402
from service.compare.report import Comparison, Facts, compare  # noqa: E402
from service.compare.segments import histories  # noqa: E402
from service.db.compare import (  # noqa: E402
    CompareRepository,
    _count_requests,
    _split_requests,
    comparison,
    steady_clients,
)
from service.db.engine import create_engine, create_sessionmaker  # noqa: E402
from service.db.figures_queries import tuned  # noqa: E402
from service.db.migrate import migrate  # noqa: E402
from service.db.segments import SegmentsRepository  # noqa: E402
from service.settings import Settings  # noqa: E402

VERSION = 1
TARGET_S = 2.0
YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))
REQUESTS_PER_CLIENT = 10
EVENTS_PER_CLIENT = 0.8
CLIENTS_PER_CAMPAIGN = 200
SURVEY_PER_CLIENT = 0.003
VISITS_PER_CLIENT = 0.5
COMPETITORS = ("Консультант+", "Кодекс", "Гарант-Сервис", "  Консультант+  ", "Техэксперт", None)
SURVEY_ANSWERS = ("Да", "Скорее да", "Скорее нет", "Нет", "Затрудняюсь ответить", "")


def db_name(clients: int) -> str:
    return f"dsdesk_bench_compare_{clients}"


def url(clients: int) -> str:
    return f"postgresql://{PG_HOST}/{db_name(clients)}"


def h(expr: str, salt: int, modulo: int) -> str:
    """A deterministic pseudo-random 0 … modulo − 1 from an integer expression (a different one per salt)."""
    return f"((hashint8(({expr})::bigint * 64 + {salt})::bigint & 2147483647) % {modulo})"


def _array(values: Sequence[str | None]) -> str:
    return "ARRAY[" + ", ".join("NULL" if v is None else f"'{v}'" for v in values) + "]::text[]"


def statements(clients: int) -> list[tuple[str, str]]:
    """(what, SQL) in order, into a freshly migrated database."""
    c = clients
    requests = c * REQUESTS_PER_CLIENT
    spacing = 365 * 86400 // requests  # seconds between requests; each gets a jitter below it: all distinct
    events = int(c * EVENTS_PER_CLIENT)
    answer = _array(SURVEY_ANSWERS)
    survey = ", ".join(
        f"'{m}', " + (f"CASE WHEN {h('n', 60 + i, 10)} = 0 THEN '' ELSE (1 + {h('n', 70 + i, 5)})::text END"
                      if m == "lk_rated" else f"({answer})[1 + {h('n', 60 + i, len(SURVEY_ANSWERS))}]")
        for i, m in enumerate(("satisfied", "phone_convenient", "info_useful", "lk_rated", "lk_regular", "defend")))
    other_kinds = _array(("sale", "terms_renewed", "problem_registered", "problem_solved", "debt_collected",
                          "upsell", "prepay_long", "client_restored"))
    return [
        ("clients", f"""
            INSERT INTO clients (id, external_id, name, segment, version, debt_rub, client_since, ds_since,
                                 prepaid_months, collection_completeness)
            SELECT g, 'C-' || g, 'Клиент ' || g, seg, 'online', 0, since,
                   CASE WHEN seg = 'КС' THEN NULL
                        WHEN {h('g', 3, 100)} < 30 THEN DATE '2025-01-01' + {h('g', 4, 365)}::int
                        ELSE least(since + {h('g', 5, 900)}::int, DATE '2024-12-31') END,
                   CASE WHEN {h('g', 6, 100)} < 5 THEN NULL WHEN {h('g', 6, 100)} < 50 THEN 0
                        ELSE 1 + {h('g', 7, 12)}::int END,
                   CASE WHEN {h('g', 8, 100)} < 10 THEN NULL ELSE round(0.5 + {h('g', 9, 5001)} / 10000.0, 4) END
            FROM (SELECT g, CASE WHEN {h('g', 1, 100)} < 40 THEN 'ДС' ELSE 'КС' END AS seg,
                         DATE '2015-01-01' + {h('g', 2, 3800)}::int AS since
                  FROM generate_series(1, {c}) AS g) q"""),
        ("segment changes in 2025", f"""
            INSERT INTO segment_changes (client_id, since, segment, previous, recorded_at)
            SELECT id, day, segment, CASE segment WHEN 'ДС' THEN 'КС' ELSE 'ДС' END,
                   (day + time '03:00') AT TIME ZONE 'UTC'
            FROM (SELECT id, segment, DATE '2025-01-01' + {h('id', 11, 365)}::int AS day FROM clients
                  WHERE {h('id', 10, 100)} < 2) q"""),
        ("earlier segment changes (2024)", f"""
            INSERT INTO segment_changes (client_id, since, segment, previous, recorded_at)
            SELECT id, day, 'ДС', 'КС', (day + time '03:00') AT TIME ZONE 'UTC'
            FROM (SELECT id, DATE '2024-01-01' + {h('id', 13, 365)}::int AS day FROM clients
                  WHERE {h('id', 10, 100)} < 2 AND segment = 'КС' AND {h('id', 12, 3)} = 0) q"""),
        ("transition campaign: moved", f"""
            INSERT INTO client_transitions (client_id, status, until, at)
            SELECT id, 'moved', day, (day + time '12:00') AT TIME ZONE 'UTC'
            FROM (SELECT id, ds_since - {h('id', 14, 10)}::int AS day FROM clients
                  WHERE segment = 'ДС' AND ds_since >= DATE '2025-01-01' AND {h('id', 15, 2)} = 0) q"""),
        ("contacts", f"""
            INSERT INTO client_contacts (client_id, full_name, external_id, phone_e164, is_user)
            SELECT g, 'Контакт ' || g || '-' || k, 'P-' || g || '-' || k, '7911' || lpad((g * 3 + k)::text, 8, '0'),
                   {h('g * 4 + k', 16, 100)} < 80
            FROM generate_series(1, {c}) AS g, generate_series(0, 1 + g % 2) AS k"""),
        ("trainings", f"""
            INSERT INTO trainings (client_id, contact_external_id, day, kind)
            SELECT client_id, external_id, DATE '2024-01-01' + {h('id', 17, 731)}::int,
                   CASE WHEN {h('id', 18, 3)} = 0 THEN 'ОТ' ELSE 'первичное' END
            FROM client_contacts WHERE is_user AND {h('id', 19, 100)} < 30"""),
        ("СТ visits", f"""
            INSERT INTO seminar_visits (client_id, contact_external_id, day, seminar)
            SELECT 1 + {h('n', 20, c)}, '', DATE '2024-07-01' + {h('n', 21, 549)}::int,
                   'СТ № ' || (1 + {h('n', 22, 150)})
            FROM generate_series(0, {int(c * VISITS_PER_CLIENT) - 1}) AS n
            ON CONFLICT DO NOTHING"""),
        ("acts", f"""
            INSERT INTO acts (client_id, period, due_on, returned_on)
            SELECT g, month, due, CASE WHEN r < 70 THEN due - {h('g * 4 + q', 24, 10)}::int
                                       WHEN r < 88 THEN due + 1 + {h('g * 4 + q', 25, 30)}::int END
            FROM (SELECT g, q, (DATE '2025-01-01' + make_interval(months => q * 3))::date AS month,
                         (DATE '2025-01-01' + make_interval(months => q * 3 + 1))::date + 4
                             + {h('g * 4 + q', 23, 20)}::int AS due,
                         {h('g * 4 + q', 26, 100)} AS r
                  FROM generate_series(1, {c}) AS g, generate_series(0, 3) AS q) a"""),
        ("requests", f"""
            INSERT INTO client_requests (client_id, channel, created_at)
            SELECT 1 + {h('n', 27, c)}, (ARRAY['chat', 'lk', 'hotline'])[1 + {h('n', 28, 3)}],
                   TIMESTAMPTZ '2025-01-01 00:00:00+03'
                       + make_interval(secs => n * {spacing} + {h('n', 29, spacing - 1)})
            FROM generate_series(0::bigint, {requests - 1}::bigint) AS n"""),
        ("business events", f"""
            INSERT INTO business_events (client_id, kind, occurred_on, amount_rub, note, imported_at, row_key)
            SELECT 1 + {h('n', 30, c)}, kind, day, NULL,
                   CASE WHEN kind = 'competitor_lost' THEN ({_array(COMPETITORS)})[1 + {h('n', 33, len(COMPETITORS))}]
                   END,
                   (day + time '20:00') AT TIME ZONE 'UTC', md5('bench-compare-event-' || n)
            FROM (SELECT n, DATE '2024-01-01' + (n * 731 / {events})::int AS day,
                         CASE WHEN {h('n', 31, 100)} < 3 THEN 'client_disconnected'
                              WHEN {h('n', 31, 100)} < 5 THEN 'competitor_lost'
                              WHEN {h('n', 31, 100)} < 10 THEN 'seminar_sold'
                              ELSE ({other_kinds})[1 + {h('n', 32, 8)}] END AS kind
                  FROM generate_series(0::bigint, {events - 1}::bigint) AS n) e"""),
        ("mailings", f"""
            INSERT INTO mailings (campaign, sent_on, audience, kind, sent, delivered, opened, clicked, unsubscribed)
            SELECT 'Рассылка ' || n, DATE '2025-01-01' + {h('n', 34, 365)}::int, 'Список ' || (n % 7),
                   (ARRAY['reviews', 'informational', 'news', 'gk'])[1 + {h('n', 35, 4)}],
                   sent, sent * 97 / 100, sent * (20 + {h('n', 36, 20)}) / 100, sent * (2 + {h('n', 37, 6)}) / 100,
                   {h('n', 38, 30)}
            FROM (SELECT n, 5000 + {h('n', 39, 30000)} AS sent
                  FROM generate_series(1, {max(c // CLIENTS_PER_CAMPAIGN, 1)}) AS n) m"""),
        ("survey", f"""
            INSERT INTO survey_responses (respondent, answered_on, client_id, answers)
            SELECT 'resp-' || n, DATE '2025-01-01' + {h('n', 40, 365)}::int, 1 + {h('n', 41, c)},
                   json_build_object({survey})
            FROM generate_series(1, {max(int(c * SURVEY_PER_CLIENT), 1)}) AS n"""),
        ("marker", f"CREATE TABLE bench_compare_data AS SELECT {VERSION} AS version, {c} AS clients"),
    ]


INDEXED = ("clients", "client_contacts", "segment_changes", "client_transitions", "trainings", "seminar_visits",
           "acts", "client_requests", "business_events", "mailings", "survey_responses")


async def ensure_database(clients: int, fresh: bool) -> None:
    """The cached database when its version and client count match, else generated (into a temp name first)."""
    import asyncpg

    name, tmp = db_name(clients), f"{db_name(clients)}_tmp"
    admin = await asyncpg.connect(f"postgresql://{PG_HOST}/postgres")
    try:
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name) and not fresh:
            if await _marker(url(clients)) == (VERSION, clients):
                log(f"{name}: cached, {clients:,} clients, data version {VERSION}")
                return
        await admin.execute(f'DROP DATABASE IF EXISTS "{tmp}"')
        await admin.execute(f'CREATE DATABASE "{tmp}"')
        started = time.perf_counter()
        log(f"{name}: generating {clients:,} clients, {clients * REQUESTS_PER_CLIENT:,} requests")
        await migrate(f"postgresql://{PG_HOST}/{tmp}")
        connection = await asyncpg.connect(f"postgresql://{PG_HOST}/{tmp}")
        try:
            await load(connection, statements(clients), INDEXED, (), lambda m: log(f"{name}: {m}"))
        finally:
            await connection.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'ALTER DATABASE "{tmp}" RENAME TO "{name}"')
        log(f"{name}: generated in {time.perf_counter() - started:.0f} s")
    finally:
        await admin.close()


async def _marker(dsn: str) -> tuple[int, int] | None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow("SELECT version, clients FROM bench_compare_data")
        return (int(row["version"]), int(row["clients"])) if row else None
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await connection.close()


_COUNTS = text("""
    SELECT (SELECT count(*) FROM clients), (SELECT count(*) FROM clients WHERE segment = 'ДС'),
           (SELECT count(*) FROM clients WHERE ds_since >= :first AND ds_since <= :last),
           (SELECT count(DISTINCT client_id) FROM segment_changes), (SELECT count(*) FROM client_contacts),
           (SELECT count(*) FROM client_contacts WHERE is_user), (SELECT count(*) FROM trainings),
           (SELECT count(*) FROM seminar_visits), (SELECT count(*) FROM acts), (SELECT count(*) FROM client_requests),
           (SELECT count(*) FROM business_events),
           (SELECT count(*) FROM business_events WHERE occurred_on >= :first AND occurred_on <= :last
                AND kind IN ('client_disconnected', 'competitor_lost', 'seminar_sold')),
           (SELECT count(*) FROM mailings), (SELECT count(*) FROM survey_responses)""")
COUNT_NAMES = ("clients", "ДС now", "moved to ДС in 2025 (ds_since)", "clients with recorded changes", "contacts",
               "users", "trainings", "СТ visits", "acts", "requests", "business events",
               "disconnections + competitor + seminars in 2025", "campaigns", "survey responses")


async def timed(job: Callable[[], Awaitable[Any]], runs: int,
                cpu: list[float] | None = None) -> tuple[float, list[float], Any]:
    """(cold seconds, warm seconds × runs, the last result); the result of one run is dropped before the next.
    `cpu` gets each warm run's CPU seconds of this process (the bench's Python, not PostgreSQL's)."""
    started = time.perf_counter()
    result = await job()
    cold = time.perf_counter() - started
    warm = []
    for _ in range(runs):
        del result
        started, cpu_started = time.perf_counter(), time.process_time()
        result = await job()
        warm.append(time.perf_counter() - started)
        if cpu is not None:
            cpu.append(time.process_time() - cpu_started)
    return cold, warm, result


def fresh_index(facts: Facts) -> Facts:
    """The facts as each page's read makes them (nothing is cached between pages)."""
    return dataclasses.replace(facts, history=dict(facts.history))


async def bench_one(clients: int, runs: int, profile: bool) -> dict[str, Any]:
    started = time.perf_counter()
    await migrate(url(clients))
    result: dict[str, Any] = {"clients": clients, "migrate": time.perf_counter() - started,
                              "load": [os.getloadavg()[0]]}
    settings = Settings()
    tz, mapping = settings.organisation.tz, settings.compare.survey_mapping()
    engine = create_engine(url(clients), pool_size=8)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session:
            result["counts"] = (await session.execute(_COUNTS, {"first": YEAR.first, "last": YEAR.last})).one()
    finally:
        await engine.dispose()
    log(f"{db_name(clients)}: timing the year's comparison")
    engine = create_engine(url(clients), pool_size=8)
    sessions = create_sessionmaker(engine)
    repo = CompareRepository(sessions)
    try:
        result["cpu"] = []
        result["whole"] = await timed(lambda: comparison(sessions, YEAR, tz, mapping), runs, result["cpu"])
        parts: dict[str, tuple[float, list[float]]] = {}
        cold, warm, facts = await timed(lambda: repo.facts(YEAR, tz), runs)
        parts["facts"] = (cold, warm)

        async def history() -> dict[int, list[tuple[date, str]]]:
            return histories(await SegmentsRepository(sessions).facts())

        cold, warm, index = await timed(history, runs)
        parts["history"] = (cold, warm)

        async def requests() -> tuple[dict[tuple[str, date], int], list[tuple[int, date]]]:
            async with sessions() as session:
                await tuned(session)
                await session.execute(text("SET LOCAL jit = off"))  # as CompareRepository.facts
                counted, by_client = await _count_requests(session, YEAR, tz, steady_clients(YEAR.first))
                return await _split_requests(session, YEAR, tz, index, counted, by_client)

        cold, warm, (counts, singly) = await timed(requests, runs)
        parts["requests"] = (cold, warm)
        result["requests_split"] = (sum(counts.values()), len(singly))

        async def others() -> tuple[Any, Any]:
            return await repo.mailings(YEAR), await repo.survey(YEAR)

        cold, warm, (mailings, survey) = await timed(others, runs)
        parts["mailings + survey"] = (cold, warm)
        answers = [a for a, _, _ in survey]
        parts["compare"] = await _pure(lambda f: compare(f, YEAR, mailings, answers, mapping), facts, runs)
        result["parts"] = parts
        result["sizes"] = {"segment histories": len(facts.history), "clients with users": len(facts.user_counts),
                           "trainings read": len(facts.trainings), "acts read": len(facts.acts),
                           "request (client, month) counts → segments": len(facts.request_counts),
                           "requests read singly": len(facts.requests), "СТ visits read": len(facts.seminar_visits),
                           "disconnections": len(facts.disconnections)}
        if profile or median(result["whole"][1]) > TARGET_S:
            profiler = cProfile.Profile()
            profiler.enable()
            await comparison(sessions, YEAR, tz, mapping)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
            result["profile"] = out.getvalue()
        result["load"].append(os.getloadavg()[0])
        return result
    finally:
        await engine.dispose()


async def _pure(job: Callable[[Facts], Any], facts: Facts, runs: int) -> tuple[float, list[float]]:
    """A pure part timed on the facts read, each run on a fresh copy (made outside the timer)."""
    times = []
    for _ in range(runs + 1):
        fresh = fresh_index(facts)
        started = time.perf_counter()
        job(fresh)
        times.append(time.perf_counter() - started)
    return times[0], times[1:]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def print_result(r: dict[str, Any]) -> None:
    counts = dict(zip(COUNT_NAMES, r["counts"], strict=True))
    print(f"\n## {r['clients']:,} clients — {db_name(r['clients'])}")
    print("data: " + "; ".join(f"{name} {value:,}" for name, value in counts.items()))
    print(f"load average before/after {r['load'][0]:.1f}/{r['load'][1]:.1f} on {os.cpu_count()} CPUs; "
          f"migrate to head {r['migrate']:.1f} s")
    cold, warm, found = r["whole"]
    verdict = "met" if median(warm) <= TARGET_S else "MISSED"
    print(f"comparison(sessions, 2025, …): median {ms(median(warm))}, best {ms(min(warm))} "
          f"(runs {', '.join(ms(x) for x in warm)}), cold {ms(cold)}; target ≤ 2 s: {verdict}")
    print(f"  of each run, this process's CPU (Python: rows, assembly): median {ms(median(r['cpu']))}")
    labels = {"facts": "CompareRepository.facts (every read but two)",
              "history": "  of it: segment history (SegmentsRepository.facts, histories)",
              "requests": "  of it: requests (per client and month, then singly)",
              "mailings + survey": "mailings + survey reads",
              "compare": "compare(): the pure assembly (engine.py: the table and the 12 months' series)"}
    for key, label in labels.items():
        cold, warm = r["parts"][key]
        print(f"  {label}: median {ms(median(warm))}, best {ms(min(warm))}, cold {ms(cold)}")
    counted, singly = r["requests_split"]
    print(f"  requests counted in SQL per (client, month) {counted:,}; read one by one {singly:,}")
    print("  sizes: " + "; ".join(f"{k} {v:,}" for k, v in r["sizes"].items()))
    print_sample(found)
    if "profile" in r:
        print("cProfile of one comparison() (by own time):")
        print("\n".join(line for line in r["profile"].splitlines() if line.strip())[:6000])


def print_sample(found: Comparison) -> None:
    """A few figures as the page shows them, for a sanity check."""
    for key in ("churn", "trained_share", "prepayment_share", "acts_on_time", "requests", "requests_per_client",
                "st_attendance", "paid_webinars"):
        ds, ks = found.table[key]["ДС"], found.table[key]["КС"]
        print(f"  {key}: ДС {ds.value} ({ds.part}/{ds.base}), КС {ks.value} ({ks.part}/{ks.base})")
    print(f"  competitors ДС {dict(found.competitors['ДС'])}")
    print(f"  mailings {[(m.kind, m.campaigns) for m in found.mailings]}; respondents {found.respondents}, "
          f"{[(s.measure, s.share.value) for s in found.survey]}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--growth", action=argparse.BooleanOptionalAction, default=True,
                        help="also 1/10 of the clients (and so of every table) first (default: yes)")
    parser.add_argument("--fresh", action="store_true", help="generate the data again")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one call even under the target")
    args = parser.parse_args()
    sizes = [args.clients // 10, args.clients] if args.growth else [args.clients]
    print(f"# bench/compare.py — {date.today()} — {platform.python_version()}, {os.cpu_count()} CPUs")
    results = []
    for clients in sizes:
        await ensure_database(clients, args.fresh)
        results.append(await bench_one(clients, args.runs, args.profile))
        print_result(results[-1])
    if len(results) == 2:
        small, big = results
        a, b = median(small["whole"][1]), median(big["whole"][1])
        print(f"\ngrowth ×10 clients, requests, campaigns: {ms(a)} → {ms(b)} (×{b / a:.1f})")
        for key in ("facts", "compare"):
            a, b = median(small["parts"][key][1]), median(big["parts"][key][1])
            print(f"  {key}: {ms(a)} → {ms(b)} (×{b / a:.1f})")


if __name__ == "__main__":
    asyncio.run(main())
