"""Builds the PBX side (simulator, AMI options, Pbx) from settings; used by the app's cleanup contexts."""

from __future__ import annotations

from collections.abc import Sequence

from dialer.ami_options import AmiOptions
from dialer.cdr_backstop import CdrSource
from dialer.cdr_sources import CdrFileSource
from dialer.pbx import OriginateConfig, Pbx
from dialer.simulator import PbxSimulator, SimulatorConfig
from dialer.simulator.config import Scenario
from dialer.store import CallStore
from service.db.cdr_table import CdrTableSource
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
    if simulator is not None:
        host, port, username, secret = simulator.host, simulator.port, SIMULATOR_USER, SIMULATOR_SECRET
    else:
        host, port, username, secret = ami.host, ami.port, ami.username, ami.secret.get_secret_value()
    return AmiOptions(host=host, port=port, username=username, secret=secret,
                      action_timeout=ami.action_timeout_s, ping_interval=ami.keepalive_s,
                      backoff_min=ami.reconnect.min_s, backoff_max=ami.reconnect.max_s)


def build_pbx(settings: Settings, store: CallStore, simulator: PbxSimulator | None) -> Pbx:
    originate = OriginateConfig(
        expert_channel=LAB_EXPERT_CHANNEL if simulator is not None else settings.ami.originate_channel,
        context=settings.ami.originate_context,
    )
    return Pbx(ami_options(settings, simulator), store, tracker_config=settings.tracker_config(),
               originate=originate, cdr=cdr_source(settings))


def cdr_source(settings: Settings) -> CdrSource | None:
    """Asterisk's own CDR as the ledger's backstop, when `cdr:` names one."""
    cdr = settings.cdr
    if cdr.kind in ("csv", "json") and cdr.path is not None:
        return CdrFileSource(cdr.path, cdr.tz, cdr.kind)
    if cdr.kind == "table" and cdr.url:
        return CdrTableSource(cdr.url, cdr.table, cdr.tz)
    return None
