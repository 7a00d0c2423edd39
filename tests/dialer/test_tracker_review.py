"""Review of the call ledger: realistic variants the captures do not cover, as synthetic event tables.

Events are hand-built in the Asterisk 22 shape (channel snapshot, `Dest*` snapshot on dial events,
`Timestamp` on every event). A test marked `xfail(strict=True)` is a defect found in the review: it
passes once the defect is fixed, and then the mark must go.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pytest

from dialer.ami.message import Message
from dialer.ami_options import AmiOptions
from dialer.errors import AmiNotConnected
from dialer.pbx import Pbx
from dialer.reconcile import ReconnectEvidence, reconcile
from dialer.recorder import LedgerRecorder
from dialer.records import CallClosed, CallRecord, CallStateChanged, Direction, Effect, LiveState, Outcome
from dialer.store import StoredCall
from dialer.tracker import CallTracker, ExpectedOriginate
from service.db.ledger import LedgerRepository

T0 = 1_796_000_000.0
STATE_DESC = {"0": "Down", "4": "Ring", "5": "Ringing", "6": "Up"}


# ---- a small event-table vocabulary ----------------------------------------------------------
@dataclass
class Chan:
    """One channel as Asterisk snapshots it; `state` follows what the table says."""

    name: str
    uid: str
    lid: str
    num: str = "<unknown>"
    cname: str = "<unknown>"
    context: str = "from-internal"
    exten: str = "s"
    state: str = "0"

    def snapshot(self, prefix: str = "") -> dict[str, str]:
        fields = {
            "Channel": self.name, "ChannelState": self.state, "ChannelStateDesc": STATE_DESC[self.state],
            "CallerIDNum": self.num, "CallerIDName": self.cname, "ConnectedLineNum": "<unknown>",
            "ConnectedLineName": "<unknown>", "Language": "en", "AccountCode": "", "Context": self.context,
            "Exten": self.exten, "Priority": "1", "Uniqueid": self.uid, "Linkedid": self.lid,
        }
        return {prefix + key: value for key, value in fields.items()}


def event(name: str, t: float, *snapshots: dict[str, str], privilege: str = "call,all", **extra: str) -> Message:
    msg = Message({"Event": name, "Privilege": privilege})
    for snapshot in snapshots:
        msg.update(snapshot)
    msg.update(extra)
    msg["Timestamp"] = f"{T0 + t:.6f}"
    return msg


def newchannel(t: float, ch: Chan, state: str = "0") -> Message:
    ch.state = state
    return event("Newchannel", t, ch.snapshot())


def newstate(t: float, ch: Chan, state: str) -> Message:
    ch.state = state
    return event("Newstate", t, ch.snapshot())


def dial_begin(t: float, caller: Chan | None, dest: Chan, dialstring: str) -> Message:
    callers = [] if caller is None else [caller.snapshot()]
    return event("DialBegin", t, *callers, dest.snapshot("Dest"), DialString=dialstring)


def dial_state(t: float, caller: Chan | None, dest: Chan, status: str = "RINGING") -> Message:
    callers = [] if caller is None else [caller.snapshot()]
    return event("DialState", t, *callers, dest.snapshot("Dest"), DialStatus=status)


def dial_end(t: float, caller: Chan | None, dest: Chan, status: str) -> Message:
    callers = [] if caller is None else [caller.snapshot()]
    return event("DialEnd", t, *callers, dest.snapshot("Dest"), DialStatus=status)


def hangup_request(t: float, ch: Chan, cause: str, soft: bool = False) -> Message:
    return event("SoftHangupRequest" if soft else "HangupRequest", t, ch.snapshot(), Cause=cause)


def hangup(t: float, ch: Chan, cause: str, text: str = "Normal Clearing") -> Message:
    return event("Hangup", t, ch.snapshot(), Cause=cause, **{"Cause-txt": text})


def varset(t: float, ch: Chan, variable: str, value: str) -> Message:
    return event("VarSet", t, ch.snapshot(), privilege="dialplan,all", Variable=variable, Value=value)


def bridge_enter(t: float, ch: Chan, bridge: str, count: int) -> Message:
    return event("BridgeEnter", t, ch.snapshot(), BridgeUniqueid=bridge, BridgeType="basic",
                 BridgeTechnology="simple_bridge", BridgeCreator="<unknown>", BridgeName="<unknown>",
                 BridgeNumChannels=str(count), BridgeVideoSourceMode="none")


def originate_response(t: float, action_id: str, response: str, channel: str, uid: str, reason: str,
                       **target: str) -> Message:
    return event("OriginateResponse", t, ActionID=action_id, Response=response, Channel=channel, Reason=reason,
                 Uniqueid=uid, CallerIDNum="<unknown>", CallerIDName="<unknown>", **target)


def core_show_channel(ch: Chan, duration_s: int, application: str, bridge_id: str = "") -> Message:
    """A CoreShowChannel list item, as `Pbx.core_show_channels` returns it."""
    item = Message({"Event": "CoreShowChannel", "ActionID": "reconcile-1"})
    item.update(ch.snapshot())
    item.update({"Application": application, "ApplicationData": "", "BridgeId": bridge_id,
                 "Duration": f"00:{duration_s // 60:02d}:{duration_s % 60:02d}"})
    return item


def feed(tracker: CallTracker, events: Iterable[Message]) -> list[Effect]:
    effects: list[Effect] = []
    for msg in events:
        effects += tracker.handle(msg, float(msg["Timestamp"]))
    return effects


def closed(effects: Sequence[Effect]) -> list[CallRecord]:
    return [e.record for e in effects if isinstance(e, CallClosed)]


def at(t: float) -> float:
    return T0 + t


def trunk(uid: str, lid: str, num: str = "79115550110", name: str = "ООО Ромашка") -> Chan:
    return Chan("PJSIP/trunk-" + uid.rpartition(".")[2].zfill(8), uid, lid, num, name, "from-trunk", "74950000000")


def phone(ext: str, uid: str, lid: str, serial: str) -> Chan:
    return Chan(f"PJSIP/{ext}-{serial}", uid, lid, ext, f"Ext {ext}")


# ---- PJSIP variants that work (kept as coverage) ---------------------------------------------
def pjsip_click_to_call_answered() -> tuple[CallTracker, list[Message]]:
    """DS Desk's Originate to PJSIP/101 (no Local channels); the client leg goes out on PJSIP/trunk."""
    tracker = CallTracker()
    tracker.expect_originate(ExpectedOriginate("c2c-dsd-a", "dsd-a", "101", "79115550101", "PC-1", "C-1"))
    expert = Chan("PJSIP/101-00000001", "dsd-a", "dsd-a", "101", "DS Desk", "ds-outbound", "79115550101")
    client = Chan("PJSIP/trunk-00000002", "1796000002.2", "dsd-a", "79115550101", "<unknown>", "from-trunk")
    events = [
        newchannel(0.0, expert),
        varset(0.001, expert, "PLANNED_CALL_ID", "PC-1"),
        varset(0.002, expert, "CLIENT_ID", "C-1"),
        dial_begin(0.003, None, expert, "101"),
        newstate(0.05, expert, "5"),
        dial_state(0.06, None, expert),
        newstate(2.0, expert, "6"),
        dial_end(2.001, None, expert, "ANSWER"),
        originate_response(2.002, "c2c-dsd-a", "Success", expert.name, "dsd-a", "4",
                           Context="ds-outbound", Exten="79115550101"),
        varset(2.003, expert, "MIXMONITOR_FILENAME", "/var/spool/asterisk/monitor/ds-dsd-a.wav"),
        newchannel(2.1, client),
        dial_begin(2.101, expert, client, "79115550101@trunk"),
        newstate(3.0, client, "5"),
        dial_state(3.001, expert, client),
        newstate(8.0, client, "6"),
        dial_end(8.001, expert, client, "ANSWER"),
        bridge_enter(8.002, client, "b-1", 1),
        bridge_enter(8.003, expert, "b-1", 2),
        hangup_request(38.0, client, "16"),
        hangup(38.001, client, "16"),
        hangup_request(38.002, expert, "16", soft=True),
        hangup(38.003, expert, "16"),
    ]
    return tracker, events


def test_pjsip_click_to_call_through_a_trunk() -> None:
    tracker, events = pjsip_click_to_call_answered()
    [record] = closed(feed(tracker, events))
    assert (record.direction, record.expert_ext, record.client_number) == (Direction.OUTBOUND, "101", "79115550101")
    assert (record.outcome, record.hangup_cause, record.hangup_by) == (Outcome.ANSWERED, 16, "client")
    assert (record.talk_s, record.duration_s) == (30.002, 38.003)
    assert (record.planned_call_id, record.client_id) == ("PC-1", "C-1")
    assert tracker.calls == {}


def test_an_extension_is_busy_from_the_click_until_its_call_ends() -> None:
    """Found in review: two clicks 100 ms apart both passed the "already in a call" check."""
    tracker, events = pjsip_click_to_call_answered()
    assert tracker.extension_busy("101")  # sent, no channel yet
    assert not tracker.extension_busy("102")
    feed(tracker, events[:10])
    assert tracker.extension_busy("101")  # the call is up
    feed(tracker, events[10:])
    assert not tracker.extension_busy("101")


def test_pjsip_inbound_from_a_trunk_answered_by_the_expert() -> None:
    tracker = CallTracker()
    caller = trunk("1796000010.10", "1796000010.10")
    expert = phone("101", "1796000010.11", caller.lid, "00000004")
    events = [
        newchannel(0.0, caller, "4"),
        newchannel(0.5, expert),
        dial_begin(0.501, caller, expert, "101"),
        newstate(0.6, expert, "5"),
        dial_state(0.601, caller, expert),
        newstate(6.0, expert, "6"),
        newstate(6.001, caller, "6"),
        dial_end(6.002, caller, expert, "ANSWER"),
        hangup_request(66.0, expert, "16"),
        hangup(66.001, expert, "16"),
        hangup(66.002, caller, "16"),
    ]
    [record] = closed(feed(tracker, events))
    assert (record.direction, record.expert_ext, record.client_number) == (Direction.INBOUND, "101", "79115550110")
    assert (record.outcome, record.talk_s, record.hangup_by) == (Outcome.ANSWERED, 60.0, "expert")


# ---- wrong fields in realistic variants -------------------------------------------------------
def test_ring_group_call_belongs_to_the_expert_who_answered() -> None:
    tracker = CallTracker()
    caller = trunk("1796000020.20", "1796000020.20")
    first = phone("101", "1796000020.21", caller.lid, "00000006")
    second = phone("102", "1796000020.22", caller.lid, "00000007")
    events = [
        newchannel(0.0, caller, "4"),
        newchannel(0.5, first),
        newchannel(0.501, second),
        dial_begin(0.502, caller, first, "101"),
        dial_begin(0.503, caller, second, "102"),
        newstate(0.6, first, "5"),
        newstate(0.601, second, "5"),
        newstate(7.0, second, "6"),
        dial_end(7.001, caller, second, "ANSWER"),
        dial_end(7.002, caller, first, "CANCEL"),
        hangup(7.003, first, "26", "Answered elsewhere"),
        hangup_request(47.0, caller, "16"),
        hangup(47.001, caller, "16"),
        hangup(47.002, second, "16"),
    ]
    effects = feed(tracker, events)
    [record] = closed(effects)
    assert record.answered_at is not None and record.talk_s == 40.001
    assert record.expert_ext == "102"
    talking = [e.expert_ext for e in effects if isinstance(e, CallStateChanged) and e.state is LiveState.TALKING]
    assert talking == ["102"]


def test_inbound_answered_by_reception_then_missed_by_the_expert_is_missed() -> None:
    tracker = CallTracker()
    caller = trunk("1796000030.30", "1796000030.30")
    reception = Chan("PJSIP/reception-00000009", "1796000030.31", caller.lid, "reception", "Reception")
    expert = phone("101", "1796000030.32", caller.lid, "0000000a")
    events = [
        newchannel(0.0, caller, "4"),
        newchannel(0.2, reception),
        dial_begin(0.201, caller, reception, "reception"),
        newstate(3.0, reception, "6"),
        dial_end(3.001, caller, reception, "ANSWER"),
        # blind transfer of the caller to 101: the receptionist's channel goes, the caller dials on
        hangup_request(10.0, reception, "16"),
        hangup(10.001, reception, "16"),
        newchannel(10.1, expert),
        dial_begin(10.101, caller, expert, "101"),
        newstate(10.2, expert, "5"),
        dial_end(30.1, caller, expert, "NOANSWER"),
        hangup(30.101, expert, "16"),
        hangup_request(31.0, caller, "16"),
        hangup(31.001, caller, "16"),
    ]
    [record] = closed(feed(tracker, events))
    assert (record.direction, record.expert_ext) == (Direction.INBOUND, "101")
    assert (record.outcome, record.answered_at, record.talk_s) == (Outcome.MISSED, None, 0.0)


def test_second_click_to_call_failing_does_not_touch_the_first() -> None:
    tracker = CallTracker()
    tracker.expect_originate(ExpectedOriginate("c2c-1", "dsd-1", "101", "79115550101", "PC-1", "C-1"))
    tracker.expect_originate(ExpectedOriginate("c2c-2", "dsd-2", "101", "79115550102", "PC-2", "C-2"))
    expert = Chan("PJSIP/101-00000001", "dsd-1", "dsd-1", "101", "DS Desk", "ds-outbound", "79115550101")
    client = Chan("PJSIP/trunk-00000002", "1796000040.2", "dsd-1", "79115550101", "<unknown>", "from-trunk")
    events = [
        newchannel(0.0, expert),
        dial_begin(0.001, None, expert, "101"),
        newstate(0.05, expert, "5"),
        # a second click while the phone rings: the endpoint is busy, so no channel is ever made
        originate_response(0.5, "c2c-2", "Failure", "PJSIP/101", "<unknown>", "5",
                           Context="ds-outbound", Exten="79115550102"),
        newstate(2.0, expert, "6"),
        dial_end(2.001, None, expert, "ANSWER"),
        originate_response(2.002, "c2c-1", "Success", expert.name, "dsd-1", "4",
                           Context="ds-outbound", Exten="79115550101"),
        newchannel(2.1, client),
        dial_begin(2.101, expert, client, "79115550101@trunk"),
        dial_end(4.0, expert, client, "BUSY"),
        hangup(4.001, client, "17", "User busy"),
        hangup(4.5, expert, "16"),
    ]
    records = {r.linkedid: r for r in closed(feed(tracker, events))}
    assert records["dsd-1"].outcome is Outcome.BUSY
    assert records["dsd-2"].outcome is Outcome.EXPERT_NO_ANSWER and records["dsd-2"].planned_call_id == "PC-2"


def chanspy_session() -> list[Message]:
    """Pbx.listen_in: Originate PJSIP/201 with Application ChanSpy; the supervisor listens, hangs up."""
    sup = Chan("PJSIP/201-0000000b", "1796000050.50", "1796000050.50", "ChanSpy", "ChanSpy", "default")
    return [
        newchannel(0.0, sup),
        dial_begin(0.001, None, sup, "201"),
        newstate(0.05, sup, "5"),
        newstate(1.5, sup, "6"),
        dial_end(1.501, None, sup, "ANSWER"),
        originate_response(1.502, "spy-1", "Success", sup.name, sup.uid, "4",
                           Application="ChanSpy", Data="PJSIP/101-,qE"),
        hangup_request(90.0, sup, "16"),
        hangup(90.001, sup, "16"),
    ]


def voicemail_check() -> list[Message]:
    """The Expert dials *97 from the desk phone: VoiceMailMain answers; nobody is dialled."""
    expert = Chan("PJSIP/101-0000000c", "1796000060.60", "1796000060.60", "101", "Ext 101", "from-internal", "*97")
    return [newchannel(0.0, expert, "4"), newstate(0.3, expert, "6"),
            hangup_request(40.0, expert, "16"), hangup(40.001, expert, "16")]


@pytest.mark.parametrize("events", [
    pytest.param(chanspy_session(), id="supervisor-chanspy"),
    pytest.param(voicemail_check(), id="voicemail-feature-code"),
])
def test_a_channel_that_dials_nobody_is_not_an_expert_no_answer(events: list[Message]) -> None:
    records = closed(feed(CallTracker(), events))
    assert [r.outcome for r in records if r.outcome is Outcome.EXPERT_NO_ANSWER] == []


# ---- reconcile: calls left open, legs lost ----------------------------------------------------
def answered_outbound(tracker: CallTracker) -> tuple[Chan, Chan]:
    expert = phone("101", "1796000070.70", "1796000070.70", "0000000d")
    client = Chan("PJSIP/trunk-0000000e", "1796000070.71", expert.lid, "79115550170", "<unknown>", "from-trunk")
    feed(tracker, [
        newchannel(0.0, expert, "4"),
        newchannel(0.1, client),
        dial_begin(0.101, expert, client, "79115550170@trunk"),
        newstate(5.0, client, "6"),
        newstate(5.001, expert, "6"),
        dial_end(5.002, expert, client, "ANSWER"),
    ])
    return expert, client


def test_last_leg_hung_up_before_reconcile_ran_still_closes_the_call() -> None:
    tracker = CallTracker()
    expert, client = answered_outbound(tracker)
    # gap 10..20 s: the client hangs up at 12 s, unseen. The channel list (read at 20.4 s) still shows the
    # Expert's leg; the Expert's Hangup at 20.5 s is handled before reconcile runs (recorder.on_connected).
    snapshot = [core_show_channel(expert, 20, "Dial")]
    effects = feed(tracker, [hangup(20.5, expert, "16")])
    effects += reconcile(tracker, ReconnectEvidence(snapshot, at(10.0), at(20.4)), only={expert.lid})
    [record] = closed(effects)
    assert record.outcome is Outcome.ANSWERED
    assert tracker.calls == {}


def test_client_leg_created_after_the_channel_list_keeps_its_hangup_cause() -> None:
    tracker = CallTracker()
    expert = Chan("PJSIP/101-0000000f", "dsd-r", "dsd-r", "101", "DS Desk", "ds-outbound", "79115550180")
    client = Chan("PJSIP/trunk-00000010", "1796000080.81", "dsd-r", "79115550180", "<unknown>", "from-trunk")
    feed(tracker, [newchannel(0.0, expert), dial_begin(0.001, None, expert, "101"), newstate(0.05, expert, "5")])
    # gap 1..3 s with nothing in it; the list is read at 3.0 s while the Expert's phone rings;
    # these arrive before reconcile runs:
    feed(tracker, [
        newstate(3.1, expert, "6"), dial_end(3.101, None, expert, "ANSWER"),
        newchannel(3.2, client), dial_begin(3.201, expert, client, "79115550180@trunk"),
    ])
    snapshot = [core_show_channel(Chan(**{**expert.__dict__, "state": "5"}), 3, "AppDial")]
    effects = reconcile(tracker, ReconnectEvidence(snapshot, at(1.0), at(3.0)), only={"dsd-r"})
    effects += feed(tracker, [
        dial_end(5.0, expert, client, "BUSY"), hangup(5.001, client, "17", "User busy"), hangup(5.5, expert, "16"),
    ])
    [record] = closed(effects)
    assert (record.outcome, record.hangup_cause) == (Outcome.BUSY, 17)


def test_attended_transfer_then_reconnect_leaves_no_call_open() -> None:
    tracker = CallTracker()
    caller = trunk("1796000090.90", "1796000090.90")
    first_leg = phone("101", "1796000090.91", caller.lid, "00000011")
    consult = phone("101", "1796000090.92", "1796000090.92", "00000012")  # a new call from 101's phone
    second = phone("102", "1796000090.93", consult.lid, "00000013")
    feed(tracker, [
        newchannel(0.0, caller, "4"), newchannel(0.1, first_leg), dial_begin(0.101, caller, first_leg, "101"),
        newstate(3.0, first_leg, "6"), dial_end(3.001, caller, first_leg, "ANSWER"),
        newchannel(20.0, consult, "4"), newchannel(20.1, second), dial_begin(20.101, consult, second, "102"),
        newstate(24.0, second, "6"), dial_end(24.001, consult, second, "ANSWER"),
        # 101 completes the transfer: both of 101's channels go; caller and 102 are bridged
        hangup(30.0, first_leg, "16"), hangup(30.001, consult, "16"),
    ])
    assert set(tracker.calls) == {caller.lid, consult.lid}
    # gap 31..40 s; in the merged bridge the oldest Linkedid won, so the list shows 102's leg under the caller's
    second.lid = caller.lid
    snapshot = [core_show_channel(caller, 40, "Dial", "b-9"), core_show_channel(second, 20, "AppDial", "b-9")]
    reconcile(tracker, ReconnectEvidence(snapshot, at(31.0), at(40.0)), only=set(tracker.calls))
    feed(tracker, [hangup(100.0, caller, "16"), hangup(100.001, second, "16")])
    assert tracker.calls == {}


class MemoryStore:
    def __init__(self) -> None:
        self.rows: dict[str, CallRecord] = {}

    async def upsert_calls(self, records: Sequence[CallRecord]) -> dict[str, StoredCall]:
        self.rows.update({r.linkedid: r for r in records})
        return {r.linkedid: StoredCall(client_id=r.client_id) for r in records}

    async def open_calls(self) -> list[CallRecord]:
        return [r for r in self.rows.values() if r.is_open]

    async def existing_linkedids(self, linkedids: Collection[str]) -> set[str]:
        return set(linkedids) & set(self.rows)

    async def guessed_calls(self, since: datetime) -> list[CallRecord]:
        return []

    async def last_call_time(self) -> datetime | None:
        return max((r.ended_at or r.started_at for r in self.rows.values()), default=None)


class ReconnectingPbx:
    """The recorder's PbxActions: events keep arriving while the channel list is in flight."""

    def __init__(self, recorder: LedgerRecorder, arriving: list[Message], channels: list[Message]) -> None:
        self.recorder, self.arriving, self.channels = recorder, arriving, channels

    async def ping(self) -> Message:
        return Message({"Response": "Success", "Ping": "Pong", "Timestamp": f"{at(20.0):.6f}"})

    async def core_status(self) -> Message:
        return Message({"Response": "Success", "CoreStartupDate": "2026-12-01", "CoreStartupTime": "08:00:00"})

    async def channel_variables(self) -> dict[str, dict[str, str]]:
        return {}

    async def core_show_channels(self) -> list[Message]:
        self.recorder.on_events(self.arriving, at(20.2))  # the reader thread's batch, delivered meanwhile
        return self.channels


async def test_call_started_in_the_gap_with_events_during_reconcile_is_recorded() -> None:
    recorder = LedgerRecorder(CallTracker(), MemoryStore(), clock=lambda: at(20.3))
    ended: list[CallRecord] = []
    recorder.add_listener(
        lambda change, _received_at: ended.append(change.record) if change.state is LiveState.ENDED else None)
    expert = Chan("PJSIP/101-00000014", "dsd-g", "dsd-g", "101", "DS Desk", "ds-outbound", "79115550190", "6")
    client = Chan("PJSIP/trunk-00000015", "1796000100.2", "dsd-g", "79115550190", "<unknown>", "from-trunk")
    arriving = [newchannel(20.1, client), dial_begin(20.101, expert, client, "79115550190@trunk")]
    pbx = ReconnectingPbx(recorder, arriving, [core_show_channel(expert, 5, "Dial")])
    await recorder.on_connected(pbx, is_reconnect=True)
    recorder.on_events([newstate(24.0, client, "6"), dial_end(24.001, expert, client, "ANSWER"),
                        hangup(60.0, client, "16"), hangup(60.001, expert, "16")], at(60.1))
    assert await recorder._flush_once()  # commit, then publish
    [record] = ended
    assert (record.direction, record.expert_ext, record.outcome) == (Direction.OUTBOUND, "101", Outcome.ANSWERED)


# ---- the shell: leaks and a wedged ledger -----------------------------------------------------
async def test_click_to_call_while_disconnected_leaves_no_expectation_behind() -> None:
    pbx = Pbx(AmiOptions(port=1), MemoryStore())
    try:
        for i in range(3):
            with pytest.raises(AmiNotConnected):
                await pbx.originate("101", f"7911555{i:04d}", planned_call_id=f"PC-{i}")
    finally:
        await pbx.close()
    assert pbx.pending_originates() == []  # one entry per failed click, kept for ever


@pytest.mark.pg
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_one_rejected_record_does_not_block_the_ledger(ledger: LedgerRepository) -> None:
    recorder = LedgerRecorder(CallTracker(), ledger, flush_interval_s=0.01, max_retry_s=0.05)
    await recorder.start()
    try:
        for n, planned in enumerate(["PC-" + "9" * 40, "PC-2"]):
            _, events = pjsip_click_to_call_answered()
            lid = f"dsd-p{n}"
            ids = {"dsd-a": lid, "1796000002.2": f"1796000002.{n}"}
            for msg in events:
                for key in ("Uniqueid", "Linkedid", "DestUniqueid", "DestLinkedid"):
                    msg[key] = ids.get(msg.get(key, ""), msg.get(key, ""))
                if msg.get("Variable") == "PLANNED_CALL_ID":
                    msg["Value"] = planned
            recorder.on_events(events, at(40.0))
        for _ in range(100):
            if await ledger.get_call("dsd-p1") is not None:
                break
            await asyncio.sleep(0.02)
    finally:
        await recorder.stop()
    assert await ledger.get_call("dsd-p1") is not None
