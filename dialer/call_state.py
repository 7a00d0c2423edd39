"""Per-call state inside the tracker, and how a finished call becomes a CallRecord. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from dialer.records import CallRecord, Direction, LiveState, Outcome

CAUSE_BUSY = 17
CAUSE_NO_ANSWER = 19
CAUSE_REJECTED = 21
CONGESTION_CAUSES = frozenset({27, 34, 38, 41, 42})
DIALSTATUS_OUTCOMES = {
    "BUSY": Outcome.BUSY,
    "CONGESTION": Outcome.CONGESTION,
    "CHANUNAVAIL": Outcome.CONGESTION,
    "NOANSWER": Outcome.NO_ANSWER,
    "CANCEL": Outcome.CANCELLED,
}


@dataclass(slots=True)
class Leg:
    """One channel of a call."""

    uniqueid: str
    channel: str
    is_expert: bool
    alive: bool = True
    created: float = 0.0  # when the channel came up (event time; estimated for channels adopted from a list)
    ended: float | None = None  # its Hangup, when one was seen


@dataclass(slots=True)
class CallState:
    """Everything the tracker knows about one Linkedid while it is open."""

    linkedid: str
    started: float
    first_channel: str
    direction: Direction | None
    expert_ext: str | None
    legs: dict[str, Leg] = field(default_factory=dict)
    live_legs: int = 0
    client_number: str | None = None
    client_name: str | None = None
    ringing_at: float | None = None
    answered_at: float | None = None
    dial_status: str | None = None
    client_cause: int = 0
    expert_cause: int = 0
    expert_cause_ext: str | None = None  # whose leg gave expert_cause (ring groups: only the answerer's counts)
    client_rejected: bool = False
    originate_failed: bool = False
    hangup_by: str | None = None
    recording: str | None = None
    planned_call_id: str | None = None
    client_id: str | None = None
    quality: set[str] = field(default_factory=set)
    last_seen: float = 0.0
    opened: bool = False
    live_state: LiveState | None = None
    # Outbound: evidence that a client was dialled (DialBegin from the Expert's side, a click-to-call
    # OriginateResponse naming a number, a client leg in a channel list). An Expert's channel that dials
    # nobody (voicemail, a ChanSpy session) is not a call.
    client_dialled: bool = False
    dialled_number: str | None = None  # a number dialled before the direction was known

    @property
    def has_client_leg(self) -> bool:
        return any(not leg.is_expert for leg in self.legs.values())

    def outcome(self) -> Outcome:
        if self.direction is Direction.INBOUND:
            return Outcome.ANSWERED if self.answered_at is not None else Outcome.MISSED
        if self.answered_at is not None:
            return Outcome.ANSWERED
        if self.originate_failed or (
            self.dial_status is None and not self.has_client_leg and self.ringing_at is None
        ):
            return Outcome.EXPERT_NO_ANSWER
        if self.dial_status == "NOANSWER" and self.client_rejected:
            return Outcome.REJECTED
        if self.dial_status in DIALSTATUS_OUTCOMES:
            return DIALSTATUS_OUTCOMES[self.dial_status]
        return self._outcome_from_causes()

    def _outcome_from_causes(self) -> Outcome:
        # No DialEnd seen (filtered, or lost in a reconnect gap): fall back to the client leg's cause.
        if self.client_rejected:
            return Outcome.REJECTED
        if self.client_cause == CAUSE_BUSY:
            return Outcome.BUSY
        if self.client_cause in CONGESTION_CAUSES:
            return Outcome.CONGESTION
        if self.client_cause == CAUSE_NO_ANSWER:
            return Outcome.NO_ANSWER
        return Outcome.CANCELLED

    def hangup_cause(self) -> int | None:
        if self.client_cause:
            return self.client_cause
        if self.expert_cause:
            return self.expert_cause
        return 0 if self.legs else None

    def record(self, ended: float | None) -> CallRecord:
        answered = self.answered_at
        end_or_now = ended if ended is not None else self.last_seen
        return CallRecord(
            linkedid=self.linkedid,
            direction=self.direction or Direction.INBOUND,
            expert_ext=self.expert_ext,
            client_number=self.client_number,
            started_at=to_datetime(self.started),
            answered_at=None if answered is None else to_datetime(answered),
            ended_at=None if ended is None else to_datetime(ended),
            duration_s=_seconds(end_or_now - self.started),
            talk_s=0.0 if answered is None else _seconds(end_or_now - answered),
            outcome=None if ended is None else self.outcome(),
            hangup_cause=None if ended is None else self.hangup_cause(),
            recording=self.recording,
            planned_call_id=self.planned_call_id,
            client_id=self.client_id,
            quality=tuple(sorted(self.quality)),
            client_name=self.client_name,
            ringing_at=None if self.ringing_at is None else to_datetime(self.ringing_at),
            hangup_by=self.hangup_by,
        )


def to_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def to_epoch(value: datetime) -> float:
    return value.timestamp()


def _seconds(value: float) -> float:
    return round(max(value, 0.0), 3)
