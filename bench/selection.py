"""Benchmark: the candidate list for ДС — every organisation read and scored (issue 15).

Target (issue 15): scoring 100,000 organisations ≤ 5 s on PostgreSQL, DB read included, and how the
time grows at 1 %, 10 % and 100 % of that size (1,000, 10,000, 100,000). No peer runs here, so the
figures are absolute, plus the growth of the time per organisation.

Measured: what the page, the XLSX and `dsdesk selection list` run first,
`service.selection.listing.scored_candidates(sessions, rules, Europe/Moscow, now)`: the clients'
facts (users counted in SQL), the latest manual score per client and criterion, the transition's
status per client, then `score_client` for each with `today` in the organisation's zone, and the
name sort. The engine is warm (one connection open before the first run); each size runs
`--repeat` times and the median is shown. Then, untimed in the median: the page's own work on
the result (`listing(rows, ListQuery(candidates=True))`: filter, sort, page) and, up to
`--xlsx-max` organisations, the XLSX of the whole list (`candidates_xlsx`), and the event loop's
longest stall during one more run (a 10 ms ticker beside it). One more run per size
times the phases (the three reads, the scoring and sort) and, at the largest size, the same run
with Python's cyclic collector left on (the A/B of `collector_paused`). `--profile` cProfiles a
run of the largest size (automatic when it misses the target).

Checked after every size: one row per organisation, each total the sum of its eight scores, the
latest manual entry of every (client, criterion) of the generated history shown as manual with
its value, the candidates exactly the eligible rows with a total ≥ 12 and no «no» recommendation,
and every generated transition status on its client.

Data (deterministic, seed SEED; size s = the fraction of 100,000): 40 Experts, 20 СИО (users of
role sio), 100,000·s organisations: segment ДС 15 %, VIP 10 %, else КС; version online 45 %,
internet update 20 %, other 35 % (ИП possible yes/no/unknown); client since 2000–2026; 20 % with a
debt; logins in 30 days (10 % unknown); prepaid months; 0–4 services; distance (15 % unknown); came
from Главбух/Гарант/other/unknown; 8 territories; 1–6 contacts each, about half of them users.
Manual scores for 12 % of the organisations (1–4 criteria, a third of them scored twice: history),
recommendations for 6 %, transitions for 3 % (candidate, some offered). PostgreSQL gets a
throwaway database `dsdesk_bench_selection_<pid>` per size, SQLite a file in a temporary directory;
both migrated to head and loaded with COPY / executemany (untimed), then analysed.

    .venv/bin/python bench/selection.py [--sizes 0.01,0.1,1] [--sqlite-sizes 0.01,0.1] [--repeat 3]
        [--xlsx-max 10000] [--profile]
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
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.db.engine import SessionMaker, create_engine, create_sessionmaker  # noqa: E402
from service.db.migrate import migrate  # noqa: E402
from service.db.selection import SelectionRepository  # noqa: E402
from service.db.transitions import TransitionsRepository  # noqa: E402
from service.selection import listing as listing_module  # noqa: E402
from service.selection.candidates import Candidate, ListQuery, listing  # noqa: E402
from service.selection.export import candidates_xlsx  # noqa: E402
from service.selection.listing import candidate, scored_candidates  # noqa: E402
from service.selection.scoring import CRITERIA, SelectionRules  # noqa: E402

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PG_HOST = os.environ.get("DSDESK_BENCH_PG", "postgres@127.0.0.1:5432")
SEED = 15
TARGET_S = 5.0
FULL = 100_000
EXPERTS, SIOS = 40, 20
TERRITORIES = ("БГ", "УТ", "Выборг", "Гатчина", "Тосно", "Кириши", "Луга", "Тихвин")
SERVICES = ("st", "mailing", "video_seminars", "lk")
CLIENT_COLUMNS = ("id", "external_id", "name", "segment", "territory", "version", "ip_possible", "client_since",
                  "debt_rub", "online_logins_30d", "prepaid_months", "services", "distance_km", "came_from", "sio")
CONTACT_COLUMNS = ("id", "client_id", "full_name", "is_user")
EXPERT_COLUMNS = ("id", "login", "full_name", "role", "extension")
SCORE_COLUMNS = ("client_id", "criterion", "value", "note", "author_id", "source", "at")
TRANSITION_COLUMNS = ("client_id", "status", "expert_id", "author_id", "at")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- data ---------------------------------------------------------------------------------------

@dataclass
class Department:
    n: int
    experts: list[tuple[Any, ...]] = field(default_factory=list)
    clients: list[tuple[Any, ...]] = field(default_factory=list)
    contacts: list[tuple[Any, ...]] = field(default_factory=list)
    scores: list[tuple[Any, ...]] = field(default_factory=list)
    transitions: list[tuple[Any, ...]] = field(default_factory=list)
    latest: dict[tuple[int, str], str] = field(default_factory=dict)  # (client id, criterion) → value
    statuses: dict[int, str] = field(default_factory=dict)


def generate(size: float) -> Department:
    rnd = random.Random(SEED)
    dep = Department(round(FULL * size))
    dep.experts = [(i, f"e{i}", f"Экспертова Эксперт {i:02d}", "expert", str(1000 + i)) for i in range(1, EXPERTS + 1)]
    dep.experts += [(EXPERTS + i, f"sio{i}", f"Сиоев Сио {i:02d}", "sio", None) for i in range(1, SIOS + 1)]
    for i in range(1, dep.n + 1):
        dep.clients.append(_client(rnd, i))
        for _ in range(rnd.randint(1, 6)):
            dep.contacts.append((len(dep.contacts) + 1, i, f"Контакт {len(dep.contacts) + 1}", rnd.random() < 0.5))
        _manual(rnd, dep, i)
        if rnd.random() < 0.03:
            at = NOW - timedelta(days=rnd.randint(1, 30))
            dep.transitions.append((i, "candidate", rnd.randint(1, EXPERTS), EXPERTS + 1, at))
            dep.statuses[i] = "candidate"
            if rnd.random() < 0.4:
                dep.transitions.append((i, "offered", dep.transitions[-1][2], EXPERTS + 1, at + timedelta(days=1)))
                dep.statuses[i] = "offered"
    return dep


def _client(rnd: random.Random, i: int) -> tuple[Any, ...]:
    roll = rnd.random()
    segment = "ДС" if roll < 0.15 else "VIP" if roll < 0.25 else "КС"
    version = rnd.choices(("online", "internet_update", "other"), (45, 20, 35))[0]
    services = json.dumps(rnd.sample(SERVICES, rnd.randint(0, 4)))
    return (i, f"C-{i:06d}", f"ООО «Организация {rnd.randrange(10 ** 6):06d}»", segment, rnd.choice(TERRITORIES),
            version, rnd.choice((None, True, False)), date(2000, 1, 1) + timedelta(days=rnd.randrange(9800)),
            rnd.choice((0, 0, 0, 0, 2500)), None if rnd.random() < 0.1 else rnd.choice((0, 2, 6, 12, 20, 35)),
            rnd.choice((None, 0, 1, 3, 6, 12)), services, None if rnd.random() < 0.15 else rnd.uniform(0, 150),
            rnd.choice((None, None, "glavbukh", "garant", "other")), f"Сиоев С. {rnd.randint(1, SIOS):02d}")


def _manual(rnd: random.Random, dep: Department, i: int) -> None:
    entries: list[tuple[str, str]] = []
    if rnd.random() < 0.12:
        entries += [(c, str(rnd.randint(0, 3))) for c in rnd.sample(CRITERIA, rnd.randint(1, 4))]
        if rnd.random() < 0.33:
            entries += [(entries[0][0], str(rnd.randint(0, 3)))]  # scored again later: history
    if rnd.random() < 0.06:
        entries.append(("recommendation", rnd.choice(("yes", "yes", "no"))))
    for n, (criterion, value) in enumerate(entries):
        at = NOW - timedelta(days=40 - n)
        dep.scores.append((i, criterion, value, "заметка" if n % 2 else None, EXPERTS + rnd.randint(1, SIOS),
                           "import", at))
        dep.latest[(i, criterion)] = value


def batched(rows: list[tuple[Any, ...]], size: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
    for at in range(0, len(rows), size):
        yield rows[at:at + size]


TABLES = (("experts", EXPERT_COLUMNS, "experts"), ("clients", CLIENT_COLUMNS, "clients"),
          ("client_contacts", CONTACT_COLUMNS, "contacts"), ("selection_scores", SCORE_COLUMNS, "scores"),
          ("client_transitions", TRANSITION_COLUMNS, "transitions"))


# -- databases ----------------------------------------------------------------------------------

class Postgres:
    kind = "postgresql"

    def __init__(self, n: int) -> None:
        self.name = f"dsdesk_bench_selection_{os.getpid()}_{n}"
        self.url = f"postgresql://{PG_HOST}/{self.name}"

    async def _admin(self, sql: str) -> None:
        import asyncpg

        connection = await asyncpg.connect(f"postgresql://{PG_HOST}/postgres")
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def create(self, dep: Department) -> None:
        import asyncpg

        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}"')
        await self._admin(f'CREATE DATABASE "{self.name}"')
        await migrate(self.url)
        connection = await asyncpg.connect(self.url)
        try:
            for table, columns, attribute in TABLES:
                for chunk in batched(getattr(dep, attribute)):
                    await connection.copy_records_to_table(table, records=chunk, columns=list(columns))
            await connection.execute("VACUUM ANALYZE")
        finally:
            await connection.close()

    async def drop(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Sqlite:
    kind = "sqlite"

    def __init__(self, n: int) -> None:
        self.dir = tempfile.mkdtemp(prefix="dsdesk-bench-selection-")
        self.path = f"{self.dir}/selection.db"
        self.url = f"sqlite:///{self.path}"

    async def create(self, dep: Department) -> None:
        await migrate(self.url)
        connection = sqlite3.connect(self.path)
        try:
            connection.execute("PRAGMA synchronous=OFF")
            for table, columns, attribute in TABLES:
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                connection.executemany(sql, [tuple(map(_sqlite_value, row)) for row in getattr(dep, attribute)])
            connection.commit()
            connection.execute("ANALYZE")
            connection.commit()
        finally:
            connection.close()

    async def drop(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _sqlite_value(value: Any) -> Any:
    # The storage formats SQLAlchemy's SQLite dialect writes and parses back (naive UTC, ISO dates).
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


# -- measurement --------------------------------------------------------------------------------

@dataclass
class Result:
    db: str
    n: int
    contacts: int
    manual: int
    transitions: int
    runs: list[float]
    cold: float
    phases: dict[str, float]
    page_s: float
    xlsx_s: float | None
    candidates: int
    load: tuple[float, float]
    lag_s: float  # the event loop's longest stall during one run (a 10 ms ticker's worst lateness)
    with_collector: dict[str, float] | None = None
    profile: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


async def phases(sessions: SessionMaker, rules: SelectionRules, paused: bool) -> dict[str, float]:
    """scored_candidates' steps one by one, as it runs them (with the collector paused or not)."""
    repo, times = SelectionRepository(sessions), {}
    today = NOW.astimezone(MSK).date()
    context = listing_module.collector_paused() if paused else _nothing()
    started = time.perf_counter()
    with context:
        clients = await repo.clients()
        times["read clients"] = time.perf_counter() - started
        manual = await repo.latest_manual()
        times["read manual"] = time.perf_counter() - started - sum(times.values())
        states = await TransitionsRepository(sessions, tz=MSK).current()
        times["read status"] = time.perf_counter() - started - sum(times.values())
        rows = [candidate(c, manual.get(c.id, {}), states.get(c.id), rules, today, MSK) for c in clients]
        times["score"] = time.perf_counter() - started - sum(times.values())
        rows.sort(key=lambda row: (row.name.casefold(), row.external_id))  # as score_all does, on a thread
        times["sort"] = time.perf_counter() - started - sum(times.values())
    times["total"] = time.perf_counter() - started
    return times


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def check(dep: Department, rows: list[Candidate], rules: SelectionRules) -> int:
    """Fails on any difference with what the data says; returns the number of candidates."""
    assert len(rows) == dep.n, (len(rows), dep.n)
    by_id = {row.id: row for row in rows}
    for row in rows:
        s = row.selection
        assert s.total == sum(score.value for score in s.scores.values()), row.external_id
        wanted = s.eligible and s.total >= rules.min_total and s.recommendation != "no"
        assert s.candidate == wanted, row.external_id
    for (client_id, criterion), value in dep.latest.items():
        s = by_id[client_id].selection
        if criterion == "recommendation":
            assert s.recommendation == value, (client_id, criterion)
        else:
            assert s.scores[criterion].manual and str(s.scores[criterion].value) == value, (client_id, criterion)
    statuses = {row.id: row.status for row in rows if row.status is not None}
    assert statuses == dep.statuses, "transition statuses differ"
    return sum(row.selection.candidate for row in rows)


async def bench_size(db: Any, size: float, repeat: int, xlsx_max: int, profile: bool) -> Result:
    log(f"{db.kind} {size:g}: generating")
    dep = generate(size)
    log(f"{db.kind} {dep.n:,}: loading {len(dep.contacts):,} contacts, {len(dep.scores):,} manual scores")
    await db.create(dep)
    rules = SelectionRules()
    load_before = os.getloadavg()[0]
    engine = create_engine(db.url)
    sessions = create_sessionmaker(engine)
    try:
        runs = []
        for n in range(repeat + 1):
            started = time.perf_counter()
            rows = await scored_candidates(sessions, rules, MSK, NOW)
            runs.append(time.perf_counter() - started)
            log(f"  run {n}: {runs[-1]:.2f} s")
            if n == 0:
                candidates = check(dep, rows, rules)
        started = time.perf_counter()
        page = listing(rows, ListQuery(candidates=True))
        page_s = time.perf_counter() - started
        assert page.matched == candidates
        xlsx_s = None
        if dep.n <= xlsx_max:
            started = time.perf_counter()
            candidates_xlsx(rows, ListQuery(), len(rows), rules.min_total, NOW.astimezone(MSK))
            xlsx_s = time.perf_counter() - started
        del rows, page
        gc.collect()
        lag = await loop_lag(scored_candidates(sessions, rules, MSK, NOW))
        gc.collect()
        timed = await phases(sessions, rules, paused=True)
        gc.collect()
        result = Result(db.kind, dep.n, len(dep.contacts), len(dep.scores), len(dep.transitions), runs[1:], runs[0],
                        timed, page_s, xlsx_s, candidates, (load_before, os.getloadavg()[0]), lag)
        if size >= 1:
            result.with_collector = await phases(sessions, rules, paused=False)
            gc.collect()
        if profile or (size >= 1 and db.kind == "postgresql" and result.median > TARGET_S):
            result.profile = await profiled(sessions, rules)
    finally:
        await engine.dispose()
    return result


async def loop_lag(work: Any) -> float:
    """Run `work` while a ticker wakes every 10 ms; the worst lateness of a tick is how long the event
    loop was held (what a desk's live channel would wait)."""
    worst, running = 0.0, True

    async def ticker() -> None:
        nonlocal worst
        while running:
            due = time.perf_counter() + 0.01
            await asyncio.sleep(0.01)
            worst = max(worst, time.perf_counter() - due)

    task = asyncio.create_task(ticker())
    try:
        await work
    finally:
        running = False
        await task
    return worst


async def profiled(sessions: SessionMaker, rules: SelectionRules) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    await scored_candidates(sessions, rules, MSK, NOW)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue()


# -- report -------------------------------------------------------------------------------------

def size_label(n: int) -> str:
    return f"{n / FULL:.0%}"


def table(results: list[Result]) -> str:
    lines = ["| DB | size | organisations | contacts | manual scores | transitions | candidates | median s | runs s "
             "| cold s | µs per org | page (filter, sort, 200) s | XLSX s | loop stall s | load before/after |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|"]
    for r in results:
        runs = " / ".join(f"{t:.2f}" for t in r.runs)
        xlsx = "—" if r.xlsx_s is None else f"{r.xlsx_s:.2f}"
        median = f"**{r.median:.2f}**" if r.n == FULL and r.db == "postgresql" else f"{r.median:.2f}"
        lines.append(f"| {r.db} | {size_label(r.n)} | {r.n:,} | {r.contacts:,} | {r.manual:,} | {r.transitions:,} | "
                     f"{r.candidates:,} | {median} | {runs} | {r.cold:.2f} | {r.median / r.n * 1e6:.1f} | "
                     f"{r.page_s:.3f} | {xlsx} | {r.lag_s:.2f} | {r.load[0]:.1f} / {r.load[1]:.1f} |")
    return "\n".join(lines)


def phase_table(results: list[Result]) -> str:
    names = list(results[0].phases)
    lines = ["| DB | size | " + " | ".join(names) + " |", "|---|---|" + "---:|" * len(names)]
    for r in results:
        lines.append(f"| {r.db} | {size_label(r.n)} | " + " | ".join(f"{r.phases[k]:.2f}" for k in names) + " |")
        if r.with_collector:
            lines.append(f"| {r.db}, collector on | {size_label(r.n)} | "
                         + " | ".join(f"{r.with_collector[k]:.2f}" for k in names) + " |")
    return "\n".join(lines)


def growth(results: list[Result]) -> str:
    out = []
    for kind in ("postgresql", "sqlite"):
        sized = sorted((r for r in results if r.db == kind), key=lambda r: r.n)
        steps = [f"×{b.median / b.n / (a.median / a.n):.2f} from {size_label(a.n)} to {size_label(b.n)}"
                 for a, b in zip(sized, sized[1:], strict=False)]
        if steps:
            out.append(f"{kind}: time per organisation " + ", ".join(steps))
    return "\n".join(out)


def verdict(results: list[Result]) -> str:
    full = [r for r in results if r.db == "postgresql" and r.n == FULL]
    if not full:
        return "(the full size on PostgreSQL was not run: no verdict)"
    r = full[0]
    return f"100,000 organisations on PostgreSQL: median {r.median:.2f} s — target ≤ {TARGET_S:g} s " + (
        "met" if r.median <= TARGET_S else "MISSED")


def parse_sizes(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="0.01,0.1,1", help="PostgreSQL sizes, fractions of 100,000 organisations")
    parser.add_argument("--sqlite-sizes", default="0.01,0.1", help="SQLite sizes (reference)")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per size (the median is shown)")
    parser.add_argument("--xlsx-max", type=int, default=10_000, help="time the XLSX up to this many organisations")
    parser.add_argument("--profile", action="store_true", help="cProfile one run of each size")
    args = parser.parse_args()
    plan = [(Postgres, s) for s in parse_sizes(args.sizes)] + [(Sqlite, s) for s in parse_sizes(args.sqlite_sizes)]
    results = []
    for kind, size in plan:
        db = kind(round(FULL * size))
        try:
            results.append(await bench_size(db, size, args.repeat, args.xlsx_max, args.profile))
        finally:
            await db.drop()
    print(f"selection — {time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, today {NOW.astimezone(MSK):%d.%m.%Y} (Europe/Moscow), median of {args.repeat}")
    print(table(results))
    print(growth(results))
    print(verdict(results))
    print("\nPhases (one more run per size, s):")
    print(phase_table(results))
    for r in results:
        if r.profile:
            print(f"\ncProfile, {r.db} {size_label(r.n)} (top 15 by own time):")
            print(r.profile)
    print("All sizes checked: one row per organisation, totals, every latest manual entry, the candidate rule and "
          "every transition status.")


if __name__ == "__main__":
    asyncio.run(main())
