"""Simulator settings, the call scenarios it can play and per-number scripts. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from dialer.records import Direction, Outcome


class Scenario(StrEnum):
    """One single-call capture the simulator can replay (see templates/)."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    BUSY = "busy"
    CONGESTION = "congestion"
    CANCELLED = "cancelled"
    EXPERT_NO_ANSWER = "expert_no_answer"
    EXPERT_HANGS_UP = "expert_hangs_up"
    INBOUND_ANSWERED = "inbound_answered"
    INBOUND_MISSED = "inbound_missed"

    @property
    def direction(self) -> Direction:
        return Direction.INBOUND if self in INBOUND_SCENARIOS else Direction.OUTBOUND

    @property
    def outcome(self) -> Outcome:
        return SCENARIO_OUTCOME[self]


INBOUND_SCENARIOS = frozenset({Scenario.INBOUND_ANSWERED, Scenario.INBOUND_MISSED})
OUTBOUND_SCENARIOS = tuple(s for s in Scenario if s not in INBOUND_SCENARIOS)

SCENARIO_OUTCOME: dict[Scenario, Outcome] = {
    Scenario.ANSWERED: Outcome.ANSWERED,
    Scenario.NO_ANSWER: Outcome.NO_ANSWER,
    Scenario.REJECTED: Outcome.REJECTED,
    Scenario.BUSY: Outcome.BUSY,
    Scenario.CONGESTION: Outcome.CONGESTION,
    Scenario.CANCELLED: Outcome.CANCELLED,
    Scenario.EXPERT_NO_ANSWER: Outcome.EXPERT_NO_ANSWER,
    Scenario.EXPERT_HANGS_UP: Outcome.ANSWERED,
    Scenario.INBOUND_ANSWERED: Outcome.ANSWERED,
    Scenario.INBOUND_MISSED: Outcome.MISSED,
}

# Who ends the call in each capture ("expert" | "client"); the truth record reports it.
SCENARIO_HANGUP_BY: dict[Scenario, str] = {
    Scenario.ANSWERED: "client",
    Scenario.NO_ANSWER: "client",
    Scenario.REJECTED: "client",
    Scenario.BUSY: "client",
    Scenario.CONGESTION: "client",
    Scenario.CANCELLED: "expert",
    Scenario.EXPERT_NO_ANSWER: "expert",
    Scenario.EXPERT_HANGS_UP: "expert",
    Scenario.INBOUND_ANSWERED: "client",
    Scenario.INBOUND_MISSED: "client",
}

# Roughly what an outbound desk sees in a day; tests pin scenarios per number instead.
DEFAULT_OUTCOME_MIX: tuple[tuple[Scenario, float], ...] = (
    (Scenario.ANSWERED, 0.55),
    (Scenario.NO_ANSWER, 0.15),
    (Scenario.BUSY, 0.08),
    (Scenario.REJECTED, 0.05),
    (Scenario.CONGESTION, 0.03),
    (Scenario.CANCELLED, 0.05),
    (Scenario.EXPERT_NO_ANSWER, 0.04),
    (Scenario.EXPERT_HANGS_UP, 0.05),
)

Range = tuple[float, float]


@dataclass(frozen=True, slots=True)
class CallScript:
    """A pinned scenario (and optional durations, simulated seconds) for one client number."""

    scenario: Scenario
    ring_s: float | None = None  # outbound: the client's phone rings; inbound: the Expert's
    talk_s: float | None = None
    expert_ring_s: float | None = None  # outbound only: the Expert's own phone rings


@dataclass(frozen=True, slots=True)
class CallPlan:
    """The resolved durations of one call, in simulated seconds."""

    scenario: Scenario
    expert_ring_s: float
    ring_s: float
    talk_s: float

    def phase_seconds(self, phase: str) -> float:
        """Duration of a template gap by its role (see templates.GAP_ROLES)."""
        return {"expert_ring": self.expert_ring_s, "client_ring": self.ring_s,
                "ring": self.ring_s, "talk": self.talk_s}[phase]


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """Everything the built-in PBX can be told; times are simulated seconds unless named `_real_`."""

    host: str = "127.0.0.1"
    port: int = 0
    username: str = "dsdesk"
    secret: str = "dsdesk"
    speed: float = 1.0  # simulated seconds per real second
    epoch: float | None = None  # simulated clock at start (unix seconds); None = now
    seed: int | None = None
    outcome_mix: tuple[tuple[Scenario, float], ...] = DEFAULT_OUTCOME_MIX
    expert_ring_s: Range = (1.0, 3.0)
    ring_s: Range = (3.0, 20.0)
    talk_s: Range = (20.0, 600.0)
    dial_timeout_s: int = 25  # ds-outbound Dial() timeout; a no_answer call rings this long
    inbound_dial_timeout_s: int = 20  # ds-inbound Dial() timeout; an inbound_missed call rings this long
    originate_timeout_s: float = 30.0  # when an Originate has no Timeout
    expert_name: str = ""  # Expert caller name when an Originate has no CallerID
    recordings_dir: Path | None = None  # None: report MIXMONITOR_FILENAME but write no file
    monitor_dir: str = "/var/spool/asterisk/monitor/"
    recording_cap_s: float = 3600.0  # a runaway guard: a WAV is as long as its call, 28.8 MB at most
    restart_downtime_s: float = 3.0  # the simulated clock jumps this far during restart()
    restart_pause_real_s: float = 0.05  # the port refuses connections this long during restart()
    demo_experts: tuple[str, ...] = ()
    demo_interval_s: float = 300.0
    # Clients the demo load calls and is called by: (number, organisation name, client external id).
    # Empty: random numbers. With DS Desk's demo clients here, inbound calls match known clients.
    demo_clients: tuple[tuple[str, str, str], ...] = ()
    max_queued_frames: int = 500_000  # a client that falls this far behind is disconnected
    # Phones the dialplan does not know: an Originate to one is queued, then fails (Reason 0).
    unknown_extensions: frozenset[str] = frozenset()
    scripts: dict[str, CallScript] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError(f"speed must be > 0, got {self.speed}")
        for name in ("expert_ring_s", "ring_s", "talk_s"):
            low, high = getattr(self, name)
            if low < 0 or high < low:
                raise ValueError(f"{name} must be a (low, high) range with 0 <= low <= high")
        if not any(weight > 0 for _, weight in self.outcome_mix):
            raise ValueError("outcome_mix needs at least one positive weight")
