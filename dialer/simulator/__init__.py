"""The built-in PBX simulator: an AMI server that replays real Asterisk 22 call captures."""

from dialer.simulator.config import CallPlan, CallScript, Scenario, SimulatorConfig
from dialer.simulator.errors import SimulatorError, SimulatorStateError, TemplateError
from dialer.simulator.server import PbxSimulator
from dialer.simulator.truth import ChanSpyRequest, TruthRecord

__all__ = [
    "CallPlan", "CallScript", "ChanSpyRequest", "PbxSimulator", "Scenario", "SimulatorConfig",
    "SimulatorError", "SimulatorStateError", "TemplateError", "TruthRecord",
]
