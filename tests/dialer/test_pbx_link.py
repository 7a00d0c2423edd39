"""`Pbx.link_state()` over real TCP: connected, a refused login (wrong secret), an unreachable port, since when.

The built-in simulator is the PBX; the ledger's database is replaced by the in-memory store (the
process boundary). Listeners hear each change of status once, not each failed attempt.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from dialer.ami_options import AmiOptions
from dialer.link import LinkState, LinkStatus
from dialer.pbx import Pbx
from dialer.simulator import PbxSimulator, SimulatorConfig
from tests.dialer.test_tracker_review import MemoryStore


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def running_pbx(port: int, secret: str = "dsdesk") -> AsyncIterator[tuple[Pbx, list[LinkState]]]:
    options = AmiOptions(port=port, username="dsdesk", secret=secret, backoff_min=0.02, backoff_max=0.1,
                         connect_timeout=1.0, action_timeout=2.0, ping_interval=1.0)
    pbx = Pbx(options, MemoryStore())
    heard: list[LinkState] = []
    pbx.subscribe_link(heard.append)
    await pbx.start()
    try:
        yield pbx, heard
    finally:
        await pbx.close()


async def until(probe: object, what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def test_a_connected_link_says_so_and_since_when() -> None:
    async with PbxSimulator(SimulatorConfig(secret="dsdesk")) as sim:
        before = datetime.now(UTC)
        async with running_pbx(sim.port) as (pbx, heard):
            state = await pbx.wait_link_settled(5)
            assert state.status is LinkStatus.CONNECTED and state.connected
            assert state.since is not None and before <= state.since <= datetime.now(UTC)
            assert state.where == f"127.0.0.1:{sim.port}" and state.error is None
            assert [s.status for s in heard] == [LinkStatus.CONNECTED]


async def test_a_wrong_secret_is_a_refused_login_heard_once() -> None:
    async with PbxSimulator(SimulatorConfig(secret="the-real-one")) as sim:
        started = datetime.now(UTC)
        async with running_pbx(sim.port, secret="wrong") as (pbx, heard):
            state = await pbx.wait_link_settled(5)
            assert state.status is LinkStatus.LOGIN_REFUSED and not state.connected
            assert state.error is not None and "refused" in state.error
            assert state.since is not None and abs((state.since - started).total_seconds()) < 1
            await asyncio.sleep(0.5)  # several more refused attempts (back-off 0.02–0.1 s)
            assert [s.status for s in heard] == [LinkStatus.LOGIN_REFUSED]
            assert pbx.link_state().since == state.since  # down since the start, not since the last try


async def test_a_port_nobody_listens_on_is_unreachable() -> None:
    async with running_pbx(free_port()) as (pbx, heard):
        state = await pbx.wait_link_settled(5)
        assert state.status is LinkStatus.UNREACHABLE and state.error is not None
        assert [s.status for s in heard] == [LinkStatus.UNREACHABLE]


async def test_a_dropped_link_is_down_since_the_drop_and_up_again_when_the_pbx_is_back() -> None:
    port = free_port()
    async with running_pbx(port) as (pbx, heard):
        assert (await pbx.wait_link_settled(5)).status is LinkStatus.UNREACHABLE  # no PBX there yet
        async with PbxSimulator(SimulatorConfig(port=port)):
            await until(lambda: pbx.link_state().connected, "the link")
            await asyncio.sleep(0.2)
            dropped = datetime.now(UTC)
        await until(lambda: heard[-1].status is LinkStatus.UNREACHABLE, "the drop to be heard")
        down = pbx.link_state()
        assert down.since is not None and abs((down.since - dropped).total_seconds()) < 0.5
        async with PbxSimulator(SimulatorConfig(port=port)):
            await until(lambda: pbx.link_state().connected, "the link back")
        assert [s.status for s in heard] == [LinkStatus.UNREACHABLE, LinkStatus.CONNECTED,
                                             LinkStatus.UNREACHABLE, LinkStatus.CONNECTED]
