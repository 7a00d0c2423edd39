"""Asterisk's own CDR read as DS Desk's backstop, checked against the real captures' Cdr events.

Each capture's `Cdr` events are the rows `cdr_custom` would have written for its call (the
capture's channel events give each row its Linkedid). A call built from them alone must match
the record the call tracker makes of the full event stream: within 1 s (CDR times are whole
seconds), with the one thing a CDR cannot say: a rejected call reads as NO ANSWER.
"""

from __future__ import annotations

from datetime import UTC

import pytest

from dialer.cdr import (
    CDR_COLUMNS,
    CdrRow,
    correct,
    parse_time,
    record_from_rows,
    row_from_fields,
    rows_by_call,
)
from dialer.records import Q_END_INFERRED, Q_FROM_CDR, CallRecord, Outcome
from dialer.replay import iter_messages, read_chunks, replay_messages
from dialer.tracker import CallTracker
from tests.dialer.captures import RAW

SINGLE = ["answered.ami", "no-answer.ami", "busy.ami", "congestion.ami", "reject.ami",
          "expert-phone-not-answered.ami", "expert-hangs-up-first.ami", "inbound-answered.ami", "cancelled.ami",
          "inbound-missed.ami", "mixed-8.ami"]
EXPERT_OF = CallTracker().expert_ext_of
CDR_FIELDS = {"uniqueid": "UniqueID", "channel": "Channel", "dstchannel": "DestinationChannel", "src": "Source",
              "dst": "Destination", "lastapp": "LastApplication", "start": "StartTime", "answer": "AnswerTime",
              "end": "EndTime", "disposition": "Disposition", "client_id": "ClientId",
              "planned_call_id": "PlannedCallId"}


def capture(name: str) -> tuple[list[CallRecord], dict[str, list[CdrRow]]]:
    messages = list(iter_messages(read_chunks(RAW / name)))
    linkedid_of = {m["Uniqueid"]: m["Linkedid"] for m in messages if m.get("Uniqueid") and m.get("Linkedid")}
    rows = []
    for msg in messages:
        if msg.get("Event") == "Cdr":
            fields: dict[str, object] = {k: msg.get(v, "") for k, v in CDR_FIELDS.items()}
            fields["linkedid"] = linkedid_of.get(msg.get("UniqueID", ""), "")
            row = row_from_fields(fields, UTC)
            assert row is not None
            rows.append(row)
    return replay_messages(m for m in messages if m.get("Event") != "Cdr"), rows_by_call(rows)


@pytest.mark.parametrize("name", SINGLE)
def test_a_call_built_from_its_cdr_alone_matches_the_tracker(name: str) -> None:
    records, rows = capture(name)
    assert records
    for record in records:
        built = record_from_rows(rows[record.linkedid], EXPERT_OF)
        if record.outcome is Outcome.EXPERT_NO_ANSWER:
            assert built is None  # no Dial in its rows: a voicemail check looks the same; not invented
            continue
        assert built is not None, record
        expected = Outcome.NO_ANSWER if record.outcome is Outcome.REJECTED else record.outcome
        assert (built.direction, built.expert_ext, built.outcome) == (record.direction, record.expert_ext, expected)
        assert (built.planned_call_id, built.client_id) == (record.planned_call_id, record.client_id)
        assert built.client_number == record.client_number
        assert record.ended_at is not None and built.ended_at is not None
        assert abs((built.ended_at - record.ended_at).total_seconds()) < 1.0
        assert abs(built.talk_s - record.talk_s) < 1.0 and Q_FROM_CDR in built.quality


def test_a_guessed_end_is_put_right_and_flagged_from_cdr() -> None:
    records, rows = capture("busy.ami")
    [truth] = records
    guessed = CallRecord(**{**{f: getattr(truth, f) for f in ("linkedid", "direction", "expert_ext",
                                                              "client_number", "started_at", "answered_at",
                                                              "duration_s", "talk_s", "hangup_cause", "recording",
                                                              "planned_call_id", "client_id")},
                            "ended_at": truth.ended_at, "outcome": Outcome.CANCELLED, "quality": (Q_END_INFERRED,)})
    fixed = correct(guessed, rows[truth.linkedid], EXPERT_OF)
    assert fixed is not None and fixed.outcome is Outcome.BUSY
    assert fixed.quality == (Q_FROM_CDR,)
    assert correct(truth, rows[truth.linkedid], EXPERT_OF) is None  # nothing was guessed: nothing to do


@pytest.mark.parametrize("value", ["", "garbage", "nan", "-5", None, "2026-13-45 99:99:99"])
def test_an_unreadable_time_is_none(value: object) -> None:
    assert parse_time(value, UTC) is None


def test_times_read_as_epoch_or_the_pbx_local_time() -> None:
    assert parse_time("1795824044.250000", UTC) == 1795824044.25
    assert parse_time("2026-11-28 00:00:44", UTC) == parse_time("1795824044", UTC)
    assert len(CDR_COLUMNS) == len(set(CDR_COLUMNS))
