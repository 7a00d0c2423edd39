"""The live hub without a web server: fan-out, bounds, snapshots, presence.

The inbound caller's client now comes with the committed record (tests/dialer/test_durable.py,
tests/integration/test_ledger_over_tcp.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime, timedelta

from dialer.records import CallRecord, CallStateChanged, Direction, LiveState, Outcome
from service.live import LiveEvent, LiveHub, Subscription, state_of

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def record(linkedid: str, ext: str | None = "101", *, direction: Direction = Direction.OUTBOUND,
           client_id: str | None = "C-1001", number: str | None = "79115550101", **changes: object) -> CallRecord:
    base = CallRecord(
        linkedid=linkedid, direction=direction, expert_ext=ext, client_number=number, started_at=T0,
        answered_at=None, ended_at=None, duration_s=0.0, talk_s=0.0, outcome=None, hangup_cause=None,
        recording=None, planned_call_id="PC-1001" if direction is Direction.OUTBOUND else None,
        client_id=client_id, client_name=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]  # CallRecord fields


def change(rec: CallRecord, state: LiveState, seconds: float = 0.0) -> CallStateChanged:
    return CallStateChanged(rec.linkedid, rec.expert_ext, state, T0 + timedelta(seconds=seconds), rec)


def drain(subscription: Subscription) -> list[dict[str, object]]:
    events: list[LiveEvent] = []
    while (event := subscription.get_nowait()) is not None:
        events.append(event)
    return [json.loads(e.data) for e in events]


async def test_an_expert_gets_only_their_own_calls_and_a_supervisor_gets_all() -> None:
    hub = LiveHub()
    maria, anna, board = hub.subscribe("101"), hub.subscribe("102"), hub.subscribe(None)
    hub.publish(change(record("a", "101"), LiveState.DIALLING), 100.0)
    hub.publish(change(record("b", "102"), LiveState.DIALLING), 100.5)
    hub.publish(change(record("a", "101"), LiveState.RINGING, 2), 101.0)
    assert [(e["linkedid"], e["state"]) for e in drain(maria)] == [("a", "dialling"), ("a", "ringing")]
    assert [(e["linkedid"], e["state"]) for e in drain(anna)] == [("b", "dialling")]
    assert [e["linkedid"] for e in drain(board)] == ["a", "b", "a"]


async def test_payload_fields() -> None:
    hub = LiveHub()
    board = hub.subscribe(None)
    answered = T0 + timedelta(seconds=5)
    ended = record("a", answered_at=answered, ended_at=T0 + timedelta(seconds=65), duration_s=65.0,
                   talk_s=60.0, outcome=Outcome.ANSWERED)
    hub.publish(change(ended, LiveState.ENDED, 65), 1234.5)
    [event] = drain(board)
    assert event == {
        "linkedid": "a", "state": "ended", "at": "2026-11-27T09:01:05.000+00:00", "expert_ext": "101",
        "direction": "outbound", "client_number": "79115550101", "client_id": "C-1001", "client_name": None,
        "planned_call_id": "PC-1001", "started_at": "2026-11-27T09:00:00.000+00:00",
        "answered_at": "2026-11-27T09:00:05.000+00:00", "ended_at": "2026-11-27T09:01:05.000+00:00",
        "outcome": "answered", "duration_s": 65.0, "talk_s": 60.0, "received_at": 1234.5,
        "owner_id": None, "saved": True,
    }


async def test_a_slow_reader_loses_the_oldest_events_and_they_are_counted() -> None:
    hub = LiveHub(queue_size=3)
    slow = hub.subscribe("101")
    for i in range(5):
        hub.publish(change(record(f"c{i}"), LiveState.DIALLING), float(i))
    assert slow.dropped == 2
    assert [e["linkedid"] for e in drain(slow)] == ["c2", "c3", "c4"]


async def test_unsubscribed_readers_get_nothing_and_their_stream_ends() -> None:
    hub = LiveHub()
    maria = hub.subscribe("101")
    waiting = asyncio.create_task(maria.get())
    await asyncio.sleep(0)
    hub.unsubscribe(maria)
    assert await asyncio.wait_for(waiting, 1) is None
    hub.publish(change(record("a"), LiveState.DIALLING), 1.0)
    assert drain(maria) == [] and hub.subscriber_count == 0


async def test_close_ends_every_stream() -> None:
    hub = LiveHub()
    readers = [hub.subscribe("101"), hub.subscribe(None)]
    await hub.close()
    assert all(r.closed for r in readers) and hub.subscriber_count == 0
    assert [await r.get() for r in readers] == [None, None]


async def test_snapshot_shows_calls_up_with_their_latest_state() -> None:
    open_calls = [record("a", "101"), record("b", "102", answered_at=T0), record("r", "101", ringing_at=T0)]
    hub = LiveHub(open_records=lambda: open_calls)
    hub.publish(change(open_calls[0], LiveState.RINGING, 3), 10.0)
    mine = hub.snapshot("101")["calls"]
    assert [(c["linkedid"], c["state"]) for c in mine] == [("a", "ringing"), ("r", "ringing")]
    assert mine[0]["received_at"] == 10.0 and mine[1]["received_at"] is None
    everyone = hub.snapshot(None)["calls"]
    assert [(c["linkedid"], c["state"]) for c in everyone] == [("a", "ringing"), ("b", "talking"), ("r", "ringing")]
    hub.publish(change(open_calls[0], LiveState.ENDED, 9), 11.0)
    open_calls.pop(0)
    assert [c["linkedid"] for c in hub.snapshot("101")["calls"]] == ["r"]


def test_state_of_a_record_without_a_change() -> None:
    assert state_of(record("a")) is LiveState.DIALLING
    assert state_of(record("a", direction=Direction.INBOUND)) is LiveState.RINGING
    assert state_of(record("a", ringing_at=T0)) is LiveState.RINGING
    assert state_of(record("a", answered_at=T0)) is LiveState.TALKING
    assert state_of(record("a", ended_at=T0)) is LiveState.ENDED


def names_and_data(subscription: Subscription) -> list[tuple[str, dict[str, object]]]:
    events: list[LiveEvent] = []
    while (event := subscription.get_nowait()) is not None:
        events.append(event)
    return [(e.name, json.loads(e.data)) for e in events]


async def test_presence_counts_open_streams_per_extension_and_tells_supervisors_only() -> None:
    hub = LiveHub()
    board, other_expert = hub.subscribe(None), hub.subscribe("102")
    assert hub.present_extensions() == {"102"}
    first, second = hub.subscribe("101"), hub.subscribe("101")  # two tabs of one Expert
    assert hub.present_extensions() == {"101", "102"}
    hub.unsubscribe(first)
    assert hub.present_extensions() == {"101", "102"}  # one tab still open
    hub.unsubscribe(second)
    hub.unsubscribe(second)  # twice (shutdown after a disconnect) changes nothing
    assert hub.present_extensions() == {"102"}
    events = names_and_data(board)
    assert [(name, data["expert_ext"], data["present"]) for name, data in events] == [
        ("presence", "102", True), ("presence", "101", True), ("presence", "101", False)]
    assert names_and_data(other_expert) == []  # an Expert's screen never hears of others


async def test_an_expert_without_an_extension_is_nobody_present() -> None:
    hub = LiveHub()
    board = hub.subscribe(None)
    hub.subscribe("")
    assert hub.present_extensions() == frozenset() and names_and_data(board) == []


async def test_the_supervisors_snapshot_names_who_is_present_and_an_experts_does_not() -> None:
    hub = LiveHub()
    hub.subscribe("102")
    hub.subscribe("101")
    assert hub.snapshot(None)["present"] == ["101", "102"]
    assert "present" not in hub.snapshot("101")


async def test_announcements_reach_supervisors_with_increasing_ids() -> None:
    hub = LiveHub()
    board, maria = hub.subscribe(None), hub.subscribe("101")
    hub.publish(change(record("a"), LiveState.DIALLING), 1.0)
    hub.announce("wrapup", {"expert_ext": "101", "linkedid": "a"})
    got = []
    while (event := board.get_nowait()) is not None:
        got.append(event)
    assert [e.name for e in got] == ["presence", "call", "wrapup"]
    assert [e.id for e in got] == sorted(e.id for e in got) and hub.last_id == got[-1].id
    assert [e["state"] for e in drain(maria)] == ["dialling"]


async def test_a_supervisor_following_one_expert_does_not_make_them_present() -> None:
    """Found in review: a supervisor's `/live?expert=EXT` stream counted as the Expert at their desk."""
    hub = LiveHub()
    board = hub.subscribe(None)
    watching = hub.subscribe("101", present=False)
    assert hub.present_extensions() == frozenset()
    own = hub.subscribe("101")
    assert hub.present_extensions() == frozenset({"101"})
    hub.unsubscribe(watching)
    assert hub.present_extensions() == frozenset({"101"})
    hub.unsubscribe(own)
    assert hub.present_extensions() == frozenset()
    names = []
    while (event := board.get_nowait()) is not None:
        names.append((event.name, event.data))
    assert [n for n, _ in names] == ["presence", "presence"]  # arrived once, left once
