"""Builds the PBX side (simulator, AMI options, Pbx) from settings; used by the app's cleanup contexts."""

from __future__ import annotations

from collections.abc import Sequence

from dialer.client import AmiOptions
from dialer.pbx import OriginateConfig, Pbx
from dialer.store import CallStore
from dialer.simulator import PbxSimulator, SimulatorConfig
from dialer.simulator.config import Scenario
from service.settings import Settings

SIMULATOR_USER = "dsdesk"
SIMULATOR_SECRET = "dsdesk-simulator"  # the embedded PBX only listens on loopback
LAB_EXPERT_CHANNEL = "Local/{ext}@ds-agents"


def simulator_config(settings: Settings, demo_clients: Sequence[tuple[str, str, str]] = ()) -> SimulatorConfig:
    sim = settings.simulator
    experts = tuple(sim.experts) if sim.demo_load else ()
    # demo_calls_per_minute is for the whole department; each Expert's loop gets its share.
    interval = 60.0 * max(len(experts), 1) / sim.demo_calls_per_minute
    return SimulatorConfig(
        host=sim.host, port=sim.port, username=SIMULATOR_USER, secret=SIMULATOR_SECRET, speed=sim.speed,
        outcome_mix=tuple((Scenario(name), weight) for name, weight in sim.outcome_mix.items()),
        expert_ring_s=sim.expert_ring_s, ring_s=sim.ring_s, talk_s=sim.talk_s,
        recordings_dir=settings.recordings.dir, monitor_dir=settings.recordings.pbx_prefix,
        demo_experts=experts, demo_interval_s=interval, demo_clients=tuple(demo_clients),
    )


def ami_options(settings: Settings, simulator: PbxSimulator | None) -> AmiOptions:
    ami = settings.ami
    common = dict(
        action_timeout=ami.action_timeout_s, ping_interval=ami.keepalive_s,
        backoff_min=ami.reconnect.min_s, backoff_max=ami.reconnect.max_s,
    )
    if simulator is not None:
        return AmiOptions(host=simulator.host, port=simulator.port, username=SIMULATOR_USER,
                          secret=SIMULATOR_SECRET, **common)
    return AmiOptions(host=ami.host, port=ami.port, username=ami.username,
                      secret=ami.secret.get_secret_value(), **common)


def build_pbx(settings: Settings, store: CallStore, simulator: PbxSimulator | None) -> Pbx:
    originate = OriginateConfig(
        expert_channel=LAB_EXPERT_CHANNEL if simulator is not None else settings.ami.originate_channel,
        context=settings.ami.originate_context,
    )
    return Pbx(ami_options(settings, simulator), store, tracker_config=settings.tracker_config(),
               originate=originate)
