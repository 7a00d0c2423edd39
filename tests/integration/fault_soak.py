"""The ledger through faults, over real TCP: calls played by the simulator while the AMI user is
locked out, DS Desk is restarted and the PBX restarts; the ledger compared with the simulator's truth.

Used by tests/integration/test_ledger_cdr.py (small) and bench/ledger_faults.py (1,000 calls).
Calls are started on the PBX side (as an Expert dialling, or a client calling), so they also
start and end inside gaps, when DS Desk could not have originated them.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dialer.ami_options import AmiOptions
from dialer.cdr_sources import CdrFileSource
from dialer.pbx import OriginateConfig, Pbx
from dialer.records import GUESSED_QUALITY, Q_END_INFERRED, Q_FROM_CDR, Q_START_INFERRED, CallRecord, Outcome
from dialer.simulator import PbxSimulator, SimulatorConfig
from dialer.simulator.config import Scenario
from dialer.simulator.errors import SimulatorStateError
from dialer.simulator.truth import TruthRecord
from service.db.engine import create_engine, create_sessionmaker
from service.db.ledger import LedgerRepository

OUTBOUND = [Scenario.ANSWERED, Scenario.NO_ANSWER, Scenario.REJECTED, Scenario.BUSY, Scenario.CONGESTION,
            Scenario.CANCELLED, Scenario.EXPERT_HANGS_UP]
INBOUND = [Scenario.INBOUND_ANSWERED, Scenario.INBOUND_MISSED]
TOLERANCE_S = 1.0


@dataclass
class Plan:
    calls: int
    lockouts: int
    desk_restarts: int
    pbx_restarts: int
    with_cdr: bool
    seed: int = 1
    speed: float = 4.0
    concurrency: int = 20


@dataclass
class Verdict:
    """How the ledger compares with the truth."""

    truth: int = 0
    lost: list[str] = field(default_factory=list)  # in the truth, not in the ledger (and never flagged)
    lost_in_gaps: int = 0  # started and ended inside a gap: only a CDR could know them
    doubled: int = 0
    invented: list[str] = field(default_factory=list)
    exact: int = 0
    flagged: int = 0  # some field inexact, and flagged so
    unflagged_wrong: list[str] = field(default_factory=list)  # inexact but not flagged: a defect
    from_cdr: int = 0
    killed_by_restart: int = 0
    gaps: int = 0


class Desk:
    """DS Desk's PBX side, restartable, against one database."""

    def __init__(self, url: str, port: int, cdr_path: Path | None) -> None:
        self.url, self.port, self.cdr_path = url, port, cdr_path
        self.engine = create_engine(url)
        self.ledger = LedgerRepository(create_sessionmaker(self.engine))
        self.pbx: Pbx | None = None

    async def start(self) -> Pbx:
        options = AmiOptions(port=self.port, username="dsdesk", secret="dsdesk", backoff_min=0.02, backoff_max=0.2,
                             ping_interval=1.0, ping_timeout=3.0, action_timeout=5.0)
        cdr = None if self.cdr_path is None else CdrFileSource(self.cdr_path, UTC)
        self.pbx = Pbx(options, self.ledger, originate=OriginateConfig(expert_channel="Local/{ext}@ds-agents"),
                       cdr=cdr)
        await self.pbx.start()
        await self.pbx.connection.wait_connected(10)
        return self.pbx

    async def restart(self) -> None:
        assert self.pbx is not None
        await self.pbx.close()
        await self.start()

    async def settled(self, expected: int, timeout: float = 60) -> list[CallRecord]:
        assert self.pbx is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last, still_since = -1, loop.time()
        while True:
            records = await self.ledger.list_calls(None, limit=1_000_000)
            closed = len([r for r in records if not r.is_open])
            if closed != last:
                last, still_since = closed, loop.time()
            stable = loop.time() - still_since
            # A call a PBX restart killed has no CDR: its look-ups go on for a minute (the simulator
            # writes every row at once, so 8 s without news is all there is).
            quiet = self.pbx.stats().pending_writes == 0 and (self.pbx.cdr_waiting() == 0 or stable > 8.0)
            # Calls a PBX restart killed before DS Desk saw them never come: quiet for 2 s is done.
            if quiet and (closed >= expected or stable > 2.0) or loop.time() > deadline:
                return records
            await asyncio.sleep(0.1)

    async def close(self) -> None:
        if self.pbx is not None:
            await self.pbx.close()
        await self.engine.dispose()


async def run(plan: Plan, url: str, workdir: Path) -> Verdict:
    sim = PbxSimulator(SimulatorConfig(speed=plan.speed, seed=plan.seed, recordings_dir=workdir / "rec",
                                       dial_timeout_s=6, originate_timeout_s=5, restart_downtime_s=1.0))
    await sim.start()
    cdr_path = workdir / "cdr" / "dsdesk.csv" if plan.with_cdr else None
    if cdr_path is not None:
        sim.write_cdr(cdr_path)
    desk = Desk(url, sim.port, cdr_path)
    await desk.start()
    try:
        rng = random.Random(plan.seed)
        chaos = asyncio.create_task(_chaos(plan, sim, desk, rng))
        await _play(plan, sim, rng)
        await chaos
        await sim.wait_idle(timeout=120)
        records = await desk.settled(len(sim.truth))
        return judge(sim.truth, records, desk, chaos.result())
    finally:
        await desk.close()
        await sim.stop()


async def _play(plan: Plan, sim: PbxSimulator, rng: random.Random) -> None:
    for start in range(0, plan.calls, plan.concurrency):
        for i in range(start, min(start + plan.concurrency, plan.calls)):
            await _start_call(sim, rng, i)
            await asyncio.sleep(rng.uniform(0.0, 0.05))
        await sim.wait_idle(timeout=120)


async def _start_call(sim: PbxSimulator, rng: random.Random, i: int) -> None:
    ext, number = f"{100 + i % 60}", f"7911{5550000 + i:07d}"
    scenario = rng.choice(OUTBOUND + INBOUND)
    ring_s, talk_s = rng.uniform(1, 4), rng.uniform(2, 10)
    for _ in range(200):
        try:
            if scenario in INBOUND:
                sim.start_inbound(number, f"ООО Клиент {i}", ext, scenario=scenario, ring_s=ring_s, talk_s=talk_s)
            else:
                sim.start_outbound(ext, number, scenario=scenario, ring_s=ring_s, talk_s=talk_s,
                                   expert_ring_s=rng.uniform(0.5, 2),
                                   variables=(("PLANNED_CALL_ID", f"PC-{i}"), ("CLIENT_ID", f"C-{i}")))
            return
        except SimulatorStateError:  # the PBX is restarting: the call is placed again shortly
            await asyncio.sleep(0.05)
    raise AssertionError("the simulator never came back")


async def _chaos(plan: Plan, sim: PbxSimulator, desk: Desk, rng: random.Random) -> int:
    faults = (["lockout"] * plan.lockouts + ["desk"] * plan.desk_restarts + ["pbx"] * plan.pbx_restarts)
    rng.shuffle(faults)
    for fault in faults:
        await asyncio.sleep(rng.uniform(0.3, 1.5))
        if fault == "lockout":
            sim.lock_out(rng.uniform(2.0, 8.0))  # simulated seconds
        elif fault == "desk":
            await desk.restart()
        else:
            await sim.restart()
        assert desk.pbx is not None
        await desk.pbx.connection.wait_connected(30)
    return len(faults)


def judge(truth: dict[str, TruthRecord], records: list[CallRecord], desk: Desk, gaps: int) -> Verdict:
    verdict = Verdict(truth=len(truth), gaps=gaps)
    counts = Counter(r.linkedid for r in records)
    verdict.doubled = sum(n - 1 for n in counts.values())
    by_id = {r.linkedid: r for r in records}
    verdict.invented = sorted(set(by_id) - set(truth))
    for linkedid, t in truth.items():
        got = by_id.get(linkedid)
        if got is None:
            if t.ended_by == "restart":  # began and died inside a PBX restart's gap: no event, no CDR
                verdict.killed_by_restart += 1
            elif desk.cdr_path is None:
                verdict.lost_in_gaps += 1  # only a CDR could know it: counted, judged below
            else:
                verdict.lost.append(linkedid)
            continue
        verdict.from_cdr += Q_FROM_CDR in got.quality
        if t.ended_by == "restart":
            verdict.killed_by_restart += 1
        problems = _diff(t, got)
        uncovered = [text for name, text in problems if not COVERED_BY[name] & set(got.quality)]
        if not problems:
            verdict.exact += 1
        elif not uncovered:
            verdict.flagged += 1
        else:  # a field off that no flag of the record owns up to
            verdict.unflagged_wrong.append(f"{linkedid} {t.scenario} {got.quality}: {uncovered}")
    return verdict


# Which flags own up to a field being off; ids, number and recording have none: they must be right.
COVERED_BY: dict[str, frozenset[str]] = {
    "outcome": GUESSED_QUALITY, "answered_at": GUESSED_QUALITY, "ended_at": frozenset({Q_END_INFERRED}),
    "started_at": frozenset({Q_START_INFERRED}), "planned_call_id": frozenset(), "client_id": frozenset(),
    "recording": frozenset(), "expert_ext": frozenset(), "client_number": frozenset(),
}


def _diff(t: TruthRecord, got: CallRecord) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    expected = t.outcome
    if Q_FROM_CDR in got.quality and t.outcome is Outcome.REJECTED and got.outcome is Outcome.NO_ANSWER:
        expected = Outcome.NO_ANSWER  # what a CDR says of a reject DS Desk did not see (docs/asterisk.md)
    if got.outcome != expected:
        problems.append(("outcome", f"outcome {got.outcome} != {expected}"))
    for name in ("planned_call_id", "client_id", "recording", "expert_ext", "client_number"):
        if getattr(got, name) != getattr(t, name):
            problems.append((name, f"{name} {getattr(got, name)!r} != {getattr(t, name)!r}"))
    for name in ("started_at", "answered_at", "ended_at"):
        if not _close(getattr(got, name), getattr(t, name)):
            problems.append((name, f"{name} {getattr(got, name)} != {getattr(t, name)}"))
    return problems


def _close(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs((a - b).total_seconds()) <= TOLERANCE_S
