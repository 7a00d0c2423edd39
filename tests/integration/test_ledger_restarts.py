"""DS Desk itself killed (-9) with calls up, then started again (issue 12, items 2 and 3).

The PBX side runs in a process of its own (tests/integration/ledger_process.py) against the
simulator over real TCP and a real database; the test kills it with SIGKILL, so nothing is
flushed on the way out. What it had written before must carry every open call through.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dialer.records import Q_END_INFERRED, Q_START_INFERRED, CallRecord, Outcome
from dialer.simulator import PbxSimulator, SimulatorConfig
from dialer.simulator.config import Scenario
from service.db.engine import create_engine, create_sessionmaker
from service.db.ledger import LedgerRepository

ROOT = Path(__file__).resolve().parents[2]


@contextlib.asynccontextmanager
async def ledger_process(db_url: str, port: int) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.ledger_process", db_url, str(port),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert line.strip() == b"ready", line
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def kill(proc: asyncio.subprocess.Process) -> None:
    proc.send_signal(signal.SIGKILL)
    await proc.wait()


async def closed_records(ledger: LedgerRepository, expected: set[str], timeout: float = 20) -> dict[str, CallRecord]:
    for _ in range(int(timeout / 0.05)):
        records = {r.linkedid: r for r in await ledger.list_calls(None, limit=1000)}
        if expected <= {k for k, r in records.items() if not r.is_open}:
            return records
        await asyncio.sleep(0.05)
    raise AssertionError(f"not closed in the ledger: {expected - set(records)} / {records}")


async def test_a_killed_desk_resumes_open_calls_with_what_it_had_seen(migrated_db: str, tmp_path: Path) -> None:
    sim = PbxSimulator(SimulatorConfig(speed=1.0, seed=5, recordings_dir=tmp_path / "rec", dial_timeout_s=20,
                                       originate_timeout_s=10))
    await sim.start()
    engine = create_engine(migrated_db)
    ledger = LedgerRepository(create_sessionmaker(engine))
    try:
        async with ledger_process(migrated_db, sim.port) as first:
            outlives = sim.start_outbound("101", "79115550101", scenario=Scenario.ANSWERED, ring_s=0.3, talk_s=9.0,
                                          expert_ring_s=0.2, variables=(("PLANNED_CALL_ID", "PC-1"),
                                                                        ("CLIENT_ID", "C-1")))
            ends_inside = sim.start_outbound("102", "79115550102", scenario=Scenario.ANSWERED, ring_s=0.3,
                                             talk_s=1.6, expert_ring_s=0.2,
                                             variables=(("PLANNED_CALL_ID", "PC-2"), ("CLIENT_ID", "C-2")))
            inbound = sim.start_inbound("79115550103", "ООО Клиент", "103", scenario=Scenario.INBOUND_ANSWERED,
                                        ring_s=0.3, talk_s=1.5)
            await asyncio.sleep(1.2)  # all three answered, their recordings reported, the writes flushed
            await kill(first)
        await asyncio.sleep(1.5)  # DS Desk is away: two of the calls end meanwhile
        adopted = sim.start_outbound("104", "79115550104", scenario=Scenario.ANSWERED, ring_s=0.3, talk_s=3.0,
                                     expert_ring_s=0.2, variables=(("PLANNED_CALL_ID", "PC-4"), ("CLIENT_ID", "C-4")))
        await asyncio.sleep(0.8)
        async with ledger_process(migrated_db, sim.port):
            await sim.wait_idle(timeout=20)
            records = await closed_records(ledger, {outlives.linkedid, ends_inside.linkedid, inbound.linkedid,
                                                    adopted.linkedid})
    finally:
        await sim.stop()
        await engine.dispose()
    assert set(records) == set(sim.truth), "a call was lost or invented"
    for truth in (outlives, ends_inside, inbound, adopted):
        got = records[truth.linkedid]
        assert (got.outcome, got.planned_call_id, got.client_id, got.recording) == (
            truth.outcome, truth.planned_call_id, truth.client_id, truth.recording), (truth.scenario, got)
        assert got.client_number == truth.client_number and got.expert_ext == truth.expert_ext
        assert truth.answered_at is not None and got.answered_at is not None
        if Q_START_INFERRED not in got.quality:
            assert abs((got.answered_at - truth.answered_at).total_seconds()) < 0.01
    exact = records[outlives.linkedid]
    assert Q_END_INFERRED not in exact.quality and exact.outcome is Outcome.ANSWERED
    assert exact.talk_s == pytest.approx(outlives.talk_s, abs=0.01)
    for truth in (ends_inside, inbound):
        assert Q_END_INFERRED in records[truth.linkedid].quality  # when it ended is a guess, and says so
    assert Q_START_INFERRED in records[adopted.linkedid].quality
