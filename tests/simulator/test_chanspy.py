"""A supervisor's ChanSpy Originate: logged, and played as a Local channel running ChanSpy."""

from __future__ import annotations

from dialer.simulator import PbxSimulator, Scenario
from dialer.simulator.channels import SNAPSHOT_KEYS
from tests.simulator.amiclient import AmiTestClient, eventually


async def test_chanspy_originate(sim: PbxSimulator, client: AmiTestClient) -> None:
    call = sim.start_outbound("101", "79110000300", scenario=Scenario.ANSWERED, ring_s=1, talk_s=200,
                              caller_name="Эксперт")
    await eventually(lambda: call.answered_at is not None)
    await client.send("Originate", ActionID="spy-1", Channel="Local/201@ds-agents", Application="ChanSpy",
                      Data="Local/101@ds-agents,qE", CallerID='"Супервизор" <201>', Async="true")
    assert (await client.response("spy-1"))["Message"] == "Originate successfully queued"
    assert [(r.channel, r.target, r.options, r.action_id) for r in sim.chanspy_log] == [
        ("Local/201@ds-agents", "Local/101@ds-agents", "qE", "spy-1")]
    seen = await client.until(lambda m: m.get("Event") == "ChanSpyStart")
    start = seen[-1]
    response = next(m for m in seen if m.get("Event") == "OriginateResponse")
    assert (response["Application"], response["Data"]) == ("ChanSpy", "Local/101@ds-agents,qE")
    assert response["ActionID"] == "spy-1"
    assert "Context" not in response and response["Channel"].startswith("Local/201@ds-agents-")
    assert [k for k in start if k.startswith("Spyer")] == ["Spyer" + k for k in SNAPSHOT_KEYS]
    assert [k for k in start if k.startswith("Spyee")] == ["Spyee" + k for k in SNAPSHOT_KEYS]
    assert start["SpyeeLinkedid"] == call.linkedid and start["SpyeeChannel"].endswith(";1")
    assert start["SpyerLinkedid"] == sim.chanspy_log[0].linkedid != call.linkedid
    assert any(m.get("Event") == "Newchannel" and m["Channel"].startswith("Local/201@ds-agents-") for m in seen)
    # E: ChanSpy exits when the spied-on call ends, and the supervisor's channels hang up.
    rest = await client.until(lambda m: m.get("Event") == "Hangup" and m["Channel"].startswith("Local/201@")
                              and m["Channel"].endswith(";2"))
    names = [m.get("Event") for m in rest]
    assert names.index("ChanSpyStop") < names.index("Hangup", names.index("ChanSpyStop"))
    await sim.wait_idle()


async def test_chanspy_hangup_and_tech_prefix(sim: PbxSimulator, client: AmiTestClient) -> None:
    call = sim.start_outbound("102", "79110000301", scenario=Scenario.ANSWERED, ring_s=1, talk_s=300)
    await eventually(lambda: call.answered_at is not None)
    await client.send("Originate", ActionID="spy-2", Channel="Local/202@ds-agents", Application="ChanSpy",
                      Data="PJSIP/102,q", Async="true")  # a PJSIP-style prefix finds the lab's Local Expert
    start = (await client.until(lambda m: m.get("Event") == "ChanSpyStart"))[-1]
    assert start["SpyeeChannel"].startswith("Local/102@ds-agents-")
    await client.send("Hangup", ActionID="h", Channel=start["SpyerChannel"])
    await client.until(lambda m: m.get("Event") == "ChanSpyStop")
    await client.until(lambda m: m.get("Event") == "Hangup" and m["Channel"] == start["SpyerChannel"])
    assert call.is_open  # hanging up the supervisor leaves the spied call alone
