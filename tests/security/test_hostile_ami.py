"""A hostile AMI peer, over real TCP against the real client: the probe's F9 and its relatives.

A `HostilePeer` stands between DS Desk and the simulator PBX and forwards faithfully until told to
misbehave: inject garbage or an oversized frame cut at its terminator, trickle one byte at a time,
cut a frame in half and hang up. Each test asserts the desk keeps running, says in a log line what
was wrong, and loses no call record. Runs on SQLite only: the database is not what is probed here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dialer.ami.message import Message
from dialer.client import AmiConnection
from dialer.records import Q_END_INFERRED, Outcome
from tests.dialer.fake_ami import FakeAmi, eventually
from tests.dialer.fake_ami_consumer import options
from tests.integration.test_ledger_faults import capture_events_cp1251
from tests.integration.test_ledger_over_tcp import Rig, assert_matches, running_rig, settled_records

FRAME_END = b"\r\n\r\n"
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


class Splice:
    """One connection DS Desk opened, spliced to its own connection to the PBX."""

    def __init__(self, desk: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                 pbx: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        (self._desk_r, self._desk_w), (self._pbx_r, self._pbx_w) = desk, pbx
        self._held = bytearray()  # the PBX's bytes not yet passed on
        self._lock = asyncio.Lock()  # a write to the desk is whole frames, or what a test injects
        self._banner_done = False
        self._trickling = asyncio.Event()
        self._trickle_s = 0.0
        self._cut = False
        self.closed = asyncio.Event()

    async def run(self) -> None:
        tasks = [asyncio.create_task(job) for job in (self._to_pbx(), self._to_desk(), self._trickle())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.abort()
            self.closed.set()

    def abort(self) -> None:
        for writer in (self._desk_w, self._pbx_w):
            writer.transport.abort()

    async def inject(self, *pieces: bytes, pause: float = 0.1) -> None:
        """Send `pieces` between two of the PBX's frames, each on its own, `pause` apart."""
        async with self._lock:
            for piece in pieces:
                self._desk_w.write(piece)
                await self._desk_w.drain()
                await asyncio.sleep(pause)

    def trickle(self, interval: float) -> None:
        """From now on pass the PBX's bytes on one every `interval` seconds."""
        self._trickle_s = interval
        self._trickling.set()

    def cut_next_frame(self) -> None:
        """Pass on half of the PBX's next frame, then hang up (FIN, not reset)."""
        self._cut = True

    async def _to_pbx(self) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await self._desk_r.read(65536):
                self._pbx_w.write(data)
                await self._pbx_w.drain()

    async def _to_desk(self) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await self._pbx_r.read(65536):
                self._held += data
                if not self._trickling.is_set() and not await self._pass_whole_frames():
                    return

    async def _pass_whole_frames(self) -> bool:
        async with self._lock:
            whole = self._whole()
            if not whole:
                return True
            out = bytes(self._held[:whole])
            del self._held[:whole]
            if self._cut:
                first = out.find(FRAME_END) + len(FRAME_END)
                self._desk_w.write(out[: first // 2])
                await self._desk_w.drain()
                self._desk_w.close()
                return False
            self._desk_w.write(out)
            await self._desk_w.drain()
            return True

    def _whole(self) -> int:
        """How many held bytes end on a frame boundary (the banner is a line of its own)."""
        start = 0
        if not self._banner_done:
            line = self._held.find(b"\r\n")
            if line < 0:
                return 0
            start, self._banner_done = line + 2, True
        last = self._held.rfind(FRAME_END, start)
        return last + len(FRAME_END) if last >= 0 else start

    async def _trickle(self) -> None:
        await self._trickling.wait()
        with contextlib.suppress(ConnectionError):
            while True:
                if self._held:
                    self._desk_w.write(bytes(self._held[:1]))
                    del self._held[:1]
                    await self._desk_w.drain()
                await asyncio.sleep(self._trickle_s)


class HostilePeer:
    """A TCP peer in front of the PBX: each connection from DS Desk becomes a `Splice`."""

    def __init__(self) -> None:
        self.splices: list[Splice] = []
        self._server: asyncio.Server | None = None
        self._pbx_port = 0

    async def start(self, pbx_port: int) -> int:
        self._pbx_port = pbx_port
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for splice in self.splices:
            splice.abort()
            await asyncio.wait_for(splice.closed.wait(), 2.0)

    @property
    def current(self) -> Splice:
        return self.splices[-1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            pbx = await asyncio.open_connection("127.0.0.1", self._pbx_port)
        except OSError:
            writer.transport.abort()
            return
        splice = Splice((reader, writer), pbx)
        self.splices.append(splice)
        await splice.run()


@contextlib.asynccontextmanager
async def rig_behind(peer: HostilePeer, migrated_db: str, tmp_path: Path, **kwargs: Any) -> AsyncIterator[Rig]:
    """The ledger rig with `peer` between DS Desk and the simulator PBX."""
    try:
        async with running_rig(migrated_db, tmp_path, via=peer.start, **kwargs) as rig:
            yield rig
    finally:
        await peer.close()


async def wait_answered(rig: Rig) -> None:
    """Until the desk has seen a call answered (the simulator's clock runs on its own)."""
    await eventually(lambda: any(c.answered_at is not None for c in rig.pbx.open_calls()))


def warnings_saying(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and text in r.getMessage()]


@pytest.mark.timeout(30)
@sqlite_only
async def test_garbage_between_frames_is_logged_and_skipped(migrated_db: str, tmp_path: Path, caplog) -> None:
    rng = random.Random(9)
    noise = bytes(rng.randrange(256) for _ in range(3000)).replace(FRAME_END, b"")
    garbage = [b"\x00\xff\xfe garbage\r\n\r\n", noise + FRAME_END, b"\r\n\r\n\r\n\r\n", b":\r\n: :\r\n\r\n",
               b"no colon at all\r\nnor here\r\n\r\n", b"Foo: bar\r\n\r\n"]
    peer = HostilePeer()
    async with rig_behind(peer, migrated_db, tmp_path, speed=4.0) as rig:
        truth = rig.sim.start_outbound("101", "79115550101", scenario="answered", ring_s=1, talk_s=4)
        await wait_answered(rig)
        await peer.current.inject(*garbage)
        await rig.sim.wait_idle()
        records = await settled_records(rig, 1)
        got = records[truth.linkedid]
        assert got.outcome is Outcome.ANSWERED and got.quality == ()
        assert_matches(truth, got, tolerance=0.01)
        assert rig.pbx.connection.connected and len(peer.splices) == 1  # never dropped
    assert warnings_saying(caplog, "unparsable AMI frame") and warnings_saying(caplog, "neither Event nor Response")


@pytest.mark.timeout(30)
@sqlite_only
@pytest.mark.parametrize("cut", [b"\r\n", b"\r\n\r", b"\r", b""],
                         ids=["crlf|crlf", "crlfcr|lf", "cr|lfcrlf", "|crlfcrlf"])
async def test_an_oversized_frame_cut_at_its_terminator_loses_no_following_frame(
    migrated_db: str, tmp_path: Path, caplog, cut: bytes
) -> None:
    """F9a: with the terminator split over two reads, the frame after an oversized one was dropped."""
    huge = b"Event: Newexten\r\nAppData: " + b"x" * 400_000
    marker = b"Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: right-after-the-oversized-frame\r\n\r\n"
    call = capture_events_cp1251("inbound-answered.ami")  # a whole call, after the marker
    peer = HostilePeer()
    async with rig_behind(peer, migrated_db, tmp_path) as rig, copying_events(rig.pbx.connection) as seen:
        await peer.current.inject(huge + cut, FRAME_END[len(cut):] + marker + call)
        records = await settled_records(rig, 1)
        inbound = records["1795824108.57"]
        assert inbound.client_name == "ООО Ромашка" and inbound.outcome is Outcome.ANSWERED
        assert inbound.talk_s == pytest.approx(8.0, abs=0.01)
        assert rig.pbx.connection.connected and len(peer.splices) == 1
    assert [m.get("UserEvent") for m in seen if m.name == "UserEvent"] == ["right-after-the-oversized-frame"]
    sent = [f for f in call.split(FRAME_END) if f]
    assert [m.name for m in seen if m.get("Linkedid") == "1795824108.57"] == [
        f.split(b"\r\n", 1)[0].decode()[len("Event: "):]
        for f in sent if b"\r\nLinkedid: 1795824108.57\r\n" in f + b"\r\n"]
    assert warnings_saying(caplog, f"AMI frame of {len(huge)} bytes")


@contextlib.asynccontextmanager
async def copying_events(connection: AmiConnection) -> AsyncIterator[list[Message]]:
    """Every event the connection delivers from now until it closes, through its public `batches()`."""
    seen: list[Message] = []

    async def collect() -> None:
        async for batch, _ in connection.batches():
            seen.extend(batch)

    task = asyncio.create_task(collect())
    await asyncio.sleep(0)  # subscribed from here on
    try:
        yield seen
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.timeout(30)
@sqlite_only
async def test_a_trickling_peer_is_dropped_within_the_bound_and_its_open_call_is_closed(
    migrated_db: str, tmp_path: Path, caplog
) -> None:
    """F9b: a byte every 0.3 s (more often than the ping timeout) kept the link 'connected', Pings unanswered."""
    peer = HostilePeer()
    fast = dict(ping_interval=0.3, ping_timeout=1.0, action_timeout=2.0)
    async with rig_behind(peer, migrated_db, tmp_path, speed=4.0, **fast) as rig:
        truth = rig.sim.start_outbound("101", "79115550101", scenario="answered", ring_s=1, talk_s=4)
        await wait_answered(rig)
        before, trickling_since = rig.sim.clock.now(), time.monotonic()
        peer.current.trickle(0.3)  # the call's Hangup is now stuck behind the trickle
        await eventually(lambda: not rig.pbx.connection.connected, timeout=10.0)
        # ping interval + action timeout + slack for a loaded machine (the old code never dropped it)
        assert time.monotonic() - trickling_since < 0.3 + 2.0 + 3.0
        await rig.pbx.connection.wait_connected(5)  # the next connection behaves
        gap = rig.sim.clock.now() - before
        assert len(peer.splices) == 2
        await rig.sim.wait_idle()
        records = await settled_records(rig, 1)
        got = records[truth.linkedid]
        assert Q_END_INFERRED in got.quality  # the Hangup fell into the gap: closed from the channel list
        assert_matches(truth, got, tolerance=gap + 1.0)
    lost = warnings_saying(caplog, "no Pong within 2.0 s although bytes kept arriving")
    assert lost and "connection dead" in lost[0]


@pytest.mark.timeout(30)
@sqlite_only
async def test_a_peer_that_hangs_up_mid_frame_loses_no_call(migrated_db: str, tmp_path: Path, caplog) -> None:
    peer = HostilePeer()
    async with rig_behind(peer, migrated_db, tmp_path, speed=4.0) as rig:
        truth = rig.sim.start_outbound("101", "79115550101", scenario="answered", ring_s=1, talk_s=4)
        await wait_answered(rig)
        before = rig.sim.clock.now()
        peer.current.cut_next_frame()  # the next frame is the call's: its Hangup or one before it
        await eventually(lambda: len(peer.splices) == 2 and rig.pbx.connection.connected, timeout=10.0)
        gap = rig.sim.clock.now() - before
        await rig.sim.wait_idle()
        records = await settled_records(rig, 1)
        got = records[truth.linkedid]
        assert got.outcome is Outcome.ANSWERED
        assert_matches(truth, got, tolerance=(gap + 1.0) if Q_END_INFERRED in got.quality else 1.0)
    assert warnings_saying(caplog, "closed the connection in the middle of a frame")


@pytest.mark.timeout(20)
async def test_a_peer_that_never_answers_login_is_retried_and_reported(caplog) -> None:
    async with FakeAmi(silent={"Login"}) as fake:
        conn = AmiConnection(options(fake, action_timeout=0.3))
        await conn.start()
        await eventually(lambda: len(fake.received("Login")) >= 3, timeout=10.0)
        assert not conn.connected
        said = warnings_saying(caplog, "got no response within 0.3 s")
        assert said and all("unavailable (AMI Login" in line and "reconnecting in" in line for line in said)
        fake.silent.clear()  # the peer behaves again
        await conn.wait_connected(5.0)
        await conn.close()
