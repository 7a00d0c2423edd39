"""Benchmark: a month's control figures for the department, and the call log's first page (issue 5).

Targets: over 10,000,000 calls on PostgreSQL (two years; the measured month holds ~420,000), the
department's month figures ≤ 1 s and the call log's first page with filters ≤ 100 ms. PostgreSQL
only (SPEC-NOTES "Benchmarks"). No peer runs here, so the figures are absolute, plus a growth
figure: the same department at 1,000,000 calls (100 Experts over the same two years).

Measured: the page's own code path, `FiguresRepository.report(department, month, …)` (the per-Expert-
per-day aggregates, topics, outcomes: all GROUP BY in PostgreSQL, then the pure figures), and
`CallLogRepository.page(CallFilters(…), cursor=None)`. The first run in a fresh process is "cold"
(new connections, plans not cached; the OS page cache is not dropped), then the median of 5.

Data (bench/_report_data.py) is generated server-side once and cached in the PostgreSQL database
`dsdesk_bench_report_<calls>` (reused while its call count matches; `--fresh` regenerates); it is
migrated to head on every run, so new indexes are built on the cached data.

    .venv/bin/python bench/report.py [--calls 10000000 --experts 1000] [--growth] [--fresh] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
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

from _report_data import FIRST_EXTENSION, Shape, generate  # noqa: E402
from service.db.engine import create_engine, create_sessionmaker  # noqa: E402
from service.db.figures import FiguresRepository  # noqa: E402
from service.db.migrate import migrate  # noqa: E402
from service.figures.compute import FigureTargets  # noqa: E402
from service.figures.model import Period, PeriodKind, Scope, ScopeKind  # noqa: E402

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
    import asyncpg  # type: ignore[import-untyped]

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


async def bench_one(shape: Shape, runs: int) -> dict[str, Any]:
    await migrate(url(shape.calls))  # new indexes land on the cached data too
    engine = create_engine(url(shape.calls), pool_size=8)
    sessions = create_sessionmaker(engine)
    month = measured_month(shape.last_day)
    now = datetime.combine(shape.last_day + timedelta(days=1), datetime.min.time(), MSK).astimezone(UTC)
    repo = FiguresRepository(sessions)
    department = Scope(ScopeKind.DEPARTMENT)
    try:
        result: dict[str, Any] = {"shape": shape, "month": month}
        load_before = os.getloadavg()[0]
        cold, warm, report = await timed(
            lambda: repo.report(department, month, MSK, now, FigureTargets()), runs)
        result["figures"] = (cold, warm)
        made = next(r for r in report.rows if r.key == "made")
        result["month_calls"] = sum(t.calls for _, t in report.daily)
        result["month_made"] = made.total
        result["parts"] = {
            "day aggregates": (await timed(lambda: repo.day_aggregates(department, month, MSK), runs))[1],
            "topics": (await timed(lambda: repo.topics(department, month, MSK), runs))[1],
            "outcomes": (await timed(lambda: repo.outcomes(department, month, MSK), runs))[1],
        }
        result["call_log"] = await bench_call_log(sessions, month, runs)
        result["load"] = (load_before, os.getloadavg()[0])
        return result
    finally:
        await engine.dispose()


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
        cold, warm, _ = await timed(lambda f=filters: repo.page(f, None, 50), runs)
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
          f"{r['month_calls']:,} calls ({r['month_made']:,} made); load average before/after "
          f"{r['load'][0]:.1f}/{r['load'][1]:.1f} on {os.cpu_count()} CPUs (other work slows every figure)")
    print(f"department month figures: median {ms(statistics.median(warm))} "
          f"(runs {', '.join(ms(w) for w in warm)}), cold {ms(cold)}; target ≤ 1 s: {verdict}")
    for name, times in r["parts"].items():
        print(f"  {name}: median {ms(statistics.median(times))}")
    if isinstance(r["call_log"], str):
        print(f"call log: {r['call_log']}")
        return
    for name, (c, w) in r["call_log"].items():
        ok = "met" if statistics.median(w) <= LOG_TARGET_S else "MISSED"
        print(f"call log first page, {name}: median {ms(statistics.median(w))}, cold {ms(c)}; ≤ 100 ms: {ok}")


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
