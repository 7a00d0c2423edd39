"""An Originate the PBX accepts and then fails reaches whoever asked, with Asterisk's Reason; over real TCP.

Asterisk answers an async Originate "queued" at once; the Expert's (or the supervisor's) phone failing
comes later as `OriginateResponse: Failure` with a Reason. The simulator plays both real failures:
the Expert's phone ringing out (Reason 3, the capture expert-phone-not-answered.ami) and a phone the
dialplan does not know (Reason 0). SQLite and PostgreSQL (the ledger is real).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dialer.originate_watch import OriginateFailure
from dialer.simulator.config import Scenario
from tests.integration.test_ledger_over_tcp import Rig, running_rig


@pytest.fixture
async def rig(migrated_db: str, tmp_path: Path) -> AsyncIterator[Rig]:
    async with running_rig(migrated_db, tmp_path) as started:
        yield started


async def heard_failures(rig: Rig) -> list[OriginateFailure]:
    heard: list[OriginateFailure] = []
    rig.pbx.subscribe_failures(heard.append)
    return heard


async def until(probe: object, what: str, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not probe():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def test_the_experts_phone_not_answering_reaches_who_clicked(rig: Rig) -> None:
    heard = await heard_failures(rig)
    rig.sim.script("79115550106", Scenario.EXPERT_NO_ANSWER, expert_ring_s=2)
    linkedid = await rig.pbx.originate("105", "79115550106", planned_call_id="PC-1006", requested_by=7)
    await until(lambda: heard, "the failure")
    assert [(f.kind, f.ext, f.target, f.requested_by, f.linkedid, f.reason) for f in heard] == [
        ("call", "105", "79115550106", 7, linkedid, 3)]
    assert rig.pbx.stats().awaited_verdicts == 0  # settled: nothing left watched


async def test_a_phone_the_dialplan_does_not_know_fails_with_reason_0(rig: Rig) -> None:
    heard = await heard_failures(rig)
    rig.sim.unknown_extensions.add("199")
    linkedid = await rig.pbx.originate("199", "79115550101", requested_by=3)
    await until(lambda: heard, "the failure")
    assert [(f.kind, f.ext, f.linkedid, f.reason, f.requested_by) for f in heard] == [
        ("call", "199", linkedid, 0, 3)]


async def test_a_supervisors_listen_in_from_an_unknown_phone_fails_with_reason_0(rig: Rig) -> None:
    heard = await heard_failures(rig)
    rig.sim.unknown_extensions.add("209")
    rig.sim.script("79115550101", Scenario.ANSWERED, expert_ring_s=0.2, ring_s=0.5, talk_s=30)
    await rig.pbx.originate("101", "79115550101")
    await until(lambda: rig.sim.live_call_for("101"), "maria's call")
    await rig.pbx.spy("209", "101", "listen", requested_by=11)
    await until(lambda: heard, "the failure")
    assert [(f.kind, f.ext, f.target, f.requested_by, f.reason, f.linkedid) for f in heard] == [
        ("spy", "209", "101", 11, 0, None)]
    assert rig.sim.chanspy_log == []


async def test_a_call_that_goes_through_is_no_failure(rig: Rig) -> None:
    heard = await heard_failures(rig)
    rig.sim.script("79115550102", Scenario.BUSY, expert_ring_s=0.2, ring_s=0.5)  # the client busy: not ours
    await rig.pbx.originate("102", "79115550102", requested_by=1)
    await rig.sim.wait_idle(10)
    await until(lambda: not rig.pbx.open_calls(), "the call to close")
    assert heard == [] and rig.pbx.stats().awaited_verdicts == 0
