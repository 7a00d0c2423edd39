"""Benchmark: the REST API (issue 19): `GET /api/v1/calls` pages of 500 over 10,000,000 calls, and a bulk
upsert of 10,000 organisations (`PUT /api/v1/clients`).

Targets (issue 19): a page of 500 calls ≤ 100 ms p99 over 10,000,000 calls; 10,000 clients upserted ≤ 2 s.
Peers measured in the same run: for the pages, the same keyset query (the SQL text SQLAlchemy sends, with the
same parameters) run directly on one asyncpg connection, no HTTP, no ORM, no pydantic, so API / SQL is the API's
own overhead (HTTP, token check, validation, ORM, serialisation); for the upsert, the same 10,000 rows written to
a CSV file and imported with the file import (`service.imports.runner.import_file`), the path the department uses
today, so API / file is what the API costs over it.

Served for real: `create_app(settings, with_pbx=False)` on `web.AppRunner` + `TCPSite` at 127.0.0.1:0 in this
process (without the scheduler's cleanup context: its start-up catch-up would build a day's plan for 1,000
Experts into the cached data, and its keep-warm job would refresh the figures summary during the measurement),
an aiohttp ClientSession as the client, a token with scopes read and write and 1,000,000 requests a minute made
by `ApiTokensRepository.create`. A request is timed from sending it until the whole body is read; the client parses
the JSON after that (untimed). API and SQL alternate which goes first, page by page, so neither always finds the
other's buffers warm. Warm-up requests of every kind (8: PostgreSQL plans a prepared statement's first 5
executions for their own parameters, then may switch to a generic plan) are not counted.

Page kinds (limit=500, `--pages` of each):
- walk: from the start (no cursor), following next_cursor;
- random: one page after each of `--pages` random calls (cursor `calls-s` built with service.api.cursor.encode);
- sync walk: `updated_since` = a moment `--pages` × 500 calls before the last change, following next_cursor (kind
  `calls-u`) until has_more is false — a CRM catching up;
- sync random: one page after each of `--pages` random calls' (updated_at, id), `updated_since` a day before it;
- day + expert: a random working day and Expert (`day=…&expert=…`; ~20 calls a page).
Reported: p50, p99, max per kind (ms), for the API and the SQL, their ratio, and the parts of the API's time on
the same pages: the ORM read (`ApiReads.calls`, the handler's query, no HTTP), building the models and their JSON
(`CallPage(...).model_dump_json()`), the rest (HTTP both ways, middlewares, token lookup, parameter validation,
the client reading the body). Every API page is checked against the SQL page (same last row). Python's full
(generation 2) collections are watched (gc.callbacks): their pauses, and how many API requests held one; with
gc.freeze() runs after the warm-up, as service/runner.py does after start-up (`--no-gc-freeze`: without it).

Bulk: 10,000 organisations (every import column a CRM sends: name, ИНН, segment, territory, Expert, zone, version,
logins, debt, terms and dates), a fresh set of external ids for every run and path; first the upsert that creates
them all, then the same list again (all unchanged). `--bulk-runs` runs, API and file alternating which goes first;
the medians are compared. The organisations are deleted at the end (and the token).

Data: bench/_report_data.py's two years of calls, cached in `dsdesk_bench_report_<calls>` exactly as bench/report.py
caches it (its `ensure_database`), migrated to head on every run (migration 0023's (updated_at, id) index). The
generator sets a call's updated_at to its started_at (never null, not all equal: ~3 calls share a second at 1,000
Experts), so the sync's order is the calls' order in time, as in a ledger that only appends; ties exercise the id
tie-break. `--growth` also runs 1/10 of the calls and Experts first; the figures' growth is printed.

    .venv/bin/python bench/api.py [--calls 10000000 --experts 1000] [--growth] [--fresh] [--pages 200]
                                  [--bulk 10000] [--bulk-runs 3] [--profile] [--no-gc-freeze]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import dataclasses
import functools
import gc
import io
import json
import math
import os
import platform
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from aiohttp import ClientSession, web  # noqa: E402
from sqlalchemy import select, tuple_  # noqa: E402
from sqlalchemy.dialects import postgresql  # noqa: E402

from _report_data import Shape  # noqa: E402
from report import LAST_DAY, ensure_database, url  # noqa: E402
from service.api import cursor  # noqa: E402
from service.api.models import CallPage  # noqa: E402
from service.api.resources import _call_item  # noqa: E402
from service.api.tokens import new_token  # noqa: E402
from service.app import create_app, scheduler_ctx  # noqa: E402
from service.appkeys import DB_SESSIONS  # noqa: E402
from service.days import day_bounds  # noqa: E402
from service.db.api_reads import CALL_COLUMNS, ApiReads, CallFilter, Position, _call_filters  # noqa: E402
from service.db.api_tokens import ApiTokensRepository  # noqa: E402
from service.db.engine import create_engine, create_sessionmaker  # noqa: E402
from service.db.migrate import migrate  # noqa: E402
from service.db.models import Call, Expert  # noqa: E402
from service.imports.runner import import_file  # noqa: E402
from service.imports.schema_base import ImportContext  # noqa: E402
from service.settings import Settings  # noqa: E402

MSK = ZoneInfo("Europe/Moscow")
PAGE_TARGET_S, BULK_TARGET_S = 0.1, 2.0
LIMIT = 500
WARMUP = 8  # per kind: more than 5, PostgreSQL's custom plans of a prepared statement's first executions
TOKEN_NAME = "bench/api.py"
BULK_PREFIX = "BAPI-"
SEED = 19
SETTLE_S = 5.0  # api.sync_settle_s's default: the peer's updated_before


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the pages: one request of the API and the same query in SQL ------------------------------------

@dataclass(frozen=True)
class Query:
    """One page's question, as the handler asks ApiReads (`where`) and as the query string says it."""

    where: CallFilter
    after: Position | None = None

    @property
    def sync(self) -> bool:
        return self.where.updated_since is not None

    @property
    def kind(self) -> str:
        return "calls-u" if self.sync else "calls-s"

    def params(self) -> dict[str, str]:
        params = {"limit": str(LIMIT)}
        if self.where.day is not None:
            params["day"] = self.where.day.isoformat()
        if self.where.expert_login is not None:
            params["expert"] = self.where.expert_login
        if self.where.updated_since is not None:
            params["updated_since"] = self.where.updated_since.isoformat()
        if self.after is not None:
            params["cursor"] = cursor.encode(self.kind, self.after)
        return params

    def with_settle(self, now: datetime) -> CallFilter:
        """The filter the handler builds at `now` (with updated_since, younger rows wait)."""
        return replace(self.where, updated_before=now - timedelta(seconds=SETTLE_S)) if self.sync else self.where


class SqlPeer:
    """The handler's query as SQLAlchemy compiles it for asyncpg, run on one asyncpg connection."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._sql: dict[tuple[bool, ...], str] = {}

    def sql(self, where: CallFilter, after: Position | None) -> tuple[str, list[Any]]:
        """The SQL text (compiled once per shape of the query) and its parameters in order; built as
        ApiReads.calls builds it: the cursor (which then stands for updated_since), the day, the Expert,
        updated_since/before, the limit."""
        by_update = where.updated_since is not None or where.updated_before is not None
        if after is not None:
            where = dataclasses.replace(where, updated_since=None)
        shape = (where.day is not None, where.expert_login is not None, where.updated_since is not None,
                 where.updated_before is not None, after is not None, by_update)
        args: list[Any] = []
        if after is not None:
            args += [after.at, after.id]
        if where.day is not None:
            args += day_bounds(where.day, MSK)
        if where.expert_login is not None:
            args.append(where.expert_login)
        if where.updated_since is not None:
            args.append(where.updated_since)
        if where.updated_before is not None:
            args.append(where.updated_before)
        args.append(LIMIT + 1)
        if shape not in self._sql:
            key = Call.updated_at if by_update else Call.started_at
            query = select(*CALL_COLUMNS, Expert.login.label("expert")).outerjoin(Expert, Expert.id == Call.expert_id)
            if after is not None:
                query = query.where(tuple_(key, Call.id) > tuple_(after.at, after.id))
            query = _call_filters(query, where, MSK)
            compiled = query.order_by(key, Call.id).limit(LIMIT + 1).compile(dialect=postgresql.asyncpg.dialect())
            if len(compiled.positiontup or ()) != len(args):
                raise AssertionError(f"the peer's parameters do not match the query: {compiled.positiontup}")
            self._sql[shape] = str(compiled)
        return self._sql[shape], args

    async def page(self, query: Query) -> tuple[float, list[Any]]:
        sql, args = self.sql(query.with_settle(datetime.now(UTC)), query.after)
        started = time.perf_counter()
        rows = await self.connection.fetch(sql, *args)
        return time.perf_counter() - started, rows


@dataclass
class Kind:
    name: str
    api: list[float] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)
    orm: list[float] = field(default_factory=list)
    serialise: list[float] = field(default_factory=list)
    api_gc: list[float] = field(default_factory=list)  # full (generation 2) collections inside each API request
    rows: int = 0
    body_bytes: int = 0
    last_has_more: bool | None = None


class GcWatch:
    """The pauses of Python's full (generation 2) collections, whoever's allocations set them off."""

    def __init__(self) -> None:
        self.full: list[float] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif info["generation"] == 2:
            self.full.append(time.perf_counter() - self._started)


class Pages:
    """The API over HTTP, the SQL peer, and the ORM read (the handler's part without HTTP), page by page."""

    def __init__(self, http: ClientSession, base: str, peer: SqlPeer, reads: ApiReads, watch: GcWatch) -> None:
        self.http, self.base, self.peer, self.reads, self.watch = http, base, peer, reads, watch
        self.steps = 0
        self.last_gc = 0.0  # the full collections' pauses inside the last API request

    async def api(self, params: dict[str, str]) -> tuple[float, bytes]:
        collections = len(self.watch.full)
        started = time.perf_counter()
        async with self.http.get(f"{self.base}/api/v1/calls", params=params) as response:
            body = await response.read()
        elapsed = time.perf_counter() - started
        self.last_gc = sum(self.watch.full[collections:])
        if response.status != 200:
            raise RuntimeError(f"GET /api/v1/calls {params}: {response.status} {body[:300]!r}")
        return elapsed, body

    async def orm(self, query: Query) -> tuple[float, float]:
        """(ORM read, models and JSON) for the page, as list_calls does them."""
        started = time.perf_counter()
        rows = await self.reads.calls(query.with_settle(datetime.now(UTC)), MSK, query.after, LIMIT + 1)
        read = time.perf_counter() - started
        started = time.perf_counter()
        shown = rows[:LIMIT]
        CallPage.model_validate({"items": [_call_item(row) for row in shown], "next_cursor": "x" * 100,
                                 "has_more": len(rows) > LIMIT}).model_dump_json()
        return read, time.perf_counter() - started

    async def step(self, query: Query, into: Kind | None) -> tuple[Query | None, dict[str, Any]]:
        """One page three ways (the order turns with every step); the next page's query when there is more."""
        self.steps += 1
        jobs: list[Callable[[], Awaitable[Any]]] = [lambda: self.api(query.params()), lambda: self.peer.page(query),
                                                    lambda: self.orm(query)]
        turn = self.steps % 3
        order = jobs[turn:] + jobs[:turn]
        results = {job: await job() for job in order}
        api_s, body = results[jobs[0]]
        api_gc = self.last_gc
        sql_s, rows = results[jobs[1]]
        orm_s, serialise_s = results[jobs[2]]
        page = json.loads(body)
        items = page["items"]
        if [i["linkedid"] for i in items] != [r["linkedid"] for r in rows[:LIMIT]]:
            raise AssertionError(f"the API's page differs from the SQL's: {query.params()}")
        if into is not None:
            into.api.append(api_s)
            into.api_gc.append(api_gc)
            into.sql.append(sql_s)
            into.orm.append(orm_s)
            into.serialise.append(serialise_s)
            into.rows += len(items)
            into.body_bytes += len(body)
            into.last_has_more = page["has_more"]
        if not page["has_more"]:
            return None, page
        last = rows[LIMIT - 1]
        after = Position(last["updated_at"] if query.sync else last["started_at"], last["id"])
        if cursor.encode(query.kind, after) != page["next_cursor"]:
            raise AssertionError("the API's next_cursor is not the SQL page's last row")
        return Query(query.where, after), page

    async def walk(self, start: Query, pages: int, into: Kind | None) -> None:
        query: Query | None = start
        for _ in range(pages):
            if query is None:
                break
            query, _ = await self.step(query, into)

    async def each(self, queries: list[Query], into: Kind | None) -> None:
        for query in queries:
            await self.step(query, into)


async def starting_points(connection: Any, shape: Shape, pages: int, rng: random.Random) -> dict[str, Any]:
    """Random calls (positions for the cursors), the sync walk's start, random (day, Expert) pairs."""
    count = int(await connection.fetchval("SELECT max(id) FROM calls"))
    ids = rng.sample(range(1, count + 1), 2 * pages + 4 * WARMUP)
    rows = await connection.fetch("SELECT id, started_at, updated_at FROM calls WHERE id = ANY($1::int[])", ids)
    by_id = {r["id"]: r for r in rows}
    positions = [by_id[i] for i in ids if i in by_id]
    since = await connection.fetchval("SELECT updated_at FROM calls ORDER BY updated_at DESC, id DESC "
                                      "OFFSET $1 LIMIT 1", pages * LIMIT - LIMIT // 2)
    logins = [r["login"] for r in await connection.fetch(
        "SELECT login FROM experts WHERE extension IS NOT NULL ORDER BY id")]
    days = shape.working_days
    pairs = [(rng.choice(days), rng.choice(logins)) for _ in range(pages + WARMUP)]
    return {"positions": positions, "since": since, "pairs": pairs, "logins": logins}


def page_cases(points: dict[str, Any], pages: int) -> tuple[dict[str, list[Query]], dict[str, list[Query]]]:
    """(measured, warm-up) queries of the kinds that are not walks."""
    positions, pairs = points["positions"], points["pairs"]

    def random_at(rows: list[Any]) -> list[Query]:
        return [Query(CallFilter(), Position(r["started_at"], r["id"])) for r in rows]

    def sync_at(rows: list[Any]) -> list[Query]:
        return [Query(CallFilter(updated_since=r["updated_at"] - timedelta(days=1)), Position(r["updated_at"], r["id"]))
                for r in rows]

    def day_expert(chosen: list[tuple[date, str]]) -> list[Query]:
        return [Query(CallFilter(day=d, expert_login=login)) for d, login in chosen]

    measured = {"random": random_at(positions[:pages]), "sync random": sync_at(positions[pages:2 * pages]),
                "day + expert": day_expert(pairs[:pages])}
    rest = positions[2 * pages:]
    warm = {"random": random_at(rest[:WARMUP]), "sync random": sync_at(rest[WARMUP:2 * WARMUP]),
            "day + expert": day_expert(pairs[pages:]),
            "walk": [Query(CallFilter())] + random_at(rest[2 * WARMUP:3 * WARMUP]),
            "sync walk": [Query(CallFilter(updated_since=points["since"]))] + sync_at(rest[3 * WARMUP:])}
    return measured, warm


# -- serving the app --------------------------------------------------------------------------------

def settings_for(calls: int) -> Settings:
    return Settings.model_validate({"database": {"url": url(calls)}})


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[tuple[web.Application, str]]:
    """The app on 127.0.0.1:<free port>, in this process; (app, base URL)."""
    app = create_app(settings, with_pbx=False)
    app.cleanup_ctx.remove(scheduler_ctx)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield app, f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def clean_up(dsn: str) -> None:
    """This benchmark's organisations, token and audit lines (also those of an interrupted run)."""
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f"DELETE FROM clients WHERE external_id LIKE '{BULK_PREFIX}%'")
        await connection.execute("DELETE FROM api_audit WHERE token_id IN (SELECT id FROM api_tokens WHERE name = $1)",
                                 TOKEN_NAME)
        await connection.execute("DELETE FROM api_tokens WHERE name = $1", TOKEN_NAME)
    finally:
        await connection.close()


# -- bulk -------------------------------------------------------------------------------------------

BULK_COLUMNS = ("external_id", "name", "inn", "segment", "territory", "expert_login", "timezone", "version",
                "online_last_login", "online_logins_30d", "debt_rub", "prepaid_months", "terms_end", "ds_since",
                "contact_every_days")
ZONES = ("Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg", "Asia/Novosibirsk")


def bulk_items(tag: str, n: int, logins: list[str], rng: random.Random) -> list[dict[str, Any]]:
    """n organisations as a CRM sends them (JSON numbers for numbers, ISO dates)."""
    items = []
    for i in range(n):
        segment = "ДС" if rng.random() < 0.6 else "КС"
        items.append({
            "external_id": f"{BULK_PREFIX}{tag}-{i}", "name": f"ООО «Бенч {tag} {i}»",
            "inn": f"{7_700_000_000 + rng.randrange(300_000_000):010d}", "segment": segment,
            "territory": rng.choice(("БГ", "УТ", "СП", "ЗН")), "expert_login": rng.choice(logins),
            "timezone": rng.choice(ZONES), "version": rng.choice(("online", "internet_update", "other")),
            "online_last_login": (date(2026, 11, 30) - timedelta(days=rng.randrange(90))).isoformat(),
            "online_logins_30d": rng.randrange(40), "debt_rub": round(rng.random() * 50_000, 2),
            "prepaid_months": rng.randrange(6), "terms_end": (date(2027, 1, 1) + timedelta(days=rng.randrange(365))
                                                              ).isoformat(),
            "ds_since": (date(2024, 1, 1) + timedelta(days=rng.randrange(700))).isoformat()
            if segment == "ДС" else None,
            "contact_every_days": rng.choice((14, 30, None)),
        })
    return items


def write_csv(items: list[dict[str, Any]], path: Path) -> None:
    """The same rows as a CRM's CSV export: `;`, UTF-8, money with a point."""
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, delimiter=";")
        writer.writerow(BULK_COLUMNS)
        for item in items:
            writer.writerow(["" if item[c] is None else f"{item[c]:.2f}" if c == "debt_rub" else item[c]
                             for c in BULK_COLUMNS])


async def api_bulk(http: ClientSession, base: str, body: bytes) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    async with http.put(f"{base}/api/v1/clients", data=body, headers={"Content-Type": "application/json"}) as response:
        answer = await response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"PUT /api/v1/clients: {response.status} {answer[:500]!r}")
    return elapsed, json.loads(answer)


async def file_bulk(path: Path, sessions: Any, settings: Settings) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    report = await import_file("clients", path, sessions, progress=False,
                               context=ImportContext.of(settings, datetime.now(UTC)))
    elapsed = time.perf_counter() - started
    c = report.counts
    return elapsed, {"new": c.new, "updated": c.updated, "unchanged": c.unchanged}


async def bench_bulk(http: ClientSession, base: str, settings: Settings, logins: list[str], n: int, runs: int,
                     rng: random.Random) -> dict[str, Any]:
    stamp = time.strftime("%H%M%S")
    engine = create_engine(settings.database.url)  # the file import's own engine, as the CLI has
    sessions = create_sessionmaker(engine)
    times: dict[tuple[str, str], list[float]] = {(p, w): [] for p in ("api", "file") for w in ("first", "repeat")}
    folder = Path(tempfile.mkdtemp(prefix="dsdesk-bench-api-"))
    sizes: dict[str, int] = {}
    try:
        for run in range(runs):
            jobs = {}
            for path_kind in ("api", "file"):
                items = bulk_items(f"{stamp}{run}{path_kind[0]}", n, logins, rng)
                if path_kind == "api":
                    body = json.dumps({"items": items}, ensure_ascii=False).encode()
                    sizes["api"] = len(body)
                    jobs["api"] = functools.partial(api_bulk, http, base, body)
                else:
                    csv_path = folder / f"clients-{run}.csv"
                    write_csv(items, csv_path)
                    sizes["file"] = csv_path.stat().st_size
                    jobs["file"] = functools.partial(file_bulk, csv_path, sessions, settings)
            for path_kind in (("api", "file") if run % 2 == 0 else ("file", "api")):
                for which, expected in (("first", "new"), ("repeat", "unchanged")):
                    elapsed, counts = await jobs[path_kind]()
                    if counts[expected] != n:
                        raise AssertionError(f"{path_kind} {which}: expected {n:,} {expected}, got {counts}")
                    times[(path_kind, which)].append(elapsed)
                    log(f"bulk run {run + 1}: {path_kind} {which} {elapsed:.2f} s")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        await engine.dispose()
    return {"n": n, "times": times, "sizes": sizes}


# -- one size -----------------------------------------------------------------------------------------

async def bench_one(shape: Shape, pages: int, bulk: int, bulk_runs: int, profile: bool,
                    gc_freeze: bool) -> dict[str, Any]:
    import asyncpg

    dsn = url(shape.calls)
    started = time.perf_counter()
    await migrate(dsn)
    result: dict[str, Any] = {"shape": shape, "migrate": time.perf_counter() - started, "load": [os.getloadavg()[0]]}
    await clean_up(dsn)
    settings = settings_for(shape.calls)
    rng = random.Random(SEED)
    connection = await asyncpg.connect(dsn)
    try:
        points = await starting_points(connection, shape, pages, rng)
        measured, warm = page_cases(points, pages)
        async with served(settings) as (app, base):
            sessions = app[DB_SESSIONS]
            made = new_token()
            await ApiTokensRepository(sessions).create(TOKEN_NAME, ("read", "write"), 1_000_000, made, None,
                                                       datetime.now(UTC))
            async with ClientSession(headers={"Authorization": f"Bearer {made.token}"}) as http:
                watch = GcWatch()
                pager = Pages(http, base, SqlPeer(connection), ApiReads(sessions), watch)
                log(f"{shape.calls:,}: warm-up")
                for queries in warm.values():
                    await pager.each(queries, None)
                if gc_freeze:  # as the service: the objects of start-up and warm-up out of every full collection
                    gc.collect()
                    gc.freeze()
                result["gc"] = {"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())}
                kinds = {name: Kind(name) for name in ("walk", "random", "sync walk", "sync random", "day + expert")}
                gc.callbacks.append(watch)
                try:
                    log(f"{shape.calls:,}: walk of {pages} pages")
                    await pager.walk(Query(CallFilter()), pages, kinds["walk"])
                    log(f"{shape.calls:,}: random pages, sync, day + expert")
                    await pager.each(measured["random"], kinds["random"])
                    await pager.walk(Query(CallFilter(updated_since=points["since"])), pages + 2, kinds["sync walk"])
                    await pager.each(measured["sync random"], kinds["sync random"])
                    await pager.each(measured["day + expert"], kinds["day + expert"])
                finally:
                    gc.callbacks.remove(watch)
                    gc.unfreeze()
                result["kinds"] = kinds
                result["gc"]["full"] = watch.full
                result["token"] = await time_token_lookup(ApiTokensRepository(sessions), made.token, pages)
                log(f"{shape.calls:,}: bulk upsert of {bulk:,} organisations × {bulk_runs}")
                result["bulk"] = await bench_bulk(http, base, settings, points["logins"], bulk, bulk_runs, rng)
                if profile:
                    result["profile"] = await profiled(pager, http, base, points, shape, pages, bulk, rng)
        result["load"].append(os.getloadavg()[0])
        return result
    finally:
        await connection.close()
        await clean_up(dsn)


async def time_token_lookup(tokens: ApiTokensRepository, token: str, runs: int) -> list[float]:
    """The wrapper's token lookup alone (one of the requests' own queries)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await tokens.active_by_token(token)
        times.append(time.perf_counter() - started)
    return times


async def profiled(pager: Pages, http: ClientSession, base: str, points: dict[str, Any], shape: Shape, pages: int,
                   bulk: int, rng: random.Random) -> dict[str, str]:
    """cProfile (server and client share this process) over API pages alone, then one bulk upsert."""
    out: dict[str, str] = {}
    queries = [Query(CallFilter(), Position(r["started_at"], r["id"])) for r in points["positions"][:pages]]
    profiler = cProfile.Profile()
    profiler.enable()
    for query in queries:
        await pager.api(query.params())
    profiler.disable()
    out["GET /api/v1/calls (random pages)"] = profile_text(profiler)
    body = json.dumps({"items": bulk_items(f"P{time.strftime('%H%M%S')}", bulk, points["logins"], rng)},
                      ensure_ascii=False).encode()
    profiler = cProfile.Profile()
    profiler.enable()
    await api_bulk(http, base, body)
    profiler.disable()
    out["PUT /api/v1/clients (first upsert)"] = profile_text(profiler)
    return out


def profile_text(profiler: cProfile.Profile, top: int = 25) -> str:
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return stream.getvalue()


# -- printing ---------------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}" if seconds < 0.1 else f"{seconds * 1000:,.0f}"


def print_result(r: dict[str, Any]) -> None:
    shape: Shape = r["shape"]
    print(f"\n## {shape.calls:,} calls, {shape.experts:,} Experts (two years to {shape.last_day:%d.%m.%Y}); "
          f"load average before/after {r['load'][0]:.1f}/{r['load'][1]:.1f} on {os.cpu_count()} CPUs; "
          f"migrate to head {r['migrate']:.1f} s")
    print("| page kind | pages | rows/page | KB/page | API p50 | API p99 | API max | SQL p50 | SQL p99 | "
          "ratio p50 | ratio p99 | ORM read p50 | models+JSON p50 | rest p50 | API reqs with a full GC | "
          "API p99 of the others | p99 ≤ 100 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for kind in r["kinds"].values():
        n = len(kind.api)
        api50, api99, sql50, sql99 = pct(kind.api, .5), pct(kind.api, .99), pct(kind.sql, .5), pct(kind.sql, .99)
        orm50, ser50 = pct(kind.orm, .5), pct(kind.serialise, .5)
        verdict = "met" if api99 <= PAGE_TARGET_S else "**MISSED**"
        clean = [t for t, g in zip(kind.api, kind.api_gc, strict=True) if g == 0]
        print(f"| {kind.name} | {n} | {kind.rows / n:.0f} | {kind.body_bytes / n / 1024:.0f} | {ms(api50)} | "
              f"**{ms(api99)}** | {ms(max(kind.api))} | {ms(sql50)} | {ms(sql99)} | ×{api50 / sql50:.1f} | "
              f"×{api99 / sql99:.1f} | {ms(orm50)} | {ms(ser50)} | {ms(max(0.0, api50 - orm50 - ser50))} | "
              f"{n - len(clean)} | {ms(pct(clean, .99)) if clean else '—'} | {verdict} |")
    print(f"token lookup alone (ApiTokensRepository.active_by_token): p50 {ms(pct(r['token'], .5))} ms, "
          f"p99 {ms(pct(r['token'], .99))} ms")
    g = r["gc"]
    full = g["full"]
    pauses = f", pause median {ms(statistics.median(full))} ms, max {ms(max(full))} ms" if full else ""
    print(f"Python's full (generation 2) collections during the pages: {len(full)}{pauses}; "
          f"{g['tracked']:,} objects tracked after the warm-up"
          + (f", {g['frozen']:,} of them frozen (gc.freeze() after the warm-up)" if g["frozen"] else ""))
    print("(ms; API = the HTTP request until its body is read; SQL = the same query on one asyncpg connection; "
          "ORM read = ApiReads.calls; models+JSON = CallOut × rows, CallPage.model_dump_json; "
          "rest = API p50 − ORM read p50 − models+JSON p50: HTTP, middlewares, token, validation, client read)")
    b = r["bulk"]
    t = b["times"]
    print(f"\nbulk upsert of {b['n']:,} organisations (JSON body {b['sizes']['api'] / 1e6:.1f} MB, "
          f"CSV {b['sizes']['file'] / 1e6:.1f} MB), median of {len(t[('api', 'first')])} runs:")
    print("| | PUT /api/v1/clients | runs | file import (CSV) | runs | API / file | API ≤ 2 s |")
    print("|---|---:|---|---:|---|---:|---|")
    for which, label in (("first", "first upsert: all new"), ("repeat", "repeat: all unchanged")):
        api, file = statistics.median(t[("api", which)]), statistics.median(t[("file", which)])
        verdict = "met" if api <= BULK_TARGET_S else "**MISSED**"
        print(f"| {label} | **{api:.2f} s** | {', '.join(f'{x:.2f}' for x in t[('api', which)])} | {file:.2f} s | "
              f"{', '.join(f'{x:.2f}' for x in t[('file', which)])} | ×{api / file:.2f} | {verdict} |")
    for what, text in r.get("profile", {}).items():
        print(f"\n### cProfile: {what}\n```\n{text.strip()}\n```")


def print_growth(results: list[dict[str, Any]]) -> None:
    if len(results) < 2:
        return
    small, large = results[0], results[-1]
    factor = large["shape"].calls / small["shape"].calls
    parts = []
    for name, kind in large["kinds"].items():
        other = small["kinds"][name]
        parts.append(f"{name} API ×{pct(kind.api, .5) / pct(other.api, .5):.2f}, "
                     f"SQL ×{pct(kind.sql, .5) / pct(other.sql, .5):.2f}")
    print(f"\ngrowth {small['shape'].calls:,} → {large['shape'].calls:,} calls (×{factor:.0f}), p50: "
          + "; ".join(parts))


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--calls", type=int, default=10_000_000)
    parser.add_argument("--experts", type=int, default=1000)
    parser.add_argument("--growth", action="store_true", help="also 1/10 of the calls and Experts, first")
    parser.add_argument("--fresh", action="store_true", help="generate the cached data again")
    parser.add_argument("--pages", type=int, default=200, help="pages of each kind")
    parser.add_argument("--bulk", type=int, default=10_000, help="organisations in the bulk upsert (≤ 10,000)")
    parser.add_argument("--bulk-runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile API pages and one upsert (printed)")
    parser.add_argument("--no-gc-freeze", dest="gc_freeze", action="store_false",
                        help="without gc.freeze() after the warm-up (the service freezes after start-up)")
    args = parser.parse_args()
    shapes = [Shape(args.experts, args.calls, LAST_DAY)]
    if args.growth:
        shapes.insert(0, Shape(max(args.experts // 10, 1), args.calls // 10, LAST_DAY))
    print(f"# bench/api.py — {date.today()} — Python {platform.python_version()}, {os.cpu_count()} CPUs")
    results = []
    for shape in shapes:
        await ensure_database(shape, args.fresh)
        result = await bench_one(shape, args.pages, args.bulk, args.bulk_runs, args.profile, args.gc_freeze)
        print_result(result)
        results.append(result)
    print_growth(results)


if __name__ == "__main__":
    asyncio.run(main())
