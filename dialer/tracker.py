"""The call tracker: a pure state machine from AMI events to call records, keyed by Linkedid.

`CallTracker.handle(event, now)` does no I/O and returns effects (call opened, live state
changed, call closed) for the shell to persist and push. Event time is the AMI `Timestamp`
header (manager.conf `timestampevents = yes`), or `now` (receipt time) when it is absent.
Only channel events are used, so `Cdr`/`CEL` being on or off changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dialer.ami.message import Message
from dialer.call_state import CAUSE_REJECTED, CallState, Leg, to_datetime
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

log = logging.getLogger(__name__)

DEFAULT_EXPERT_PATTERN = r"^(?:PJSIP|SIP|Local)/(?P<ext>\d{2,6})(?:-|@ds-agents)"
LINKAGE_VARIABLES = {"PLANNED_CALL_ID": "planned_call_id", "CLIENT_ID": "client_id"}
MAX_LINKAGE_LEN = 32  # the ledger's planned_call_id / client_id columns
RECORDING_VARIABLE = "MIXMONITOR_FILENAME"
RECENTLY_CLOSED_LIMIT = 4096
EXPECTED_TTL_S = 300.0  # a click-to-call whose OriginateResponse never came is forgotten after this
UNKNOWN = "<unknown>"
HANGUP_REQUESTS = frozenset({"HangupRequest", "SoftHangupRequest"})


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    expert_channel_pattern: str = DEFAULT_EXPERT_PATTERN
    recording_pbx_prefix: str = "/var/spool/asterisk/monitor/"
    max_linkage_len: int = MAX_LINKAGE_LEN
    expected_ttl_s: float = EXPECTED_TTL_S


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
        # Click-to-calls DS Desk sent, by ActionID and by the Linkedid (ChannelId) chosen for them;
        # each goes with its OriginateResponse, its call's end, a failed send, or after `expected_ttl_s`.
        self._expected: dict[str, ExpectedOriginate] = {}
        self._expected_by_linkedid: dict[str, ExpectedOriginate] = {}
        self._expected_deadline: dict[str, float | None] = {}  # None: stamped by the next event batch
        self._next_expiry_check = 0.0
        # ActionIDs of click-to-calls already settled: a late OriginateResponse must not be
        # correlated to another call by the replay heuristic.
        self._settled_actions: OrderedDict[str, None] = OrderedDict()
        # Linkedids DS Desk chose for channels that are not calls (a supervisor's ChanSpy session).
        self._ignored: OrderedDict[str, None] = OrderedDict()
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
        return self.handle_many((event,), now)

    def handle_many(self, events: Iterable[Message], now: float) -> list[Effect]:
        """Effects of a batch. An event whose handler fails is logged and skipped; the rest go on."""
        effects: list[Effect] = []
        handlers = self._handlers
        if self._expected:
            self._expire_expected(now)
        for event in events:
            handler = handlers.get(event.get("Event", ""))
            if handler is None:
                continue
            try:
                handler(event, now, effects)
            except Exception:  # one malformed or unforeseen event must not stop the ledger
                log.exception("call tracker: %s event (Uniqueid %s, Linkedid %s) could not be handled; skipped",
                              event.get("Event"), event.get("Uniqueid"), event.get("Linkedid"))
        return effects

    def expect_originate(self, expected: ExpectedOriginate, now: float | None = None) -> None:
        """A click-to-call about to be sent; `now` in the clock of `handle`'s `now` (else the next batch's)."""
        expected = ExpectedOriginate(
            expected.action_id, expected.linkedid, expected.expert_ext, expected.client_number,
            self._linkage(expected.linkedid, "PLANNED_CALL_ID", expected.planned_call_id),
            self._linkage(expected.linkedid, "CLIENT_ID", expected.client_id),
        )
        self.forget_originate(expected.action_id)
        self._expected[expected.action_id] = expected
        self._expected_by_linkedid[expected.linkedid] = expected
        self._expected_deadline[expected.action_id] = None if now is None else now + self._config.expected_ttl_s

    def forget_originate(self, action_id: str) -> None:
        """The click-to-call is settled (sent and answered, failed to send, its call ended, or expired)."""
        expected = self._expected.pop(action_id, None)
        self._expected_deadline.pop(action_id, None)
        if expected is None:
            return
        if self._expected_by_linkedid.get(expected.linkedid) is expected:
            del self._expected_by_linkedid[expected.linkedid]
        _remember(self._settled_actions, action_id)

    def extension_busy(self, expert_ext: str) -> bool:
        """The Expert has a call up, or a click-to-call sent that has not become a call yet.

        Checked and then expected in one step of the event loop, so a double click cannot
        originate two calls from one phone.
        """
        return (any(call.expert_ext == expert_ext for call in self._calls.values())
                or any(e.expert_ext == expert_ext for e in self._expected.values()))

    def ignore_linkedid(self, linkedid: str) -> None:
        """Channels of this Linkedid are not a call (DS Desk's own ChanSpy Originate)."""
        _remember(self._ignored, linkedid)

    def unignore_linkedid(self, linkedid: str) -> None:
        self._ignored.pop(linkedid, None)

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

    def is_ignored(self, linkedid: str) -> bool:
        return linkedid in self._ignored

    def expert_ext_of(self, channel: str) -> str | None:
        match = self._expert_re.match(channel)
        return match.group("ext") if match else None

    # ---- internals shared with reconcile -------------------------------------------------
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
                and call.linkedid not in self._expected_by_linkedid):
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
        expected = self._expected_by_linkedid.get(call.linkedid)
        if expected is not None:
            self.forget_originate(expected.action_id)
        if not call.opened:
            return  # never involved an Expert (or dialled nobody): not a DS Desk call
        record = call.record(ended)
        effects.append(CallStateChanged(call.linkedid, call.expert_ext, LiveState.ENDED, to_datetime(ended), record))
        effects.append(CallClosed(record))

    # ---- event handlers ---------------------------------------------------------------
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
        expected = self._expected.get(action_id)
        failed = ev.get("Response") == "Failure"
        if expected is not None:
            # Ours: its Linkedid is known; never guess (another click of the same Expert may be up).
            self.forget_originate(action_id)
            call = self._calls.get(expected.linkedid)
            if call is None:
                if failed:
                    self._record_failed_originate(expected, at, effects)
                return
        elif action_id and action_id in self._settled_actions:
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

    # ---- helpers ----------------------------------------------------------------------
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

    def _apply_expected(self, call: CallState) -> None:
        expected = self._expected_by_linkedid.get(call.linkedid)
        if expected is not None:
            call.planned_call_id = call.planned_call_id or expected.planned_call_id
            call.client_id = call.client_id or expected.client_id
            call.client_number = call.client_number or expected.client_number

    def _expire_expected(self, now: float) -> None:
        if now < self._next_expiry_check:
            return
        ttl = self._config.expected_ttl_s
        self._next_expiry_check = now + min(ttl / 10, 10.0)
        for action_id, deadline in list(self._expected_deadline.items()):
            if deadline is None:
                self._expected_deadline[action_id] = now + ttl
            elif deadline <= now:
                log.info("click-to-call %s: no OriginateResponse within %.0f s; expectation dropped", action_id, ttl)
                self.forget_originate(action_id)

    def _linkage(self, linkedid: str, variable: str, value: str | None) -> str | None:
        """A PLANNED_CALL_ID / CLIENT_ID fit for the ledger: one too long for its column is dropped."""
        limit = self._config.max_linkage_len
        if value is None or len(value) <= limit:
            return value
        log.warning("call %s: %s is %d characters (at most %d): ignored: %.80r",
                    linkedid, variable, len(value), limit, value)
        return None

    def _become_inbound(self, call: CallState, expert_channel: str, at: float, effects: list[Effect]) -> None:
        call.direction = Direction.INBOUND
        call.expert_ext = self.expert_ext_of(expert_channel)
        self.relabel_legs(call)

    def _answered_by(self, call: CallState, ext: str) -> None:
        if call.expert_ext != ext:
            call.expert_ext = ext
        if call.expert_cause_ext != ext:  # a cause from an Expert who did not answer says nothing
            call.expert_cause, call.expert_cause_ext = 0, None

    def _is_bystander(self, call: CallState, leg: Leg) -> bool:
        """An inbound call's Expert leg that did not answer (the other phones of a ring group)."""
        return (leg.is_expert and call.direction is Direction.INBOUND and call.answered_at is not None
                and self.expert_ext_of(leg.channel) != call.expert_ext)

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

    def _remember_orphan(self, ev: Message, now: float) -> None:
        uniqueid = ev.get("Uniqueid")
        linkedid = ev.get("Linkedid")
        if uniqueid and linkedid not in self._closed and linkedid not in self._ignored:
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
        leg.ended = at
        call.live_legs -= 1
        call.last_seen = max(call.last_seen, at)
        self._note_cause(call, leg, cause)
        if call.live_legs <= 0:
            self.close(call, call.last_seen, effects)

    def _remember_closed(self, linkedid: str) -> None:
        _remember(self._closed, linkedid)


def _remember(recent: OrderedDict[str, None], key: str) -> None:
    recent[key] = None
    recent.move_to_end(key)
    if len(recent) > RECENTLY_CLOSED_LIMIT:
        recent.popitem(last=False)


def _dialled_exten(exten: str | None) -> str | None:
    """The number an Originate's `Exten` dials, when it is one (not `s`, not a feature code)."""
    if not exten or not exten.lstrip("+").isdigit():
        return None
    return normalise_number(exten)

