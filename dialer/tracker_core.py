"""The call tracker's state and the steps every handler shares: calls by Linkedid, legs, open, close. Pure.

CallTracker (dialer/tracker.py) is what the shell uses; the per-event handlers live in
dialer/tracker_events.py; reconcile (dialer/reconcile.py) uses the shared steps below too.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from dialer.ami.message import Message
from dialer.call_state import CAUSE_REJECTED, CallState, Leg, to_datetime
from dialer.expectations import OriginateExpectations
from dialer.records import (
    Q_NO_TIMESTAMPS,
    Q_OUTCOME_INFERRED,
    CallClosed,
    CallOpened,
    CallStateChanged,
    Direction,
    Effect,
    LiveState,
)

log = logging.getLogger(__name__)

DEFAULT_EXPERT_PATTERN = r"^(?:PJSIP|SIP|Local)/(?P<ext>\d{2,6})(?:-|@ds-agents)"
LINKAGE_VARIABLES = {"PLANNED_CALL_ID": "planned_call_id", "CLIENT_ID": "client_id"}
MAX_LINKAGE_LEN = 32  # the ledger's planned_call_id / client_id columns
RECORDING_VARIABLE = "MIXMONITOR_FILENAME"
RECENTLY_CLOSED_LIMIT = 4096
EXPECTED_TTL_S = 300.0  # a click-to-call whose OriginateResponse never came is forgotten after this
UNKNOWN = "<unknown>"


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    expert_channel_pattern: str = DEFAULT_EXPERT_PATTERN
    recording_pbx_prefix: str = "/var/spool/asterisk/monitor/"
    max_linkage_len: int = MAX_LINKAGE_LEN
    expected_ttl_s: float = EXPECTED_TTL_S


class TrackerCore:
    """The tracker's state, and the steps shared by the event handlers and reconcile."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self._config = config or TrackerConfig()
        self._expert_re = re.compile(self._config.expert_channel_pattern)
        self._calls: dict[str, CallState] = {}
        self._leg_call: dict[str, CallState] = {}
        self._closed: OrderedDict[str, None] = OrderedDict()
        self._expected = OriginateExpectations(self._config.expected_ttl_s)  # click-to-calls sent
        # Linkedids DS Desk chose for channels that are not calls (a supervisor's ChanSpy session).
        self._ignored: OrderedDict[str, None] = OrderedDict()
        # Hangups of channels we never saw start (their Newchannel fell into a reconnect gap):
        # reconcile may adopt their call from a channel list read just before these arrived.
        self.orphan_hangups: OrderedDict[str, tuple[float, str]] = OrderedDict()
        # Calls up when the link dropped whose gap the reconcile has not closed yet (the recorder
        # keeps it): one that ends before then, unanswered, may have lost its answer or its cause.
        self.holed: set[str] = set()

    def forget_originate(self, action_id: str) -> None:
        """The click-to-call is settled (sent and answered, failed to send, its call ended, or expired)."""
        self._expected.forget(action_id)

    def expert_ext_of(self, channel: str) -> str | None:
        match = self._expert_re.match(channel)
        return match.group("ext") if match else None

    @property
    def calls(self) -> dict[str, CallState]:
        return self._calls

    def call_of_leg(self, uniqueid: str) -> CallState | None:
        return self._leg_call.get(uniqueid)

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

    def add_leg(self, call: CallState, uniqueid: str, channel: str, created: float | None = None) -> Leg:
        leg = Leg(uniqueid=uniqueid, channel=channel, is_expert=self._is_expert_leg(call, channel),
                  created=call.last_seen if created is None else created)
        call.legs[uniqueid] = leg
        call.live_legs += 1
        self._leg_call[uniqueid] = call
        return leg

    def relabel_legs(self, call: CallState) -> None:
        """After the direction or the Expert changed: which legs are the Expert's."""
        for leg in call.legs.values():
            leg.is_expert = self._is_expert_leg(call, leg.channel)

    def open_if_ours(self, call: CallState, at: float, effects: list[Effect]) -> None:
        if call.opened or call.direction is None:
            return
        if (call.direction is Direction.OUTBOUND and not call.client_dialled
                and self._expected.by_linkedid(call.linkedid) is None):
            return  # an Expert's channel that has dialled nobody yet (voicemail, ChanSpy, …)
        call.opened = True
        self._apply_expected(call)
        effects.append(CallOpened(call.record(None)))
        state = LiveState.DIALLING if call.direction is Direction.OUTBOUND else LiveState.RINGING
        self.set_state(call, state, at, effects)

    def set_state(self, call: CallState, state: LiveState, at: float, effects: list[Effect]) -> None:
        if call.live_state is state or not call.opened:
            return
        call.live_state = state
        effects.append(CallStateChanged(call.linkedid, call.expert_ext, state, to_datetime(at), call.record(None)))

    def close(self, call: CallState, ended: float, effects: list[Effect]) -> None:
        if self._calls.get(call.linkedid) is call:
            del self._calls[call.linkedid]
        for uniqueid in call.legs:
            # After a transfer a leg may belong to another call now: leave its index entry alone.
            if self._leg_call.get(uniqueid) is call:
                del self._leg_call[uniqueid]
        self._remember_closed(call.linkedid)
        expected = self._expected.by_linkedid(call.linkedid)
        if expected is not None:
            self.forget_originate(expected.action_id)
        if call.linkedid in self.holed:
            self.holed.discard(call.linkedid)
            if call.answered_at is None:  # ended on the new link before the reconcile: events may be lost
                call.quality.add(Q_OUTCOME_INFERRED)
        if not call.opened:
            return  # never involved an Expert (or dialled nobody): not a DS Desk call
        record = call.record(ended)
        effects.append(CallStateChanged(call.linkedid, call.expert_ext, LiveState.ENDED, to_datetime(ended), record))
        effects.append(CallClosed(record))

    def _apply_expected(self, call: CallState) -> None:
        expected = self._expected.by_linkedid(call.linkedid)
        if expected is not None:
            call.planned_call_id = call.planned_call_id or expected.planned_call_id
            call.client_id = call.client_id or expected.client_id
            call.client_number = call.client_number or expected.client_number

    def learn_variables(self, call: CallState, variables: Mapping[str, str]) -> None:
        """Channel variables read from the PBX (Status AllVariables after a gap): they fill what the
        call's lost VarSet events would have told, never overwriting what was seen."""
        recording = variables.get(RECORDING_VARIABLE) or None
        call.recording = call.recording or recording
        for variable, attribute in LINKAGE_VARIABLES.items():
            if getattr(call, attribute) is None and variables.get(variable):
                setattr(call, attribute, self._linkage(call.linkedid, variable, variables[variable]))

    def _linkage(self, linkedid: str, variable: str, value: str | None) -> str | None:
        """A PLANNED_CALL_ID / CLIENT_ID fit for the ledger: one too long for its column is dropped."""
        limit = self._config.max_linkage_len
        if value is None or len(value) <= limit:
            return value
        log.warning("call %s: %s is %d characters (at most %d): ignored: %.80r",
                    linkedid, variable, len(value), limit, value)
        return None

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
        stamp = ev.timestamp()
        return now if stamp is None else stamp

    def _mark_time_source(self, call: CallState, ev: Message) -> None:
        if ev.timestamp() is None:  # missing, or not a number: the arrival time stands in
            call.quality.add(Q_NO_TIMESTAMPS)

    def hang_up_leg(self, call: CallState, uniqueid: str, at: float, cause: str,
                    effects: list[Effect]) -> None:
        """A leg ended (seen late, e.g. during reconcile); the call closes with its last leg."""
        leg = call.legs.get(uniqueid)
        if leg is None or not leg.alive:
            return
        leg.alive = False
        leg.ended = at
        call.live_legs -= 1
        call.last_seen = max(call.last_seen, at)
        self._note_cause(call, leg, cause)
        if call.live_legs <= 0:
            self.close(call, call.last_seen, effects)

    def _remember_closed(self, linkedid: str) -> None:
        _remember(self._closed, linkedid)

    def _note_cause(self, call: CallState, leg: Leg, raw: str) -> None:
        # isascii: "²".isdigit() is true and int() refuses it; a cause is at most 3 digits.
        cause = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0
        if leg.is_expert:
            if self._is_bystander(call, leg) or call.expert_cause:
                return
            call.expert_cause = cause
            call.expert_cause_ext = self.expert_ext_of(leg.channel) if cause else None
            return
        call.client_cause = call.client_cause or cause
        if cause == CAUSE_REJECTED:
            call.client_rejected = True

    def _is_bystander(self, call: CallState, leg: Leg) -> bool:
        """An inbound call's Expert leg that did not answer (the other phones of a ring group)."""
        return (leg.is_expert and call.direction is Direction.INBOUND and call.answered_at is not None
                and self.expert_ext_of(leg.channel) != call.expert_ext)

def _remember(recent: OrderedDict[str, None], key: str) -> None:
    recent[key] = None
    recent.move_to_end(key)
    if len(recent) > RECENTLY_CLOSED_LIMIT:
        recent.popitem(last=False)
