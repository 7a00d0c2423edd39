"""Fault injection: dropped sockets, a PBX restart, raw bytes; and many clients at once."""

from __future__ import annotations

import asyncio

import pytest

from dialer.ami.framing import OversizedFrame
from dialer.simulator import PbxSimulator, Scenario
from tests.simulator.amiclient import AmiTestClient, eventually


async def _expect_closed(client: AmiTestClient) -> None:
    with pytest.raises((ConnectionResetError, ConnectionError)):
        while True:
            await client.next_frame(timeout=2)


async def test_drop_connections_keeps_calls_going(sim: PbxSimulator, client: AmiTestClient) -> None:
    truth = sim.start_outbound("101", "79110000010", scenario=Scenario.ANSWERED, ring_s=2, talk_s=600,
                               caller_name="Эксперт")
    await eventually(lambda: truth.answered_at is not None)
    sim.drop_connections()
    await _expect_closed(client)
    assert truth.is_open
    again = await AmiTestClient.connect(sim.port)
    await again.login()
    await again.send("CoreShowChannels", ActionID="c")
    listed = await again.until(lambda m: m.get("Event") == "CoreShowChannelsComplete")
    assert {m["Linkedid"] for m in listed if m.get("Event") == "CoreShowChannel"} == {truth.linkedid}
    hangups = await again.until(lambda m: m.get("Event") == "Hangup" and "@ds-agents-" in m["Channel"]
                                and m["Channel"].endswith(";2"))
    assert hangups[-1]["Linkedid"] == truth.linkedid
    await sim.wait_idle()
    assert truth.ended_by == "pbx" and truth.outcome == "answered"
    await again.close()


async def test_restart_loses_calls_silently_and_changes_startup(sim: PbxSimulator, client: AmiTestClient) -> None:
    await client.send("CoreStatus", ActionID="s-1")
    before = await client.response("s-1")
    truth = sim.start_outbound("101", "79110000011", scenario=Scenario.ANSWERED, ring_s=2, talk_s=60)
    await eventually(lambda: truth.answered_at is not None)
    await sim.restart()
    await _expect_closed(client)
    assert truth.ended_by == "restart" and truth.ended_at is not None and truth.outcome == "answered"
    again = await AmiTestClient.connect(sim.port)
    assert (await again.login())["Message"] == "Authentication accepted"
    booted = await again.next_message()
    assert booted["Event"] == "FullyBooted" and int(booted["Uptime"]) < 60  # restart_pause_real_s × speed
    await again.send("CoreStatus", ActionID="s-2")
    after = await again.response("s-2")
    startup = ("CoreStartupDate", "CoreStartupTime")
    assert [after[k] for k in startup] != [before[k] for k in startup]
    assert after["CoreCurrentCalls"] == "0"
    await again.send("CoreShowChannels", ActionID="c")
    listed = await again.until(lambda m: m.get("Event") == "CoreShowChannelsComplete")
    assert listed[-1]["ListItems"] == "0"
    await asyncio.sleep(0.15)  # longer than the rest of the call would have taken
    leftovers = [m for m in await again.drain(0.05) if m.get("Linkedid") == truth.linkedid]
    assert leftovers == []  # the PBX died: nobody hears the call end
    await again.close()


async def test_inject_raw_reaches_every_client(sim: PbxSimulator, client: AmiTestClient) -> None:
    other = await AmiTestClient.connect(sim.port)  # not even logged in
    name_cp1251 = "ООО Ромашка".encode("cp1251")
    garbage = b"Event: Newchannel\r\nCallerIDName: " + name_cp1251 + b"\r\n\r\n"
    sim.inject_raw(b"\x00\xffnot ami at all\r\n\r\n" + garbage + b"X" * 300_000 + b"\r\n\r\n")
    for receiver in (client, other):
        frames = [await receiver.next_frame() for _ in range(3)]
        assert frames[0] == b"\x00\xffnot ami at all"
        assert frames[1] == garbage[:-4]
        assert isinstance(frames[2], OversizedFrame)
    await other.close()


async def test_many_clients_get_every_event_unmixed(sim: PbxSimulator) -> None:
    clients = [await AmiTestClient.connect(sim.port) for _ in range(6)]
    for c in clients:
        await c.login()
    for n in range(4):
        sim.start_outbound(f"10{n}", f"7911000002{n}", scenario=Scenario.ANSWERED, ring_s=2, talk_s=5)
    sim.start_inbound("79110000030", "ИП Тест", "109", ring_s=1, talk_s=4)
    await sim.wait_idle()
    counts = []
    for c in clients:
        events = [m for m in await c.drain(0.05) if m.get("Event") not in (None, "FullyBooted", "SuccessfulAuth")]
        assert all(m.get("Privilege") for m in events)  # every frame parsed whole: no interleaving
        counts.append(len(events))
        await c.close()
    assert len(set(counts)) == 1 and counts[0] > 5 * 80
