"""AMI actions over real TCP: login variants, Ping, CoreStatus, CoreShowChannels, Hangup, Events, Filter."""

from __future__ import annotations

import hashlib
from pathlib import Path

from dialer.ami.framing import FrameSplitter
from dialer.ami.message import Message, parse_frame
from dialer.simulator import PbxSimulator, Scenario, TruthRecord
from tests.simulator.amiclient import AmiTestClient, eventually
from tests.simulator.conftest import EPOCH

PROBE = Path(__file__).resolve().parents[1] / "fixtures" / "ami" / "asterisk-22" / "status-probe.ami"


def probe_messages() -> list[Message]:
    frames = FrameSplitter().feed(PROBE.read_bytes())
    return [parse_frame(f) for f in frames[1:] if isinstance(f, bytes)]


def keys(message: Message) -> list[str]:
    return list(message.keys())


async def originate(client: AmiTestClient, ext: str, number: str, action_id: str = "o-1") -> Message:
    await client.send("Originate", ActionID=action_id, Channel=f"Local/{ext}@ds-agents", Context="ds-outbound",
                      Exten=number, Priority="1", Async="true", CallerID=f'"Эксперт" <{ext}>',
                      Variable=["PLANNED_CALL_ID=PC-9", "CLIENT_ID=C-9"])
    return await client.response(action_id)


async def talking_call(sim: PbxSimulator, client: AmiTestClient, talk_s: float = 300) -> TruthRecord:
    sim.script("79110000001", Scenario.ANSWERED, ring_s=2, talk_s=talk_s)
    await originate(client, "101", "79110000001")
    await eventually(lambda: sim.truth and next(iter(sim.truth.values())).answered_at is not None)
    return next(iter(sim.truth.values()))


async def test_banner_and_fully_booted(sim: PbxSimulator) -> None:
    client = await AmiTestClient.connect(sim.port)
    assert client.banner == b"Asterisk Call Manager/11.0.0"
    assert bytes(client.raw).startswith(b"Asterisk Call Manager/11.0.0\r\n")
    response = await client.login()
    assert keys(response) == ["Response", "ActionID", "Message"]
    booted = await client.next_message()
    assert keys(booted) == ["Event", "Privilege", "Uptime", "LastReload", "Status"]  # as in answered.ami
    assert booted["Status"] == "Fully Booted"
    await client.close()


async def test_md5_login(sim: PbxSimulator) -> None:
    client = await AmiTestClient.connect(sim.port)
    await client.send("Challenge", ActionID="c-1", AuthType="MD5")
    challenge = (await client.response("c-1"))["Challenge"]
    key = hashlib.md5((challenge + "dsdesk").encode()).hexdigest()
    await client.send("Login", ActionID="l-1", AuthType="MD5", Username="dsdesk", Key=key)
    assert (await client.response("l-1"))["Message"] == "Authentication accepted"
    assert (await client.next_message())["Event"] == "FullyBooted"
    await client.close()


async def test_wrong_password_is_refused_and_closed(sim: PbxSimulator) -> None:
    client = await AmiTestClient.connect(sim.port)
    response = await client.login(secret="nope")
    assert (response["Response"], response["Message"]) == ("Error", "Authentication failed")
    try:
        await client.next_frame(timeout=2)
        raise AssertionError("the connection should have been closed")
    except ConnectionResetError:
        pass


async def test_actions_need_login(sim: PbxSimulator) -> None:
    client = await AmiTestClient.connect(sim.port)
    await client.send("Ping", ActionID="p-0")
    assert (await client.response("p-0"))["Message"] == "Permission denied"
    await client.close()


async def test_ping_unknown_and_logoff(client: AmiTestClient) -> None:
    await client.send("Ping", ActionID="p-1")
    pong = await client.response("p-1")
    assert keys(pong) == ["Response", "ActionID", "Ping", "Timestamp"]  # as in status-probe.ami
    assert pong["Ping"] == "Pong" and abs(float(pong["Timestamp"]) - EPOCH) < 3600
    await client.send("NoSuchThing", ActionID="x-1")
    unknown = await client.response("x-1")
    assert (unknown["Response"], unknown["Message"]) == ("Error", "Invalid/unknown command")
    await client.send("Ping")
    assert "ActionID" not in await client.next_message()  # echoed only when given
    await client.send("Logoff", ActionID="bye")
    goodbye = await client.response("bye")
    assert (goodbye["Response"], goodbye["Message"]) == ("Goodbye", "Thanks for all the fish.")


async def test_core_status(sim: PbxSimulator, client: AmiTestClient) -> None:
    await client.send("CoreStatus", ActionID="s-1")
    idle = await client.response("s-1")
    assert keys(idle)[2:] == ["CoreStartupDate", "CoreStartupTime", "CoreReloadDate", "CoreReloadTime",
                              "CoreCurrentCalls", "CoreProcessedCalls"]
    assert (idle["CoreStartupDate"], idle["CoreStartupTime"]) == ("2027-03-01", "00:00:00")
    assert idle["CoreCurrentCalls"] == "0"
    await talking_call(sim, client)
    await client.send("CoreStatus", ActionID="s-2")
    busy = await client.response("s-2")
    assert busy["CoreCurrentCalls"] == "4"  # Asterisk counts channels: two Local pairs
    assert busy["CoreStartupTime"] == idle["CoreStartupTime"]


async def test_core_show_channels_shape(sim: PbxSimulator, client: AmiTestClient) -> None:
    truth = await talking_call(sim, client)
    await client.send("CoreShowChannels", ActionID="csc")
    items = await client.until(lambda m: m.get("Event") == "CoreShowChannelsComplete")
    items = [m for m in items if m.get("ActionID") == "csc"]
    probe = [m for m in probe_messages() if m.get("ActionID") == "probe-coreshowchannels"]
    assert [keys(m) for m in items] == [keys(m) for m in probe]  # start, 4 channels, complete
    channels = items[1:-1]
    assert items[-1]["ListItems"] == "4" and items[-1]["EventList"] == "Complete"
    assert {m["Linkedid"] for m in channels} == {truth.linkedid}
    assert all(len(m["Duration"]) == 8 and m["Duration"].count(":") == 2 for m in channels)
    bridged = {m["Channel"].split("-")[-1] for m in channels if m["BridgeId"]}
    assert len(bridged) == 2  # the two ;1 legs are in the bridge, as in the probe
    dial = next(m for m in channels if m["Application"] == "Dial")
    assert dial["ApplicationData"] == "Local/79110000001@ds-clients,25"


async def test_hangup_action_during_talk(sim: PbxSimulator, client: AmiTestClient) -> None:
    truth = await talking_call(sim, client)
    channel = next(c.name for c in sim.channels.channels() if c.name.startswith("Local/101@ds-agents-"))
    await client.send("Hangup", ActionID="h-1", Channel=channel)
    seen = await client.until(lambda m: m.get("Event") == "Hangup" and m["Channel"] == channel)
    reply_at = next(i for i, m in enumerate(seen) if m.get("ActionID") == "h-1" and "Event" not in m)
    assert seen[reply_at]["Message"] == "Channel Hungup"
    assert not [m for m in seen[:reply_at] if m.get("Event") in ("Hangup", "SoftHangupRequest")]
    await sim.wait_idle()
    assert truth.ended_by == "hangup_action" and truth.hangup_by == "expert"
    assert truth.outcome == "answered" and truth.hangup_cause == 16
    assert 0 < truth.talk_s < 300


async def test_hangup_action_while_client_rings_is_cancelled(sim: PbxSimulator, client: AmiTestClient) -> None:
    sim.script("79110000002", Scenario.ANSWERED, ring_s=1000, talk_s=10)
    await originate(client, "102", "79110000002")
    await eventually(lambda: any("@ds-clients-" in c.name for c in sim.channels.channels()))
    await client.send("Hangup", ActionID="h-2", Channel="/^Local\\/102@ds-agents-.*;1$/")
    assert (await client.response("h-2"))["Message"] == "Channel Hungup"
    await sim.wait_idle()
    truth = next(iter(sim.truth.values()))
    assert truth.outcome == "cancelled" and truth.answered_at is None
    await client.send("Hangup", ActionID="h-3", Channel="Local/102@ds-agents-00000000;1")
    assert (await client.response("h-3"))["Message"] == "No such channel"


async def test_event_mask_and_filters(sim: PbxSimulator) -> None:
    quiet = await AmiTestClient.connect(sim.port)
    await quiet.login(Events="off")
    only_hangups = await AmiTestClient.connect(sim.port)
    await only_hangups.login()
    await only_hangups.send("Filter", ActionID="f-1", Operation="Add", Filter="Event: Hangup[^R]")
    assert (await only_hangups.response("f-1"))["Response"] == "Success"
    no_varset = await AmiTestClient.connect(sim.port)
    await no_varset.login()
    await no_varset.send("Events", ActionID="e-1", EventMask="call,cdr")
    assert (await no_varset.response("e-1"))["Events"] == "On"
    sim.start_inbound("79110000003", "ООО Тест", "103", ring_s=1, talk_s=2)
    await sim.wait_idle()
    assert [m for m in await quiet.drain(0.05) if "Event" in m] == []
    hangups = [m for m in await only_hangups.drain(0.05) if "Event" in m]
    assert hangups and {m["Event"] for m in hangups} == {"Hangup"}
    events = {m["Event"] for m in await no_varset.drain(0.05) if "Event" in m}
    assert "VarSet" not in events and "Newexten" not in events and {"Cdr", "Hangup"} <= events
    for c in (quiet, only_hangups, no_varset):
        await c.close()
