"""DsAmiClient, the asterisk-ami subclass: each library defect we override, over real TCP."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from asterisk.ami.action import Action
from asterisk.ami.response import FutureResponse, Response

from dialer.ami.message import Message
from dialer.ami_client import DEFAULT_BUFFER_SIZE, DsAmiClient
from dialer.errors import AmiBannerError, AmiConnectionError
from tests.dialer.fake_ami import FakeAmi, FakeSession, eventually, frame


class Sink:
    """Collects what the reader thread hands over."""

    def __init__(self) -> None:
        self.batches: list[list[Message]] = []
        self.closed: list[BaseException | None] = []

    def on_batch(self, batch: list[Message], received_at: float) -> None:
        self.batches.append(batch)

    def on_closed(self, error: BaseException | None) -> None:
        self.closed.append(error)

    @property
    def events(self) -> list[Message]:
        return [m for batch in self.batches for m in batch if "Event" in m]



async def connected(fake: FakeAmi, sink: Sink, **kwargs: Any) -> tuple[DsAmiClient, FakeSession]:
    client = DsAmiClient("127.0.0.1", fake.port, on_batch=sink.on_batch, on_closed=sink.on_closed, **kwargs)
    await asyncio.to_thread(client.connect)
    return client, await fake.session(len(fake.sessions) - 1 if fake.sessions else 0)


def run_threads(target: Callable[[int], None], count: int) -> None:
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def event(name: str, n: int) -> bytes:
    return frame(f"Event: {name}", "Privilege: call,all", f"Uniqueid: 1.{n}")


async def test_buffer_size_defaults_to_64_kib_and_is_configurable(fake: FakeAmi) -> None:
    assert DsAmiClient()._buffer_size == DEFAULT_BUFFER_SIZE == 64 * 1024
    assert DsAmiClient(buffer_size=4096)._buffer_size == 4096


async def test_reads_block_instead_of_inheriting_the_connect_timeout(fake: FakeAmi) -> None:
    sink = Sink()
    client, _ = await connected(fake, sink, connect_timeout=0.2)
    try:
        assert client._socket.gettimeout() is None
        await asyncio.sleep(0.5)  # idle for longer than the connect timeout
        assert not client.finished.is_set() and sink.closed == []
    finally:
        await asyncio.to_thread(client.disconnect)


async def test_a_peer_that_is_not_ami_gets_a_clear_banner_error() -> None:
    async with FakeAmi(banner=b"SSH-2.0-OpenSSH_9.2\r\n") as fake:
        client = DsAmiClient("127.0.0.1", fake.port)
        with pytest.raises(AmiBannerError, match="not an AMI server.*SSH-2.0"):
            await asyncio.to_thread(client.connect)


async def test_a_silent_peer_gets_a_banner_timeout() -> None:
    async with FakeAmi(banner=None) as fake:
        client = DsAmiClient("127.0.0.1", fake.port, connect_timeout=0.3)
        with pytest.raises(AmiBannerError, match="no AMI banner"):
            await asyncio.to_thread(client.connect)


@pytest.mark.timeout(10)
async def test_a_banner_trickled_byte_by_byte_gets_the_same_timeout() -> None:
    """The timeout was per read: one byte every 0.1 s stretched a 0.5 s timeout to the whole banner."""
    async with FakeAmi(trickle_banner_s=0.1) as fake:
        client = DsAmiClient("127.0.0.1", fake.port, connect_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(AmiBannerError, match=r"no AMI banner from .* within 0.5 s \(got b'Aster"):
            await asyncio.to_thread(client.connect)
        assert time.monotonic() - started < 1.5


async def test_a_peer_that_closes_mid_frame_says_so(fake: FakeAmi) -> None:
    sink = Sink()
    client, session = await connected(fake, sink)
    cut_short = b"Event: Hangup\r\nUniqueid: 1.1\r\nCau"
    await session.write(event("Newchannel", 1) + cut_short)
    await eventually(lambda: len(sink.events) == 1)
    session.writer.close()
    await eventually(lambda: len(sink.closed) == 1)
    assert isinstance(sink.closed[0], AmiConnectionError)
    assert f"in the middle of a frame ({len(cut_short)} bytes of it dropped)" in str(sink.closed[0])
    await asyncio.to_thread(client.disconnect)


async def test_a_peer_that_hangs_up_before_the_banner_is_a_connection_error() -> None:
    async with FakeAmi(drop_first=1) as fake:
        with pytest.raises(AmiConnectionError, match="before the AMI banner"):
            await asyncio.to_thread(DsAmiClient("127.0.0.1", fake.port).connect)


async def test_raising_listeners_do_not_stop_the_reader(fake: FakeAmi) -> None:
    sink = Sink()
    client, session = await connected(fake, sink)
    seen: list[str] = []

    def explode(event: object, source: object) -> None:
        seen.append(event.name)  # type: ignore[attr-defined]  # the library's Event or Response
        raise RuntimeError("listener bug")

    client.add_event_listener(explode)
    client.add_listener(on_event=explode, on_response=explode)
    try:
        for n in range(3):
            await session.write(event("Newchannel", n))
            await eventually(lambda: len(sink.events) == n + 1)  # noqa: B023 (awaited within the iteration)
        await session.write(frame("Response: Success", "ActionID: x", "Ping: Pong"))
        await eventually(lambda: len(sink.batches) == 4)
        assert seen == ["Newchannel"] * 6
        assert client._thread.is_alive() and sink.closed == []
    finally:
        await asyncio.to_thread(client.disconnect)


@pytest.mark.filterwarnings("ignore:notifyAll:DeprecationWarning")  # the library's own FutureResponse
async def test_future_response_survives_a_raising_callback() -> None:
    def callback(response: Response) -> None:
        raise RuntimeError("callback bug")

    future = FutureResponse(callback, timeout=0.1)
    future.response = Response("Success", {"ActionID": "1"})  # the library's bare `traceback` would NameError here
    assert future.response.status == "Success"


async def test_concurrent_threads_send_intact_frames(fake: FakeAmi) -> None:
    sink = Sink()
    fake.read_delay = 0.2  # the server stalls at first, so every send has to wait for buffer space
    client, session = await connected(fake, sink)
    client._socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # a tiny buffer: frames go out in pieces
    big = {f"V{j}": "x" * 1000 for j in range(100)}  # ~100 KB per frame: large enough to interleave

    def sender(t: int) -> None:
        for i in range(4):
            client.send(Action("Originate", {"Channel": f"PJSIP/{t}-{i}", "ActionID": f"{t}-{i}"}, big))

    try:
        await asyncio.to_thread(run_threads, sender, 16)
        await eventually(lambda: len(session.actions) == 64)
        for action in session.actions:
            assert action.get("Channel") == f"PJSIP/{action.action_id}"
            assert action.all("Variable") == [f"V{j}={'x' * 1000}" for j in range(100)]
    finally:
        await asyncio.to_thread(client.disconnect)


async def test_goodbye_ends_the_connection_with_a_reason(fake: FakeAmi) -> None:
    sink = Sink()
    client, session = await connected(fake, sink)
    await session.write(frame("Response: Goodbye", "Message: Thanks for all the fish."))
    await eventually(lambda: len(sink.closed) == 1)
    assert isinstance(sink.closed[0], AmiConnectionError) and "Goodbye" in str(sink.closed[0])
    await asyncio.to_thread(client.disconnect)
    assert not client._thread.is_alive()


async def test_a_frame_that_is_neither_event_nor_response_goes_to_on_unknown(fake: FakeAmi) -> None:
    sink = Sink()
    client, session = await connected(fake, sink)
    unknown: list[object] = []
    client.add_listener(on_unknown=lambda source, pack: unknown.append(pack))
    try:
        await session.write(frame("Foo: bar") + event("Hangup", 1))
        await eventually(lambda: len(sink.events) == 1)
        assert unknown == [{"Foo": "bar"}]
        assert client.stats.garbage == 1
    finally:
        await asyncio.to_thread(client.disconnect)


async def test_disconnect_stops_the_reader_thread_promptly(fake: FakeAmi) -> None:
    sink = Sink()
    client, _ = await connected(fake, sink)
    await asyncio.to_thread(client.disconnect)
    assert not client._thread.is_alive()
    assert sink.closed == [None]  # a local disconnect is not an error
