"""The live hub: call state changes fanned out to the Experts' screens and the supervisors' boards.

No aiohttp here: `service/web/live.py` turns subscriptions into Server-Sent Events. Every
subscription is a bounded queue, so a slow browser costs at most `queue_size` events of memory
(the oldest are dropped and counted). Events are serialised to JSON once, whoever reads them.

The hub publishes what the PBX side hands it, as it comes: the recorder hands over a state
change only once the record describing it is committed (dialer/durable.py), with what the
ledger added (the inbound caller's client, matched by number; the call's owner). So a screen
told `ended` finds the closed call in the ledger at once, and nobody looks a caller up twice.
Besides calls: the PBX link's state goes to every stream (`pbx`), and a failed Originate to the
streams of the user who asked for it (`originate_failed`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dialer.records import CallRecord, CallStateChanged, Direction, LiveState, iso_ms

log = logging.getLogger(__name__)

Payload = dict[str, Any]

QUEUE_SIZE = 256  # events a subscriber may fall behind before the oldest are dropped


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One message for the stream: `name` is the SSE event, `data` the JSON text (shared by all readers)."""

    id: int
    name: str
    data: str


class Subscription:
    """One reader's bounded queue; `get()` returns None once the subscription is closed."""

    def __init__(self, expert_ext: str | None, size: int, present: bool = True, user_id: int | None = None) -> None:
        self.expert_ext = expert_ext  # None: every Expert's calls
        self.present = present  # the Expert's own screen (a supervisor watching one Expert is not)
        self.user_id = user_id  # whose screen it is: told of their own failed Originates
        self.dropped = 0  # events lost because this reader fell `size` behind
        self.closed = False
        self._queue: asyncio.Queue[LiveEvent | None] = asyncio.Queue(max(size, 1))

    def offer(self, event: LiveEvent | None) -> None:
        """Never blocks and never grows past the bound: a full queue loses its oldest event."""
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> LiveEvent | None:
        if self.closed and self._queue.empty():
            return None
        return await self._queue.get()

    def get_nowait(self) -> LiveEvent | None:
        """The next event if one is waiting (None: none, or closed: see `closed`)."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.offer(None)  # wakes a reader waiting in get()


class LiveHub:
    """Publishes CallStateChanged effects to subscriptions by Expert extension (or to all)."""

    def __init__(self, *, open_records: Callable[[], Iterable[CallRecord]] = tuple,
                 link: Callable[[], Payload | None] = lambda: None, queue_size: int = QUEUE_SIZE) -> None:
        self._open_records = open_records
        self._link = link  # the PBX link's state for a snapshot (service/pbx_link.py), None: no PBX
        self._queue_size = queue_size
        self._by_ext: dict[str, set[Subscription]] = {}
        self._everyone: set[Subscription] = set()
        self._by_user: dict[int, set[Subscription]] = {}
        self._ids = itertools.count(1)
        self.last_id = 0
        self._live: dict[str, Payload] = {}  # linkedid → latest payload of a call that is up
        self.published = 0

    # ---- subscribers ----------------------------------------------------------------
    def subscribe(self, expert_ext: str | None, *, present: bool = True, user_id: int | None = None) -> Subscription:
        """`present=False`: a supervisor following one Expert — gets their events, is not them."""
        subscription = Subscription(expert_ext, self._queue_size, present, user_id)
        if user_id is not None:
            self._by_user.setdefault(user_id, set()).add(subscription)
        if expert_ext is None:
            self._everyone.add(subscription)
        else:
            was_present = self._is_present(expert_ext)
            self._by_ext.setdefault(expert_ext, set()).add(subscription)
            if not was_present and self._is_present(expert_ext):
                self._presence_changed(expert_ext, True)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.close()
        user_id = subscription.user_id
        if user_id is not None and (own := self._by_user.get(user_id)) is not None:
            own.discard(subscription)
            if not own:
                del self._by_user[user_id]
        if subscription.expert_ext is None:
            self._everyone.discard(subscription)
            return
        readers = self._by_ext.get(subscription.expert_ext)
        if readers is not None and subscription in readers:
            was_present = self._is_present(subscription.expert_ext)
            readers.discard(subscription)
            if not readers:
                del self._by_ext[subscription.expert_ext]
            if was_present and not self._is_present(subscription.expert_ext):
                self._presence_changed(subscription.expert_ext, False)

    def _is_present(self, expert_ext: str) -> bool:
        return any(reader.present for reader in self._by_ext.get(expert_ext, ()))

    def present_extensions(self) -> frozenset[str]:
        """Extensions with at least one open stream: an Expert whose screen is open is at their desk.

        The empty extension (an Expert without one) is nobody's; a supervisor's `?expert=EXT`
        stream does not count.
        """
        return frozenset(ext for ext in self._by_ext if ext and self._is_present(ext))

    def announce(self, name: str, payload: Payload) -> None:
        """An event for the supervisors' streams only (`presence`, `wrapup`): the board's, not a call's."""
        self.last_id = next(self._ids)
        event = LiveEvent(self.last_id, name, _json(payload))
        for subscription in self._everyone:
            subscription.offer(event)

    def announce_everyone(self, name: str, payload: Payload) -> None:
        """An event for every stream, the Experts' too (`pbx`: the link to the PBX went down or came back)."""
        self.last_id = next(self._ids)
        event = LiveEvent(self.last_id, name, _json(payload))
        for subscription in self._all():
            subscription.offer(event)

    def tell(self, user_id: int, name: str, payload: Payload) -> None:
        """An event for one user's own streams only (`originate_failed`: the phone they asked to ring failed)."""
        self.last_id = next(self._ids)
        event = LiveEvent(self.last_id, name, _json(payload))
        for subscription in self._by_user.get(user_id, ()):
            subscription.offer(event)

    def _presence_changed(self, expert_ext: str, present: bool) -> None:
        if expert_ext:
            self.announce("presence", {"expert_ext": expert_ext, "present": present,
                                       "at": iso_ms(datetime.now(UTC))})

    @property
    def subscriber_count(self) -> int:
        return len(self._everyone) + sum(len(s) for s in self._by_ext.values())

    def snapshot(self, expert_ext: str | None) -> Payload:
        """The calls up right now (of one Expert, or all): what a page opened mid-call shows first."""
        calls = [self._current(record) for record in self._open_records()
                 if expert_ext is None or record.expert_ext == expert_ext]
        at, pbx = iso_ms(datetime.now(UTC)), self._link()
        if expert_ext is None:  # the board's: who is at their desk, too (the `presence` events follow)
            return {"calls": calls, "present": sorted(self.present_extensions()), "pbx": pbx, "at": at}
        return {"calls": calls, "pbx": pbx, "at": at}

    def snapshot_event(self, expert_ext: str | None) -> LiveEvent:
        """The snapshot as the stream's first event; its id is the last call event's it includes."""
        return LiveEvent(self.last_id, "snapshot", _json(self.snapshot(expert_ext)))

    # ---- input ----------------------------------------------------------------------
    def publish(self, change: CallStateChanged, received_at: float) -> None:
        """Called synchronously by the PBX side; never blocks, never raises for a reader's sake."""
        linkedid = change.linkedid
        payload = call_payload(change.record, change.state, change.at, received_at, saved=change.saved,
                               owner_id=change.owner_id)
        if change.state is LiveState.ENDED:
            self._live.pop(linkedid, None)
        else:
            self._live[linkedid] = payload
        self.last_id = next(self._ids)
        event = LiveEvent(self.last_id, "call", _json(payload))
        self.published += 1
        for subscription in self._readers(change.expert_ext):
            subscription.offer(event)

    async def close(self) -> None:
        """Ends every stream (at shutdown)."""
        for subscription in list(self._all()):
            self.unsubscribe(subscription)

    def _all(self) -> Iterable[Subscription]:
        return itertools.chain(self._everyone, itertools.chain.from_iterable(self._by_ext.values()))

    # ---- internals ------------------------------------------------------------------
    def _readers(self, expert_ext: str | None) -> Iterable[Subscription]:
        own = self._by_ext.get(expert_ext) if expert_ext is not None else None
        return itertools.chain(own or (), self._everyone)

    def _current(self, record: CallRecord) -> Payload:
        published = self._live.get(record.linkedid)
        if published is not None:
            return published
        # Up, but nothing published yet (restored after a restart, or its first record not committed yet).
        state = state_of(record)
        return call_payload(record, state, _state_time(record, state), None)


# ---- pure helpers -------------------------------------------------------------------
def call_payload(record: CallRecord, state: LiveState, at: datetime, received_at: float | None,
                 *, saved: bool = True, owner_id: int | None = None) -> Payload:
    """The JSON-ready event for one state change (see docs/live.md)."""
    return {
        "linkedid": record.linkedid,
        "state": str(state),
        "at": iso_ms(at),
        "expert_ext": record.expert_ext,
        "owner_id": owner_id,
        "direction": str(record.direction),
        "client_number": record.client_number,
        "client_id": record.client_id,
        "client_name": record.client_name,
        "planned_call_id": record.planned_call_id,
        "started_at": iso_ms(record.started_at),
        "answered_at": iso_ms(record.answered_at),
        "ended_at": iso_ms(record.ended_at),
        "outcome": None if record.outcome is None else str(record.outcome),
        "duration_s": record.duration_s,
        "talk_s": record.talk_s,
        "received_at": received_at,
        "saved": saved,  # False: the ledger's database was away; the call is written when it is back
    }


def state_of(record: CallRecord) -> LiveState:
    """A record's live state when no change was seen for it (e.g. restored from the ledger)."""
    if record.ended_at is not None:
        return LiveState.ENDED
    if record.answered_at is not None:
        return LiveState.TALKING
    if record.ringing_at is not None or record.direction is Direction.INBOUND:
        return LiveState.RINGING
    return LiveState.DIALLING


def _state_time(record: CallRecord, state: LiveState) -> datetime:
    by_state = {LiveState.TALKING: record.answered_at, LiveState.RINGING: record.ringing_at,
                LiveState.ENDED: record.ended_at}
    return by_state.get(state) or record.started_at



def _json(payload: Payload) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
