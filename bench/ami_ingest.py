"""Benchmark: AMI events/s from bytes on a socket to committed call records, against bare asterisk-ami.

The stream repeats the real Asterisk 22 captures with fresh ids (see _stream.py), served by a
separate process (_ami_server.py). In the same run, on the same stream:
  bare     asterisk-ami's AMIClient (64 KiB reads) with a listener that only counts events;
           the clock runs from login() until the last event was counted;
  DS Desk  the real pipeline, `dialer.pbx.Pbx` on a migrated database (SQLite file; PostgreSQL
           when reachable); the clock runs from `pbx.start()` until the last call record is committed.
Then DS Desk alone over `--memory-calls` calls (stream generated while sent), sampling RSS at
every 10% of the calls committed.

    .venv/bin/python bench/ami_ingest.py [--calls N] [--repeat R] [--memory-calls M] [--pg/--no-pg]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg  # only to create and drop the throwaway database
from asterisk.ami import AMIClient
from sqlalchemy import func, select

from _ami_server import GATED_USER, AmiStreamServer, StreamFacts
from dialer.ami_options import AmiOptions
from dialer.pbx import Pbx
from dialer.records import CallRecord
from service.db.engine import SessionMaker, async_url, create_engine, create_sessionmaker
from service.db.ledger import LedgerRepository
from service.db.migrate import migrate
from service.db.models import Call, Client, ClientContact

BUFFER_SIZE = 64 * 1024  # DS Desk's read size; the bare baseline uses the same
TARGET_RATIO = 0.8
PG_ADMIN_URL = os.environ.get("DSDESK_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True, slots=True)
class Run:
    elapsed_s: float
    events: int
    calls: int = 0  # calls in the ledger afterwards (DS Desk)
    records: int = 0  # records handed to the store: a call opened and closed in one flush is written once

    @property
    def rate(self) -> float:
        return self.events / self.elapsed_s


@dataclass(slots=True)
class Sample:
    share: float  # of the calls committed
    committed: int
    rss_mb: float
    hwm_mb: float
    loop_backlog: int  # callbacks waiting in the event loop (batches handed over by the reader)


# ---- bare asterisk-ami -------------------------------------------------------------------
def run_bare(facts: StreamFacts, timeout: float) -> Run:
    """asterisk-ami's own delivery rate: a listener that only counts."""
    done, count, finished_at = threading.Event(), 0, 0.0

    def on_event(source: object, event: object) -> None:
        nonlocal count, finished_at
        count += 1
        if count == facts.events:
            finished_at = time.perf_counter()
            done.set()

    client = AMIClient("127.0.0.1", facts.port, buffer_size=BUFFER_SIZE)
    client.add_listener(on_event=on_event)
    started = time.perf_counter()
    client.login("bare", "bench")
    try:
        if not done.wait(timeout):
            raise RuntimeError(f"bare asterisk-ami: {count} of {facts.events} events in {timeout:.0f} s")
    finally:
        _close_bare(client)
    return Run(finished_at - started, facts.events)


def _close_bare(client: AMIClient) -> None:
    # Its reader blocks in recv() for up to its 3 s timeout; shutdown() wakes it at once.
    try:
        client._socket.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    client.disconnect()


# ---- DS Desk -----------------------------------------------------------------------------
class CountingStore:
    """The real LedgerRepository; notes when the last closed record of the stream is committed."""

    def __init__(self, inner: LedgerRepository, expected_calls: int) -> None:
        self._inner = inner
        self._expected = expected_calls
        self.closed = 0
        self.records = 0
        self.finished_at: float | None = None
        self.done = asyncio.Event()

    async def upsert_calls(self, records: Sequence[CallRecord]) -> Any:  # int before issue 11, a mapping since
        written = await self._inner.upsert_calls(records)
        self.records += len(records)
        self.closed += sum(1 for r in records if r.ended_at is not None)
        if self.closed >= self._expected and self.finished_at is None:
            self.finished_at = time.perf_counter()
            self.done.set()
        return written

    async def open_calls(self) -> list[CallRecord]:
        return await self._inner.open_calls()

    async def existing_linkedids(self, linkedids: Collection[str]) -> set[str]:
        return await self._inner.existing_linkedids(linkedids)

    async def guessed_calls(self, since: datetime) -> list[CallRecord]:
        return await self._inner.guessed_calls(since)

    async def last_call_time(self) -> datetime | None:
        return await self._inner.last_call_time()


async def run_dsdesk(facts: StreamFacts, url: str, timeout: float,
                     samples: list[Sample] | None = None) -> Run:
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    store = CountingStore(LedgerRepository(sessions), facts.calls)
    options = AmiOptions("127.0.0.1", facts.port, GATED_USER, "bench", buffer_size=BUFFER_SIZE,
                         ping_interval=3600.0, action_timeout=60.0)
    pbx = Pbx(options, store)
    try:
        elapsed = await _ingest(pbx, store, facts, timeout, samples)
        await pbx.close()
        calls = await _check_ledger(sessions, facts)
    finally:
        await pbx.close()  # idempotent
        await engine.dispose()
    return Run(elapsed, facts.events, calls, store.records)


async def _ingest(pbx: Pbx, store: CountingStore, facts: StreamFacts, timeout: float,
                  samples: list[Sample] | None) -> float:
    """Seconds from `pbx.start()` until the stream's last call record was committed."""
    sampler = None if samples is None else asyncio.create_task(_sample_memory(store, facts.calls, samples))
    started = time.perf_counter()
    try:
        await pbx.start()
        await asyncio.wait_for(store.done.wait(), timeout)
        if sampler is not None:
            await sampler
    except TimeoutError as e:
        raise RuntimeError(f"DS Desk: {store.closed} of {facts.calls} calls in {timeout:.0f} s") from e
    finally:
        if sampler is not None:
            sampler.cancel()
    assert store.finished_at is not None
    return store.finished_at - started


async def _check_ledger(sessions: SessionMaker, facts: StreamFacts) -> int:
    """Every call of the stream is in the ledger, closed, with the outcome the pure tracker gave."""
    async with sessions() as session:
        rows = await session.execute(
            select(Call.outcome, func.count()).where(Call.ended_at.is_not(None)).group_by(Call.outcome)
        )
        outcomes = {str(outcome): n for outcome, n in rows}
        total = int(await session.scalar(select(func.count()).select_from(Call)) or 0)
    if outcomes != facts.outcomes or total != facts.calls:
        raise RuntimeError(f"ledger mismatch: {total} rows, outcomes {outcomes}, expected {facts.outcomes}")
    return total


async def _sample_memory(store: CountingStore, calls: int, samples: list[Sample]) -> None:
    loop = asyncio.get_running_loop()
    for tenth in range(1, 11):
        while store.closed < calls * tenth // 10:
            await asyncio.sleep(0.02)
        rss, hwm = _memory_mb()
        # asyncio's private ready queue: batches the reader thread handed over and the loop has not run yet
        samples.append(Sample(tenth / 10, store.closed, rss, hwm, len(getattr(loop, "_ready", ()))))


def _memory_mb() -> tuple[float, float]:
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


# ---- databases ---------------------------------------------------------------------------
async def prepare_database(url: str) -> None:
    """Migrated, with the client directory the captures refer to (C-5xx; phones 7911555010x)."""
    await migrate(url)
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine).begin() as session:
            for n in range(1, 21):
                client = Client(external_id=f"C-{500 + n}", name=f"Client {500 + n}")
                client.contacts = [ClientContact(full_name=f"Contact {n}", phone_e164=f"791155501{n:02d}")]
                session.add(client)
    finally:
        await engine.dispose()


class PgDatabase:
    """A throwaway PostgreSQL database `dsdesk_bench_<pid>`, emptied before each run."""

    def __init__(self, admin_url: str) -> None:
        self.name = f"dsdesk_bench_{os.getpid()}"
        self._admin = async_url(admin_url).set(drivername="postgresql")
        self.url = async_url(admin_url).set(database=self.name).render_as_string(hide_password=False)

    async def create(self) -> None:
        await self._admin_sql(f'CREATE DATABASE "{self.name}"')

    async def drop(self) -> None:
        await self._admin_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    async def reset(self) -> None:
        plain = self._admin.set(database=self.name).render_as_string(hide_password=False)
        connection = await asyncpg.connect(plain, timeout=5)
        try:
            await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await connection.close()
        await prepare_database(self.url)

    async def _admin_sql(self, sql: str) -> None:
        connection = await asyncpg.connect(self._admin.render_as_string(hide_password=False), timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()


async def dsdesk_sqlite(facts: StreamFacts, timeout: float, samples: list[Sample] | None = None) -> Run:
    with tempfile.TemporaryDirectory(prefix="dsdesk-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/ledger.db"
        await prepare_database(url)
        return await run_dsdesk(facts, url, timeout, samples)


async def dsdesk_pg(facts: StreamFacts, pg: PgDatabase, timeout: float) -> Run:
    await pg.reset()
    return await run_dsdesk(facts, pg.url, timeout)


async def pg_available(pg: PgDatabase) -> str | None:
    """None when the throwaway database was created; else why not."""
    try:
        await pg.create()
    except Exception as e:  # refused, timed out, bad credentials: no PostgreSQL here
        return f"{type(e).__name__}: {e}"
    return None


# ---- the benchmark -----------------------------------------------------------------------
@dataclass(slots=True)
class Results:
    bare: list[Run] = field(default_factory=list)
    sqlite: list[Run] = field(default_factory=list)
    pg: list[Run] = field(default_factory=list)
    pg_skipped: str | None = None


def compare(args: argparse.Namespace) -> Results:
    server = AmiStreamServer(args.calls, prebuilt=True)
    facts = server.start()
    assert facts.bytes is not None  # prebuilt: the size is known before the first byte is sent
    print(f"stream: {facts.calls} calls, {facts.events} events, {facts.bytes / 1e6:.0f} MB "
          f"(built in {facts.build_s:.1f} s, served from a separate process)")
    timeout = 120 + facts.events / 5000
    results, pg = Results(), PgDatabase(PG_ADMIN_URL)
    results.pg_skipped = asyncio.run(pg_available(pg)) if args.pg else "--no-pg"
    try:
        for i in range(1, args.repeat + 1):
            results.bare.append(run_bare(facts, timeout))
            results.sqlite.append(asyncio.run(dsdesk_sqlite(facts, timeout)))
            line = f"run {i}: bare {_fmt(results.bare[-1])} | DS Desk SQLite {_fmt(results.sqlite[-1])}"
            if results.pg_skipped is None:
                results.pg.append(asyncio.run(dsdesk_pg(facts, pg, timeout)))
                line += f" | DS Desk PostgreSQL {_fmt(results.pg[-1])}"
            print(line, flush=True)
    finally:
        server.stop()
        if results.pg_skipped is None:
            asyncio.run(pg.drop())
    return results


def memory(calls: int) -> tuple[Run, list[Sample]]:
    server = AmiStreamServer(calls, prebuilt=False)
    facts = server.start()
    print(f"memory stream: {facts.calls} calls, {facts.events} events (generated while sent)", flush=True)
    samples: list[Sample] = []
    try:
        run = asyncio.run(dsdesk_sqlite(facts, 300 + facts.events / 5000, samples))
    finally:
        server.stop()
    return run, samples


def _fmt(run: Run) -> str:
    calls = f", {run.calls} calls, {run.records} records written" if run.calls else ""
    return f"{run.rate:,.0f} ev/s ({run.elapsed_s:.2f} s{calls})"


def _median_rate(runs: list[Run]) -> float:
    return statistics.median(r.rate for r in runs)


def _spread(runs: list[Run]) -> str:
    return f"(runs {min(r.rate for r in runs):,.0f}-{max(r.rate for r in runs):,.0f})"


def report(args: argparse.Namespace, results: Results, mem: tuple[Run, list[Sample]] | None) -> None:
    print()
    print(f"ami_ingest  {time.strftime('%Y-%m-%d %H:%M')}  nproc={os.cpu_count()}  "
          f"python={platform.python_version()}  calls={args.calls} repeat={args.repeat}")
    if results.bare:
        bare = _median_rate(results.bare)
        print(f"  bare asterisk-ami (median)  {bare:,.0f} ev/s   {_spread(results.bare)}")
        sqlite = _median_rate(results.sqlite)
        print(f"  DS Desk SQLite (median)     {sqlite:,.0f} ev/s   ratio {sqlite / bare:.2f} "
              f"(target >= {TARGET_RATIO})   {_spread(results.sqlite)}")
        if results.pg:
            pg = _median_rate(results.pg)
            print(f"  DS Desk PostgreSQL (median) {pg:,.0f} ev/s   ratio {pg / bare:.2f}   {_spread(results.pg)}")
        else:
            print(f"  DS Desk PostgreSQL          skipped ({results.pg_skipped})")
    if mem is not None:
        run, samples = mem
        print(f"  memory, DS Desk SQLite over {run.calls} calls: {_fmt(run)}")
        print("    committed  RSS MB  peak MB  loop backlog")
        for s in samples:
            print(f"    {s.share:>4.0%} {s.committed:>7}  {s.rss_mb:6.1f}  {s.hwm_mb:7.1f}  {s.loop_backlog:>6}")
        at20 = next(s for s in samples if s.share >= 0.2)
        print(f"    RSS growth 20% -> 100%: {samples[-1].rss_mb - at20.rss_mb:+.1f} MB")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000, help="calls in the rate-comparison stream")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each; the median is reported")
    parser.add_argument("--memory-calls", type=int, default=100_000, help="calls in the memory run (0: skip)")
    parser.add_argument("--pg", action=argparse.BooleanOptionalAction, default=True,
                        help=f"also run on PostgreSQL ({PG_ADMIN_URL}) when reachable")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    results = compare(args) if args.repeat > 0 and args.calls > 0 else Results()
    mem = memory(args.memory_calls) if args.memory_calls > 0 else None
    report(args, results, mem)
    return 0


if __name__ == "__main__":
    sys.exit(main())
