"""How each AMI event changes a call: one small handler per event name (wazo's table, split by concern). Pure.

The handlers run inside CallTracker.handle_many (dialer/tracker.py), which maps event names to
them; the state and the steps they share are in dialer/tracker_core.py.
"""

from __future__ import annotations

from dialer.ami.message import Message
from dialer.call_state import CallState
from dialer.expectations import ExpectedOriginate
from dialer.numbers import normalise_number, number_from_dialstring
from dialer.records import Direction, Effect, LiveState
from dialer.tracker_core import LINKAGE_VARIABLES, RECENTLY_CLOSED_LIMIT, RECORDING_VARIABLE, UNKNOWN, TrackerCore


class EventHandlers(TrackerCore):
    """`_on_<event>(event, now, effects)` for each AMI event the ledger reads."""

    def _on_newchannel(self, ev: Message, now: float, effects: list[Effect]) -> None:
        uniqueid, linkedid = ev.get("Uniqueid"), ev.get("Linkedid")
        if not uniqueid or not linkedid or linkedid in self._closed or linkedid in self._ignored:
            return
        at = self._time(ev, now)
        channel = ev.get("Channel", "")
        call = self._calls.get(linkedid)
        if call is None:
            call = self.new_call(linkedid, channel, at)
        self._mark_time_source(call, ev)
        if uniqueid in call.legs:
            return
        leg = self.add_leg(call, uniqueid, channel, created=at)
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
        else:
            number = number_from_dialstring(ev.get("DialString")) or normalise_number(ev.get("DestCallerIDNum"))
            if call.direction is None:
                call.dialled_number = call.dialled_number or number
            else:
                call.client_number = call.client_number or number
                if not self._is_own_expert_leg(call, ev.get("DestUniqueid", ""), dest):
                    call.client_dialled = True  # the Expert's side dials someone: a real call
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
            if call.answered_at is not None:
                return
            if call.direction is not Direction.OUTBOUND:
                # Inbound: only an Expert answering counts (not a receptionist, an IVR, a queue's
                # Local channel); in a ring group or a pickup the call is the answering Expert's.
                ext = self.expert_ext_of(ev.get("DestChannel", ""))
                if ext is None:
                    return
                if call.direction is None:
                    self._become_inbound(call, ev.get("DestChannel", ""), at, effects)
                self._answered_by(call, ext)
                self.open_if_ours(call, at, effects)
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
        if call.hangup_by is None and not self._is_bystander(call, leg):
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
        leg.ended = at
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
            setattr(call, LINKAGE_VARIABLES[variable], self._linkage(call.linkedid, variable, value))

    def _on_originate_response(self, ev: Message, now: float, effects: list[Effect]) -> None:
        at = self._time(ev, now)
        action_id = ev.get("ActionID", "")
        expected = self._expected.by_action(action_id)
        failed = ev.get("Response") == "Failure"
        if expected is not None:
            # Ours: its Linkedid is known; never guess (another click of the same Expert may be up).
            self.forget_originate(action_id)
            call = self._calls.get(expected.linkedid)
            if call is None:
                if failed:
                    self._record_failed_originate(expected, at, effects)
                return
        elif action_id and self._expected.was_settled(action_id):
            return  # a click-to-call already settled (its call ended first): nothing to correlate
        else:
            call = self._originated_call(ev, at)
            if call is None:
                return
        if call.direction is Direction.OUTBOUND:
            number = _dialled_exten(ev.get("Exten"))
            if number is not None:
                # An Originate into the dialplan with a number to dial (click-to-call): a real call,
                # recorded even when the Expert's phone was never answered and nobody else was dialled.
                call.client_number = call.client_number or number
                call.client_dialled = True
        if failed and not call.has_client_leg:
            call.originate_failed = True
        self.open_if_ours(call, at, effects)

    def _originated_call(self, ev: Message, at: float) -> CallState | None:
        """An Originate DS Desk did not announce (a replayed capture): find its call."""
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
            client_dialled=True,
        )
        self._calls[call.linkedid] = call
        self.open_if_ours(call, at, effects)
        self.close(call, at, effects)

    def _become_inbound(self, call: CallState, expert_channel: str, at: float, effects: list[Effect]) -> None:
        call.direction = Direction.INBOUND
        call.expert_ext = self.expert_ext_of(expert_channel)
        self.relabel_legs(call)

    def _answered_by(self, call: CallState, ext: str) -> None:
        if call.expert_ext != ext:
            call.expert_ext = ext
        if call.expert_cause_ext != ext:  # a cause from an Expert who did not answer says nothing
            call.expert_cause, call.expert_cause_ext = 0, None

    def _is_own_expert_leg(self, call: CallState, uniqueid: str, channel: str) -> bool:
        leg = call.legs.get(uniqueid)
        if leg is not None:
            return leg.is_expert
        return self._is_expert_leg(call, channel)

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

    def _remember_orphan(self, ev: Message, now: float) -> None:
        uniqueid = ev.get("Uniqueid")
        linkedid = ev.get("Linkedid")
        if uniqueid and linkedid not in self._closed and linkedid not in self._ignored:
            self.orphan_hangups[uniqueid] = (self._time(ev, now), ev.get("Cause", "0"))
            if len(self.orphan_hangups) > RECENTLY_CLOSED_LIMIT:
                self.orphan_hangups.popitem(last=False)


def _dialled_exten(exten: str | None) -> str | None:
    """The number an Originate's `Exten` dials, when it is one (not `s`, not a feature code)."""
    if not exten or not exten.lstrip("+").isdigit():
        return None
    return normalise_number(exten)

