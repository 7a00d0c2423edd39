"""An open call's state survives the store: what restore brings back decides the same outcome (issue 12, item 2)."""

from __future__ import annotations

import json

from dialer.call_state import CallState
from dialer.reconcile import restore
from dialer.records import Direction, Outcome
from dialer.resume import apply_resume_state, facts, resume_state
from dialer.tracker import CallTracker
from tests.dialer.test_tracker_review import Chan, at, dial_begin, dial_end, feed, hangup, newchannel, newstate, phone


def busy_call_before_its_hangups() -> tuple[CallTracker, CallState]:
    tracker = CallTracker()
    expert = phone("101", "1796000700.1", "1796000700.1", "00000071")
    client = Chan("PJSIP/trunk-00000072", "1796000700.2", expert.lid, "79115550700", "<unknown>", "from-trunk")
    feed(tracker, [newchannel(0.0, expert, "4"), newchannel(0.1, client),
                   dial_begin(0.101, expert, client, "79115550700@trunk"), newstate(0.5, client, "5"),
                   hangup(2.0, client, "17"), dial_end(2.001, expert, client, "BUSY")])
    return tracker, tracker.calls[expert.lid]


def test_a_restored_call_ends_with_the_outcome_its_first_life_had_seen() -> None:
    tracker, call = busy_call_before_its_hangups()
    stored = json.loads(json.dumps(resume_state(call)))  # as the JSON column gives it back
    record = call.record(None)
    fresh = CallTracker()
    restore(fresh, [type(record)(**{**{f: getattr(record, f) for f in record.__dataclass_fields__},
                                    "resume": stored})])
    again = fresh.calls[call.linkedid]
    assert facts(again) == facts(call)
    assert again.record(at(2.1)).outcome is Outcome.BUSY and again.direction is Direction.OUTBOUND
    assert call.record(at(2.1)).outcome is Outcome.BUSY


def test_an_unreadable_state_is_skipped_and_the_record_still_restores() -> None:
    _, call = busy_call_before_its_hangups()
    for garbage in ({}, {"v": 99}, {"v": 1, "legs": "x", "client_cause": "17", "live_state": "nonsense"},
                    {"v": 1, "legs": [[1, 2, 3]], "started": True}):
        assert apply_resume_state(call, garbage) == []
