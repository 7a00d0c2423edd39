"""Benchmark: one day's plan for a whole department — `Planner.build_day` on SQLite and PostgreSQL.

Target (issue 3): 1,000 Experts, 100,000 organisations, 250,000 contacts, 3,000,000 history
rows: a day's plan in ≤ 10 s with peak memory ≤ 1.5 GB, plus the time at 1×, 10×, 100× of the
small size (the full size ÷ 100) to show growth.

Measured: the real shell, `Planner(PlanRepository(sessions), WorkCalendar(), PlanRules(),
Europe/Moscow).build_day(day, now)` — roll over, load inputs (summaries in SQL), pure build,
save — for a day nothing is planned for yet. Each run is a fresh subprocess, whose peak RSS
(VmHWM; see `rss_mb`) is the memory figure; each (database, size) runs `--repeat` times. The
split times the repository's public calls through a pass-through store; "build" is the rest of
the wall time.

Data (bench/_plan_data.py) is generated once, set-based, and cached: `var/bench/plan_<k>.sqlite`
and the PostgreSQL database `dsdesk_bench_plan_<k>`; `--fresh` regenerates. Before each
measurement the day's items and notes are deleted and rolled-over items reset, so every run
builds from scratch.

    .venv/bin/python bench/plan_build.py [--sizes 1,10,100] [--db sqlite,postgresql] [--fresh]
        [--repeat 3]  # runs per size: the median time (and its split), the highest peak RSS
        [--profile]   # cProfile the largest size's build (top 15 cumulative); automatic when over target
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
from collections.abc import Collection
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from _plan_data import Department, counts, load_postgres, load_sqlite  # noqa: E402
from scheduler.calendar import WorkCalendar  # noqa: E402
from scheduler.model import Plan  # noqa: E402
from scheduler.planning import Planner  # noqa: E402
from scheduler.rules import PlanRules  # noqa: E402
from service.db.engine import create_engine, create_sessionmaker  # noqa: E402
from service.db.migrate import migrate  # noqa: E402
from service.db.plan import PlanRepository  # noqa: E402

MSK = ZoneInfo("Europe/Moscow")
DAY = date(2026, 12, 1)  # a Tuesday, a working day
NOW = datetime.combine(DAY, dtime(6, 30), MSK)  # the scheduled build time
CACHE = ROOT / "var" / "bench"
PG_HOST = os.environ.get("DSDESK_BENCH_PG", "postgres@127.0.0.1:5432")
TARGET_S, TARGET_MB = 10.0, 1536.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def sqlite_path(k: int) -> Path:
    return CACHE / f"plan_{k}.sqlite"


def pg_name(k: int) -> str:
    return f"dsdesk_bench_plan_{k}"


def url_for(db: str, k: int) -> str:
    if db == "sqlite":
        return f"sqlite:///{sqlite_path(k)}"
    return f"postgresql://{PG_HOST}/{pg_name(k)}"


# -- generation (cached) ----------------------------------------------------------------------

async def ensure_sqlite(k: int, fresh: bool) -> None:
    path = sqlite_path(k)
    if path.exists() and not fresh:
        return
    tmp = path.with_suffix(".tmp")
    for p in (path, tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    log(f"sqlite {k}×: generating {counts(k)} into {path}")
    await migrate(f"sqlite:///{tmp}")
    load_sqlite(str(tmp), Department(k, DAY), lambda m: log(f"sqlite {k}×: {m}"))
    import sqlite3
    connection = sqlite3.connect(tmp)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.execute("PRAGMA journal_mode=DELETE")
    connection.close()
    tmp.rename(path)
    log(f"sqlite {k}×: generated in {time.perf_counter() - started:.0f} s")


async def ensure_postgres(k: int, fresh: bool) -> None:
    import asyncpg

    admin = await asyncpg.connect(f"postgresql://{PG_HOST}/postgres")
    try:
        name, tmp = pg_name(k), f"{pg_name(k)}_tmp"
        have = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if have and not fresh:
            return
        await admin.execute(f'DROP DATABASE IF EXISTS "{tmp}"')
        await admin.execute(f'CREATE DATABASE "{tmp}"')
        started = time.perf_counter()
        log(f"postgresql {k}×: generating {counts(k)} into {name}")
        await migrate(f"postgresql://{PG_HOST}/{tmp}")
        await load_postgres(f"postgresql://{PG_HOST}/{tmp}", Department(k, DAY),
                            lambda m: log(f"postgresql {k}×: {m}"))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'ALTER DATABASE "{tmp}" RENAME TO "{name}"')
        log(f"postgresql {k}×: generated in {time.perf_counter() - started:.0f} s")
    finally:
        await admin.close()


# -- measurement (child process) --------------------------------------------------------------

class TimedStore:
    """PlanRepository's public calls, timed; everything else in build_day is the pure build."""

    def __init__(self, repo: PlanRepository) -> None:
        self.repo, self.times = repo, {"roll_over": 0.0, "load": 0.0, "save": 0.0}
        self.sizes: dict[str, int] = {}

    async def roll_over(self, day: date, now: datetime | None = None) -> Any:
        t = time.perf_counter()
        try:
            return await self.repo.roll_over(day, now)
        finally:
            self.times["roll_over"] += time.perf_counter() - t

    async def load_plan_inputs(self, day: date, tz: ZoneInfo,
                               expert_logins: Collection[str] | None = None) -> Any:
        t = time.perf_counter()
        try:
            inputs = await self.repo.load_plan_inputs(day, tz, expert_logins)
            self.sizes = {name: len(getattr(inputs, name)) for name in
                          ("experts", "clients", "contacts", "summaries", "signals", "callbacks", "existing")}
            return inputs
        finally:
            self.times["load"] += time.perf_counter() - t

    async def save_plan(self, plan: Plan, now: datetime | None = None) -> Any:
        t = time.perf_counter()
        try:
            return await self.repo.save_plan(plan, now)
        finally:
            self.times["save"] += time.perf_counter() - t


async def reset(url: str) -> None:
    """Undo an earlier run: the day's items and notes gone, rolled-over items unfinished again."""
    from sqlalchemy import text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as c:
            await c.execute(text("DELETE FROM planned_calls WHERE plan_date >= :d"), {"d": DAY})
            await c.execute(text("DELETE FROM plan_notes WHERE plan_date >= :d"), {"d": DAY})
            await c.execute(text("UPDATE planned_calls SET state = 'planned' WHERE state = 'rolled_over'"))
        if engine.dialect.name == "postgresql":
            # What autovacuum would have done by the next morning: repeated runs must not measure
            # the dead rows of this benchmark's own resets.
            async with engine.connect() as c:
                await c.execution_options(isolation_level="AUTOCOMMIT")
                await c.execute(text("VACUUM ANALYZE planned_calls, plan_notes"))
    finally:
        await engine.dispose()


def rss_mb() -> float:
    """Peak RSS of this process image (MB).

    VmHWM, not `ru_maxrss`: on Linux `ru_maxrss` survives fork + exec, so a child started by the
    parent that generated the data would report the parent's peak. VmHWM belongs to the new
    process image; `ru_maxrss` is the fallback where /proc is missing.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def cpu_s() -> float:
    """CPU seconds of this process, all threads (aiosqlite runs SQLite in one of its own)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(db: str, k: int, profile: bool) -> dict[str, Any]:
    url = url_for(db, k)
    await reset(url)
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    store = TimedStore(PlanRepository(sessions))
    planner = Planner(store, WorkCalendar(), PlanRules(), MSK)
    gc.collect()
    before = rss_mb()
    profiler = cProfile.Profile() if profile else None
    cpu_before = cpu_s()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = await planner.build_day(DAY, NOW)
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - started
    cpu = cpu_s() - cpu_before
    peak = rss_mb()
    await engine.dispose()
    result: dict[str, Any] = {
        "db": db, "k": k, "wall_s": wall, "cpu_s": cpu, "rss_before_mb": before, "peak_rss_mb": peak,
        **{f"{name}_s": t for name, t in store.times.items()},
        "build_s": wall - sum(store.times.values()),
        "created": report.created, "kept": report.kept, "deferred": report.deferred,
        "experts_planned": len(report.per_expert), "inputs": store.sizes,
    }
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(15)
        result["profile"] = out.getvalue()
    return result


def run_child(db: str, k: int, profile: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", f"{db}:{k}"] + (["--profile"] if profile else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"measurement {db} {k}× failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- report -----------------------------------------------------------------------------------

def size_label(k: int) -> str:
    n = counts(k)
    return f"{k}× ({n['experts']:,} E / {n['clients']:,} org / {n['contacts']:,} ct / {n['history']:,} h)"


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| DB | size | build_day s (median) | roll over s | load inputs s | build s | save s "
             "| RSS before MB | peak RSS MB | items created |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['db']} | {size_label(r['k'])} | {r['wall_s']:.2f} | {r['roll_over_s']:.2f} | "
                     f"{r['load_s']:.2f} | {r['build_s']:.2f} | {r['save_s']:.2f} | "
                     f"{r['rss_before_mb']:.0f} | {r['peak_rss_mb']:.0f} | {r['created']:,} |")
    return "\n".join(lines)


def growth(results: list[dict[str, Any]]) -> str:
    lines = []
    for db in dict.fromkeys(r["db"] for r in results):
        by_k = {r["k"]: r for r in results if r["db"] == db}
        ratios = [f"{b}×/{a}×: time {by_k[b]['wall_s'] / by_k[a]['wall_s']:.1f}, "
                  f"RSS {by_k[b]['peak_rss_mb'] / by_k[a]['peak_rss_mb']:.1f}"
                  for a, b in ((1, 10), (10, 100)) if a in by_k and b in by_k]
        if ratios:
            lines.append(f"- {db}: " + "; ".join(ratios))
    return "\n".join(lines)


def verdict(results: list[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        if r["k"] != 100:
            continue
        ok_t, ok_m = r["wall_s"] <= TARGET_S, r["peak_rss_mb"] <= TARGET_MB
        lines.append(f"- {r['db']} full size: {r['wall_s']:.2f} s ({'met' if ok_t else 'NOT met'}, ≤ 10 s), "
                     f"peak RSS {r['peak_rss_mb']:.0f} MB ({'met' if ok_m else 'NOT met'}, ≤ 1.5 GB)")
    return "\n".join(lines)


async def prepare(dbs: list[str], sizes: list[int], fresh: bool) -> None:
    for db in dbs:
        for k in sizes:
            await (ensure_sqlite(k, fresh) if db == "sqlite" else ensure_postgres(k, fresh))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10,100", help="multiples of the small size (full ÷ 100)")
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--fresh", action="store_true", help="regenerate the cached databases")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest size's build")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (median time, max RSS)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        db, k = args.child.split(":")
        print(json.dumps(asyncio.run(measure(db, int(k), args.profile))))
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    dbs = [d.strip() for d in args.db.split(",")]
    asyncio.run(prepare(dbs, sizes, args.fresh))
    results: list[dict[str, Any]] = []
    for db in dbs:
        for k in sizes:
            log(f"{db} {k}×: measuring build_day ×{args.repeat}")
            runs = sorted((run_child(db, k, profile=False) for _ in range(args.repeat)),
                          key=lambda r: r["wall_s"])
            r = dict(runs[len(runs) // 2])  # the median run, with its split
            r["walls"] = [round(x["wall_s"], 2) for x in runs]
            r["peak_rss_mb"] = max(x["peak_rss_mb"] for x in runs)
            log(f"{db} {k}×: median {r['wall_s']:.2f} s of {r['walls']}, peak RSS {r['peak_rss_mb']:.0f} MB, "
                f"inputs {r['inputs']}, {r['created']} created, {r['deferred']} deferred")
            results.append(r)
    print(f"plan_build — {time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, day {DAY}")
    print(table(results))
    print(growth(results))
    print(verdict(results))
    largest = max(sizes)
    for db in dbs:
        r = next(r for r in results if r["db"] == db and r["k"] == largest)
        if args.profile or (largest == 100 and (r["wall_s"] > TARGET_S or r["peak_rss_mb"] > TARGET_MB)):
            log(f"{db} {largest}×: profiling")
            profiled = run_child(db, largest, profile=True)
            print(f"\ncProfile, {db} {largest}× (wall {profiled['wall_s']:.2f} s under the profiler):")
            print(profiled["profile"])


if __name__ == "__main__":
    main()
