"""Ground truth the simulator keeps per call and per ChanSpy request, for tests to compare with. Pure."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dialer.records import Direction, Outcome
from dialer.simulator.config import CallPlan, Scenario
from dialer.simulator.events import OutEvent

CLIENT_CONTEXTS = ("@ds-clients", "@ds-pstn-phone")


def sim_datetime(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


@dataclass(slots=True)
class TruthRecord:
    """One call as the PBX really played it; times are simulated UTC, taken from the events' Timestamps."""

    linkedid: str
    direction: Direction
    scenario: Scenario
    expert_ext: str
    client_number: str
    plan: CallPlan
    client_name: str | None = None
    planned_call_id: str | None = None
    client_id: str | None = None
    action_id: str | None = None
    outcome: Outcome | None = None  # set when the call ends
    started_at: datetime | None = None
    answered_at: datetime | None = None  # the client (outbound) / the Expert (inbound) answered
    ended_at: datetime | None = None
    hangup_cause: int | None = None
    hangup_by: str | None = None  # "expert" | "client"
    recording: str | None = None  # MIXMONITOR_FILENAME as the PBX reported it
    recording_file: Path | None = None  # the WAV written under recordings_dir
    ended_by: str | None = None  # "pbx" (played out), "hangup_action", "restart" (lost), "stop"
    _client_cause: int | None = field(default=None, repr=False)
    _expert_cause: int | None = field(default=None, repr=False)

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def talk_s(self) -> float:
        if self.answered_at is None or self.ended_at is None:
            return 0.0
        return round((self.ended_at - self.answered_at).total_seconds(), 3)

    @property
    def duration_s(self) -> float:
        if self.started_at is None or self.ended_at is None:
            return 0.0
        return round((self.ended_at - self.started_at).total_seconds(), 3)

    def observe(self, event: OutEvent) -> None:
        """Learn from one event of this call, exactly as it went out on the wire."""
        ts = event.ts
        if self.started_at is None:
            self.started_at = sim_datetime(ts)
        if not event.truth:
            return
        d = dict(event.headers)
        name = event.name
        if name == "DialEnd" and d.get("DialStatus") == "ANSWER" and "Channel" in d and self.answered_at is None:
            self.answered_at = sim_datetime(ts)  # a DialEnd with a caller snapshot: the far end answered
        elif name == "Hangup":
            self._on_hangup(d, ts)
        elif name == "VarSet" and d.get("Variable") == "MIXMONITOR_FILENAME":
            self.recording = d.get("Value")

    def _on_hangup(self, d: dict[str, str], ts: float) -> None:
        self.ended_at = sim_datetime(ts)
        cause = int(d.get("Cause", "0") or 0)
        if any(c in d.get("Channel", "") for c in CLIENT_CONTEXTS):
            if cause and self._client_cause is None:
                self._client_cause = cause
        elif self._expert_cause is None or (cause and not self._expert_cause):
            self._expert_cause = cause
        self.hangup_cause = self._client_cause if self._client_cause is not None else self._expert_cause

    def close(self, outcome: Outcome | None, ended_by: str, hangup_by: str | None, at: float | None = None) -> None:
        """Mark the end; `at` is for calls that vanished without a Hangup (restart, stop)."""
        self.outcome = outcome
        self.ended_by = ended_by
        self.hangup_by = hangup_by
        if at is not None and self.ended_at is None:
            self.ended_at = sim_datetime(at)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("_client_cause")
        data.pop("_expert_cause")
        data["talk_s"] = self.talk_s
        data["duration_s"] = self.duration_s
        return data


@dataclass(frozen=True, slots=True)
class ChanSpyRequest:
    """One `Originate … Application: ChanSpy` the PBX received."""

    at: datetime
    channel: str  # the supervisor's phone, e.g. Local/201@ds-agents
    data: str  # e.g. Local/101@ds-agents,qE
    target: str  # the channel prefix from Data
    options: str
    action_id: str | None
    linkedid: str  # the supervisor call's own Linkedid
