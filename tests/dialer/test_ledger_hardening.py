"""The review's fixes, beyond the pinned findings: bad records, leaks, failing reconnects, bad events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pytest

from dialer.actions import AmiAction
from dialer.ami.message import Message
from dialer.ami_options import AmiOptions
from dialer.errors import AmiActionTimeout, AmiNotConnected, RecordsRefused, StoreUnavailable
from dialer.pbx import Pbx
from dialer.recorder import LedgerRecorder
from dialer.records import Q_END_INFERRED, CallRecord, Direction, LiveState, Outcome
from dialer.store import StoredCall
from dialer.tracker import CallTracker, ExpectedOriginate, TrackerConfig
from tests.dialer.test_tracker_review import (
    Chan,
    MemoryStore,
    at,
    chanspy_session,
    closed,
    core_show_channel,
    dial_begin,
    dial_end,
    feed,
    hangup,
    newchannel,
    newstate,
    originate_response,
    phone,
    pjsip_click_to_call_answered,
    trunk,
    varset,
)


def answered_call(n: int, planned: str = "PC-1") -> list[Message]:
    """The PJSIP click-to-call of test_tracker_review with its ids made unique (Linkedid `dsd-<n>`)."""
    _, events = pjsip_click_to_call_answered()
    ids = {"dsd-a": f"dsd-{n}", "1796000002.2": f"1796000002.{n}"}
    for msg in events:
        for key in ("Uniqueid", "Linkedid", "DestUniqueid", "DestLinkedid"):
            msg[key] = ids.get(msg.get(key, ""), msg.get(key, ""))
        if msg.get("Variable") == "PLANNED_CALL_ID":
            msg["Value"] = planned
    return events


class PickyStore(MemoryStore):
    """Refuses any batch holding a refused linkedid (as a database refuses the whole statement)."""

    def __init__(self, refused: set[str], down: bool = False) -> None:
        super().__init__()
        self.refused, self.down, self.calls = refused, down, 0

    async def upsert_calls(self, records: Sequence[CallRecord]) -> dict[str, StoredCall]:
        self.calls += 1
        if self.down:
            raise StoreUnavailable("OperationalError: connection refused")
        bad = [r.linkedid for r in records if r.linkedid in self.refused]
        if bad:
            raise RecordsRefused(f"DataError: value too long in {bad[0]}")
        return await super().upsert_calls(records)


# ---- 1. one bad record must not block the ledger ---------------------------------------------
async def test_a_refused_record_is_set_aside_and_the_rest_are_written(caplog: pytest.LogCaptureFixture) -> None:
    store = PickyStore({"dsd-1"})
    recorder = LedgerRecorder(CallTracker(), store)
    for n in range(3):
        recorder.on_events(answered_call(n), at(40.0))
    assert await recorder._flush_once()
    assert set(store.rows) == {"dsd-0", "dsd-2"} and recorder.pending_count == 0
    assert list(recorder.rejected) == ["dsd-1"] and recorder.rejected_count == 1
    assert "dsd-1" in caplog.text and "value too long" in caplog.text
    recorder.on_events(answered_call(3), at(41.0))  # the next flush is a plain batch again
    calls = store.calls
    assert await recorder._flush_once() and store.calls == calls + 1 and "dsd-3" in store.rows


async def test_a_database_outage_is_not_taken_for_a_bad_record() -> None:
    store = PickyStore(set(), down=True)
    recorder = LedgerRecorder(CallTracker(), store)
    recorder.on_events(answered_call(0), at(40.0))
    assert not await recorder._flush_once()
    assert recorder.pending_count == 1 and recorder.rejected == {}
    assert recorder.last_error is not None and "OperationalError" in recorder.last_error
    store.down = False
    assert await recorder._flush_once() and "dsd-0" in store.rows


async def test_an_outage_while_finding_the_bad_record_keeps_what_is_left() -> None:
    store = PickyStore({"dsd-0"})
    recorder = LedgerRecorder(CallTracker(), store)
    for n in range(4):
        recorder.on_events(answered_call(n), at(40.0))
    real_upsert = store.upsert_calls

    async def outage_after_the_bad_one(records: Sequence[CallRecord]) -> dict[str, StoredCall]:
        try:
            return await real_upsert(records)
        finally:
            if [r.linkedid for r in records] == ["dsd-0"]:
                store.down = True

    store.upsert_calls = outage_after_the_bad_one  # type: ignore[method-assign]  # a test double
    assert not await recorder._flush_once()
    assert list(recorder.rejected) == ["dsd-0"] and recorder.pending_count == 3 - len(store.rows)
    assert "dsd-0" not in store.rows and recorder.last_error is not None
    store.down = False
    assert await recorder._flush_once() and set(store.rows) == {"dsd-1", "dsd-2", "dsd-3"}


async def test_a_large_batch_with_one_bad_record_takes_few_statements() -> None:
    store = PickyStore({"dsd-37"})
    recorder = LedgerRecorder(CallTracker(), store)
    for n in range(200):
        recorder.on_events(answered_call(n), at(40.0))
    assert await recorder._flush_once()
    assert len(store.rows) == 199 and list(recorder.rejected) == ["dsd-37"] and store.calls <= 20


async def test_the_backlog_is_capped_and_said_loudly(caplog: pytest.LogCaptureFixture) -> None:
    recorder = LedgerRecorder(CallTracker(), PickyStore(set(), down=True), pending_warn=3, pending_max=5)
    for n in range(7):
        recorder.on_events(answered_call(n), at(40.0))
    assert recorder.pending_count == 5 and recorder.dropped == 2
    assert caplog.text.count("LEDGER BACKLOG:") == 1 and "LEDGER BACKLOG FULL" in caplog.text


def test_an_over_long_linkage_variable_is_dropped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    tracker = CallTracker()
    [record] = closed(feed(tracker, answered_call(0, planned="PC-" + "9" * 40)))
    assert (record.planned_call_id, record.client_id) == (None, "C-1")
    assert "dsd-0" in caplog.text and "PLANNED_CALL_ID is 43 characters" in caplog.text
    tracker = CallTracker(TrackerConfig(max_linkage_len=64))
    [record] = closed(feed(tracker, answered_call(1, planned="PC-" + "9" * 40)))
    assert record.planned_call_id == "PC-" + "9" * 40


# ---- 3. click-to-call expectations ------------------------------------------------------------
def test_an_expectation_goes_with_its_call_or_after_a_timeout() -> None:
    tracker = CallTracker(TrackerConfig(expected_ttl_s=60))
    tracker.expect_originate(ExpectedOriginate("c2c-dsd-0", "dsd-0", "101", "79115550101", "PC-1", "C-1"))
    tracker.expect_originate(ExpectedOriginate("c2c-x", "dsd-x", "101", "79115550109", "PC-9", "C-9"))
    events = answered_call(0)
    events = [m for m in events if m.get("Event") != "OriginateResponse"]  # lost in a gap, say
    [record] = closed(feed(tracker, events))
    assert record.planned_call_id == "PC-1"
    assert tracker.expected_actions == {"c2c-x"}  # the call's own went when it closed
    tracker.handle_many([], at(30.0))
    assert tracker.expected_actions == {"c2c-x"}
    tracker.handle_many([], at(100.0))  # no OriginateResponse within the TTL
    assert tracker.expected_actions == frozenset() and tracker.extension_busy("101") is False


def test_a_late_originate_response_of_a_finished_click_is_not_pinned_on_another_call() -> None:
    tracker = CallTracker()
    tracker.expect_originate(ExpectedOriginate("c2c-1", "dsd-1", "101", "79115550101", "PC-1", "C-1"))
    first = Chan("PJSIP/101-00000001", "dsd-1", "dsd-1", "101", "DS Desk", "ds-outbound", "79115550101")
    feed(tracker, [newchannel(0.0, first), dial_begin(0.001, None, first, "101"), newstate(0.05, first, "5"),
                   hangup(6.0, first, "19")])  # the Expert's phone was not answered
    second = phone("101", "1796000001.5", "1796000001.5", "00000005")  # the Expert now dials by hand
    client = Chan("PJSIP/trunk-00000006", "1796000001.6", second.lid, "79115550102", "<unknown>", "from-trunk")
    feed(tracker, [newchannel(7.0, second, "4"), newchannel(7.1, client),
                   dial_begin(7.101, second, client, "79115550102@trunk")])
    feed(tracker, [originate_response(7.2, "c2c-1", "Failure", "PJSIP/101", "<unknown>", "3",
                                      Context="ds-outbound", Exten="79115550101")])
    [record] = closed(feed(tracker, [dial_end(9.0, second, client, "BUSY"), hangup(9.001, client, "17"),
                                     hangup(9.5, second, "16")]))
    assert (record.outcome, record.client_number) == (Outcome.BUSY, "79115550102")


async def test_click_to_call_timing_out_keeps_its_expectation_for_the_late_response() -> None:
    pbx = Pbx(AmiOptions(port=1), MemoryStore())

    async def timing_out(*_: object, **__: object) -> Message:
        raise AmiActionTimeout("no response")

    pbx.connection.perform = timing_out  # type: ignore[method-assign]  # a test double
    with pytest.raises(AmiActionTimeout):
        await pbx.originate("101", "79115550101", planned_call_id="PC-1")
    [expected] = pbx.pending_originates()
    assert expected.planned_call_id == "PC-1"


# ---- 5. channels that dial nobody ---------------------------------------------------------------
def test_a_listen_in_linkedid_is_ignored_altogether() -> None:
    tracker = CallTracker()
    tracker.ignore_linkedid("1796000050.50")
    feed(tracker, chanspy_session()[:3])
    assert tracker.calls == {}


async def test_listen_in_that_cannot_be_sent_leaves_nothing_ignored() -> None:
    pbx = Pbx(AmiOptions(port=1), MemoryStore())
    try:
        with pytest.raises(AmiNotConnected):
            await pbx.spy("201", "101", "listen")
    finally:
        await pbx.close()
    assert pbx.stats().ignored_calls == 0


async def test_listen_in_sends_a_channel_id_the_tracker_ignores() -> None:
    pbx = Pbx(AmiOptions(port=1), MemoryStore())
    sent: list[AmiAction] = []

    async def perform(spec: AmiAction, timeout: float | None = None) -> Message:
        sent.append(spec)
        return Message({"Response": "Success"})

    pbx.connection.perform = perform  # type: ignore[method-assign]  # a test double
    await pbx.spy("201", "101", "listen")
    [spec] = sent
    channel_id = spec.headers["ChannelId"]
    assert channel_id.startswith("dsd-spy-") and pbx._tracker.is_ignored(channel_id)  # the Pbx's own tracker


def test_an_expert_dialling_a_client_by_hand_is_recorded_from_the_dial() -> None:
    tracker = CallTracker()
    expert = phone("101", "1796000200.1", "1796000200.1", "00000020")
    client = Chan("PJSIP/trunk-00000021", "1796000200.2", expert.lid, "79115550200", "<unknown>", "from-trunk")
    effects = feed(tracker, [newchannel(0.0, expert, "4"), varset(0.1, expert, "PLANNED_CALL_ID", "PC-7")])
    assert effects == []  # nobody dialled yet: not a call (it may be voicemail)
    effects = feed(tracker, [newchannel(1.0, client), dial_begin(1.001, expert, client, "79115550200@trunk"),
                             dial_end(5.0, expert, client, "NOANSWER"), hangup(5.001, client, "19"),
                             hangup(5.5, expert, "16")])
    [record] = closed(effects)
    assert (record.started_at.timestamp(), record.planned_call_id, record.outcome) == (at(0.0), "PC-7",
                                                                                       Outcome.NO_ANSWER)


# ---- 4. inbound: the answering Expert ---------------------------------------------------------
def test_ring_group_hangup_cause_is_the_answering_experts() -> None:
    tracker = CallTracker()
    caller = trunk("1796000300.1", "1796000300.1")
    first = phone("101", "1796000300.2", caller.lid, "00000031")
    second = phone("102", "1796000300.3", caller.lid, "00000032")
    [record] = closed(feed(tracker, [
        newchannel(0.0, caller, "4"), newchannel(0.5, first), newchannel(0.501, second),
        dial_begin(0.502, caller, first, "101"), dial_begin(0.503, caller, second, "102"),
        dial_end(2.0, caller, first, "BUSY"), hangup(2.001, first, "17", "User busy"),  # 101 declines
        dial_end(5.0, caller, second, "ANSWER"),
        hangup(30.0, second, "16"), hangup(30.001, caller, "0"),
    ]))
    assert (record.expert_ext, record.outcome, record.hangup_cause) == ("102", Outcome.ANSWERED, 16)


# ---- 6. hardening -----------------------------------------------------------------------------
def test_an_event_that_breaks_its_handler_is_skipped_and_the_rest_go_on(caplog: pytest.LogCaptureFixture) -> None:
    tracker = CallTracker()
    events = answered_call(0)
    broken = events[4]  # Newstate of the Expert's phone
    # A value no parser makes: the handler trips over it. (A bad Timestamp used to serve here;
    # since issue 10 the arrival time stands in for one, and every header is read defensively.)
    broken["Uniqueid"] = ["not", "hashable"]  # type: ignore[assignment]  # hostile, on purpose
    with caplog.at_level(logging.ERROR, "dialer.tracker"):
        effects = tracker.handle_many(events, at(40.0))
    [record] = closed(effects)
    assert record.outcome is Outcome.ANSWERED
    assert "Newstate" in caplog.text and "dsd-0" in caplog.text


class FlakyPbx:
    """A reconnect whose channel list fails once; events go on arriving between the attempts."""

    def __init__(self, channels: list[Message], now: float) -> None:
        self.channels, self.now, self.fail = channels, now, True

    async def ping(self) -> Message:
        return Message({"Response": "Success", "Ping": "Pong", "Timestamp": f"{self.now:.6f}"})

    async def core_status(self) -> Message:
        return Message({"Response": "Success", "CoreStartupDate": "2026-12-01", "CoreStartupTime": "08:00:00"})

    async def channel_variables(self) -> dict[str, dict[str, str]]:
        return {}

    async def core_show_channels(self) -> list[Message]:
        if self.fail:
            self.fail = False
            raise AmiActionTimeout("CoreShowChannels got no response")
        return self.channels


async def test_a_failed_reconcile_keeps_the_gap_for_the_next_reconnect() -> None:
    recorder = LedgerRecorder(CallTracker(), MemoryStore(), clock=lambda: at(60.0))
    ended: list[CallRecord] = []
    recorder.add_listener(
        lambda change, _received_at: ended.append(change.record) if change.state is LiveState.ENDED else None)
    expert = phone("101", "1796000400.1", "1796000400.1", "00000041")
    client = Chan("PJSIP/trunk-00000042", "1796000400.2", expert.lid, "79115550400", "<unknown>", "from-trunk")
    recorder.on_events([newchannel(0.0, expert, "4"), newchannel(0.1, client),
                        dial_begin(0.101, expert, client, "79115550400@trunk"), newstate(3.0, client, "6"),
                        dial_end(3.001, expert, client, "ANSWER")], at(3.1))
    recorder.on_disconnected()  # gap 3.001 .. 20: the call ends in it
    pbx = FlakyPbx([], at(20.0))
    with pytest.raises(AmiActionTimeout):
        await recorder.on_connected(pbx, is_reconnect=True)
    other = phone("102", "1796000500.1", "1796000500.1", "00000051")  # an unrelated call's event
    recorder.on_events([newchannel(25.0, other, "4")], at(25.0))
    pbx.now = at(30.0)
    await recorder.on_connected(pbx, is_reconnect=True)
    assert await recorder._flush_once()  # commit, then publish
    [record] = ended
    assert record.linkedid == expert.lid and Q_END_INFERRED in record.quality
    assert record.ended_at is not None
    assert record.ended_at.timestamp() == pytest.approx((at(3.001) + at(30.0)) / 2, abs=0.01)
    assert record.direction is Direction.OUTBOUND


def test_reconcile_keeps_a_gap_leg_listed_under_another_calls_linkedid() -> None:
    """Matched by Uniqueid first: a listed leg whose Linkedid changed still belongs to its call."""
    from dialer.reconcile import ReconnectEvidence, reconcile

    tracker = CallTracker()
    expert = phone("101", "1796000600.1", "1796000600.1", "00000061")
    client = Chan("PJSIP/trunk-00000062", "1796000600.2", expert.lid, "79115550600", "<unknown>", "from-trunk")
    feed(tracker, [newchannel(0.0, expert, "4"), newchannel(0.1, client),
                   dial_begin(0.101, expert, client, "79115550600@trunk"), newstate(2.0, client, "6"),
                   dial_end(2.001, expert, client, "ANSWER")])
    moved = Chan(**{**client.__dict__, "lid": "1796000000.9"})
    effects = reconcile(tracker, ReconnectEvidence([core_show_channel(expert, 10, "Dial"),
                                                    core_show_channel(moved, 10, "AppDial")], at(3.0), at(10.0)))
    assert effects == [] and tracker.calls[expert.lid].live_legs == 2


# ---- issue 10 review: values from the PBX that are not what they claim --------------------------
@pytest.mark.parametrize("stamp", ["abc", "", "1e999999"])
async def test_a_bad_timestamp_on_a_batchs_last_event_loses_none_of_its_events(stamp: str) -> None:
    """float("abc") on the batch's last Timestamp raised before the tracker saw the batch."""
    store = MemoryStore()
    recorder = LedgerRecorder(CallTracker(), store)
    events = answered_call(7)
    events[-1] = Message({**events[-1], "Timestamp": stamp})
    recorder.on_events(events, at(40.0))
    assert await recorder._flush_once()
    record = store.rows["dsd-7"]
    assert record.outcome is Outcome.ANSWERED and record.ended_at is not None


def test_a_hostile_channel_duration_does_not_abort_the_reconcile() -> None:
    """A `Duration` of 200 `:`-parts overflowed float (OverflowError) and stopped the whole reconcile."""
    from dialer.reconcile import ReconnectEvidence, reconcile

    tracker, events = pjsip_click_to_call_answered()
    feed(tracker, events[:-2])  # answered, still talking
    expert = Chan("PJSIP/101-00000001", "dsd-a", "dsd-a", "101", "DS Desk", "ds-outbound", "79115550101")
    item = core_show_channel(expert, 5, "Dial")
    item["Duration"] = ":".join(["99"] * 200)
    effects = reconcile(tracker, ReconnectEvidence([item], at(30.0), at(40.0)), only=set(tracker.calls))
    assert "dsd-a" in tracker.calls and isinstance(effects, list)


@pytest.mark.parametrize("cause", ["²", "٣", "9" * 5000, "-1", ""])
def test_a_hostile_hangup_cause_still_ends_the_call(cause: str) -> None:
    """"²".isdigit() is true and int("²") raises: the Hangup was skipped and the call never ended."""
    tracker = CallTracker()
    events = answered_call(8)
    for msg in events:
        if msg.get("Event") == "Hangup":
            msg["Cause"] = cause
    [record] = closed(tracker.handle_many(events, at(40.0)))
    assert record.outcome is Outcome.ANSWERED and record.ended_at is not None


# ---- issue 11: commit, then publish — and a store that stays away ------------------------------
async def test_a_store_away_too_long_releases_the_live_events_unsaved_and_writes_them_later() -> None:
    store = PickyStore(set(), down=True)
    recorder = LedgerRecorder(CallTracker(), store, flush_interval_s=0.01, max_retry_s=0.05, publish_wait_s=0.2)
    heard: list[tuple[str, bool]] = []
    recorder.add_listener(lambda change, _at: heard.append((str(change.state), change.saved)))
    await recorder.start()
    try:
        recorder.on_events(answered_call(5), at(40.0))
        await asyncio.sleep(0.1)
        assert heard == []  # not committed, not yet overdue: the screens wait
        for _ in range(100):
            if heard:
                break
            await asyncio.sleep(0.02)
        assert [state for state, _ in heard] == ["dialling", "ringing", "talking", "ended"]
        assert not any(saved for _, saved in heard)
        store.down = False
        for _ in range(100):
            if recorder.pending_count == 0:
                break
            await asyncio.sleep(0.02)
        assert store.rows["dsd-5"].outcome is Outcome.ANSWERED and len(heard) == 4  # written once, told once
    finally:
        await recorder.stop()
