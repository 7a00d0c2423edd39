"""An Originate the simulated PBX accepts and then fails: an extension its dialplan does not know.

As Asterisk does: the action is answered "queued", then only an `OriginateResponse` with
`Response: Failure`, `Reason: 0` and `Uniqueid: <unknown>` follows (no channel events), keyed like
the failed OriginateResponse of the real capture expert-phone-not-answered.ami. Over real TCP.
"""

from __future__ import annotations

from dialer.ami.message import parse_frame
from dialer.simulator import PbxSimulator
from tests.dialer.captures import RAW
from tests.simulator.amiclient import AmiTestClient


def captured_failure_keys() -> list[str]:
    """Header keys, in order, of the real capture's failed OriginateResponse."""
    frames = (RAW / "expert-phone-not-answered.ami").read_bytes().split(b"\r\n\r\n")
    failed = [parse_frame(f.strip(b"\r\n")) for f in frames if b"Event: OriginateResponse" in f]
    [failure] = [m for m in failed if m["Response"] == "Failure"]
    return list(failure)


async def test_an_originate_to_an_unknown_extension_is_queued_then_fails(sim: PbxSimulator,
                                                                        client: AmiTestClient) -> None:
    sim.unknown_extensions.add("901")
    await client.send("Originate", ActionID="o-1", Channel="Local/901@ds-agents", Context="ds-outbound",
                      Exten="79115550101", Priority="1", Async="true", ChannelId="dsd-1",
                      CallerID='"Эксперт" <901>', Variable=["PLANNED_CALL_ID=PC-1001"])
    assert (await client.response("o-1"))["Message"] == "Originate successfully queued"
    events = [m for m in await client.drain(0.1) if "Event" in m]
    assert [m["Event"] for m in events] == ["OriginateResponse"]  # no channel ever came up
    [failure] = events
    assert list(failure) == captured_failure_keys()
    assert (failure["ActionID"], failure["Response"], failure["Reason"], failure["Uniqueid"]) == (
        "o-1", "Failure", "0", "<unknown>")
    assert (failure["Channel"], failure["Context"], failure["Exten"]) == (
        "Local/901@ds-agents", "ds-outbound", "79115550101")
    assert (failure["CallerIDNum"], failure["CallerIDName"]) == ("901", "Эксперт")
    assert sim.truth == {} and sim.live_calls == []


async def test_a_chanspy_originate_from_an_unknown_extension_names_the_application(
        sim: PbxSimulator, client: AmiTestClient) -> None:
    sim.unknown_extensions.add("209")
    await client.send("Originate", ActionID="s-1", Channel="PJSIP/209", Application="ChanSpy",
                      Data="PJSIP/101-,qE", Async="true", CallerID="ChanSpy")
    assert (await client.response("s-1"))["Message"] == "Originate successfully queued"
    [failure] = [m for m in await client.drain(0.1) if "Event" in m]
    keys = captured_failure_keys()
    assert list(failure) == [{"Context": "Application", "Exten": "Data"}.get(k, k) for k in keys]
    assert (failure["Application"], failure["Data"], failure["Reason"]) == ("ChanSpy", "PJSIP/101-,qE", "0")
    assert (failure["CallerIDNum"], failure["CallerIDName"]) == ("<unknown>", "ChanSpy")
    assert sim.chanspy_log == []


async def test_known_extensions_still_ring(sim: PbxSimulator, client: AmiTestClient) -> None:
    sim.unknown_extensions.add("901")
    sim.script("79115550101", "answered", ring_s=1, talk_s=1, expert_ring_s=0.5)
    await client.send("Originate", ActionID="o-2", Channel="Local/101@ds-agents", Context="ds-outbound",
                      Exten="79115550101", Priority="1", Async="true")
    await client.response("o-2")
    await sim.wait_idle()
    events = await client.drain(0.05)
    [response] = [m for m in events if m.get("Event") == "OriginateResponse"]
    assert response["Response"] == "Success" and len(sim.truth) == 1
