"""Originates DS Desk sent for someone, watched for the PBX's verdict. Pure: time is an argument.

An async Originate is answered "queued" at once; whether the first phone (the Expert's for a
click-to-call, the supervisor's for a listen-in) rang and was picked up arrives later as
`OriginateResponse` with the same ActionID: `Response: Failure` and a `Reason`, the old
AST_CONTROL_* number (Asterisk main/pbx.c `pbx_dial_reason`; see docs/asterisk.md):

    0 failure: no such extension or channel, unavailable   1 hangup: the phone hung up
    3 ringing: it rang and nobody answered                 5 busy   8 congestion

`OriginateWatch.failures(events, now)` turns the failed ones into `OriginateFailure`s for the person
who clicked; a success or a failure settles the watch, and one never answered is dropped after
its TTL. The Pbx scans a batch only while something is watched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from dialer.ami.message import Message

OriginateKind = Literal["call", "spy"]
UNKNOWN_REASON = -1  # a Failure without a readable Reason


@dataclass(frozen=True, slots=True)
class WatchedOriginate:
    kind: OriginateKind  # "call": click-to-call; "spy": a supervisor listening in
    ext: str  # the phone that rings first: the one who clicked
    target: str  # the number dialled (call) or the Expert's extension (spy)
    requested_by: int | None  # who asked (the web's user id), handed back as it is
    linkedid: str | None = None  # the click-to-call's Linkedid


@dataclass(frozen=True, slots=True)
class OriginateFailure:
    """An Originate the PBX accepted and then could not complete."""

    kind: OriginateKind
    ext: str
    target: str
    requested_by: int | None
    linkedid: str | None
    reason: int  # OriginateResponse Reason (UNKNOWN_REASON when missing)
    at: float  # the event's Timestamp, or when it arrived


class OriginateWatch:
    def __init__(self, ttl_s: float) -> None:
        self._ttl = ttl_s
        self._watched: dict[str, tuple[WatchedOriginate, float]] = {}  # ActionID → (what, deadline)

    def __bool__(self) -> bool:
        return bool(self._watched)

    def __len__(self) -> int:
        return len(self._watched)

    def watch(self, action_id: str, what: WatchedOriginate, now: float) -> None:
        self._watched[action_id] = (what, now + self._ttl)

    def forget(self, action_id: str) -> None:
        self._watched.pop(action_id, None)

    def failures(self, events: Iterable[Message], now: float) -> list[OriginateFailure]:
        """The watched Originates these events report failed; every verdict settles its watch."""
        found: list[OriginateFailure] = []
        for event in events:
            if event.get("Event") != "OriginateResponse":
                continue
            entry = self._watched.pop(event.get("ActionID", ""), None)
            if entry is not None and event.get("Response") == "Failure":
                found.append(_failure(entry[0], event, now))
        self._expire(now)
        return found

    def _expire(self, now: float) -> None:
        for action_id in [a for a, (_, deadline) in self._watched.items() if deadline < now]:
            del self._watched[action_id]


def _failure(what: WatchedOriginate, event: Message, now: float) -> OriginateFailure:
    reason = event.get("Reason", "").strip()
    at = event.timestamp()
    return OriginateFailure(what.kind, what.ext, what.target, what.requested_by, what.linkedid,
                            int(reason) if reason.isdigit() and len(reason) < 6 else UNKNOWN_REASON,
                            now if at is None else at)
