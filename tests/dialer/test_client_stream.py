"""AmiConnection traffic over real TCP: actions, lists, batched events, bad frames, concurrent sends."""

from __future__ import annotations

import asyncio
import threading

import pytest

from dialer import actions
from dialer.ami.message import Message
from dialer.client import AmiConnection
from dialer.errors import AmiActionError, AmiActionTimeout, AmiDisconnected, AmiListCancelled
from tests.dialer.fake_ami import (
    CORE_SHOW_CHANNEL_ITEMS,
    FakeAction,
    FakeAmi,
    FakeSession,
    capture_body,
    count_event_frames,
    eventually,
    frame,
)
from tests.dialer.fake_ami_consumer import Connector, Recorder, options


async def test_action_resolves_with_its_response(fake: FakeAmi, connect: Connector) -> None:
    conn = await connect(fake)
    pong = await conn.action("Ping")
    assert pong["Ping"] == "Pong" and pong["ActionID"] == fake.received("Ping")[0].action_id
    await conn.close()


async def test_error_response_raises_with_the_message(fake: FakeAmi, connect: Connector) -> None:
    conn = await connect(fake)
    with pytest.raises(AmiActionError, match="No such channel") as caught:
        await conn.perform(actions.hangup("PJSIP/999-0001"))
    assert caught.value.response["Response"] == "Error"
    await conn.close()


async def test_timeout_raises_and_leaks_no_pending_future() -> None:
    async with FakeAmi(silent={"Command"}) as fake:
        conn = AmiConnection(options(fake))
        await conn.start()
        await conn.wait_connected(3.0)
        with pytest.raises(AmiActionTimeout, match="Command"):
            await conn.action("Command", Command="core show uptime", timeout=0.2)
        assert conn.pending_actions == 0 and conn.connected
        await conn.close()


async def test_a_drop_fails_pending_actions_as_disconnected() -> None:
    async with FakeAmi(silent={"Command"}) as fake:
        conn = AmiConnection(options(fake))
        await conn.start()
        await conn.wait_connected(3.0)
        waiting = asyncio.create_task(conn.action("Command", Command="core show uptime", timeout=5.0))
        await eventually(lambda: fake.received("Command") != [])
        fake.sessions[0].drop()
        with pytest.raises(AmiDisconnected):
            await waiting
        assert conn.pending_actions == 0
        await conn.close()


async def test_list_action_gathers_the_items_by_action_id(fake: FakeAmi, connect: Connector) -> None:
    conn = await connect(fake)
    response, items = await conn.list_action("CoreShowChannels")
    assert response["EventList"] == "start"
    assert [i["Channel"] for i in items] == [
        "Local/longtalk@clients-0000001a;2", "Local/longtalk@clients-0000001a;1",
        "Local/121@agents-00000019;1", "Local/121@agents-00000019;2",
    ]
    assert len(items) == len(CORE_SHOW_CHANNEL_ITEMS)
    assert {i["ActionID"] for i in items} == {fake.received("CoreShowChannels")[0].action_id}
    await conn.close()


async def test_a_cancelled_or_refused_list_raises(fake: FakeAmi, connect: Connector) -> None:
    async def cancelled(session: FakeSession, action: FakeAction) -> bytes:
        aid = f"ActionID: {action.action_id}"
        return (frame("Response: Success", aid, "EventList: start") + frame("Event: Status", aid, "Channel: a")
                + frame("Event: StatusComplete", aid, "EventList: cancelled"))

    async def refused(session: FakeSession, action: FakeAction) -> bytes:
        return frame("Response: Error", f"ActionID: {action.action_id}", "Message: Permission denied")

    fake.handlers.update(Status=cancelled, QueueStatus=refused)
    conn = await connect(fake)
    with pytest.raises(AmiListCancelled):
        await conn.list_action("Status")
    with pytest.raises(AmiActionError, match="Permission denied"):
        await conn.list_action("QueueStatus")
    assert conn.pending_actions == 0
    await conn.close()


async def test_replaying_a_capture_delivers_every_event_frame_in_few_batches(
    fake: FakeAmi, connect: Connector, rec: Recorder
) -> None:
    conn = await connect(fake)
    body = capture_body("answered.ami")
    before, batches_before = len(rec.events), len(rec.batch_sizes)
    await fake.sessions[0].write(body)  # ends with the capture's own `Response: Goodbye`
    expected = count_event_frames(body)
    await eventually(lambda: rec.connected == [False, True])  # Goodbye was a disconnect; we came back
    assert rec.events_at_disconnect[0] - before == expected == 146
    assert len(rec.batch_sizes) - batches_before <= 8  # one loop callback per received chunk, not per event
    assert rec.threads == {threading.current_thread().name}
    assert "Goodbye" in str(rec.disconnected[0])
    await conn.close()


async def test_garbage_and_oversized_frames_are_logged_and_skipped(
    fake: FakeAmi, connect: Connector, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    conn = await connect(fake, max_frame_bytes=8192)
    garbage = b"\x00\xff\xfe no colon here\r\n\r\njust words\r\n\r\n"
    oversized = frame("Event: Huge", "Data: " + "x" * 200_000)  # spans several reads
    await fake.sessions[0].write(garbage + oversized + frame("Event: Hangup", "Uniqueid: 1.1", "Cause: 16"))
    await eventually(lambda: rec.named("Hangup") != [])
    assert rec.named("Huge") == []
    assert "unparsable AMI frame" in caplog.text and "exceeds the 8192-byte limit" in caplog.text
    assert (await conn.action("Ping"))["Ping"] == "Pong" and rec.disconnected == []
    await conn.close()


async def test_a_cp1251_caller_name_is_decoded_and_logged_never_dropped(
    fake: FakeAmi, connect: Connector, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    conn = await connect(fake)
    name = "ООО Ромашка".encode("cp1251")
    await fake.sessions[0].write(
        frame("Event: Newchannel", b"CallerIDName: " + name, "Uniqueid: 1.7") + frame("Event: Hangup", "Uniqueid: 1.7")
    )
    await eventually(lambda: rec.named("Hangup") != [])
    (newchannel,) = rec.named("Newchannel")
    assert newchannel["CallerIDName"] == "ООО Ромашка" and newchannel.encoding == "cp1251"
    assert "decoded as cp1251" in caplog.text
    await conn.close()


async def test_a_raising_consumer_does_not_stop_delivery(fake: FakeAmi, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    def consumer(batch: list[Message], received_at: float) -> None:
        seen.extend(m.name or "" for m in batch)
        raise RuntimeError("consumer bug")

    conn = AmiConnection(options(fake), on_events=consumer)
    await conn.start()
    await conn.wait_connected(3.0)
    for n in range(3):
        await fake.sessions[0].write(frame("Event: Newstate", f"Uniqueid: 1.{n}"))
        await eventually(lambda: seen.count("Newstate") == n + 1)  # noqa: B023 (awaited within the iteration)
    assert conn.connected
    assert caplog.text.count("on_events consumer failed") >= 3  # caught and logged by us, not by asyncio
    await conn.close()


async def test_batches_async_iterator_yields_events(fake: FakeAmi, connect: Connector) -> None:
    conn = await connect(fake)
    stream = conn.batches()
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    await fake.sessions[0].write(frame("Event: Hangup", "Uniqueid: 1.2"))
    batch, received_at = await asyncio.wait_for(first, 2.0)
    assert [m.name for m in batch] == ["Hangup"] and received_at > 0
    await conn.close()
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_concurrent_large_originates_reach_the_server_intact(fake: FakeAmi, connect: Connector) -> None:
    fake.read_delay = 0.3  # the server stalls, so the socket buffers fill and sends overlap
    conn = await connect(fake, send_threads=16)

    async def originate(i: int) -> Message:
        variables = {f"V{j}": f"{i}-{j}-" + "y" * 3000 for j in range(30)}
        return await conn.action("Originate", Channel=f"PJSIP/{i}", Context="ds-outbound", Exten="100",
                                 Async="true", variables=variables, timeout=5.0)

    responses = await asyncio.gather(*(originate(i) for i in range(50)))
    assert all(r["Message"] == "Originate successfully queued" for r in responses)
    received = fake.received("Originate")
    assert len(received) == 50
    for action in received:
        i = action.get("Channel").removeprefix("PJSIP/")
        assert action.all("Variable") == [f"V{j}={i}-{j}-" + "y" * 3000 for j in range(30)]
    await conn.close()
