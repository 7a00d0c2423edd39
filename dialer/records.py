"""The call record the tracker produces and the ledger stores, and the tracker's effects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class Outcome(StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    BUSY = "busy"
    CONGESTION = "congestion"
    CANCELLED = "cancelled"
    EXPERT_NO_ANSWER = "expert_no_answer"
    MISSED = "missed"


class LiveState(StrEnum):
    """What an Expert's screen shows while a call is up."""

    DIALLING = "dialling"  # the Expert's own phone rings (outbound) / an inbound call is offered
    RINGING = "ringing"  # the client's phone rings
    TALKING = "talking"
    ENDED = "ended"


# Quality codes: set when a field was inferred rather than observed.
Q_END_INFERRED = "end_inferred_after_reconnect"
Q_START_INFERRED = "start_inferred_after_reconnect"
Q_ANSWER_INFERRED = "answer_inferred_after_reconnect"
Q_NO_TIMESTAMPS = "times_from_receipt"
Q_PBX_RESTARTED = "pbx_restarted"
Q_FROM_CDR = "from_cdr"  # a guess put right from Asterisk's own CDR (dialer/cdr.py)
# A leg ended inside a gap before the call was answered: its DialEnd and cause may be lost with it.
Q_OUTCOME_INFERRED = "outcome_inferred_after_reconnect"
# A call whose outcome or talk time is a guess (its end, answer or a leg's end fell into a gap, and
# no CDR put it right): shown as such and kept out of the figures (issue 12).
GUESSED_QUALITY = frozenset({Q_END_INFERRED, Q_ANSWER_INFERRED, Q_OUTCOME_INFERRED})

REPLAY_KEYS = (
    "linkedid", "direction", "expert_ext", "client_number", "started_at", "answered_at",
    "ended_at", "duration_s", "talk_s", "outcome", "hangup_cause", "recording",
    "planned_call_id", "client_id", "quality",
)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call (one Linkedid). `ended_at`/`outcome` are None while the call is still up."""

    linkedid: str
    direction: Direction
    expert_ext: str | None
    client_number: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_s: float
    talk_s: float
    outcome: Outcome | None
    hangup_cause: int | None
    recording: str | None
    planned_call_id: str | None
    client_id: str | None
    quality: tuple[str, ...] = ()
    client_name: str | None = None
    ringing_at: datetime | None = None
    hangup_by: str | None = None  # "expert" | "client" | None when unknown
    # An open call's tracker state (dialer/resume.py), written so a restart resumes it; None once closed.
    resume: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    def replay_dict(self) -> dict[str, object]:
        """The `dsdesk replay` JSON shape: exactly REPLAY_KEYS."""
        return {
            "linkedid": self.linkedid,
            "direction": str(self.direction),
            "expert_ext": self.expert_ext,
            "client_number": self.client_number,
            "started_at": iso_ms(self.started_at),
            "answered_at": iso_ms(self.answered_at),
            "ended_at": iso_ms(self.ended_at),
            "duration_s": self.duration_s,
            "talk_s": self.talk_s,
            "outcome": None if self.outcome is None else str(self.outcome),
            "hangup_cause": self.hangup_cause,
            "recording": self.recording,
            "planned_call_id": self.planned_call_id,
            "client_id": self.client_id,
            "quality": list(self.quality),
        }


@dataclass(frozen=True, slots=True)
class CallOpened:
    """A call involving an Expert became known (persist it as open; show it live)."""

    record: CallRecord


@dataclass(frozen=True, slots=True)
class CallStateChanged:
    """Live state for the Expert's screen and the supervisor's board."""

    linkedid: str
    expert_ext: str | None
    state: LiveState
    at: datetime
    record: CallRecord = field(compare=False)
    # False: published before its record could be committed (the ledger's database is away);
    # the ledger still writes it later.
    saved: bool = field(default=True, compare=False)
    # From the ledger's answer, not the PBX: who held `expert_ext` when it recorded the call.
    owner_id: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class CallClosed:
    """A call ended: its final record."""

    record: CallRecord


Effect = CallOpened | CallStateChanged | CallClosed


def iso_ms(value: datetime | None) -> str | None:
    """An aware time as JSON carries it (records, live events): ISO 8601 to the millisecond."""
    return None if value is None else value.isoformat(timespec="milliseconds")
