"""Benchmark: a month's control figures for the department, and the call log's first page (issue 5).

Targets: over 10,000,000 calls on PostgreSQL (two years; the measured month holds ~420,000), the
department's month figures ≤ 1 s and the call log's first page with filters ≤ 100 ms. PostgreSQL
only (SPEC-NOTES "Benchmarks"). No peer runs here, so the figures are absolute, plus a growth
figure: the same department at 1,000,000 calls (100 Experts over the same two years).

Measured: the page's own code path, `FiguresRepository.report(department, month, …)`: refresh the
figures summary (service/db/figures_summary.py), read the month's per-Expert-per-day rows and
topic/outcome counts, then the pure figures. In order: the first report of the month on an empty
summary (it builds the month's days), the build of the rest of the history, a check that the
summary equals the from-scratch compute for the month; then, in a fresh engine (new connections,
nothing prepared: "cold"), the report with the summary up to date, median of 5; then a working
day in progress: the clock at noon of the last day (so it is today: computed live, not stored),
every call, wrap-up and planned item of that day written again (20,000 calls at 10M) before each
refresh alone and each report of that month (refresh included); the stamps are put back afterwards.
Finally `CallLogRepository.page(CallFilters(…), cursor=None)`.

Data (bench/_report_data.py) is generated server-side once and cached in the PostgreSQL database
`dsdesk_bench_report_<calls>` (reused while its call count matches; `--fresh` regenerates); it is
migrated to head on every run, so new indexes are built on the cached data.

    .venv/bin/python bench/report.py [--calls 10000000 --experts 1000] [--growth] [--fresh] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from sqlalchemy import text, update  # noqa: E402

from _report_data import FIRST_EXTENSION, Shape, generate  # noqa: E402
from service.db.engine import create_engine, create_sessionmaker  # noqa: E402
from service.db.figures import FiguresRepository  # noqa: E402
from service.db.figures_queries import utc_range  # noqa: E402
from service.db.migrate import migrate  # noqa: E402
from service.db.models import FiguresState  # noqa: E402
from service.figures.compute import FigureTargets  # noqa: E402
from service.figures.model import Period, PeriodKind, Scope, ScopeKind  # noqa: E402
from service.figures.report import show_value  # noqa: E402

MSK = ZoneInfo("Europe/Moscow")
LAST_DAY = date(2026, 11, 27)  # a Friday: the data's last working day
PG_HOST = os.environ.get("DSDESK_BENCH_PG", "postgres@127.0.0.1:5432")
FIGURES_TARGET_S, LOG_TARGET_S = 1.0, 0.1


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def db_name(calls: int) -> str:
    return f"dsdesk_bench_report_{calls}"


def url(calls: int) -> str:
    return f"postgresql://{PG_HOST}/{db_name(calls)}"


async def ensure_database(shape: Shape, fresh: bool) -> None:
    """The cached database when its call count matches, else generated anew (into a temp name first)."""
    import asyncpg

    name, tmp = db_name(shape.calls), f"{db_name(shape.calls)}_tmp"
    admin = await asyncpg.connect(f"postgresql://{PG_HOST}/postgres")
    try:
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name) and not fresh:
            if await _call_count(f"postgresql://{PG_HOST}/{name}") == shape.calls:
                log(f"{name}: cached, {shape.calls:,} calls")
                return
        await admin.execute(f'DROP DATABASE IF EXISTS "{tmp}"')
        await admin.execute(f'CREATE DATABASE "{tmp}"')
        started = time.perf_counter()
        log(f"{name}: generating {shape.calls:,} calls, {shape.experts:,} Experts")
        await migrate(f"postgresql://{PG_HOST}/{tmp}")
        connection = await asyncpg.connect(f"postgresql://{PG_HOST}/{tmp}")
        try:
            await generate(connection, shape, lambda m: log(f"{name}: {m}"))
        finally:
            await connection.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'ALTER DATABASE "{tmp}" RENAME TO "{name}"')
        log(f"{name}: generated in {time.perf_counter() - started:.0f} s")
    finally:
        await admin.close()


async def _call_count(dsn: str) -> int:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM calls"))
    except asyncpg.UndefinedTableError:
        return -1
    finally:
        await connection.close()


async def timed(job: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, list[float], Any]:
    """(cold seconds, warm seconds × runs, the last result)."""
    started = time.perf_counter()
    result = await job()
    cold = time.perf_counter() - started
    warm = []
    for _ in range(runs):
        started = time.perf_counter()
        result = await job()
        warm.append(time.perf_counter() - started)
    return cold, warm, result


def measured_month(last_day: date) -> Period:
    """The last full month of the data."""
    return Period.around(PeriodKind.MONTH, last_day.replace(day=1) - timedelta(days=1))


async def reset_summary(sessions: Any) -> None:
    """An empty summary, as right after migration 0009, so that every run measures the first build."""
    async with sessions.begin() as session:
        for table in ("figures_daily", "figures_counts", "figures_days"):
            await session.execute(text(f"DELETE FROM {table}"))
        await session.execute(text("UPDATE figures_state SET tz = NULL, watermark = NULL"))


async def touch_day(sessions: Any, day: date, stamp: datetime | None) -> int:
    """Intraday activity on `day`: its calls, their wrap-ups and its planned items written at `stamp`
    (None: back to the generator's stamps, so that the next run starts from the same data)."""
    start, end = utc_range(Period(PeriodKind.DAY, day, day), MSK)
    calls = "started_at" if stamp is None else ":stamp"
    wrapups = "(SELECT c.ended_at + interval '1 minute' FROM calls c WHERE c.id = wrapups.call_id)" \
        if stamp is None else ":stamp"
    plan = "slot" if stamp is None else ":stamp"
    async with sessions.begin() as session:
        params = {"start": start, "end": end, "day": day, "stamp": stamp}
        result = await session.execute(text(f"UPDATE calls SET updated_at = {calls} "
                                            "WHERE started_at >= :start AND started_at < :end"), params)
        await session.execute(text(f"UPDATE wrapups SET updated_at = {wrapups} WHERE call_id IN "
                                   "(SELECT id FROM calls WHERE started_at >= :start AND started_at < :end)"), params)
        await session.execute(text(f"UPDATE planned_calls SET updated_at = {plan} WHERE plan_date = :day"), params)
    return int(getattr(result, "rowcount", 0))


async def bench_one(shape: Shape, runs: int) -> dict[str, Any]:
    started = time.perf_counter()
    await migrate(url(shape.calls))  # new tables and indexes land on the cached data too
    result: dict[str, Any] = {"shape": shape, "migrate": time.perf_counter() - started}
    month = measured_month(shape.last_day)
    now = datetime.combine(shape.last_day + timedelta(days=1), datetime.min.time(), MSK).astimezone(UTC)
    department = Scope(ScopeKind.DEPARTMENT)
    result["month"] = month
    result["load"] = [os.getloadavg()[0]]
    engine = create_engine(url(shape.calls), pool_size=8)
    sessions = create_sessionmaker(engine)
    repo = FiguresRepository(sessions)
    try:
        await reset_summary(sessions)
        started = time.perf_counter()
        await repo.report(department, month, MSK, now, FigureTargets())
        result["first_month"] = time.perf_counter() - started
        history = Period(PeriodKind.MONTH, shape.working_days[0], shape.last_day)  # the kind is not used
        started = time.perf_counter()
        rebuilt = await repo.summary.refresh(MSK, now, history)
        result["rest"] = (time.perf_counter() - started, len(rebuilt))
        started = time.perf_counter()
        scratch = await repo.day_aggregates(department, month, MSK)
        scratch_topics = await repo.topics(department, month, MSK)
        scratch_outcomes = await repo.outcomes(department, month, MSK)
        result["scratch"] = time.perf_counter() - started
        stored = await repo.summary.day_aggregates(department, month)
        result["equal"] = (stored == scratch and (await repo.summary.distributions(department, month))
                           == (scratch_topics, scratch_outcomes))
    finally:
        await engine.dispose()
    # Steady state, in a fresh engine (new connections, nothing prepared): the summary is up to date.
    engine = create_engine(url(shape.calls), pool_size=8)
    sessions = create_sessionmaker(engine)
    repo = FiguresRepository(sessions)
    try:
        cold, warm, report = await timed(lambda: repo.report(department, month, MSK, now, FigureTargets()), runs)
        result["figures"] = (cold, warm)
        result["report"] = report
        result["month_calls"] = sum(t.calls for _, t in report.daily)
        result["parts"] = {
            "refresh, nothing written": (await timed(lambda: repo.summary.refresh(MSK, now, month), runs))[1],
            "read the month's Expert-days": (await timed(lambda: repo.summary.day_aggregates(department, month),
                                                         runs))[1],
            "read topics and outcomes": (await timed(lambda: repo.summary.distributions(department, month),
                                                     runs))[1],
        }
        result["intraday"] = await bench_intraday(sessions, repo, shape, now, runs)
        result["call_log"] = await bench_call_log(sessions, month, runs)
        result["load"].append(os.getloadavg()[0])
        return result
    finally:
        await engine.dispose()


async def bench_intraday(sessions: Any, repo: FiguresRepository, shape: Shape, now: datetime,
                         runs: int) -> dict[str, Any]:
    """A working day in progress: at noon of the last day, its calls, wrap-ups and planned items all
    written again (a day's activity) before each refresh alone and each report of that month
    (refresh included). The day is today for these reports, so it is computed live (never stored)."""
    day = shape.last_day
    current = Period.around(PeriodKind.MONTH, day)
    department = Scope(ScopeKind.DEPARTMENT)
    refresh: list[float] = []
    report: list[float] = []
    clock = (datetime.combine(day, datetime.min.time(), MSK) + timedelta(hours=12)).astimezone(UTC)
    # The clock goes back to that noon, so that the day is today. A refresh never moves its watermark
    # back by itself (a late refresh must not undo an earlier one's day): set it by hand here.
    async with sessions.begin() as session:
        await session.execute(update(FiguresState).values(watermark=clock))
    await repo.summary.refresh(MSK, clock)
    touched = 0
    try:
        for _ in range(runs):
            for times, job in ((refresh, lambda at: repo.summary.refresh(MSK, at, current)),
                               (report, lambda at: repo.report(department, current, MSK, at, FigureTargets()))):
                clock += timedelta(minutes=1)
                touched = await touch_day(sessions, day, clock)
                clock += timedelta(minutes=1)
                started = time.perf_counter()
                await job(clock)
                times.append(time.perf_counter() - started)
    finally:
        await touch_day(sessions, day, None)
        await repo.summary.refresh(MSK, clock + timedelta(days=1))  # settle: the stamps went back
    return {"calls": touched, "refresh": refresh, "report": report}


async def bench_call_log(sessions: Any, month: Period, runs: int) -> dict[str, tuple[float, list[float]]] | str:
    """The call log's first page (50 rows) under typical supervisor filters."""
    try:
        from service.calllog.filters import CallFilters
        from service.db.call_log import CallLogRepository
    except ImportError as e:  # built by another engineer; measured once it is in the tree
        return f"not measured: {e}"
    repo = CallLogRepository(sessions, MSK)
    ext = str(FIRST_EXTENSION + 5)
    cases = {
        "month, all calls": CallFilters(date_from=month.first, date_to=month.last),
        "month, one Expert": CallFilters(expert_ext=ext, date_from=month.first, date_to=month.last),
        "month, one Expert, productive": CallFilters(expert_ext=ext, date_from=month.first, date_to=month.last,
                                                     productive=True),
        "month, productive < 5 min": CallFilters(date_from=month.first, date_to=month.last, productive=True,
                                                  max_talk_s=300),
        "month, outcome busy": CallFilters(date_from=month.first, date_to=month.last, outcome="busy"),
        "month, topic, with login": CallFilters(date_from=month.first, date_to=month.last, topic="Обучение",
                                                logged_in=True),
        "month, unplanned inbound": CallFilters(date_from=month.first, date_to=month.last, planned=False,
                                                direction="inbound"),
    }
    out: dict[str, tuple[float, list[float]]] = {}
    for name, filters in cases.items():
        cold, warm, _ = await timed(functools.partial(repo.page, filters, None, 50), runs)
        out[name] = (cold, warm)
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"


def print_result(r: dict[str, Any]) -> None:
    shape: Shape = r["shape"]
    month: Period = r["month"]
    cold, warm = r["figures"]
    verdict = "met" if statistics.median(warm) <= FIGURES_TARGET_S else "MISSED"
    print(f"\n## {shape.calls:,} calls, {shape.experts:,} Experts; month {month.title}: "
          f"{r['month_calls']:,} calls; load average before/after "
          f"{r['load'][0]:.1f}/{r['load'][1]:.1f} on {os.cpu_count()} CPUs (other work slows every figure)")
    print(f"migrate to head: {r['migrate']:.1f} s")
    print(f"first build: the month's first report {ms(r['first_month'])}; the rest of the history "
          f"({r['rest'][1]} days) {r['rest'][0]:.1f} s; from-scratch compute of the month {ms(r['scratch'])}; "
          f"summary equals from-scratch: {'yes' if r['equal'] else 'NO'}")
    print(f"department month figures (summary up to date): median {ms(statistics.median(warm))} "
          f"(runs {', '.join(ms(w) for w in warm)}), cold {ms(cold)}; target ≤ 1 s: {verdict}")
    for name, times in r["parts"].items():
        print(f"  {name}: median {ms(statistics.median(times))}")
    intraday = r["intraday"]
    print(f"a working day in progress: at noon of {shape.last_day:%d.%m}, after its {intraday['calls']:,} calls "
          f"(with their wrap-ups and plan) written again: refresh median {ms(statistics.median(intraday['refresh']))}, "
          f"the month's report (refresh included) median {ms(statistics.median(intraday['report']))}")
    print_figures(r["report"])
    if isinstance(r["call_log"], str):
        print(f"call log: {r['call_log']}")
        return
    for name, (c, w) in r["call_log"].items():
        ok = "met" if statistics.median(w) <= LOG_TARGET_S else "MISSED"
        print(f"call log first page, {name}: median {ms(statistics.median(w))}, cold {ms(c)}; ≤ 100 ms: {ok}")


def print_figures(report: Any) -> None:
    """The department's month as the page shows it."""
    for row in report.rows:
        per_day = "" if row.per_day is None else f", {show_value(row.per_day, 'rate')} в день"
        print(f"  {row.label}: {show_value(row.total, row.kind)}{per_day}")
    print("  инфоповоды: " + "; ".join(f"{s.label} {s.count:,}" for s in report.topics[:5]) + " …")
    print("  исходы: " + "; ".join(f"{s.label} {s.count:,}" for s in report.outcomes))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=10_000_000)
    parser.add_argument("--experts", type=int, default=1000)
    parser.add_argument("--growth", action="store_true", help="also 1/10 of the calls and Experts")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    shapes = [Shape(args.experts, args.calls, LAST_DAY)]
    if args.growth:
        shapes.insert(0, Shape(max(args.experts // 10, 1), args.calls // 10, LAST_DAY))
    print(f"# bench/report.py — {date.today()} — {platform.python_version()}, {os.cpu_count()} CPUs")
    for shape in shapes:
        await ensure_database(shape, args.fresh)
        print_result(await bench_one(shape, args.runs))


if __name__ == "__main__":
    asyncio.run(main())
