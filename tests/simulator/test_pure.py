"""The pure parts: template compilation, re-timing, Originate parsing. No sockets, no event loop."""

from __future__ import annotations

import random

import pytest

from dialer.ami.message import parse_frame
from dialer.simulator.config import CallPlan, CallScript, Scenario, SimulatorConfig
from dialer.simulator.dialing import dial_timeout, parse_caller_id, parse_originate, resolve_plan
from dialer.simulator.server import load_builtin_templates
from dialer.simulator.timeline import TimeMap, plan_starts

TEMPLATES = load_builtin_templates()


def test_templates_split_into_the_captures_phases() -> None:
    gaps = {s: t.gaps for s, t in TEMPLATES.items()}
    assert gaps[Scenario.ANSWERED] == ("expert_ring", "client_ring", "talk")
    assert gaps[Scenario.EXPERT_HANGS_UP] == ("expert_ring", "client_ring", "talk")
    assert gaps[Scenario.BUSY] == gaps[Scenario.CANCELLED] == ("expert_ring", "client_ring")
    assert gaps[Scenario.EXPERT_NO_ANSWER] == ("expert_ring",)
    assert gaps[Scenario.INBOUND_ANSWERED] == ("ring", "talk") and gaps[Scenario.INBOUND_MISSED] == ("ring",)
    for template in TEMPLATES.values():
        assert all(b.end - b.start < 0.05 for b in template.bursts)  # bursts are tight, waits are the phases


def test_no_capture_literal_survives_in_ids() -> None:
    for template in TEMPLATES.values():
        for burst in template.bursts:
            for event in burst.events:
                for key, value in event.headers:
                    literal = "".join(p for p in value if isinstance(p, str))
                    assert "1795824" not in literal and "7911555" not in literal, (template.scenario, key)


def test_plan_starts_scale_each_phase() -> None:
    template = TEMPLATES[Scenario.ANSWERED]
    starts = plan_starts(template, CallPlan(Scenario.ANSWERED, 2.0, 5.0, 30.0), 1000.0)
    assert starts == pytest.approx([1000.0, 1002.0, 1007.0, 1037.0])


def test_time_map_keeps_bursts_and_stretches_gaps() -> None:
    times = TimeMap([10.0, 20.0], [10.5, 20.2], [100.0, 200.0])
    assert times(10.25) == pytest.approx(100.25)  # inside a burst: offset kept
    assert times(20.1) == pytest.approx(200.1)
    assert times(15.25) == pytest.approx(100.5 + 0.5 * 99.5)  # half-way through the wait
    assert times(9.0) == pytest.approx(99.0)
    short = TimeMap([10.0, 20.0, 30.0], [10.1, 20.1, 30.1], [100.0, 150.0])  # a call cut short
    assert short(30.05) == pytest.approx(150.0 + 10.05)


def test_parse_originate() -> None:
    raw = (
        "Action: Originate\r\nActionID: a1\r\nChannel: Local/101@ds-agents\r\nContext: ds-outbound\r\n"
        "Exten: 79115550101\r\nTimeout: 6000\r\nCallerID: \"Эксперт\" <101>\r\n"
        "Variable: PLANNED_CALL_ID=PC-1\r\nVariable: CLIENT_ID=C-1,EXTRA=x=y\r\nChannelId: u1\r\n"
    ).encode()
    request = parse_originate(parse_frame(raw))
    assert (request.ext, request.exten, request.timeout_s, request.channel_id) == ("101", "79115550101", 6.0, "u1")
    assert request.variables == (("PLANNED_CALL_ID", "PC-1"), ("CLIENT_ID", "C-1"), ("EXTRA", "x=y"))
    assert (request.caller_name, request.caller_num) == ("Эксперт", "101")
    assert parse_caller_id("Иван <102>") == ("Иван", "102")
    assert parse_caller_id("103") == ("", "103")


def test_resolve_plan_uses_timeouts_for_timed_out_scenarios() -> None:
    config = SimulatorConfig(dial_timeout_s=25)
    rng = random.Random(1)
    no_answer = resolve_plan(Scenario.NO_ANSWER, None, config, rng)
    assert no_answer.ring_s == 25 and dial_timeout(no_answer, config) == 25
    expert = resolve_plan(Scenario.EXPERT_NO_ANSWER, None, config, rng, originate_timeout_s=6.0)
    assert expert.expert_ring_s == 6.0
    pinned = resolve_plan(Scenario.ANSWERED, CallScript(Scenario.ANSWERED, ring_s=4, talk_s=9), config, rng)
    assert (pinned.ring_s, pinned.talk_s, dial_timeout(pinned, config)) == (4, 9, 25)
    low, high = config.talk_s
    assert low <= resolve_plan(Scenario.BUSY, None, config, rng).talk_s <= high


def test_config_validates() -> None:
    with pytest.raises(ValueError):
        SimulatorConfig(speed=0)
    with pytest.raises(ValueError):
        SimulatorConfig(ring_s=(5, 1))
