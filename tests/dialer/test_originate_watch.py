"""OriginateWatch, pure: a watched Originate's failure is reported once; a success or the TTL settles it."""

from __future__ import annotations

from dialer.ami.message import Message
from dialer.originate_watch import UNKNOWN_REASON, OriginateWatch, WatchedOriginate

CALL = WatchedOriginate("call", "101", "79115550101", 7, "dsd-1")


def response(action_id: str, verdict: str, reason: str = "3", timestamp: str = "1795824093.901417") -> Message:
    return Message({"Event": "OriginateResponse", "ActionID": action_id, "Response": verdict, "Reason": reason,
                    "Timestamp": timestamp, "Uniqueid": "<unknown>"})


def test_a_failure_is_reported_with_its_reason_and_time_once() -> None:
    watch = OriginateWatch(60)
    watch.watch("c2c-1", CALL, now=100.0)
    [failure] = watch.failures([Message({"Event": "Newchannel"}), response("c2c-1", "Failure")], now=101.0)
    assert (failure.kind, failure.ext, failure.requested_by, failure.linkedid, failure.reason, failure.at) == (
        "call", "101", 7, "dsd-1", 3, 1795824093.901417)
    assert not watch and watch.failures([response("c2c-1", "Failure")], now=102.0) == []


def test_a_success_settles_and_others_are_not_ours() -> None:
    watch = OriginateWatch(60)
    watch.watch("c2c-1", CALL, now=100.0)
    assert watch.failures([response("someone-else", "Failure")], now=101.0) == []
    assert len(watch) == 1
    assert watch.failures([response("c2c-1", "Success", "4")], now=102.0) == [] and not watch


def test_a_verdict_that_never_comes_is_dropped_after_the_ttl() -> None:
    watch = OriginateWatch(60)
    watch.watch("c2c-1", CALL, now=100.0)
    assert watch.failures([], now=159.0) == [] and len(watch) == 1
    assert watch.failures([], now=161.0) == [] and not watch


def test_a_garbage_reason_or_time_does_not_break_it() -> None:
    watch = OriginateWatch(60)
    watch.watch("c2c-1", CALL, now=100.0)
    [failure] = watch.failures([response("c2c-1", "Failure", reason="x" * 30, timestamp="inf")], now=101.0)
    assert (failure.reason, failure.at) == (UNKNOWN_REASON, 101.0)
