"""The ledger shell: AMI event batches → tracker → persisted call records, with reconcile on reconnect.

I/O lives here (the store, the AMI actions); the decisions live in the pure tracker and
reconcile modules. Writes are buffered per Linkedid (latest state wins) and retried while
the database is unreachable, so a database restart loses nothing and duplicates nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from dialer.ami.message import Message
from dialer.reconcile import ReconnectEvidence, reconcile, restore
from dialer.records import CallClosed, CallOpened, CallRecord, CallStateChanged, Effect
from dialer.tracker import CallTracker

log = logging.getLogger(__name__)

LiveListener = Callable[[CallStateChanged], None]


class CallStore(Protocol):
    async def upsert_calls(self, records: Sequence[CallRecord]) -> int: ...
    async def open_calls(self) -> list[CallRecord]: ...


class PbxActions(Protocol):
    """What reconcile needs from the AMI connection."""

    async def ping(self) -> Message: ...
    async def core_status(self) -> Message: ...
    async def core_show_channels(self) -> list[Message]: ...


class LedgerRecorder:
    """Owns the tracker; persists its effects; pushes live state to listeners."""

    def __init__(self, tracker: CallTracker, store: CallStore, *, clock: Callable[[], float] = time.time,
                 flush_interval_s: float = 0.05, max_retry_s: float = 5.0) -> None:
        self.tracker = tracker
        self._store = store
        self._clock = clock
        self._flush_interval = flush_interval_s
        self._max_retry = max_retry_s
        self._pending: dict[str, CallRecord] = {}
        self._wakeup = asyncio.Event()
        self._listeners: list[LiveListener] = []
        self._task: asyncio.Task[None] | None = None
        self._startup_stamp: str | None = None
        self._pbx_last: float | None = None  # PBX clock: the newest event Timestamp seen
        self._wall_last: float | None = None
        self._booted: float | None = None  # Uptime of the PBX at the last FullyBooted since (re)connect
        self.committed = 0  # records written, for benchmarks and the health page
        self.last_error: str | None = None

    # ---- lifecycle ------------------------------------------------------------------
    async def start(self) -> None:
        restore(self.tracker, await self._store.open_calls())
        self._task = asyncio.create_task(self._flush_loop(), name="ledger-flush")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._flush_once()

    def add_listener(self, listener: LiveListener) -> None:
        self._listeners.append(listener)

    # ---- input from the AMI connection (loop thread) ---------------------------------
    def on_events(self, batch: list[Message], received_at: float) -> None:
        for msg in batch:
            if msg.get("Event") == "FullyBooted":
                self._booted = _uptime(msg)
        stamp = batch[-1].get("Timestamp") if batch else None
        self._pbx_last = float(stamp) if stamp else self._pbx_last
        self._wall_last = received_at
        self._apply(self.tracker.handle_many(batch, received_at))

    def on_disconnected(self) -> None:
        self._booted = None  # an Uptime from before the drop says nothing about a restart

    async def on_connected(self, pbx: PbxActions, is_reconnect: bool) -> None:
        """Detect a PBX restart (CoreStatus) and reconcile open calls (CoreShowChannels).

        Times here are the PBX's clock (event Timestamps): the Ping response says what time it
        is there now, so a simulator running faster than real time is handled too.
        """
        known_before = set(self.tracker.calls)  # calls that start after this are not "in the gap"
        pong = await pbx.ping()
        status = await pbx.core_status()
        channels = await pbx.core_show_channels()
        gap_end = self._pbx_now(pong)
        gap_start = self._pbx_last if self._pbx_last is not None else 0.0
        stamp = f"{status.get('CoreStartupDate', '')} {status.get('CoreStartupTime', '')}"
        restarted = self._startup_stamp is not None and stamp != self._startup_stamp
        self._startup_stamp = stamp
        restart_at = self._restart_time(gap_start, gap_end) if restarted else None
        if restarted:
            log.warning("the PBX restarted while we were away: closing %d open calls", len(known_before))
        evidence = ReconnectEvidence(channels, gap_start, gap_end, restart_at)
        self._apply(reconcile(self.tracker, evidence, only=known_before))
        self._pbx_last, self._wall_last = gap_end, self._clock()

    def _pbx_now(self, pong: Message) -> float:
        stamp = pong.get("Timestamp")
        if stamp:
            return float(stamp)
        if self._pbx_last is None or self._wall_last is None:
            return self._clock()
        return self._pbx_last + (self._clock() - self._wall_last)  # no Timestamp: assume real time

    def _restart_time(self, gap_start: float, gap_end: float) -> float:
        if self._booted is not None:
            return gap_end - self._booted
        return (gap_start + gap_end) / 2

    # ---- output ---------------------------------------------------------------------
    def _apply(self, effects: list[Effect]) -> None:
        if not effects:
            return
        for effect in effects:
            if isinstance(effect, CallStateChanged):
                self._notify(effect)
            elif isinstance(effect, (CallOpened, CallClosed)):
                self._pending[effect.record.linkedid] = effect.record
        self._wakeup.set()

    def _notify(self, change: CallStateChanged) -> None:
        for listener in self._listeners:
            try:
                listener(change)
            except Exception:  # a broken screen must never stop the ledger
                log.exception("live listener failed")

    async def _flush_loop(self) -> None:
        delay = self._flush_interval
        while True:
            await self._wakeup.wait()
            await asyncio.sleep(self._flush_interval)  # gather a batch
            self._wakeup.clear()
            if await self._flush_once():
                delay = self._flush_interval
                continue
            self._wakeup.set()  # keep the pending records; try again after a pause
            delay = min(max(delay * 2, 0.1), self._max_retry)
            await asyncio.sleep(delay)

    async def _flush_once(self) -> bool:
        if not self._pending:
            return True
        batch = dict(self._pending)
        try:
            # The store links inbound calls to a client by the caller's number (in its transaction).
            await self._store.upsert_calls(list(batch.values()))
        except Exception as e:  # the database is down or restarting: keep everything, retry
            self.last_error = f"{type(e).__name__}: {e}"
            log.warning("could not write %d call records, will retry: %s", len(batch), self.last_error)
            return False
        for linkedid, record in batch.items():
            if self._pending.get(linkedid) is record:
                del self._pending[linkedid]
        self.committed += len(batch)
        self.last_error = None
        return True

    @property
    def pending_count(self) -> int:
        return len(self._pending)



def _uptime(msg: Message) -> float | None:
    try:
        return float(msg.get("Uptime", ""))
    except ValueError:
        return None
