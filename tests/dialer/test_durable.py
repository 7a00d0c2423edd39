"""Commit, then publish: which events wait for which record, and what the store's answer adds. Pure."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from dialer.durable import DurableEvents, Release
from dialer.records import CallRecord, CallStateChanged, Direction, LiveState, Outcome
from dialer.store import StoredCall

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def record(linkedid: str = "L-1", **changes: object) -> CallRecord:
    base = CallRecord(linkedid=linkedid, direction=Direction.INBOUND, expert_ext="101", client_number=None,
                      started_at=T0, answered_at=None, ended_at=None, duration_s=0.0, talk_s=0.0, outcome=None,
                      hangup_cause=None, recording=None, planned_call_id=None, client_id=None, client_name="Иван")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]  # CallRecord fields


def change(rec: CallRecord, state: LiveState, seconds: float = 0.0) -> CallStateChanged:
    return CallStateChanged(rec.linkedid, rec.expert_ext, state, T0 + timedelta(seconds=seconds), rec)


def states(releases: list[Release]) -> list[str]:
    return [str(r.change.state) for r in releases]


def test_an_event_waits_for_its_own_version_and_a_later_commit_releases_the_earlier_ones() -> None:
    durable = DurableEvents()
    ringing = record()
    v1 = durable.next_version("L-1")
    assert not durable.release_or_hold(change(ringing, LiveState.RINGING), 10.0, v1, now=0.0)
    v2 = durable.next_version("L-1")
    assert not durable.release_or_hold(change(ringing, LiveState.TALKING, 5), 11.0, v2, now=0.0)
    assert durable.committed("L-1", v1, None, ringing) and durable.held_count() == 1
    assert states(durable.committed("L-1", v2, None, ringing)) == ["talking"]
    assert durable.held_count() == 0


def test_events_of_one_call_leave_in_order_whatever_commits_first() -> None:
    durable = DurableEvents()
    first, second = durable.next_version("L-1"), durable.next_version("L-1")
    assert not durable.release_or_hold(change(record(), LiveState.RINGING), 1.0, first, now=0.0)
    assert not durable.release_or_hold(change(record(), LiveState.TALKING, 2), 2.0, second, now=0.0)
    # The store kept only the latest record: its commit covers both, released in order.
    assert states(durable.committed("L-1", second, None, record())) == ["ringing", "talking"]


def test_the_first_event_names_the_matched_client_and_the_owner_and_the_callers_number() -> None:
    """The store matched the inbound caller and knows the owner; the tracker learned the number later."""
    durable = DurableEvents()
    version = durable.next_version("L-1")
    assert not durable.release_or_hold(change(record(), LiveState.RINGING), 1.0, version, now=0.0)
    written = record(client_number="79115550199")
    [release] = durable.committed("L-1", version, StoredCall("C-7", "ООО «Вектор»", 42), written)
    got = release.change.record
    assert (got.client_number, got.client_id, got.client_name, release.change.owner_id) == (
        "79115550199", "C-7", "ООО «Вектор»", 42)
    assert release.change.saved and release.received_at == 1.0


def test_a_client_the_pbx_named_is_never_replaced_by_a_match() -> None:
    durable = DurableEvents()
    version = durable.next_version("L-1")
    assert not durable.release_or_hold(change(record(client_id="C-1001"), LiveState.RINGING), 1.0, version, now=0.0)
    [release] = durable.committed("L-1", version, StoredCall("C-7", "ООО «Вектор»", None), record(client_id="C-1001"))
    assert (release.change.record.client_id, release.change.record.client_name) == ("C-1001", "Иван")


def test_what_the_store_matched_goes_into_the_calls_later_records_and_is_forgotten_at_its_end() -> None:
    durable = DurableEvents()
    version = durable.next_version("L-1")
    durable.committed("L-1", version, StoredCall("C-7", "ООО «Вектор»", 42), record())
    later = durable.with_stored(record(answered_at=T0))
    assert (later.client_id, later.client_name) == ("C-7", "Иван")  # the caller ID's name stays in the row
    closed = record(ended_at=T0 + timedelta(seconds=30), outcome=Outcome.ANSWERED)
    durable.committed("L-1", durable.next_version("L-1"), None, durable.with_stored(closed))
    assert durable.with_stored(record()).client_id is None  # closed: nothing kept for that linkedid


def test_a_store_away_too_long_releases_the_events_unsaved_in_order() -> None:
    durable = DurableEvents()
    for n, state in enumerate((LiveState.RINGING, LiveState.TALKING)):
        assert not durable.release_or_hold(change(record(), state, n), float(n), durable.next_version("L-1"), now=100.0)
    assert durable.overdue(now=101.0, wait_s=2.0) == []
    late = durable.overdue(now=102.5, wait_s=2.0)
    assert states(late) == ["ringing", "talking"] and not any(r.change.saved for r in late)
    assert durable.held_count() == 0


def test_a_refused_record_releases_its_calls_events_as_they_are() -> None:
    durable = DurableEvents()
    assert not durable.release_or_hold(change(record(), LiveState.RINGING), 1.0, durable.next_version("L-1"), now=0.0)
    [release] = durable.give_up("L-1")
    assert release.change.state is LiveState.RINGING and durable.held_count() == 0


def test_after_the_opening_commit_a_middle_state_goes_out_at_once_with_the_stored_facts() -> None:
    """Only the first event and `ended` wait for a commit; ringing/talking need no write of their own."""
    durable = DurableEvents()
    opened = durable.next_version("L-1")
    assert not durable.release_or_hold(change(record(), LiveState.RINGING), 1.0, opened, now=0.0)
    durable.committed("L-1", opened, StoredCall("C-7", "ООО «Вектор»", 42), record(client_number="79115550199"))
    [talking] = durable.release_or_hold(change(record(client_number="79115550199"), LiveState.TALKING, 5), 2.0,
                                        durable.latest_version("L-1"), now=0.0)
    assert (talking.change.record.client_id, talking.change.owner_id) == ("C-7", 42)
    closing = durable.next_version("L-1")
    assert not durable.release_or_hold(change(record(), LiveState.ENDED, 9), 3.0, closing, now=0.0)


def test_a_middle_state_never_overtakes_a_first_event_still_waiting() -> None:
    durable = DurableEvents()
    opened = durable.next_version("L-1")
    assert not durable.release_or_hold(change(record(), LiveState.RINGING), 1.0, opened, now=0.0)
    assert not durable.release_or_hold(change(record(), LiveState.TALKING, 1), 2.0, opened, now=0.0)
    assert states(durable.committed("L-1", opened, None, record())) == ["ringing", "talking"]
