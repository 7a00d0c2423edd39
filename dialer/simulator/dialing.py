"""Read an Originate action and decide how a call will go (scenario, durations, Dial timeout). Pure."""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

from dialer.ami.message import Message
from dialer.records import Direction
from dialer.simulator.config import CallPlan, CallScript, Scenario, SimulatorConfig

_CALLER_ID_RE = re.compile(r'^\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[^<]*?))\s*<(?P<num>[^>]*)>\s*$')
_CHANNEL_EXT_RE = re.compile(r"^[^/]+/(?P<ext>[^@/]+)")


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    channel: str
    ext: str  # the Expert's (or supervisor's) extension, from Channel
    exten: str  # the client number (Context ds-outbound)
    application: str
    data: str
    caller_name: str
    caller_num: str
    variables: tuple[tuple[str, str], ...]
    timeout_s: float | None
    action_id: str | None
    channel_id: str | None
    other_channel_id: str | None

    @property
    def is_chanspy(self) -> bool:
        return self.application.lower() == "chanspy"


def originate_error(msg: Message) -> str | None:
    """Asterisk-style error text for an Originate the simulator cannot run, else None."""
    if not msg.header("Channel"):
        return "Channel not specified"
    application = msg.header("Application")
    if application:
        return None if application.lower() == "chanspy" else f"Application {application} not supported by the simulator"
    if not msg.header("Exten"):
        return "Exten not specified"
    return None


def parse_originate(msg: Message) -> OriginateRequest:
    channel = msg.header("Channel") or ""
    match = _CHANNEL_EXT_RE.match(channel)
    name, num = parse_caller_id(msg.header("CallerID") or "")
    timeout = msg.header("Timeout")
    return OriginateRequest(
        channel=channel,
        ext=match["ext"] if match else channel,
        exten=msg.header("Exten") or "",
        application=msg.header("Application") or "",
        data=msg.header("Data") or "",
        caller_name=name,
        caller_num=num,
        variables=parse_variables(msg.values_of("Variable")),
        timeout_s=int(timeout) / 1000.0 if timeout and timeout.strip().isdigit() else None,
        action_id=msg.header("ActionID"),
        channel_id=msg.header("ChannelId") or None,
        other_channel_id=msg.header("OtherChannelId") or None,
    )


def parse_caller_id(text: str) -> tuple[str, str]:
    """`"Эксперт" <101>` → ("Эксперт", "101"); a bare `101` is a number."""
    match = _CALLER_ID_RE.match(text)
    if match:
        return (match["quoted"] if match["quoted"] is not None else match["bare"] or "").strip(), match["num"].strip()
    text = text.strip()
    return ("", text) if text.replace("+", "").isdigit() else (text, "")


def parse_variables(values: list[str]) -> tuple[tuple[str, str], ...]:
    """Repeated `Variable:` headers, each possibly `A=1,B=2` (Asterisk splits on commas)."""
    pairs: list[tuple[str, str]] = []
    for value in values:
        for item in value.split(","):
            key, sep, val = item.partition("=")
            if sep and key.strip():
                pairs.append((key.strip(), val))
    return tuple(pairs)


def choose_outbound(config: SimulatorConfig, rng: random.Random) -> Scenario:
    """An Originate can only become an outbound scenario; inbound weights apply to the demo load."""
    return choose_scenario(config, rng, inbound=False)


def choose_scenario(config: SimulatorConfig, rng: random.Random, inbound: bool | None = None) -> Scenario:
    """By the outcome mix; `inbound` restricts the draw to one direction (None: either)."""
    mix = [(s, w) for s, w in config.outcome_mix
           if w > 0 and (inbound is None or (s.direction is Direction.INBOUND) == inbound)]
    if not mix:
        mix = [(Scenario.INBOUND_ANSWERED if inbound else Scenario.ANSWERED, 1.0)]
    return rng.choices([s for s, _ in mix], [w for _, w in mix])[0]


def resolve_plan(
    scenario: Scenario, script: CallScript | None, config: SimulatorConfig,
    rng: random.Random, originate_timeout_s: float | None = None,
) -> CallPlan:
    """Durations for one call: the script's if given, else the scenario's fixed timeout, else random."""
    expert_ring = script.expert_ring_s if script and script.expert_ring_s is not None else None
    if expert_ring is None and scenario is Scenario.EXPERT_NO_ANSWER:
        expert_ring = originate_timeout_s or config.originate_timeout_s  # the Originate times out
    ring = script.ring_s if script and script.ring_s is not None else None
    if ring is None and scenario is Scenario.NO_ANSWER:
        ring = float(config.dial_timeout_s)  # the client rings until Dial() gives up
    if ring is None and scenario is Scenario.INBOUND_MISSED:
        ring = float(config.inbound_dial_timeout_s)
    talk = script.talk_s if script and script.talk_s is not None else None
    return CallPlan(
        scenario,
        expert_ring if expert_ring is not None else rng.uniform(*config.expert_ring_s),
        ring if ring is not None else rng.uniform(*config.ring_s),
        talk if talk is not None else rng.uniform(*config.talk_s),
    )


def dial_timeout(plan: CallPlan, config: SimulatorConfig) -> int:
    """The Dial() timeout the dialplan shows: what ended the ringing, or the configured one."""
    if plan.scenario in (Scenario.NO_ANSWER, Scenario.INBOUND_MISSED):
        return max(1, round(plan.ring_s))
    configured = config.inbound_dial_timeout_s if plan.scenario is Scenario.INBOUND_ANSWERED else config.dial_timeout_s
    return max(configured, math.ceil(plan.ring_s))
