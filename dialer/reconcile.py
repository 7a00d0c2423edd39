"""After an AMI reconnect: reconcile the tracker's open calls with the PBX's live channels. Pure.

Events that fell into the gap are gone for good (Asterisk does not replay them), so the
evidence is `CoreShowChannels` (what is up now) and `CoreStatus` (did the PBX restart).
A call with no live channel left ended inside the gap: it is closed at the best known time
and flagged; a call that is still up continues; a call that started inside the gap is
adopted from its channels and flagged.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dialer.ami.message import Message
from dialer.call_state import CallState, to_epoch
from dialer.numbers import normalise_number, number_from_dialstring
from dialer.records import (
    Q_ANSWER_INFERRED,
    Q_END_INFERRED,
    Q_OUTCOME_INFERRED,
    Q_PBX_RESTARTED,
    Q_START_INFERRED,
    CallRecord,
    Direction,
    Effect,
    LiveState,
)
from dialer.resume import apply_resume_state
from dialer.tracker import CallTracker

UP = "6"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReconnectEvidence:
    channels: list[Message]  # CoreShowChannel items
    gap_start: float  # last moment the old connection was known alive
    gap_end: float  # when the channel list was read
    pbx_restarted_at: float | None = None  # CoreStartupTime, when it changed across the gap
    # Uniqueid → channel variables (Status AllVariables): the linkage and recording of calls
    # whose VarSet events fell into the gap. Empty when the PBX would not say.
    variables: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def reconcile(tracker: CallTracker, evidence: ReconnectEvidence, only: set[str] | None = None) -> list[Effect]:
    """`only`: the calls that were open when the connection came back (later ones are not in the gap).

    Listed channels are matched to calls by Uniqueid first (after a transfer a leg's Linkedid may
    name another call); by Linkedid only for legs the tracker does not know. Calls in `only`
    lose the legs that are not listed any more; calls begun while the list was being fetched
    keep every leg and get the listed ones merged in.
    """
    effects: list[Effect] = []
    listed, unknown = _match_channels(tracker, evidence.channels)
    restarted = evidence.pbx_restarted_at is not None
    for call in list(tracker.calls.values()):
        if tracker.calls.get(call.linkedid) is not call:
            continue  # closed meanwhile (by an orphan Hangup applied to another call)
        channels = listed.get(call.linkedid, [])
        if only is not None and call.linkedid not in only:
            _merge_new_call(tracker, call, channels, evidence, effects)
        elif restarted:
            _close_in_gap(tracker, call, evidence, effects)  # nothing of it survived the restart
        else:
            _continue_call(tracker, call, channels, evidence, effects)
    for linkedid, channels in unknown.items():
        if not tracker.was_closed(linkedid) and not tracker.is_ignored(linkedid):
            _adopt_call(tracker, linkedid, channels, evidence, effects)
    return effects


def restore(tracker: CallTracker, records: Iterable[CallRecord]) -> None:
    """Bring open calls persisted by a previous run back into the tracker (before reconcile)."""
    for record in records:
        if record.linkedid in tracker.calls or not record.is_open:
            continue
        call = tracker.new_call(record.linkedid, "", to_epoch(record.started_at))
        call.direction = record.direction
        call.expert_ext = record.expert_ext
        call.client_number, call.client_name = record.client_number, record.client_name
        call.planned_call_id, call.client_id = record.planned_call_id, record.client_id
        call.recording, call.hangup_by = record.recording, record.hangup_by
        call.quality.update(record.quality)
        call.answered_at = None if record.answered_at is None else to_epoch(record.answered_at)
        call.ringing_at = None if record.ringing_at is None else to_epoch(record.ringing_at)
        call.last_seen = max(t for t in (call.started, call.answered_at, call.ringing_at) if t is not None)
        call.opened = True
        for leg in apply_resume_state(call, record.resume or {}):
            tracker.add_leg(call, leg.uniqueid, leg.channel, created=leg.created)
            restored = call.legs[leg.uniqueid]
            restored.is_expert, restored.ended = leg.is_expert, leg.ended
            if not leg.alive:
                restored.alive = False
                call.live_legs -= 1


def _match_channels(tracker: CallTracker, channels: list[Message],
                    ) -> tuple[dict[str, list[Message]], dict[str, list[Message]]]:
    """(channels of known calls by the call's Linkedid, channels of unknown calls by their Linkedid)."""
    listed: dict[str, list[Message]] = defaultdict(list)
    unknown: dict[str, list[Message]] = defaultdict(list)
    for channel in channels:
        uniqueid, linkedid = channel.get("Uniqueid"), channel.get("Linkedid")
        if not uniqueid:
            continue
        call = tracker.call_of_leg(uniqueid)
        if call is not None:
            listed[call.linkedid].append(channel)
        elif linkedid and linkedid in tracker.calls:
            listed[linkedid].append(channel)
        elif linkedid:
            unknown[linkedid].append(channel)
    return listed, unknown


def _continue_call(tracker: CallTracker, call: CallState, live: list[Message],
                   evidence: ReconnectEvidence, effects: list[Effect]) -> None:
    """A call that was open across the gap: legs the list no longer shows hung up inside it."""
    live_ids = {ch["Uniqueid"] for ch in live}
    for uniqueid, leg in call.legs.items():
        # A leg created after the list was read cannot be in it: it keeps its state (and its
        # own Hangup, with its cause, is still to come). One that existed then and is not listed
        # is gone; had its Hangup arrived since, the leg would not be alive.
        if leg.alive and uniqueid not in live_ids and leg.created <= evidence.gap_end:
            leg.alive = False  # hung up inside the gap
            call.live_legs -= 1
            if call.answered_at is None:  # its DialEnd and cause went with it: the outcome is a guess
                call.quality.add(Q_OUTCOME_INFERRED)
    _add_listed_legs(tracker, call, live, evidence)
    if call.live_legs <= 0:
        if call.last_seen >= evidence.gap_end:
            tracker.close(call, call.last_seen, effects)  # its last Hangup was seen after the gap
        else:
            _close_in_gap(tracker, call, evidence, effects)
        return
    if call.direction is Direction.OUTBOUND and call.client_number is None:  # its DialBegin fell into the gap
        call.client_number = call.dialled_number or _client_number(tracker, call, live)
    _learn_variables(tracker, call, live, evidence)
    _open_if_dialled(tracker, call, live, effects, evidence.gap_end)
    _learn_from_channels(tracker, call, live, evidence, effects)
    _apply_orphan_hangups(tracker, call, effects)


def _merge_new_call(tracker: CallTracker, call: CallState, live: list[Message],
                    evidence: ReconnectEvidence, effects: list[Effect]) -> None:
    """A call first seen while the channel list was in flight: its earlier channels are listed."""
    added = _add_listed_legs(tracker, call, live, evidence)
    first = next((ch for ch in added if ch["Uniqueid"] == call.linkedid), None)
    if first is not None:
        # Its first channel came up inside the gap: that channel says who started the call.
        call.first_channel = first.get("Channel", "")
        call.started = min(call.started, _started(first, evidence))
        call.quality.add(Q_START_INFERRED)
        ext = tracker.expert_ext_of(call.first_channel)
        if call.direction is None and ext:
            call.direction, call.expert_ext = Direction.OUTBOUND, ext
            tracker.relabel_legs(call)
    if call.direction is None:
        expert = next((leg for leg in call.legs.values() if tracker.expert_ext_of(leg.channel)), None)
        if expert is None:
            return  # not an Expert's call (yet)
        call.direction, call.expert_ext = Direction.INBOUND, tracker.expert_ext_of(expert.channel)
        tracker.relabel_legs(call)
        if first is not None:
            call.client_number = call.client_number or normalise_number(first.get("CallerIDNum"))
    elif call.direction is Direction.OUTBOUND:
        call.client_number = call.client_number or call.dialled_number or _client_number(tracker, call, live)
    _learn_variables(tracker, call, live, evidence)
    _open_if_dialled(tracker, call, live, effects, evidence.gap_end)
    _learn_from_channels(tracker, call, live, evidence, effects)
    _apply_orphan_hangups(tracker, call, effects)


def _add_listed_legs(tracker: CallTracker, call: CallState, live: list[Message],
                     evidence: ReconnectEvidence) -> list[Message]:
    added = [ch for ch in live if ch["Uniqueid"] not in call.legs]
    for ch in added:
        tracker.add_leg(call, ch["Uniqueid"], ch.get("Channel", ""), created=_started(ch, evidence))
    return added


def _open_if_dialled(tracker: CallTracker, call: CallState, live: list[Message], effects: list[Effect],
                     at: float) -> None:
    """An outbound call with a client leg dialled someone, though the DialBegin fell into the gap."""
    if call.direction is Direction.OUTBOUND and call.has_client_leg:
        call.client_dialled = True
    tracker.open_if_ours(call, at, effects)


def _close_in_gap(tracker: CallTracker, call: CallState, evidence: ReconnectEvidence,
                  effects: list[Effect]) -> None:
    call.quality.add(Q_END_INFERRED)
    if evidence.pbx_restarted_at is not None:
        call.quality.add(Q_PBX_RESTARTED)
        ended = _clamp(evidence.pbx_restarted_at, max(call.last_seen, evidence.gap_start), evidence.gap_end)
    else:
        # The end fell somewhere in the gap; its middle is never further than half the gap off.
        ended = (max(call.last_seen, evidence.gap_start) + evidence.gap_end) / 2
    tracker.close(call, ended, effects)


def _adopt_call(tracker: CallTracker, linkedid: str, channels: list[Message],
                evidence: ReconnectEvidence, effects: list[Effect]) -> None:
    first = next((ch for ch in channels if ch.get("Uniqueid") == linkedid), channels[0])
    started = min(_started(ch, evidence) for ch in channels)
    call = tracker.new_call(linkedid, first.get("Channel", ""), started)
    call.quality.add(Q_START_INFERRED)
    for ch in channels:
        tracker.add_leg(call, ch["Uniqueid"], ch.get("Channel", ""), created=_started(ch, evidence))
    if call.direction is None:
        expert = next((ch for ch in channels if tracker.expert_ext_of(ch.get("Channel", ""))), None)
        if expert is None:
            return  # not an Expert's call
        call.direction = Direction.INBOUND
        call.expert_ext = tracker.expert_ext_of(expert["Channel"])
        call.client_number = normalise_number(first.get("CallerIDNum"))
        for leg in call.legs.values():
            leg.is_expert = tracker.expert_ext_of(leg.channel) is not None
    else:
        call.client_number = _client_number(tracker, call, channels)
    call.last_seen = started
    _learn_variables(tracker, call, channels, evidence)
    _open_if_dialled(tracker, call, channels, effects, started)
    _learn_from_channels(tracker, call, channels, evidence, effects)
    _apply_orphan_hangups(tracker, call, effects)


def _learn_variables(tracker: CallTracker, call: CallState, live: list[Message],
                     evidence: ReconnectEvidence) -> None:
    """The first channel's variables first (the Originate set them there), then the others'."""
    ordered = sorted(live, key=lambda ch: ch.get("Uniqueid") != call.linkedid)
    log.debug("call %s: %d listed channels, variables for %d", call.linkedid, len(live),
              sum(1 for ch in live if evidence.variables.get(ch.get("Uniqueid", ""))))
    for channel in ordered:
        variables = evidence.variables.get(channel.get("Uniqueid", ""))
        if variables:
            tracker.learn_variables(call, variables)


def _started(channel: Message, evidence: ReconnectEvidence) -> float:
    """When a listed channel came up: its age at the time of the list, kept inside the gap."""
    return _clamp(evidence.gap_end - _duration_s(channel.get("Duration")), evidence.gap_start, evidence.gap_end)


def _apply_orphan_hangups(tracker: CallTracker, call: CallState, effects: list[Effect]) -> None:
    """Hangups that arrived after the channel list was read but before we could adopt the legs."""
    for uniqueid in list(call.legs):
        orphan = tracker.orphan_hangups.pop(uniqueid, None)
        if orphan is not None and call.linkedid in tracker.calls:
            tracker.hang_up_leg(call, uniqueid, orphan[0], orphan[1], effects)


def _client_number(tracker: CallTracker, call: CallState, channels: list[Message]) -> str | None:
    """The dialled number, from whichever client-leg field still shows it; else the extension the
    Expert's first channel runs in the originate context (the client leg may be gone already)."""
    first = next((ch for ch in channels if ch.get("Uniqueid") == call.linkedid), None)
    for ch in channels:
        if tracker.expert_ext_of(ch.get("Channel", "")):
            continue
        candidates = (ch.get("Exten"), ch.get("CallerIDNum"), ch.get("ConnectedLineNum"),
                      number_from_dialstring(ch.get("Channel", "").partition("/")[2]))
        for raw in candidates:
            number = normalise_number(raw)
            if number and number != call.expert_ext:
                return number
    exten = normalise_number(first.get("Exten")) if first is not None else None
    return exten if exten and exten != call.expert_ext and len(exten) > 6 else None


def _learn_from_channels(tracker: CallTracker, call: CallState, live: list[Message],
                         evidence: ReconnectEvidence, effects: list[Effect]) -> None:
    """A bridged client leg that is Up means the call was answered while we were away."""
    if call.answered_at is not None:
        return
    client_up = any(
        ch.get("ChannelState") == UP and ch.get("BridgeId") and not _is_expert_channel(tracker, call, ch)
        for ch in live
    )
    if client_up:
        call.answered_at = (max(call.last_seen, evidence.gap_start) + evidence.gap_end) / 2
        call.dial_status = "ANSWER"
        call.quality.add(Q_ANSWER_INFERRED)
        tracker.set_state(call, LiveState.TALKING, evidence.gap_end, effects)


def _is_expert_channel(tracker: CallTracker, call: CallState, channel: Message) -> bool:
    leg = call.legs.get(channel.get("Uniqueid", ""))
    return leg.is_expert if leg else tracker.expert_ext_of(channel.get("Channel", "")) is not None


def _duration_s(value: str | None) -> float:
    """CoreShowChannel's `Duration` (HH:MM:SS); 0 for anything else, never an exception (a
    hostile `1:1:…:1` of 200 parts overflowed float and aborted the whole reconcile)."""
    parts = (value or "").split(":")
    if not 1 <= len(parts) <= 3 or not all(p.isascii() and p.isdigit() and len(p) <= 9 for p in parts):
        return 0.0
    return float(sum(int(p) * 60**i for i, p in enumerate(reversed(parts))))


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


__all__ = ["ReconnectEvidence", "reconcile", "restore"]
