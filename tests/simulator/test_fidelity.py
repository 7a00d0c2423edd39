"""Each simulated call, seen over TCP, has the real capture's event sequence and header keys."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dialer.ami.message import Message
from dialer.simulator import PbxSimulator, Scenario
from dialer.simulator.templates import SCENARIO_FILES, call_events
from tests.dialer.captures import RAW, SCRUBBED_FIXTURES, SIMULATOR_TEMPLATES, scrub, scrubbed
from tests.simulator.amiclient import AmiTestClient

LOGIN_CHATTER = {"FullyBooted", "SuccessfulAuth"}


@dataclass(frozen=True)
class Case:
    """One capture as the README table describes it (durations in simulated seconds)."""

    scenario: Scenario
    ext: str
    number: str
    planned: str = ""
    client_id: str = ""
    caller_name: str = "Эксперт"
    expert_ring_s: float = 1.0
    ring_s: float = 3.0
    talk_s: float = 8.0
    timeout_ms: int = 30000


CASES = [
    Case(Scenario.ANSWERED, "101", "79115550101", "PC-1001", "C-501", ring_s=3, talk_s=8),
    Case(Scenario.NO_ANSWER, "102", "79115550102", "PC-1002", "C-502", ring_s=10),
    Case(Scenario.BUSY, "103", "79115550103", "PC-1003", "C-503", ring_s=2),
    Case(Scenario.CONGESTION, "101", "79115550104", "PC-1004", "C-504", ring_s=1),
    Case(Scenario.REJECTED, "104", "79115550105", "PC-1005", "C-505", ring_s=3),
    Case(Scenario.EXPERT_NO_ANSWER, "105", "79115550106", "PC-1006", "C-506", expert_ring_s=6, timeout_ms=6000),
    Case(Scenario.EXPERT_HANGS_UP, "106", "79115550107", "PC-1007", "C-507", ring_s=2, talk_s=9),
    Case(Scenario.CANCELLED, "109", "79115550108", "PC-1008", "C-508", ring_s=7),
    Case(Scenario.INBOUND_ANSWERED, "107", "79115550110", caller_name="ООО Ромашка", ring_s=1, talk_s=8),
    Case(Scenario.INBOUND_MISSED, "110", "89115550119", caller_name="ИП Смирнов", ring_s=8),
]


def shape(events: list[list[tuple[str, str]]] | list[Message]) -> list[tuple[str, list[str]]]:
    """Event name and ordered header keys: what must match, ids and times aside."""
    out = []
    for event in events:
        keys = [k for k, _ in event] if isinstance(event, list) else _message_keys(event)
        name = dict(event)["Event"] if isinstance(event, list) else event["Event"]
        out.append((name, keys))
    return out


def _message_keys(message: Message) -> list[str]:
    keys: list[str] = []
    for key in message:
        keys.extend([key] * len(message.values_of(key)))
    return keys


def capture_events(scenario: Scenario) -> list[list[tuple[str, str]]]:
    return call_events(scrubbed(SCENARIO_FILES[scenario]).read_bytes())


async def play(sim: PbxSimulator, client: AmiTestClient, case: Case, ext: str, number: str) -> list[Message]:
    """Run one call like DS Desk would and return the call's events as received."""
    if case.scenario.direction == "inbound":
        sim.start_inbound(number, case.caller_name, ext, scenario=case.scenario, ring_s=case.ring_s,
                          talk_s=case.talk_s, action_id="in-1")
    else:
        sim.script(number, case.scenario, ring_s=case.ring_s, talk_s=case.talk_s, expert_ring_s=case.expert_ring_s)
        await client.send(
            "Originate", ActionID="orig-1", Channel=f"Local/{ext}@ds-agents", Context="ds-outbound", Exten=number,
            Priority="1", Async="true", Timeout=str(case.timeout_ms), CallerID=f'"{case.caller_name}" <{ext}>',
            Variable=[f"PLANNED_CALL_ID={case.planned}", f"CLIENT_ID={case.client_id}"],
        )
        response = await client.response("orig-1")
        assert response["Message"] == "Originate successfully queued"
    await sim.wait_idle()
    received = await client.drain(0.05)
    return [m for m in received if "Event" in m and m["Event"] not in LOGIN_CHATTER]


def test_shipped_templates_are_the_scrubbed_captures() -> None:
    """Each template is its raw capture without the lab's scaffolding, byte for byte (so is mixed-8)."""
    for name in SCENARIO_FILES.values():
        assert (SIMULATOR_TEMPLATES / name).read_bytes() == scrub((RAW / name).read_bytes()), name
    assert (SCRUBBED_FIXTURES / "mixed-8.ami").read_bytes() == scrub((RAW / "mixed-8.ami").read_bytes())
    assert sorted(p.name for p in SCRUBBED_FIXTURES.iterdir()) == ["mixed-8.ami"]  # no copies of templates


@pytest.mark.parametrize("case", CASES, ids=[c.scenario.value for c in CASES])
async def test_event_sequence_and_keys_match_capture(sim: PbxSimulator, client: AmiTestClient, case: Case) -> None:
    events = await play(sim, client, case, case.ext, case.number)
    expected = shape(capture_events(case.scenario))
    got = shape(events)
    assert [n for n, _ in got] == [n for n, _ in expected]
    for index, (mine, real) in enumerate(zip(got, expected, strict=True)):
        assert mine == real, f"event #{index} {real[0]}"


@pytest.mark.parametrize("case", CASES, ids=[c.scenario.value for c in CASES])
async def test_capture_identity_is_replaced(sim: PbxSimulator, client: AmiTestClient, case: Case) -> None:
    events = await play(sim, client, case, "321", "74950001122")
    text = "\n".join(f"{k}: {v}" for m in events for k, v in m.items())
    for leaked in (case.number, f"Local/{case.ext}@", f"<{case.ext}>", "1795824"):
        assert leaked not in text
    assert "Local/321@ds-agents-" in text and "74950001122" in text
    truth = next(iter(sim.truth.values()))
    linkedids = {m["Linkedid"] for m in events if "Linkedid" in m}
    assert linkedids == {truth.linkedid}
    assert truth.outcome == case.scenario.outcome and truth.expert_ext == "321"


async def test_originate_response_keeps_action_id_and_channel_id(sim: PbxSimulator, client: AmiTestClient) -> None:
    sim.script("79115550101", Scenario.ANSWERED, ring_s=2, talk_s=3)
    await client.send("Originate", ActionID="o-7", Channel="Local/101@ds-agents", Context="ds-outbound",
                      Exten="79115550101", Priority="1", Async="true", ChannelId="dsdesk-1.1",
                      OtherChannelId="dsdesk-1.2", CallerID='"Эксперт" <101>')
    await client.response("o-7")
    await sim.wait_idle()
    events = await client.drain(0.05)
    originate = next(m for m in events if m.get("Event") == "OriginateResponse")
    assert (originate["ActionID"], originate["Uniqueid"], originate["Response"]) == ("o-7", "dsdesk-1.1", "Success")
    assert {m["Linkedid"] for m in events if "Linkedid" in m} == {"dsdesk-1.1"}
    seconds = [m for m in events if m.get("Event") == "Newchannel" and m["Channel"].endswith(";2")]
    assert seconds[0]["Uniqueid"] == "dsdesk-1.2"
    assert all(m.get("Variable") not in ("PLANNED_CALL_ID", "CLIENT_ID") for m in events)  # none were given


async def test_expert_no_answer_failure_shape(sim: PbxSimulator, client: AmiTestClient) -> None:
    case = CASES[5]
    events = await play(sim, client, case, "205", "79990000006")
    failure = next(m for m in events if m.get("Event") == "OriginateResponse")
    assert (failure["Response"], failure["Reason"], failure["Uniqueid"]) == ("Failure", "3", "<unknown>")
    assert failure["Channel"] == "Local/205@ds-agents" and failure["ActionID"] == "orig-1"
    assert not [m for m in events if m.get("Event") == "DialEnd"]
