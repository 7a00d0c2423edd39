"""The live hub without a web server: fan-out, bounds, snapshots and the inbound client lookup."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from dialer.records import CallRecord, CallStateChanged, Direction, LiveState, Outcome
from service.db.live_lookup import CachedClientLookup
from service.live import LiveEvent, LiveHub, Subscription, call_payload, state_of

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def record(linkedid: str, ext: str | None = "101", *, direction: Direction = Direction.OUTBOUND,
           client_id: str | None = "C-1001", number: str | None = "79115550101", **changes: object) -> CallRecord:
    base = CallRecord(
        linkedid=linkedid, direction=direction, expert_ext=ext, client_number=number, started_at=T0,
        answered_at=None, ended_at=None, duration_s=0.0, talk_s=0.0, outcome=None, hangup_cause=None,
        recording=None, planned_call_id="PC-1001" if direction is Direction.OUTBOUND else None,
        client_id=client_id, client_name=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


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


def test_a_matched_client_fills_an_unlinked_call_only() -> None:
    inbound = record("i", direction=Direction.INBOUND, client_id=None, client_name="Иван")
    payload = call_payload(inbound, LiveState.RINGING, T0, 1.0, ("C-7", "ООО Вектор"))
    assert (payload["client_id"], payload["client_name"]) == ("C-7", "ООО Вектор")
    linked = call_payload(record("o"), LiveState.RINGING, T0, 1.0, ("C-7", "ООО Вектор"))
    assert linked["client_id"] == "C-1001"


class SlowDirectory:
    """A phone book whose answers the test releases, to see what waits for them and what does not."""

    def __init__(self, known: dict[str, tuple[str, str]]) -> None:
        self.known = known
        self.release = asyncio.Event()
        self.asked: list[str] = []

    async def __call__(self, number: str) -> tuple[str, str] | None:
        self.asked.append(number)
        await self.release.wait()
        return self.known.get(number)


async def test_an_inbound_caller_is_looked_up_without_delaying_other_calls_or_reordering_its_own() -> None:
    directory = SlowDirectory({"79115550199": ("C-1042", "ООО Ромашка")})
    linked: list[tuple[str, str, str]] = []
    hub = LiveHub(lookup=directory, on_client_found=lambda *args: linked.append(args))
    board = hub.subscribe(None)
    inbound = record("in", "103", direction=Direction.INBOUND, client_id=None, number="79115550199")
    hub.publish(change(inbound, LiveState.RINGING), 1.0)
    hub.publish(change(record("out", "101"), LiveState.DIALLING), 1.1)
    hub.publish(change(inbound, LiveState.TALKING, 4), 1.2)
    assert [e["linkedid"] for e in drain(board)] == ["out"]  # the other call was not held up
    directory.release.set()
    await asyncio.sleep(0.01)
    events = drain(board)
    assert [(e["state"], e["client_id"], e["client_name"]) for e in events] == [
        ("ringing", "C-1042", "ООО Ромашка"), ("talking", "C-1042", "ООО Ромашка")]
    assert linked == [("in", "C-1042", "ООО Ромашка")] and directory.asked == ["79115550199"]
    hub.publish(change(inbound, LiveState.ENDED, 9), 2.0)
    assert drain(board)[0]["client_id"] == "C-1042"  # later events keep the client, with no new lookup
    assert directory.asked == ["79115550199"]


async def test_an_unknown_caller_or_a_failed_lookup_still_gets_through() -> None:
    async def broken(number: str) -> tuple[str, str] | None:
        raise OSError("database down")

    hub = LiveHub(lookup=broken)
    board = hub.subscribe(None)
    hub.publish(change(record("i", direction=Direction.INBOUND, client_id=None), LiveState.RINGING), 1.0)
    await asyncio.sleep(0.01)
    assert [(e["linkedid"], e["client_id"]) for e in drain(board)] == [("i", None)]


async def test_a_stuck_lookup_gives_up_after_its_timeout() -> None:
    directory = SlowDirectory({})
    hub = LiveHub(lookup=directory, lookup_timeout_s=0.05)
    board = hub.subscribe(None)
    hub.publish(change(record("i", direction=Direction.INBOUND, client_id=None), LiveState.RINGING), 1.0)
    await asyncio.sleep(0.2)
    assert [e["state"] for e in drain(board)] == ["ringing"]
    await hub.close()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_lookup_cache_shares_queries_and_expires() -> None:
    calls: list[str] = []

    async def source(number: str) -> tuple[str, str] | None:
        calls.append(number)
        await asyncio.sleep(0.01)
        return ("C-1", "Org") if number == "1" else None

    clock = Clock()
    lookup = CachedClientLookup(source, ttl_s=10, size=2, clock=clock)
    assert await asyncio.gather(lookup("1"), lookup("1"), lookup("2")) == [("C-1", "Org"), ("C-1", "Org"), None]
    assert calls == ["1", "2"]
    assert await lookup("2") is None and calls == ["1", "2"]  # misses are cached too
    clock.now = 11
    assert await lookup("1") == ("C-1", "Org") and calls == ["1", "2", "1"]
    await lookup("3")
    await lookup("4")  # size 2: "1" is the least recently used and goes
    await lookup("1")
    assert calls[-1] == "1" and lookup.queries == 6


async def test_a_failed_lookup_is_not_cached() -> None:
    attempts = 0

    async def flaky(number: str) -> tuple[str, str] | None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise OSError("down")
        return ("C-1", "Org")

    lookup = CachedClientLookup(flaky)
    with pytest.raises(OSError):
        await lookup("1")
    assert await lookup("1") == ("C-1", "Org")


async def test_an_inbound_call_ringing_before_its_caller_is_named_takes_the_number_from_the_tracker() -> None:
    # The tracker opens an inbound call on the Expert's channel; the caller's number comes with the
    # DialBegin of the same batch, which the tracker has handled by the time listeners run.
    directory = SlowDirectory({"79115550199": ("C-1042", "ООО Ромашка")})
    directory.release.set()
    bare = record("in", "103", direction=Direction.INBOUND, client_id=None, number=None)
    known = dataclasses.replace(bare, client_number="79115550199", client_name="Иван")
    hub = LiveHub(lookup=directory, current_record={"in": known}.get)
    board = hub.subscribe("103")
    hub.publish(change(bare, LiveState.RINGING), 1.0)
    await asyncio.sleep(0.01)
    [ringing] = drain(board)
    assert (ringing["client_number"], ringing["client_id"], ringing["client_name"]) == (
        "79115550199", "C-1042", "ООО Ромашка")


async def test_the_phone_book_answers_known_callers_without_queries() -> None:
    queried: list[str] = []
    book = {"1": ("C-1", "Org")}

    async def source(number: str) -> tuple[str, str] | None:
        queried.append(number)
        return book.get(number)

    async def load(limit: int) -> dict[str, tuple[str, str]]:
        return dict(list(book.items())[:limit])

    clock = Clock()
    lookup = CachedClientLookup(source, book=load, ttl_s=100, miss_ttl_s=10, clock=clock)
    await lookup.reload()
    assert await lookup("1") == ("C-1", "Org") and queried == []
    assert await lookup("2") is None and queried == ["2"]  # not in the book: asked, and the miss cached
    book["2"] = ("C-2", "Imported")
    assert await lookup("2") is None and queried == ["2"]
    await lookup.reload()  # the next load knows better than the cached miss
    assert await lookup("2") == ("C-2", "Imported") and queried == ["2"]
    book["3"] = ("C-3", "Later")
    assert await lookup("3") == ("C-3", "Later")  # imported since the last load: found by its query


async def test_a_miss_is_forgotten_sooner_than_a_match() -> None:
    book: dict[str, tuple[str, str]] = {}

    async def source(number: str) -> tuple[str, str] | None:
        return book.get(number)

    clock = Clock()
    lookup = CachedClientLookup(source, ttl_s=100, miss_ttl_s=10, clock=clock)
    assert await lookup("9") is None
    book["9"] = ("C-9", "New")
    clock.now = 11
    assert await lookup("9") == ("C-9", "New")


async def test_a_cached_caller_goes_out_at_once() -> None:
    async def never(number: str) -> tuple[str, str] | None:
        raise AssertionError("not asked: the cache knew")

    hub = LiveHub(lookup=never, peek=lambda number: (True, ("C-5", "Кэш")))
    board = hub.subscribe(None)
    hub.publish(change(record("i", direction=Direction.INBOUND, client_id=None), LiveState.RINGING), 1.0)
    [event] = drain(board)  # synchronously: no task, no turn of the loop
    assert (event["client_id"], event["client_name"]) == ("C-5", "Кэш")


# ---- presence (the board's «нет на месте») ------------------------------------------
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
