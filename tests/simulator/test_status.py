"""`Status` over real TCP: the shape status-probe.ami recorded, and every channel variable with AllVariables."""

from __future__ import annotations

from dialer.simulator import PbxSimulator
from tests.simulator.amiclient import AmiTestClient
from tests.simulator.test_actions import keys, probe_messages, talking_call


async def test_status_lists_every_channel_in_the_probes_shape(sim: PbxSimulator, client: AmiTestClient) -> None:
    truth = await talking_call(sim, client)
    await client.send("Status", ActionID="st")
    items = [m for m in await client.until(lambda m: m.get("Event") == "StatusComplete") if m.get("ActionID") == "st"]
    probe = [m for m in probe_messages() if m.get("ActionID") == "probe-status"]
    assert [keys(m) for m in items] == [keys(m) for m in probe]  # start, 4 channels, complete
    assert {m["Linkedid"] for m in items[1:-1]} == {truth.linkedid}


async def test_status_with_all_variables_carries_the_linkage_and_the_recording(
        sim: PbxSimulator, client: AmiTestClient) -> None:
    truth = await talking_call(sim, client)
    await client.send("Status", ActionID="sv", AllVariables="true")
    items = [m for m in await client.until(lambda m: m.get("Event") == "StatusComplete") if m.get("ActionID") == "sv"]
    probe = next(m for m in probe_messages()
                 if m.get("ActionID") == "probe-status-agent" and m.get("Event") == "Status")
    first = next(m for m in items if m.get("Uniqueid") == truth.linkedid)
    assert keys(first) == keys(probe)  # `Variable` repeats; its first value is kept under the name
    variables = dict(v.partition("=")[::2] for v in first.values_of("Variable"))
    assert variables["PLANNED_CALL_ID"] == "PC-9" and variables["CLIENT_ID"] == "C-9"
    assert variables["MIXMONITOR_FILENAME"] == truth.recording


async def test_status_of_a_missing_channel_is_an_error(sim: PbxSimulator, client: AmiTestClient) -> None:
    await client.send("Status", ActionID="nx", Channel="PJSIP/nobody-00000001")
    response = await client.response("nx")
    assert (response["Response"], response["Message"]) == ("Error", "No such channel")
