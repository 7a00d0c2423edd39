"""The call tracker: a pure state machine from AMI events to call records, keyed by Linkedid.

`CallTracker.handle(event, now)` does no I/O and returns effects (call opened, live state
changed, call closed) for the shell to persist and push. Event time is the AMI `Timestamp`
header (manager.conf `timestampevents = yes`), or `now` (receipt time) when it is absent.
Only channel events are used, so `Cdr`/`CEL` being on or off changes nothing.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dialer.ami.message import Message
from dialer.call_state import CAUSE_REJECTED, CallState, Leg
from dialer.numbers import normalise_number, number_from_dialstring
from dialer.records import (
    Q_NO_TIMESTAMPS,
    CallClosed,
    CallOpened,
    CallRecord,
    CallStateChanged,
    Direction,
    Effect,
    LiveState,
)

DEFAULT_EXPERT_PATTERN = r"^(?:PJSIP|SIP|Local)/(?P<ext>\d{2,6})(?:-|@ds-agents)"
LINKAGE_VARIABLES = {"PLANNED_CALL_ID": "planned_call_id", "CLIENT_ID": "client_id"}
RECORDING_VARIABLE = "MIXMONITOR_FILENAME"
RECENTLY_CLOSED_LIMIT = 4096
UNKNOWN = "<unknown>"
HANGUP_REQUESTS = frozenset({"HangupRequest", "SoftHangupRequest"})


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    expert_channel_pattern: str = DEFAULT_EXPERT_PATTERN
    recording_pbx_prefix: str = "/var/spool/asterisk/monitor/"


@dataclass(frozen=True, slots=True)
class ExpectedOriginate:
    """A click-to-call DS Desk sent: known before any event, so a failed one is still recorded."""

    action_id: str
    linkedid: str  # the ChannelId we chose for the first channel
    expert_ext: str
    client_number: str | None
    planned_call_id: str | None
    client_id: str | None


class CallTracker:
    """Feeds AMI events in, gets call-record effects out."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self._config = config or TrackerConfig()
        self._expert_re = re.compile(self._config.expert_channel_pattern)
        self._calls: dict[str, CallState] = {}
        self._leg_call: dict[str, CallState] = {}
        self._closed: OrderedDict[str, None] = OrderedDict()
        self._expected: dict[str, ExpectedOriginate] = {}
        # Hangups of channels we never saw start (their Newchannel fell into a reconnect gap):
        # reconcile may adopt their call from a channel list read just before these arrived.
        self.orphan_hangups: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._handlers: dict[str, Callable[[Message, float, list[Effect]], None]] = {
            "Newchannel": self._on_newchannel,
            "Newstate": self._on_newstate,
            "DialBegin": self._on_dial_begin,
            "DialState": self._on_dial_state,
            "DialEnd": self._on_dial_end,
            "HangupRequest": self._on_hangup_request,
            "SoftHangupRequest": self._on_hangup_request,
            "Hangup": self._on_hangup,
            "VarSet": self._on_varset,
            "OriginateResponse": self._on_originate_response,
        }

    # ---- public API -------------------------------------------------------------------
    def handle(self, event: Message, now: float) -> list[Effect]:
        handler = self._handlers.get(event.get("Event", ""))
        if handler is None:
            return []
        effects: list[Effect] = []
        handler(event, now, effects)
        return effects

    def handle_many(self, events: Iterable[Message], now: float) -> list[Effect]:
        effects: list[Effect] = []
        handlers = self._handlers
        for event in events:
            handler = handlers.get(event.get("Event", ""))
            if handler is not None:
                handler(event, now, effects)
        return effects

    def expect_originate(self, expected: ExpectedOriginate) -> None:
        self._expected[expected.action_id] = expected

    def link_client(self, linkedid: str, client_id: str, client_name: str | None) -> None:
        """An inbound caller matched to a client's contact: later records carry the client."""
        call = self._calls.get(linkedid)
        if call is not None:
            call.client_id = call.client_id or client_id
            call.client_name = call.client_name or client_name

    def open_records(self) -> list[CallRecord]:
        return [call.record(None) for call in self._calls.values() if call.opened]

    def was_closed(self, linkedid: str) -> bool:
        """Recently closed: a channel list read before its last Hangup must not bring it back."""
        return linkedid in self._closed

    def expert_ext_of(self, channel: str) -> str | None:
        match = self._expert_re.match(channel)
        return match.group("ext") if match else None

    # ---- internals shared with reconcile -------------------------------------------------
    @property
    def calls(self) -> dict[str, CallState]:
        return self._calls

    def new_call(self, linkedid: str, first_channel: str, started: float) -> CallState:
        ext = self.expert_ext_of(first_channel)
        call = CallState(
            linkedid=linkedid,
            started=started,
            first_channel=first_channel,
            direction=Direction.OUTBOUND if ext else None,
            expert_ext=ext,
            last_seen=started,
        )
        self._calls[linkedid] = call
        return call

    def add_leg(self, call: CallState, uniqueid: str, channel: str) -> Leg:
        leg = Leg(uniqueid=uniqueid, channel=channel, is_expert=self._is_expert_leg(call, channel))
        call.legs[uniqueid] = leg
        call.live_legs += 1
        self._leg_call[uniqueid] = call
        return leg

    def open_if_ours(self, call: CallState, at: float, effects: list[Effect]) -> None:
        if call.opened or call.direction is None:
            return
        call.opened = True
        self._apply_expected(call)
        effects.append(CallOpened(call.record(None)))
        state = LiveState.DIALLING if call.direction is Direction.OUTBOUND else LiveState.RINGING
        self.set_state(call, state, at, effects)

    def set_state(self, call: CallState, state: LiveState, at: float, effects: list[Effect]) -> None:
        if call.live_state is state or not call.opened:
            return
        call.live_state = state
        effects.append(CallStateChanged(call.linkedid, call.expert_ext, state, _dt(at), call.record(None)))

    def close(self, call: CallState, ended: float, effects: list[Effect]) -> None:
        self._calls.pop(call.linkedid, None)
        for uniqueid in call.legs:
            self._leg_call.pop(uniqueid, None)
        self._remember_closed(call.linkedid)
        if not call.opened:
            return  # never involved an Expert: not a DS Desk call
        record = call.record(ended)
        effects.append(CallStateChanged(call.linkedid, call.expert_ext, LiveState.ENDED, _dt(ended), record))
        effects.append(CallClosed(record))

    # ---- event handlers ---------------------------------------------------------------
    def _on_newchannel(self, ev: Message, now: float, effects: list[Effect]) -> None:
        uniqueid, linkedid = ev.get("Uniqueid"), ev.get("Linkedid")
        if not uniqueid or not linkedid or linkedid in self._closed:
            return
        at = self._time(ev, now)
        channel = ev.get("Channel", "")
        call = self._calls.get(linkedid)
        if call is None:
            call = self.new_call(linkedid, channel, at)
        self._mark_time_source(call, ev)
        if uniqueid in call.legs:
            return
        leg = self.add_leg(call, uniqueid, channel)
        call.last_seen = at
        if leg.is_expert and call.direction is None:
            self._become_inbound(call, channel, at, effects)
        self.open_if_ours(call, at, effects)

    def _on_newstate(self, ev: Message, now: float, effects: list[Effect]) -> None:
        call, leg = self._leg_of(ev)
        if call is None or leg is None:
            return
        at = self._time(ev, now)
        call.last_seen = at
        if ev.get("ChannelState") == "5" and not leg.is_expert and call.direction is Direction.OUTBOUND:
            self._ringing(call, at, effects)

    def _on_dial_begin(self, ev: Message, now: float, effects: list[Effect]) -> None:
        call = self._call_of(ev, "Linkedid") or self._call_of(ev, "DestLinkedid")
        if call is None:
            return
        at = self._time(ev, now)
        call.last_seen = at
        dest = ev.get("DestChannel", "")
        if "Channel" not in ev:
            return  # the Originate's own dial of the Expert's phone: no caller snapshot
        if call.direction is None and self.expert_ext_of(dest):
            self._become_inbound(call, dest, at, effects)
        if call.direction is Direction.INBOUND:
            self._learn_inbound_caller(call, ev)
        elif call.client_number is None:
            call.client_number = number_from_dialstring(ev.get("DialString")) or normalise_number(
                ev.get("DestCallerIDNum")
            )
        self.open_if_ours(call, at, effects)

    def _on_dial_state(self, ev: Message, now: float, effects: list[Effect]) -> None:
        if "Channel" not in ev or ev.get("DialStatus") != "RINGING":
            return
        call = self._call_of(ev, "Linkedid")
        if call is not None:
            self._ringing(call, self._time(ev, now), effects)

    def _on_dial_end(self, ev: Message, now: float, effects: list[Effect]) -> None:
        if "Channel" not in ev:
            return  # the Expert's phone picking up an Originate, not the client answering
        call = self._call_of(ev, "Linkedid")
        if call is None:
            return
        at = self._time(ev, now)
        call.last_seen = at
        status = ev.get("DialStatus", "")
        if status == "ANSWER":
            if call.answered_at is None:
                call.answered_at = at
                call.dial_status = status
                self.set_state(call, LiveState.TALKING, at, effects)
        elif call.answered_at is None:
            call.dial_status = status

    def _on_hangup_request(self, ev: Message, now: float, effects: list[Effect]) -> None:
        call, leg = self._leg_of(ev)
        if call is None or leg is None:
            return
        call.last_seen = self._time(ev, now)
        if not leg.is_expert and ev.get("Cause") == "21":
            call.client_rejected = True
        if call.hangup_by is None:
            call.hangup_by = "expert" if leg.is_expert else "client"

    def _on_hangup(self, ev: Message, now: float, effects: list[Effect]) -> None:
        call, leg = self._leg_of(ev)
        if call is None or leg is None:
            self._remember_orphan(ev, now)
            return
        if not leg.alive:
            return
        at = self._time(ev, now)
        call.last_seen = at
        leg.alive = False
        call.live_legs -= 1
        self._note_cause(call, leg, ev.get("Cause", "0"))
        if call.live_legs <= 0:
            self.close(call, at, effects)

    def _on_varset(self, ev: Message, now: float, effects: list[Effect]) -> None:
        variable = ev.get("Variable")
        if variable != RECORDING_VARIABLE and variable not in LINKAGE_VARIABLES:
            return
        call = self._call_of(ev, "Linkedid")
        if call is None:
            return
        value = ev.get("Value") or None
        if variable == RECORDING_VARIABLE:
            call.recording = value
        else:
            setattr(call, LINKAGE_VARIABLES[variable], value)

    def _on_originate_response(self, ev: Message, now: float, effects: list[Effect]) -> None:
        at = self._time(ev, now)
        expected = self._expected.pop(ev.get("ActionID", ""), None)
        call = self._originated_call(ev, expected, at)
        if call is None:
            if expected is not None and ev.get("Response") == "Failure":
                self._record_failed_originate(expected, at, effects)
            return
        if call.direction is Direction.OUTBOUND and call.client_number is None:
            call.client_number = normalise_number(ev.get("Exten"))
        if ev.get("Response") == "Failure" and not call.has_client_leg:
            call.originate_failed = True

    # ---- helpers ----------------------------------------------------------------------
    def _originated_call(self, ev: Message, expected: ExpectedOriginate | None, at: float) -> CallState | None:
        if expected is not None and expected.linkedid in self._calls:
            return self._calls[expected.linkedid]
        uniqueid = ev.get("Uniqueid", UNKNOWN)
        if uniqueid != UNKNOWN:
            return self._leg_call.get(uniqueid)
        # A failed Originate carries no Uniqueid: correlate by channel prefix and time.
        prefix = ev.get("Channel", "") + "-"
        candidates = [
            c for c in self._calls.values()
            if c.first_channel.startswith(prefix) and c.started <= at and not c.has_client_leg
        ]
        return max(candidates, key=lambda c: c.started, default=None)

    def _record_failed_originate(self, expected: ExpectedOriginate, at: float, effects: list[Effect]) -> None:
        if expected.linkedid in self._closed:
            return
        call = CallState(
            linkedid=expected.linkedid, started=at, first_channel="", direction=Direction.OUTBOUND,
            expert_ext=expected.expert_ext, client_number=expected.client_number, originate_failed=True,
            planned_call_id=expected.planned_call_id, client_id=expected.client_id, last_seen=at,
        )
        self._calls[call.linkedid] = call
        self.open_if_ours(call, at, effects)
        self.close(call, at, effects)

    def _apply_expected(self, call: CallState) -> None:
        for action_id, expected in self._expected.items():
            if expected.linkedid == call.linkedid:
                call.planned_call_id = call.planned_call_id or expected.planned_call_id
                call.client_id = call.client_id or expected.client_id
                call.client_number = call.client_number or expected.client_number
                return

    def _become_inbound(self, call: CallState, expert_channel: str, at: float, effects: list[Effect]) -> None:
        call.direction = Direction.INBOUND
        call.expert_ext = self.expert_ext_of(expert_channel)
        for leg in call.legs.values():
            leg.is_expert = self._is_expert_leg(call, leg.channel)

    def _learn_inbound_caller(self, call: CallState, ev: Message) -> None:
        if call.client_number is None:
            call.client_number = normalise_number(ev.get("CallerIDNum"))
        name = ev.get("CallerIDName")
        if call.client_name is None and name and name != UNKNOWN:
            call.client_name = name

    def _ringing(self, call: CallState, at: float, effects: list[Effect]) -> None:
        if call.ringing_at is None:
            call.ringing_at = at
        if call.answered_at is None:
            self.set_state(call, LiveState.RINGING, at, effects)

    def _note_cause(self, call: CallState, leg: Leg, raw: str) -> None:
        cause = int(raw) if raw.isdigit() else 0
        if leg.is_expert:
            call.expert_cause = call.expert_cause or cause
            return
        call.client_cause = call.client_cause or cause
        if cause == CAUSE_REJECTED:
            call.client_rejected = True

    def _is_expert_leg(self, call: CallState, channel: str) -> bool:
        ext = self.expert_ext_of(channel)
        if ext is None:
            return False
        # In an outbound call only the originating Expert's own channels are "expert" legs:
        # the dialled party may itself match the pattern (an internal extension).
        return call.direction is not Direction.OUTBOUND or ext == call.expert_ext

    def _leg_of(self, ev: Message) -> tuple[CallState | None, Leg | None]:
        call = self._leg_call.get(ev.get("Uniqueid", ""))
        if call is None:
            return None, None
        return call, call.legs.get(ev["Uniqueid"])

    def _call_of(self, ev: Message, key: str) -> CallState | None:
        linkedid = ev.get(key)
        call = self._calls.get(linkedid) if linkedid else None
        if call is None:
            call = self._leg_call.get(ev.get("Uniqueid", ""))
        return call

    def _time(self, ev: Message, now: float) -> float:
        stamp = ev.get("Timestamp")
        return float(stamp) if stamp else now

    def _mark_time_source(self, call: CallState, ev: Message) -> None:
        if "Timestamp" not in ev:
            call.quality.add(Q_NO_TIMESTAMPS)

    def _remember_orphan(self, ev: Message, now: float) -> None:
        uniqueid = ev.get("Uniqueid")
        if uniqueid and ev.get("Linkedid") not in self._closed:
            self.orphan_hangups[uniqueid] = (self._time(ev, now), ev.get("Cause", "0"))
            if len(self.orphan_hangups) > RECENTLY_CLOSED_LIMIT:
                self.orphan_hangups.popitem(last=False)

    def hang_up_leg(self, call: CallState, uniqueid: str, at: float, cause: str,
                    effects: list[Effect]) -> None:
        """A leg ended (seen late, e.g. during reconcile); the call closes with its last leg."""
        leg = call.legs.get(uniqueid)
        if leg is None or not leg.alive:
            return
        leg.alive = False
        call.live_legs -= 1
        call.last_seen = max(call.last_seen, at)
        self._note_cause(call, leg, cause)
        if call.live_legs <= 0:
            self.close(call, call.last_seen, effects)

    def _remember_closed(self, linkedid: str) -> None:
        self._closed[linkedid] = None
        if len(self._closed) > RECENTLY_CLOSED_LIMIT:
            self._closed.popitem(last=False)


def _dt(epoch: float):  # noqa: ANN202 - small local alias
    from dialer.call_state import to_datetime

    return to_datetime(epoch)
