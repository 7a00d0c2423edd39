"""What an open call's record does not say, kept with it so a restarted DS Desk resumes it. Pure.

A CallRecord holds what the call log shows; deciding the outcome at the end also takes the
dial status, the legs' hangup causes and which legs are up. Those are written with every open
record (the store's `tracker_state`, JSON) and read back by `restore`, so a call that ends while
DS Desk is down still gets its true outcome from what had been seen before (issue 12, item 2).

`facts` is the fingerprint the recorder compares to decide that an open call changed enough to be
written again: every fact a restart would otherwise lose, and nothing that changes by itself
(no clock, no live-screen state).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialer.call_state import CallState, Leg
from dialer.records import LiveState

VERSION = 1
Facts = tuple[object, ...]


def facts(call: CallState) -> Facts:
    return (
        call.direction, call.expert_ext, call.client_number, call.client_name, call.ringing_at,
        call.answered_at, call.dial_status, call.client_cause, call.expert_cause, call.client_rejected,
        call.originate_failed, call.hangup_by, call.recording, call.planned_call_id, call.client_id,
        len(call.quality), call.live_legs, len(call.legs), call.client_dialled, call.first_channel,
    )


def resume_state(call: CallState) -> dict[str, Any]:
    """JSON-ready: the CallState fields a CallRecord does not carry."""
    return {
        "v": VERSION,
        "first_channel": call.first_channel,
        "started": call.started,
        "last_seen": call.last_seen,
        "dial_status": call.dial_status,
        "client_cause": call.client_cause,
        "expert_cause": call.expert_cause,
        "expert_cause_ext": call.expert_cause_ext,
        "client_rejected": call.client_rejected,
        "originate_failed": call.originate_failed,
        "client_dialled": call.client_dialled,
        "dialled_number": call.dialled_number,
        "live_state": None if call.live_state is None else str(call.live_state),
        "legs": [[leg.uniqueid, leg.channel, leg.is_expert, leg.alive, leg.created, leg.ended]
                 for leg in call.legs.values()],
    }


def apply_resume_state(call: CallState, state: Mapping[str, Any]) -> list[Leg]:
    """Put a stored state back on a restored call; returns its legs (the tracker indexes them).

    Anything unreadable (a row written by hand, a later version) is skipped: the record's own
    fields are already on the call, and reconcile works from the channel list as before.
    """
    if state.get("v") != VERSION:
        return []
    call.first_channel = _text(state.get("first_channel")) or call.first_channel
    call.started = _number(state.get("started"), call.started)
    call.last_seen = max(call.last_seen, _number(state.get("last_seen"), call.last_seen))
    call.dial_status = _text(state.get("dial_status"))
    call.client_cause = int(_number(state.get("client_cause"), 0))
    call.expert_cause = int(_number(state.get("expert_cause"), 0))
    call.expert_cause_ext = _text(state.get("expert_cause_ext"))
    call.client_rejected = state.get("client_rejected") is True
    call.originate_failed = state.get("originate_failed") is True
    call.client_dialled = state.get("client_dialled") is True
    call.dialled_number = _text(state.get("dialled_number"))
    live = state.get("live_state")
    call.live_state = LiveState(live) if isinstance(live, str) and live in LiveState._value2member_map_ else None
    return [leg for raw in _list(state.get("legs")) if (leg := _leg(raw)) is not None]


def _leg(raw: object) -> Leg | None:
    if not isinstance(raw, list) or len(raw) != 6:
        return None
    uniqueid, channel, is_expert, alive, created, ended = raw
    if not isinstance(uniqueid, str) or not isinstance(channel, str):
        return None
    return Leg(uniqueid, channel, is_expert is True, alive is True, _number(created, 0.0),
               None if ended is None else _number(ended, 0.0))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: object, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []
