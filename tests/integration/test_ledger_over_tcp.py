"""The whole ledger over real TCP: simulator PBX → AMI client → tracker → real database.

Runs on SQLite and PostgreSQL (the `db_url` fixture). Truth is what the simulator played.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dialer.ami_options import AmiOptions
from dialer.errors import DialerError
from dialer.pbx import OriginateConfig, Pbx
from dialer.records import GUESSED_QUALITY, Q_END_INFERRED, Q_PBX_RESTARTED, Q_START_INFERRED, CallRecord
from dialer.simulator import PbxSimulator, SimulatorConfig
from dialer.simulator.config import Scenario
from dialer.simulator.errors import SimulatorStateError
from dialer.simulator.truth import TruthRecord
from service.db.engine import create_engine, create_sessionmaker
from service.db.ledger import LedgerRepository

OUTBOUND = [Scenario.ANSWERED, Scenario.NO_ANSWER, Scenario.REJECTED, Scenario.BUSY, Scenario.CONGESTION,
            Scenario.CANCELLED, Scenario.EXPERT_NO_ANSWER, Scenario.EXPERT_HANGS_UP]
INBOUND = [Scenario.INBOUND_ANSWERED, Scenario.INBOUND_MISSED]


@dataclass
class Rig:
    sim: PbxSimulator
    pbx: Pbx
    ledger: LedgerRepository


@pytest.fixture
async def rig(request: pytest.FixtureRequest, migrated_db: str, tmp_path) -> AsyncIterator[Rig]:
    async with running_rig(migrated_db, tmp_path, speed=getattr(request, "param", 40.0)) as started:
        yield started


@contextlib.asynccontextmanager
async def running_rig(migrated_db: str, tmp_path: Path, *, speed: float = 40.0,
                      via: Callable[[int], Awaitable[int]] | None = None, **options: Any) -> AsyncIterator[Rig]:
    """Simulator PBX, Pbx and ledger, up and connected. `via(simulator port)` may put a peer of the
    test's own in between and return the port DS Desk connects to; `options` override AmiOptions."""
    engine = create_engine(migrated_db, sqlite_busy_timeout_s=0.5)  # outages show up fast in tests
    ledger = LedgerRepository(create_sessionmaker(engine))
    sim = PbxSimulator(SimulatorConfig(speed=speed, seed=7, recordings_dir=tmp_path / "rec",
                                       dial_timeout_s=6, originate_timeout_s=5, restart_downtime_s=1.0))
    await sim.start()
    port = sim.port if via is None else await via(sim.port)
    fast = dict(backoff_min=0.02, backoff_max=0.2, ping_interval=1.0, ping_timeout=3.0, action_timeout=5.0)
    pbx = Pbx(AmiOptions(port=port, username="dsdesk", secret="dsdesk", **{**fast, **options}), ledger,
              originate=OriginateConfig(expert_channel="Local/{ext}@ds-agents", timeout_s=5))
    await pbx.start()
    try:
        await pbx.connection.wait_connected(5)
        yield Rig(sim, pbx, ledger)
    finally:
        await pbx.close()
        await sim.stop()
        await engine.dispose()


def plan_call(rng: random.Random, i: int) -> tuple[Scenario, str, str]:
    scenario = rng.choice(OUTBOUND + INBOUND)
    return scenario, f"{100 + i % 60}", f"7911{5550000 + i:07d}"


async def place(rig: Rig, scenario: Scenario, ext: str, number: str, i: int, rng: random.Random) -> None:
    durations = dict(ring_s=rng.uniform(1, 4), talk_s=rng.uniform(2, 8))
    if scenario in INBOUND:
        while True:
            try:
                rig.sim.start_inbound(number, f"ООО Клиент {i}", ext, scenario=scenario,
                                      ring_s=durations["ring_s"], talk_s=durations["talk_s"])
                return
            except SimulatorStateError:  # the PBX is restarting: the client calls again shortly
                await asyncio.sleep(0.05)
    rig.sim.script(number, scenario, expert_ring_s=rng.uniform(0.5, 2), **durations)
    for _ in range(100):  # like an Expert pressing "call" again while the link is down
        try:
            await rig.pbx.originate(ext, number, planned_call_id=f"PC-{i}", client_id=f"C-{i}")
            return
        except DialerError:
            await asyncio.sleep(0.05)
    raise AssertionError("could not originate")


async def run_calls(rig: Rig, n: int, concurrency: int, seed: int) -> None:
    rng = random.Random(seed)
    pending = [plan_call(rng, i) for i in range(n)]
    while pending:
        wave, pending = pending[:concurrency], pending[concurrency:]
        await asyncio.gather(*(place(rig, s, e, num, i, rng) for i, (s, e, num) in enumerate(wave, len(pending))))
        await rig.sim.wait_idle(timeout=60)


async def settled_records(rig: Rig, expected: int) -> dict[str, CallRecord]:
    for _ in range(400):
        await asyncio.sleep(0.05)
        records = await rig.ledger.list_calls(None, limit=100_000)
        closed = {r.linkedid: r for r in records if not r.is_open}
        if len(closed) >= expected and rig.pbx.stats().pending_writes == 0:
            return {r.linkedid: r for r in records}
    missing = {k: v.scenario for k, v in rig.sim.truth.items() if k not in closed}
    open_ = [r for r in records if r.is_open]
    raise AssertionError(f"only {len(closed)} of {expected} calls closed in the ledger: {missing} {open_}")


def assert_matches(truth: TruthRecord, got: CallRecord, tolerance: float) -> None:
    assert got.direction == truth.direction and got.expert_ext == truth.expert_ext
    assert got.client_number == truth.client_number
    assert got.planned_call_id == truth.planned_call_id and got.client_id == truth.client_id
    assert truth.started_at is not None and got.ended_at is not None and truth.ended_at is not None
    assert abs((got.started_at - truth.started_at).total_seconds()) <= tolerance
    assert abs((got.ended_at - truth.ended_at).total_seconds()) <= tolerance
    assert abs(got.duration_s - truth.duration_s) <= tolerance
    assert abs(got.talk_s - truth.talk_s) <= tolerance


async def test_200_mixed_calls_all_recorded_exactly(rig: Rig) -> None:
    await run_calls(rig, 200, concurrency=40, seed=1)
    truth = rig.sim.truth
    assert len(truth) == 200
    records = await settled_records(rig, 200)
    assert set(records) == set(truth), "a call was lost or invented"
    for linkedid, t in truth.items():
        got = records[linkedid]
        assert got.outcome == t.outcome, (t.scenario, got)
        assert got.recording == t.recording and got.quality == ()
        assert_matches(t, got, tolerance=0.01)
    assert await rig.ledger.count_calls() == 200


@pytest.mark.parametrize("rig", [4.0], indirect=True)
async def test_drops_and_a_pbx_restart_lose_and_duplicate_nothing(rig: Rig) -> None:
    rng = random.Random(3)
    gaps: list[float] = []

    async def chaos() -> None:
        for k in range(12):
            await asyncio.sleep(rng.uniform(0.3, 0.9))
            before, reconciled = rig.sim.clock.now(), rig.pbx.stats().reconciles
            if k == 6:
                await rig.sim.restart()
            else:
                rig.sim.drop_connections()
            await rig.pbx.connection.wait_connected(10)
            # The gap DS Desk infers within ends when it has reconciled the open calls (its Ping after the
            # reconnect), not at the connect: on a loaded machine that came 8 s (simulated) later, and an
            # end inferred then failed the gap + 1 s bound measured to the connect.
            for _ in range(1000):
                if rig.pbx.stats().reconciles > reconciled:
                    break
                await asyncio.sleep(0.01)
            assert rig.pbx.stats().reconciles > reconciled, "the link was not reconciled within 10 s"
            gaps.append(rig.sim.clock.now() - before)

    chaos_task = asyncio.create_task(chaos())
    await run_calls(rig, 100, concurrency=20, seed=2)
    await chaos_task
    truth = rig.sim.truth
    records = await settled_records(rig, len(truth))
    assert set(records) == set(truth), "a call was lost or invented"
    assert await rig.ledger.count_calls() == len(truth)
    worst_gap = max(gaps)
    for linkedid, t in truth.items():
        got = records[linkedid]
        if t.ended_by == "restart":
            assert {Q_END_INFERRED, Q_PBX_RESTARTED} <= set(got.quality)
        # A time that fell inside a gap is inferred and flagged (its end, or its answer: then talk_s
        # is a guess too, out of the figures): within the gap + 1 s. The rest: within 1 s. (This
        # test once widened only for an inferred end, and failed now and then on an inferred answer.)
        inferred = bool(set(got.quality) & (GUESSED_QUALITY | {Q_START_INFERRED}))
        assert_matches(t, got, tolerance=(worst_gap + 1.0) if inferred else 1.0)
        if not got.quality:
            assert got.outcome == t.outcome


async def test_inbound_call_from_a_known_contact_is_linked_to_the_client(rig: Rig, migrated_db: str) -> None:
    from service.db.clients import ClientsRepository

    engine = create_engine(migrated_db)
    clients = ClientsRepository(create_sessionmaker(engine))
    await clients.upsert_client("C-777", "ООО «Ромашка»")
    await clients.add_contact("C-777", "Ольга Петровна Иванова", "8 (911) 555-01-10")
    await engine.dispose()
    rig.sim.start_inbound("+79115550110", "", "107", scenario=Scenario.INBOUND_ANSWERED, ring_s=1, talk_s=3)
    rig.sim.start_inbound("79990000000", "", "108", scenario=Scenario.INBOUND_MISSED, ring_s=1)
    await rig.sim.wait_idle()
    records = await settled_records(rig, 2)
    by_number = {r.client_number: r for r in records.values()}
    known, unknown = by_number["79115550110"], by_number["79990000000"]
    assert (known.client_id, known.planned_call_id, known.outcome) == ("C-777", None, "answered")
    assert (unknown.client_id, unknown.outcome) == (None, "missed")


async def test_listen_in_sends_chanspy_originate(rig: Rig) -> None:
    rig.sim.start_outbound("101", "79115550101", scenario=Scenario.ANSWERED, ring_s=1, talk_s=30)
    await asyncio.sleep(0.2)
    await rig.pbx.spy("150", "101", "listen")
    await rig.pbx.spy("150", "101", "whisper")
    await rig.pbx.spy("150", "101", "barge")
    for _ in range(100):
        if len(rig.sim.chanspy_log) == 3:
            break
        await asyncio.sleep(0.02)
    assert [r.data for r in rig.sim.chanspy_log] == [
        "Local/101@ds-agents,qE", "Local/101@ds-agents,qwE", "Local/101@ds-agents,qBE"]
    assert all(r.channel == "Local/150@ds-agents" for r in rig.sim.chanspy_log)


# ---- issue 11: commit, then publish ------------------------------------------------------------
async def test_a_calls_events_never_precede_its_committed_row(rig: Rig) -> None:
    """Subscribe, and at each event read the row in the same step: `ended` finds the call closed,
    every earlier event finds it written; an inbound caller's client and the owner come with it."""
    from dialer.records import CallStateChanged, LiveState

    received: asyncio.Queue[CallStateChanged] = asyncio.Queue()
    rig.pbx.subscribe(lambda change, _at: received.put_nowait(change))
    async with rig.ledger._sessions.begin() as session:  # a known inbound caller
        from sqlalchemy import insert

        from service.db.models import Client, ClientContact, Expert
        client_id = await session.scalar(insert(Client).values(external_id="C-777", name="ООО «Семь»")
                                          .returning(Client.id))
        await session.execute(insert(ClientContact).values(client_id=client_id, full_name="Семёнов",
                                                           phone_e164="79115550777"))
        owner = await session.scalar(insert(Expert).values(login="maria", full_name="Мария", extension="101",
                                                           role="expert", active=True).returning(Expert.id))
    rig.sim.script("79115550101", Scenario.ANSWERED, expert_ring_s=0.5, ring_s=1, talk_s=2)
    await rig.pbx.originate("101", "79115550101", planned_call_id="PC-1", client_id="C-1")
    rig.sim.start_inbound("79115550777", "Семёнов", "101", scenario=Scenario.INBOUND_ANSWERED, ring_s=1, talk_s=2)
    ended: set[str] = set()
    seen: list[CallStateChanged] = []
    while len(ended) < 2:
        change = await asyncio.wait_for(received.get(), 30)
        row = await rig.ledger.get_call(change.linkedid)  # the same step: nothing else ran between
        assert row is not None, f"{change.state} published before the call was written"
        if change.state is LiveState.ENDED:
            assert not row.is_open, "ended published before the closed row was committed"
            ended.add(change.linkedid)
        assert change.saved and change.owner_id == owner
        seen.append(change)
    inbound = [c for c in seen if c.record.direction.value == "inbound"]
    assert inbound and all(c.record.client_id == "C-777" and c.record.client_name == "ООО «Семь»" for c in inbound)
    assert inbound[0].state is LiveState.RINGING  # the first event already names the client
