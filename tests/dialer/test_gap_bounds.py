"""A gap's bounds come from the old link (issue 12, item 1): the new link's first events move nothing.

With the AMI user on `read = all`, the new link's SuccessfulAuth (and FullyBooted) arrive, with a
Timestamp, before the reconnect's reconcile has run; with the documented permissions they do not.
Both must give the same gap.
"""

from __future__ import annotations

import pytest

from dialer.ami.message import Message
from dialer.recorder import LedgerRecorder
from dialer.records import (
    GUESSED_QUALITY,
    Q_END_INFERRED,
    Q_OUTCOME_INFERRED,
    Q_PBX_RESTARTED,
    CallRecord,
    LiveState,
    Outcome,
)
from dialer.tracker import CallTracker
from tests.dialer.test_ledger_hardening import FlakyPbx
from tests.dialer.test_tracker_review import (
    Chan,
    MemoryStore,
    at,
    dial_begin,
    dial_end,
    hangup,
    newchannel,
    newstate,
    phone,
)


def successful_auth(t: float) -> Message:
    return Message({"Event": "SuccessfulAuth", "Privilege": "security,all", "Timestamp": f"{at(t):.6f}",
                    "Service": "AMI", "AccountID": "dsdesk"})


def fully_booted(uptime_s: int) -> Message:
    return Message({"Event": "FullyBooted", "Privilege": "system,all", "Uptime": str(uptime_s),
                    "LastReload": str(uptime_s), "Status": "Fully Booted"})


class RestartedPbx(FlakyPbx):
    def __init__(self, channels: list[Message], now: float, startup: str) -> None:
        super().__init__(channels, now)
        self.fail, self.startup = False, startup

    async def core_status(self) -> Message:
        return Message({"Response": "Success", "CoreStartupDate": "2026-12-01", "CoreStartupTime": self.startup})


def answered_call(recorder: LedgerRecorder, n: int, t: float) -> Chan:
    expert = phone("101", f"1796000{n}00.1", f"1796000{n}00.1", f"000000{n}1")
    client = Chan(f"PJSIP/trunk-000000{n}2", f"1796000{n}00.2", expert.lid, "79115550400", "<unknown>", "from-trunk")
    recorder.on_events([newchannel(t, expert, "4"), newchannel(t + 0.1, client),
                        dial_begin(t + 0.101, expert, client, "79115550400@trunk"), newstate(t + 3.0, client, "6"),
                        dial_end(t + 3.001, expert, client, "ANSWER")], at(t + 3.1))
    return expert


def ended_records(recorder: LedgerRecorder) -> list[CallRecord]:
    ended: list[CallRecord] = []
    recorder.add_listener(
        lambda change, _received_at: ended.append(change.record) if change.state is LiveState.ENDED else None)
    return ended


@pytest.mark.parametrize("read_all", [True, False], ids=["read=all", "documented-permissions"])
async def test_the_gap_starts_at_the_old_links_last_event(read_all: bool) -> None:
    recorder = LedgerRecorder(CallTracker(), MemoryStore(), clock=lambda: at(40.0))
    ended = ended_records(recorder)
    expert = answered_call(recorder, 4, 0.0)
    recorder.on_disconnected()  # the old link's last event: 3.001; the lockout lasts until 30
    if read_all:  # the new link's login chatter comes in before its reconcile
        recorder.on_events([fully_booted(86_400), successful_auth(29.9)], at(29.9))
    await recorder.on_connected(_steady([], 30.0), is_reconnect=True)
    assert await recorder._flush_once()
    [record] = ended
    assert record.linkedid == expert.lid and Q_END_INFERRED in record.quality
    assert record.ended_at is not None
    assert record.ended_at.timestamp() == pytest.approx((at(3.001) + at(30.0)) / 2, abs=0.01)


async def test_a_call_begun_on_the_new_link_before_its_reconcile_is_not_closed_by_a_restart() -> None:
    """The CI flake of 2026-12-06: after a PBX restart, an inbound call that rang on the new link
    before the reconcile ran was closed with the old calls, 6 s before it really ended."""
    recorder = LedgerRecorder(CallTracker(), MemoryStore(), clock=lambda: at(40.0))
    ended = ended_records(recorder)
    await recorder.on_connected(RestartedPbx([], at(0.0), "08:00:00"), is_reconnect=False)
    old = answered_call(recorder, 5, 1.0)
    recorder.on_disconnected()
    recorder.on_events([fully_booted(2), successful_auth(20.0)], at(20.0))
    new = answered_call(recorder, 6, 20.1)  # rings and is answered on the new link
    await recorder.on_connected(RestartedPbx([], at(23.5), "08:00:18"), is_reconnect=True)
    assert await recorder._flush_once()
    assert [r.linkedid for r in ended] == [old.lid]
    assert Q_PBX_RESTARTED in ended[0].quality
    assert new.lid in recorder.tracker.calls and not recorder.tracker.calls[new.lid].quality


async def test_a_gap_whose_reconcile_failed_keeps_its_start_across_the_next_drop() -> None:
    recorder = LedgerRecorder(CallTracker(), MemoryStore(), clock=lambda: at(60.0))
    ended = ended_records(recorder)
    answered_call(recorder, 7, 0.0)
    recorder.on_disconnected()
    recorder.on_events([successful_auth(20.0)], at(20.0))
    with pytest.raises(Exception):  # noqa: B017 - the channel list times out
        await recorder.on_connected(FlakyPbx([], at(20.0)), is_reconnect=True)
    recorder.on_disconnected()  # that link dies too; its SuccessfulAuth must not become the start
    recorder.on_events([successful_auth(29.0)], at(29.0))
    await recorder.on_connected(_steady([], 30.0), is_reconnect=True)
    assert await recorder._flush_once()
    [record] = ended
    assert record.ended_at is not None
    assert record.ended_at.timestamp() == pytest.approx((at(3.001) + at(30.0)) / 2, abs=0.01)


def _steady(channels: list[Message], now: float) -> FlakyPbx:
    pbx = FlakyPbx(channels, at(now))
    pbx.fail = False
    return pbx


async def test_a_call_that_ends_on_the_new_link_before_its_reconcile_says_its_outcome_is_a_guess() -> None:
    """Found by the fault soak: an inbound call answered inside a lockout whose hangups came on the
    new link before the reconcile ran closed as a plain `missed`."""
    recorder = LedgerRecorder(CallTracker(), MemoryStore(), clock=lambda: at(40.0))
    ended = ended_records(recorder)
    expert = phone("101", "1796000900.2", "1796000900.1", "00000091")
    caller = Chan("PJSIP/trunk-00000090", "1796000900.1", "1796000900.1", "79115550900", "ООО Ромашка", "from-trunk")
    recorder.on_events([newchannel(0.0, caller, "4"), newchannel(0.1, expert, "5"),
                        dial_begin(0.101, caller, expert, "101")], at(0.2))
    recorder.on_disconnected()  # the Expert answers inside the gap: that DialEnd is lost
    recorder.on_events([hangup(20.0, expert, "16"), hangup(20.001, caller, "16")], at(20.1))
    assert await recorder._flush_once()
    [record] = ended
    assert record.outcome is Outcome.MISSED and Q_OUTCOME_INFERRED in record.quality
    assert GUESSED_QUALITY & set(record.quality)
