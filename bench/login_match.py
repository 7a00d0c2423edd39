"""Benchmark: "logged in during the call", measured — `measure_days` over a month (issue 13).

Target (issue 13): 1,000,000 login rows matched against one month of 1,000 Experts' calls
(~330,000) in ≤ 10 s on PostgreSQL, and how the time grows at 1 %, 10 % and 100 % of that size.
No peer runs here, so the figures are absolute, plus the growth of the time per call.

Measured: the bulk path an import of logins runs, `service.db.logins.measure_days(session,
2026-11-01, 2026-11-30, Europe/Moscow, grace, now)` in one transaction (`sessions.begin()`, commit
included): forget the figures summary's days (its lock first), read the month's calls, read the
logins of the month (and a day before it), index them, run the pure matcher
(service/logins/match.py), delete and rewrite the month's `call_logins` (COPY on PostgreSQL),
whatever order the function has at the time. The engine is warm (one
connection open before the first run). Each size runs `--repeat` times and the median is shown;
the first run writes into an empty `call_logins`, the later ones rewrite the month's rows
(PostgreSQL: `VACUUM ANALYZE call_logins` between runs, untimed: what autovacuum does between two
imports). One more run per size times the phases by wrapping measure_days' few calls (the reads,
`index_logins`, `measure`, the delete, `_insert_results`, `forget_days`, the commit: a handful of
wrapped calls, nothing per row); "other" is what is left. `--profile` (automatic when the full size
on PostgreSQL misses the target) cProfiles one more run of the largest size.

Checked after every size: `call_logins` holds exactly one row per call of the month of a known
client (calls just outside the month, and calls of no known client, whose tick stands, must get
none), and each such call's `measured` equals an independent SQL answer (EXISTS over
`client_logins` with the same overlap rule, written in SQL on each database); any difference
fails the benchmark.

Data (deterministic, seed SEED; size s = the fraction of the full size): 1,000·s Experts,
100,000·s clients, 330,000·s calls over the 21 working days of November 2026 (09:00–18:00
Moscow; ~15.7 a day per Expert) plus 1 % more on the working days just before and after the
month; 10 % inbound; 70 % answered (ring 3–30 s, talk 30–1,200 s; 3 % of them recorded without
the answer's time, as from a CDR), 5 % with no known client. 1,000,000·s logins: for 55 % of the
answered calls one login near the talk (from 15 min before it to 5 min after it), the rest
spread over the clients (skewed: the first clients have many users) and over 31.10–30.11
(07:00–22:00, weekends a fifth as busy): 35 % single events (no end), 55 % sessions of minutes
(mean 15), 10 % of 1–6 hours. About 38 % of the answered calls end up matched. PostgreSQL gets a
throwaway database `dsdesk_bench_<pid>` (dropped at the end), SQLite a file in a temporary
directory; both are migrated to head and loaded with COPY / executemany (untimed).

    .venv/bin/python bench/login_match.py [--sizes 0.01,0.1,1] [--sqlite-sizes 0.01,0.1] [--repeat 3]
        [--db postgresql,sqlite] [--grace 120] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
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
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import service.db.logins as logins_db  # noqa: E402
from service.days import day_bounds  # noqa: E402
from service.db.engine import SessionMaker, create_engine, create_sessionmaker  # noqa: E402
from service.db.logins import Measured, measure_days  # noqa: E402
from service.db.migrate import migrate  # noqa: E402

MSK = ZoneInfo("Europe/Moscow")
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=MSK)
PG_HOST = os.environ.get("DSDESK_BENCH_PG", "postgres@127.0.0.1:5432")
SEED = 20261130
TARGET_S = 10.0
FULL_CALLS, FULL_LOGINS, FULL_EXPERTS, FULL_CLIENTS = 330_000, 1_000_000, 1_000, 100_000
BATCH = 50_000
CALL_COLUMNS = ("linkedid", "direction", "expert_ext", "client_number", "started_at", "answered_at", "ended_at",
                "duration_s", "talk_s", "outcome", "client_id", "quality", "created_at", "updated_at")
LOGIN_COLUMNS = ("client_external_id", "contact_external_id", "started_at", "ended_at", "imported_at")
# The month's days as a nightly usage file covers them: each whole day (what an import records).
LOGIN_DAY_COLUMNS = ("day", "covered_until", "imported_at")


def coverage_rows() -> list[tuple[Any, ...]]:
    days = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
    return [(day, day_bounds(day, MSK)[1], NOW) for day in days]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- data ---------------------------------------------------------------------------------------

def _at(day: date, hour: float) -> float:
    """Seconds since the epoch of `hour` o'clock Moscow time on `day`."""
    return datetime.combine(day, dtime(0), MSK).timestamp() + hour * 3600


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass
class Month:
    """One month of a department at `size` × the full size, as rows of Python values."""

    size: float
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    logins: list[tuple[Any, ...]] = field(default_factory=list)
    month_calls: int = 0
    known: int = 0  # calls of the month of a known client: those measured
    answered: int = 0  # calls of the month with a talk (and a known client): those a login can count for

    @property
    def experts(self) -> int:
        return max(1, round(FULL_EXPERTS * self.size))

    @property
    def clients(self) -> int:
        return max(1, round(FULL_CLIENTS * self.size))


def working_days(first: date, last: date) -> list[date]:
    return [d for d in (first + timedelta(days=n) for n in range((last - first).days + 1)) if d.weekday() < 5]


def generate(size: float) -> Month:
    rnd = random.Random(SEED)
    month = Month(size)
    days = working_days(FIRST, LAST)
    outside = [date(2026, 10, 30), date(2026, 12, 1)]  # a Friday before, a Tuesday after the month
    n_calls = round(FULL_CALLS * size)
    near: list[tuple[str, float, float]] = []  # (client, talk start, talk) of answered calls
    created = _utc(NOW.timestamp())
    for i in range(n_calls + max(2, n_calls // 100)):
        in_month = i < n_calls
        day = days[rnd.randrange(len(days))] if in_month else outside[i % 2]
        started = _at(day, 9 + rnd.random() * 9)
        expert = rnd.randrange(month.experts)
        client_n = rnd.randrange(month.clients) + 1 if rnd.random() >= 0.05 else None
        client = None if client_n is None else f"C-{client_n:06d}"
        inbound = rnd.random() < 0.10
        ring = rnd.uniform(3, 30)
        if rnd.random() < 0.70:
            talk = float(rnd.randint(30, 1200))
            answered: float | None = started + ring
            ended = started + ring + talk
            outcome = "answered"
            if client is not None and in_month:
                month.answered += 1
                near.append((client, started + ring, talk))
            if rnd.random() < 0.03:
                answered = None  # a call recorded from a CDR: the talk counted back from its end
        else:
            talk, answered, ended = 0.0, None, started + ring
            outcome = ("missed" if inbound else rnd.choice(("no_answer", "busy", "rejected", "cancelled")))
        month.calls.append((
            f"lm-{i}", "inbound" if inbound else "outbound", str(1000 + expert),
            None if client_n is None else f"7911{client_n:07d}", _utc(started),
            None if answered is None else _utc(answered), _utc(ended), ended - started, talk, outcome, client,
            "[]", created, created))
        month.month_calls += in_month
        month.known += in_month and client is not None
    keys: set[tuple[str, str, float]] = set()

    def login(client_n: int, start: float, end: float | None) -> None:
        client, contact = f"C-{client_n:06d}", f"U-{client_n:06d}-{rnd.randint(1, 3)}"
        start = round(start, 6)
        while (client, contact, start) in keys:  # the natural key is unique
            start = round(start + 1e-6, 6)
        keys.add((client, contact, start))
        month.logins.append((client, contact, _utc(start), None if end is None else _utc(end), created))

    def length(r: float) -> float | None:
        if r < 0.35:
            return None
        if r < 0.90:
            return min(rnd.expovariate(1 / 900), 4 * 3600) + 1
        return rnd.uniform(3600, 6 * 3600)

    n_logins = round(FULL_LOGINS * size)
    for client, start, talk in near:
        if rnd.random() < 0.55 and len(month.logins) < n_logins:
            begin = start + rnd.uniform(-900, talk + 300)
            span = length(rnd.random())
            login(int(client[2:]), begin, None if span is None else begin + span)
    spread = [FIRST - timedelta(days=1) + timedelta(days=n) for n in range(31)]
    weights = [1.0 if d.weekday() < 5 else 0.2 for d in spread]
    while len(month.logins) < n_logins:
        client_n = int(month.clients * rnd.random() ** 1.5) + 1
        begin = _at(rnd.choices(spread, weights)[0], 7 + rnd.random() * 15)
        span = length(rnd.random())
        login(client_n, begin, None if span is None else begin + span)
    return month


def batched(rows: list[tuple[Any, ...]], size: int = BATCH) -> Iterator[list[tuple[Any, ...]]]:
    for at in range(0, len(rows), size):
        yield rows[at:at + size]


def _sqlite_value(value: Any) -> Any:
    # The storage format SQLAlchemy's SQLite dialect writes and parses back (naive UTC).
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _sqlite_time(value: datetime) -> str:
    return str(_sqlite_value(value))


# -- databases ----------------------------------------------------------------------------------

class Database:
    """Where one database kind's runs happen: created and migrated once, loaded per size."""

    kind: str
    url: str

    async def create(self) -> None:
        raise NotImplementedError

    async def load(self, month: Month) -> None:
        raise NotImplementedError

    async def between_runs(self) -> None:
        """Untimed housekeeping between two runs."""

    async def check(self, grace_s: float) -> tuple[int, int, int, int]:
        """(calls of the month, call_logins rows in all, matched by the SQL rule, calls whose row is missing
        or disagrees with the SQL rule)."""
        raise NotImplementedError

    async def drop(self) -> None:
        raise NotImplementedError


def _month_bounds() -> tuple[datetime, datetime]:
    return day_bounds(FIRST, MSK)[0], day_bounds(LAST, MSK)[1]


# The same rule as service/logins/match.py, written independently in SQL: a login of the call's
# client counts when it starts by the widened talk's end and lasts (its end, or its start when it
# has none) to at least the widened talk's start; the talk starts at the answer, or (no answer's
# time) talk_s before the end.
PG_CHECK = """
WITH t AS (
    SELECT c.id, c.client_id, c.talk_s,
           coalesce(c.answered_at, CASE WHEN c.ended_at IS NOT NULL AND c.talk_s > 0
                                        THEN c.ended_at - make_interval(secs => c.talk_s) END) AS talk_start
    FROM calls c WHERE c.started_at >= $1 AND c.started_at < $2 AND c.client_id IS NOT NULL),
f AS (
    SELECT t.id, (t.talk_start IS NOT NULL AND EXISTS (
        SELECT 1 FROM client_logins l
        WHERE l.client_external_id = t.client_id
          AND l.started_at <= t.talk_start + make_interval(secs => coalesce(t.talk_s, 0) + $3)
          AND greatest(coalesce(l.ended_at, l.started_at), l.started_at)
              >= t.talk_start - make_interval(secs => $3))) AS found
    FROM t)
SELECT count(*), count(cl.call_id), count(*) FILTER (WHERE f.found),
       count(*) FILTER (WHERE cl.measured IS DISTINCT FROM f.found)
FROM f LEFT JOIN call_logins cl ON cl.call_id = f.id
"""

# SQLite: times as exact integer microseconds from the stored text ('YYYY-MM-DD HH:MM:SS.ffffff').
_US = "(CAST(strftime('%s', {0}) AS INTEGER) * 1000000 + CAST(substr({0}, 21, 6) AS INTEGER))"
SQLITE_CHECK = f"""
WITH t AS (
    SELECT c.id, c.client_id, c.talk_s,
           CASE WHEN c.answered_at IS NOT NULL THEN {_US.format('c.answered_at')}
                WHEN c.ended_at IS NOT NULL AND c.talk_s > 0
                THEN {_US.format('c.ended_at')} - CAST(round(c.talk_s * 1000000) AS INTEGER) END AS talk_start
    FROM calls c WHERE c.started_at >= :lo AND c.started_at < :hi AND c.client_id IS NOT NULL),
f AS (
    SELECT t.id, (t.talk_start IS NOT NULL AND EXISTS (
        SELECT 1 FROM client_logins l
        WHERE l.client_external_id = t.client_id
          AND {_US.format('l.started_at')}
              <= t.talk_start + CAST(round((coalesce(t.talk_s, 0) + :grace) * 1000000) AS INTEGER)
          AND max({_US.format('coalesce(l.ended_at, l.started_at)')}, {_US.format('l.started_at')})
              >= t.talk_start - CAST(round(:grace * 1000000) AS INTEGER))) AS found
    FROM t)
SELECT count(*), count(cl.call_id), coalesce(sum(f.found), 0),
       coalesce(sum(cl.call_id IS NULL OR cl.measured <> f.found), 0)
FROM f LEFT JOIN call_logins cl ON cl.call_id = f.id
"""


class Postgres(Database):
    kind = "postgresql"

    def __init__(self, host: str) -> None:
        self.host = host
        self.name = f"dsdesk_bench_{os.getpid()}"
        self.url = f"postgresql://{host}/{self.name}"

    async def _admin(self, sql: str) -> None:
        import asyncpg

        connection = await asyncpg.connect(f"postgresql://{self.host}/postgres")
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def create(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}"')
        await self._admin(f'CREATE DATABASE "{self.name}"')
        await migrate(self.url)

    async def drop(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    async def load(self, month: Month) -> None:
        import asyncpg

        connection = await asyncpg.connect(self.url)
        try:
            await connection.execute("TRUNCATE calls, client_logins, call_logins, login_days RESTART IDENTITY CASCADE")
            for table, columns, rows in (("calls", CALL_COLUMNS, month.calls),
                                         ("client_logins", LOGIN_COLUMNS, month.logins),
                                         ("login_days", LOGIN_DAY_COLUMNS, coverage_rows())):
                for chunk in batched(rows):
                    await connection.copy_records_to_table(table, records=chunk, columns=list(columns))
            await connection.execute("VACUUM ANALYZE calls, client_logins, call_logins")
        finally:
            await connection.close()

    async def between_runs(self) -> None:
        import asyncpg

        connection = await asyncpg.connect(self.url)
        try:
            await connection.execute("VACUUM ANALYZE call_logins")
        finally:
            await connection.close()

    async def check(self, grace_s: float) -> tuple[int, int, int, int]:
        import asyncpg

        connection = await asyncpg.connect(self.url)
        try:
            lo, hi = _month_bounds()
            row = await connection.fetchrow(PG_CHECK, lo, hi, grace_s)
            total = await connection.fetchval("SELECT count(*) FROM call_logins")
        finally:
            await connection.close()
        assert row is not None
        calls, _, found, differ = (int(x) for x in row)
        return calls, int(total), found, differ


class Sqlite(Database):
    kind = "sqlite"

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="dsdesk-bench-logins-")
        self.path = f"{self.dir}/ledger.db"
        self.url = f"sqlite:///{self.path}"

    async def create(self) -> None:
        await migrate(self.url)

    async def drop(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    async def load(self, month: Month) -> None:
        connection = sqlite3.connect(self.path)
        connection.execute("PRAGMA synchronous=OFF")
        try:
            for table in ("call_logins", "client_logins", "calls", "login_days"):
                connection.execute(f"DELETE FROM {table}")
            for table, columns, rows in (("calls", CALL_COLUMNS, month.calls),
                                         ("client_logins", LOGIN_COLUMNS, month.logins),
                                         ("login_days", LOGIN_DAY_COLUMNS, coverage_rows())):
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                for chunk in batched(rows):
                    connection.executemany(sql, [tuple(map(_sqlite_value, row)) for row in chunk])
            connection.commit()
            connection.execute("ANALYZE")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.commit()
        finally:
            connection.close()

    async def check(self, grace_s: float) -> tuple[int, int, int, int]:
        connection = sqlite3.connect(self.path)
        try:
            lo, hi = (_sqlite_time(x) for x in _month_bounds())
            calls, _, found, differ = connection.execute(
                SQLITE_CHECK, {"lo": lo, "hi": hi, "grace": grace_s}).fetchone()
            total = connection.execute("SELECT count(*) FROM call_logins").fetchone()[0]
        finally:
            connection.close()
        return int(calls), int(total), int(found), int(differ)


# -- measurement --------------------------------------------------------------------------------

def rss_mb() -> float:
    """This process's peak RSS (VmHWM, MB) since the last `reset_peak`; 0 without /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux: "5" into clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


async def run_once(sessions: SessionMaker, grace_s: float) -> tuple[float, Measured]:
    started = time.perf_counter()
    async with sessions.begin() as session:
        measured = await measure_days(session, FIRST, LAST, MSK, grace_s, NOW)
    return time.perf_counter() - started, measured


class _Rows:
    """A result already fetched and converted to rows (`.all()` or iteration)."""

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def all(self) -> list[Any]:
        return self._rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class _TimedConnection:
    """measure_days' connection: its two reads (calls, then logins) timed, rows converted inside."""

    def __init__(self, connection: Any, phases: dict[str, float]) -> None:
        self._connection, self._phases, self._reads = connection, phases, 0

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        name = ("read calls", "read logins")[min(self._reads, 1)]
        self._reads += 1
        started = time.perf_counter()
        rows = _Rows(list(await self._connection.execute(statement, *args, **kwargs)))
        self._phases[name] += time.perf_counter() - started
        return rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


class _TimedSession:
    """The session measure_days sees: its connection's reads and the call_logins delete timed."""

    def __init__(self, session: Any, phases: dict[str, float]) -> None:
        self._session, self._phases = session, phases

    async def connection(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        connection = await self._session.connection(*args, **kwargs)
        self._phases["connection (pool, BEGIN)"] += time.perf_counter() - started
        return _TimedConnection(connection, self._phases)

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await self._session.execute(statement, *args, **kwargs)
        finally:
            if getattr(getattr(statement, "table", None), "name", None) == "call_logins" \
                    and statement.is_delete:
                self._phases["delete old call_logins"] += time.perf_counter() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


PHASES = ("connection (pool, BEGIN)", "read calls", "read logins", "index logins", "match", "delete old call_logins",
          "write call_logins", "forget figures days", "commit")


async def run_phases(sessions: SessionMaker, grace_s: float) -> tuple[float, dict[str, float]]:
    """One run with measure_days' steps timed (module functions wrapped for the run, then put back)."""
    phases = dict.fromkeys(PHASES, 0.0)
    originals = {name: getattr(logins_db, name)
                 for name in ("index_logins", "measure", "_insert_results", "forget_days")}

    def timed_sync(name: str, fn: Callable[..., Any], eager: bool = False) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            result = fn(*args, **kwargs)
            if eager:  # a generator: run it here, so that its work is timed
                result = iter(list(result))
            phases[name] += time.perf_counter() - started
            return result
        return wrapper

    def timed_async(name: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                phases[name] += time.perf_counter() - started
        return wrapper

    wrapped = {"index_logins": timed_sync("index logins", originals["index_logins"]),
               "measure": timed_sync("match", originals["measure"], eager=True),
               "_insert_results": timed_async("write call_logins", originals["_insert_results"]),
               "forget_days": timed_async("forget figures days", originals["forget_days"])}
    for name, fn in wrapped.items():
        setattr(logins_db, name, fn)
    try:
        started = time.perf_counter()
        context = sessions.begin()
        session = await context.__aenter__()
        try:
            await measure_days(_TimedSession(session, phases), FIRST, LAST, MSK, grace_s, NOW)  # type: ignore[arg-type]
        except BaseException:
            await context.__aexit__(*sys.exc_info())
            raise
        committing = time.perf_counter()
        await context.__aexit__(None, None, None)
        phases["commit"] = time.perf_counter() - committing
        wall = time.perf_counter() - started
    finally:
        for name, fn in originals.items():
            setattr(logins_db, name, fn)
    return wall, phases


async def run_profiled(sessions: SessionMaker, grace_s: float) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    await run_once(sessions, grace_s)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


@dataclass
class Result:
    db: str
    size: float
    calls: int  # of the month, all read
    known: int  # of them of a known client: measured
    logins: int
    answered: int
    runs: list[float]
    measured: Measured
    sql_found: int
    phases_wall: float
    phases: dict[str, float]
    peak_extra_mb: float | None
    check_s: float
    load: tuple[float, float]  # 1-minute load average before the first run and after the last
    profile: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def per_call_us(self) -> float:
        return self.median / self.calls * 1e6


async def bench_size(database: Database, size: float, repeat: int, grace_s: float, profile: bool) -> Result:
    """Generate, load, time `repeat` runs, check, time the phases; profile when asked, or when the full
    size on PostgreSQL misses the target."""
    started = time.perf_counter()
    month = generate(size)
    calls, known, logins, answered = month.month_calls, month.known, len(month.logins), month.answered
    log(f"{database.kind} {size:g}: generated {len(month.calls):,} calls ({calls:,} in the month), "
        f"{logins:,} logins in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    await database.load(month)
    log(f"{database.kind} {size:g}: loaded in {time.perf_counter() - started:.1f} s")
    del month
    gc.collect()
    engine = create_engine(database.url)
    sessions = create_sessionmaker(engine)
    try:
        async with engine.connect() as connection:  # a warm pool, as in the running service
            await connection.exec_driver_sql("SELECT 1")
        runs: list[float] = []
        load_before = os.getloadavg()[0]
        peak: float | None = None
        measured: Measured | None = None
        for n in range(repeat):
            if n:
                await database.between_runs()
            gc.collect()
            before = current_rss_mb()
            can_peak = reset_peak()
            wall, measured = await run_once(sessions, grace_s)
            if can_peak:
                extra = rss_mb() - before
                peak = extra if peak is None else max(peak, extra)
            runs.append(wall)
            log(f"{database.kind} {size:g}: run {n + 1}: {wall:.2f} s, {measured}")
        assert measured is not None
        load = (load_before, os.getloadavg()[0])
        started = time.perf_counter()
        known_calls, rows, found, differ = await database.check(grace_s)
        check_s = time.perf_counter() - started
        log(f"{database.kind} {size:g}: checked in {check_s:.1f} s: {known_calls:,} calls of the month of a "
            f"known client, call_logins {rows:,}, SQL matched {found:,}, {differ} disagreement(s)")
        if not (known_calls == known == measured.calls == rows and found == measured.logged_in and differ == 0):
            raise SystemExit(
                f"WRONG on {database.kind} at {size:g}: generated {known:,} calls of the month of a known client, "
                f"the database has {known_calls:,}, measure_days measured {measured.calls:,}, "
                f"call_logins holds {rows:,}; matched {measured.logged_in:,} vs SQL {found:,}; {differ} call(s) differ")
        await database.between_runs()
        phases_wall, phases = await run_phases(sessions, grace_s)
        result = Result(database.kind, size, calls, known, logins, answered, runs, measured, found, phases_wall, phases,
                        peak, check_s, load)
        if profile or (database.kind == "postgresql" and size == 1 and result.median > TARGET_S):
            await database.between_runs()
            log(f"{database.kind} {size:g}: profiling")
            result.profile = await run_profiled(sessions, grace_s)
        return result
    finally:
        await engine.dispose()


# -- report -------------------------------------------------------------------------------------

def size_label(size: float) -> str:
    return f"{size * 100:g} %"


def table(results: list[Result]) -> str:
    lines = ["| DB | size | calls of the month (measured) | logins | matched (of answered) "
             "| measure_days s (median) | runs s | calls/s | logins/s | µs per call | extra peak RSS MB "
             "| load avg before/after |",
             "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|"]
    for r in results:
        share = r.measured.logged_in / r.answered if r.answered else 0.0
        peak = "—" if r.peak_extra_mb is None else f"{r.peak_extra_mb:.0f}"
        lines.append(f"| {r.db} | {size_label(r.size)} | {r.calls:,} ({r.known:,}) | {r.logins:,} | "
                     f"{r.measured.logged_in:,} ({share:.0%}) | {r.median:.2f} | "
                     f"{' / '.join(f'{x:.2f}' for x in r.runs)} | {r.calls / r.median:,.0f} | "
                     f"{r.logins / r.median:,.0f} | {r.per_call_us:.1f} | {peak} | "
                     f"{r.load[0]:.1f} / {r.load[1]:.1f} |")
    return "\n".join(lines)


def phase_table(results: list[Result]) -> str:
    head = "| phase | " + " | ".join(f"{r.db} {size_label(r.size)}" for r in results) + " |"
    lines = [head, "|---|" + "---:|" * len(results)]
    for name in PHASES:
        lines.append(f"| {name} | " + " | ".join(f"{r.phases[name]:.3f}" for r in results) + " |")
    lines.append("| other | " + " | ".join(f"{r.phases_wall - sum(r.phases.values()):.3f}" for r in results) + " |")
    lines.append("| **total (this run)** | " + " | ".join(f"**{r.phases_wall:.3f}**" for r in results) + " |")
    return "\n".join(lines)


def growth(results: list[Result]) -> str:
    lines = []
    for db in dict.fromkeys(r.db for r in results):
        mine = sorted((r for r in results if r.db == db), key=lambda r: r.size)
        steps = [f"{size_label(b.size)}/{size_label(a.size)}: time ×{b.median / a.median:.1f} for ×"
                 f"{b.calls / a.calls:.0f} the rows, time per call ×{b.per_call_us / a.per_call_us:.2f}"
                 for a, b in zip(mine, mine[1:], strict=False)]
        if steps:
            lines.append(f"- {db}: " + "; ".join(steps))
    return "\n".join(lines)


def verdict(results: list[Result]) -> str:
    lines = []
    for r in results:
        if r.db == "postgresql" and r.size == 1:
            lines.append(f"- PostgreSQL, full size ({r.logins:,} logins, {r.calls:,} calls): {r.median:.2f} s, "
                         f"target ≤ {TARGET_S:g} s: {'met' if r.median <= TARGET_S else 'NOT met'}")
    return "\n".join(lines)


def parse_sizes(text: str) -> list[float]:
    return sorted(float(s) for s in text.split(",") if s.strip())


async def bench(database: Database, sizes: Iterable[float], repeat: int, grace_s: float,
                profile: bool) -> list[Result]:
    sizes = list(sizes)
    log(f"{database.kind}: creating and migrating {database.url}")
    await database.create()
    try:
        return [await bench_size(database, size, repeat, grace_s, profile and size == max(sizes))
                for size in sizes]
    finally:
        await database.drop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="0.01,0.1,1", help="PostgreSQL sizes, fractions of the full size")
    parser.add_argument("--sqlite-sizes", default="0.01,0.1", help="SQLite sizes (reference)")
    parser.add_argument("--db", default="postgresql,sqlite")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (the median is shown)")
    parser.add_argument("--grace", type=float, default=120.0, help="login grace, s (the setting's default)")
    parser.add_argument("--profile", action="store_true", help="cProfile one run of the largest size")
    parser.add_argument("--pg", default=PG_HOST, help="user@host:port of PostgreSQL (trust auth)")
    args = parser.parse_args()
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    results: list[Result] = []
    if "postgresql" in dbs:
        sizes = parse_sizes(args.sizes)
        results += await bench(Postgres(args.pg), sizes, args.repeat, args.grace, args.profile)
    if "sqlite" in dbs:
        results += await bench(Sqlite(), parse_sizes(args.sqlite_sizes), args.repeat, args.grace, False)
    print(f"login_match — {time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, month {FIRST:%d.%m}–{LAST:%d.%m.%Y}, grace {args.grace:g} s, "
          f"median of {args.repeat}")
    print(table(results))
    print(growth(results))
    print(verdict(results))
    print("\nPhases (one more run per size, s):")
    print(phase_table(results))
    for r in results:
        if r.profile:
            print(f"\ncProfile, {r.db} {size_label(r.size)} (top 15 by own time):")
            print(r.profile)
    print("All sizes checked: one call_logins row per call of the month of a known client, none for the others, "
          "each equal to the SQL answer.")


if __name__ == "__main__":
    asyncio.run(main())
