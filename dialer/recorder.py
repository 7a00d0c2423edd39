"""The ledger shell: AMI event batches → tracker → persisted call records, with reconcile on reconnect.

I/O lives here (the store, the AMI actions); the decisions live in the pure tracker and
reconcile modules. Writes are buffered per Linkedid (latest state wins) and retried while
the database is unreachable, so a database restart loses nothing and duplicates nothing. A
record the database itself refuses (a value too long, a constraint) is set aside with an error
naming its call, and the others are written: one bad record never blocks the ledger.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from dialer.ami.message import Message
from dialer.reconcile import ReconnectEvidence, reconcile, restore
from dialer.records import CallClosed, CallOpened, CallRecord, CallStateChanged, Effect
from dialer.tracker import CallTracker

log = logging.getLogger(__name__)

# A listener gets the change and when the AMI events behind it reached DS Desk (epoch seconds):
# the live screens measure their latency from there.
LiveListener = Callable[[CallStateChanged, float], None]

PENDING_WARN = 100_000  # records waiting for the database: past this, say so loudly
PENDING_MAX = 1_000_000  # and past this, drop the oldest rather than exhaust memory
REJECTED_KEPT = 1_000  # records the database refused, kept for the health page / a support engineer


def rejected_by_database(error: BaseException) -> bool:
    """The database refused the data itself (a value too long, a constraint): retrying cannot help.

    A connection that is down, restarting or timing out is not this: those are retried.
    """
    if isinstance(error, (DataError, IntegrityError)):
        return True
    if not isinstance(error, StatementError):
        return False
    if not isinstance(error, DBAPIError):
        return True  # raised while preparing the parameters, before the database saw them
    # Drivers that do not map SQLSTATEs to DBAPI classes (asyncpg: a value too long is a bare
    # `Error`): class 22 is "data exception", 23 "integrity constraint violation".
    for cause in _causes(error.orig):
        state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(state, str) and state[:2] in ("22", "23"):
            return True
        if type(cause).__name__ == "DataError" and type(cause).__module__.startswith("asyncpg"):
            return True  # asyncpg refused to encode a parameter (it calls that an InterfaceError)
    return False


def _causes(error: BaseException | None) -> list[BaseException]:
    chain: list[BaseException] = []
    while error is not None and error not in chain and len(chain) < 8:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


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
                 flush_interval_s: float = 0.05, max_retry_s: float = 5.0,
                 pending_warn: int = PENDING_WARN, pending_max: int = PENDING_MAX) -> None:
        self.tracker = tracker
        self._store = store
        self._clock = clock
        self._flush_interval = flush_interval_s
        self._max_retry = max_retry_s
        self._pending: dict[str, CallRecord] = {}
        self._pending_warn, self._pending_max = pending_warn, max(pending_max, 1)
        self._pending_warned = False
        self.dropped = 0  # records lost because the database stayed away past `pending_max`
        # Records the database refused, by linkedid, with the reason (the latest REJECTED_KEPT).
        self.rejected: OrderedDict[str, tuple[CallRecord, str]] = OrderedDict()
        self.rejected_count = 0
        # Evidence of a gap whose reconcile has not run yet (its reconnect's actions failed).
        self._gap_start: float | None = None
        self._gap_calls: set[str] | None = None
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
        stamp = batch[-1].timestamp() if batch else None
        self._pbx_last = stamp if stamp is not None else self._pbx_last
        self._wall_last = received_at
        self._apply(self.tracker.handle_many(batch, received_at), received_at)

    def on_disconnected(self) -> None:
        self._booted = None  # an Uptime from before the drop says nothing about a restart

    async def on_connected(self, pbx: PbxActions, is_reconnect: bool) -> None:
        """Detect a PBX restart (CoreStatus) and reconcile open calls (CoreShowChannels).

        Times here are the PBX's clock (event Timestamps): the Ping response says what time it
        is there now, so a simulator running faster than real time is handled too. If an action
        fails, the gap's evidence (its start, the calls open then) is kept for the next connect.
        """
        # Taken before any await: events that arrive meanwhile are after the gap. A gap whose
        # reconnect failed half-way is still open: it starts where it started.
        if self._gap_start is None:
            self._gap_start = self._pbx_last if self._pbx_last is not None else 0.0
        # The calls up when the link went down; calls that start after this are not "in the gap".
        self._gap_calls = (self._gap_calls or set()) | set(self.tracker.calls)
        pong = await pbx.ping()
        gap_end = self._pbx_now(pong)  # before the channel list is read: legs newer than this are not in it
        status = await pbx.core_status()
        channels = await pbx.core_show_channels()
        gap_start, known_before = self._gap_start, self._gap_calls
        stamp = f"{status.get('CoreStartupDate', '')} {status.get('CoreStartupTime', '')}"
        restarted = self._startup_stamp is not None and stamp != self._startup_stamp
        restart_at = self._restart_time(gap_start, gap_end) if restarted else None
        if restarted:
            log.warning("the PBX restarted while we were away: closing %d open calls", len(known_before))
        evidence = ReconnectEvidence(channels, gap_start, gap_end, restart_at)
        self._gap_start = self._gap_calls = None
        self._startup_stamp = stamp
        self._apply(reconcile(self.tracker, evidence, only=known_before), self._clock())
        self._pbx_last, self._wall_last = max(gap_end, self._pbx_last or gap_end), self._clock()

    def _pbx_now(self, pong: Message) -> float:
        stamp = pong.timestamp()
        if stamp is not None:
            return stamp
        if self._pbx_last is None or self._wall_last is None:
            return self._clock()
        return self._pbx_last + (self._clock() - self._wall_last)  # no Timestamp: assume real time

    def _restart_time(self, gap_start: float, gap_end: float) -> float:
        if self._booted is not None:
            return gap_end - self._booted
        return (gap_start + gap_end) / 2

    # ---- output ---------------------------------------------------------------------
    def _apply(self, effects: list[Effect], received_at: float) -> None:
        if not effects:
            return
        for effect in effects:
            if isinstance(effect, CallStateChanged):
                self._notify(effect, received_at)
            elif isinstance(effect, (CallOpened, CallClosed)):
                self._pending[effect.record.linkedid] = effect.record
        self._check_pending()
        self._wakeup.set()

    def _check_pending(self) -> None:
        size = len(self._pending)
        if size > self._pending_warn and not self._pending_warned:
            self._pending_warned = True
            log.error("LEDGER BACKLOG: %d call records wait for the database (last error: %s); "
                      "past %d the oldest are dropped", size, self.last_error, self._pending_max)
        elif size <= self._pending_warn // 2:
            self._pending_warned = False
        if size > self._pending_max:
            excess = size - self._pending_max
            for linkedid in list(self._pending)[:excess]:
                del self._pending[linkedid]
            self.dropped += excess
            log.error("LEDGER BACKLOG FULL: dropped the %d oldest unwritten call records (%d in all)",
                      excess, self.dropped)

    def _notify(self, change: CallStateChanged, received_at: float) -> None:
        for listener in self._listeners:
            try:
                listener(change, received_at)
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
        except Exception as e:
            if not rejected_by_database(e):  # the database is down or restarting: keep everything, retry
                self._failed(e, len(batch))
                return False
            log.warning("the database refused a batch of %d call records (%s); finding the bad ones",
                        len(batch), _reason(e))
            if len(batch) == 1:
                [record] = batch.values()
                self._set_aside(record, _reason(e))
            elif not await self._write_apart(list(batch.values())):
                return False
        else:
            self._written(batch.values())
        self.last_error = None
        return True

    async def _write_apart(self, records: list[CallRecord]) -> bool:
        """Write what the database accepts of a refused batch; set aside the single records it refuses.

        Halving, so a backlog of thousands with one bad record costs a few dozen statements, not
        thousands. False: the database went away meanwhile (what is left stays pending).
        """
        half = len(records) // 2
        for part in (records[:half], records[half:]):
            try:
                await self._store.upsert_calls(part)
            except Exception as e:
                if not rejected_by_database(e):
                    self._failed(e, len(self._pending))
                    return False
                if len(part) == 1:
                    self._set_aside(part[0], _reason(e))
                elif not await self._write_apart(part):
                    return False
            else:
                self._written(part)
        return True

    def _written(self, records: Iterable[CallRecord]) -> None:
        count = 0
        for record in records:
            count += 1
            if self._pending.get(record.linkedid) is record:
                del self._pending[record.linkedid]
        self.committed += count

    def _failed(self, error: BaseException, count: int) -> None:
        self.last_error = f"{type(error).__name__}: {error}"
        log.warning("could not write %d call records, will retry: %s", count, self.last_error)

    def _set_aside(self, record: CallRecord, reason: str) -> None:
        log.error("call %s: the database refused its record, set aside (not retried): %s", record.linkedid, reason)
        if self._pending.get(record.linkedid) is record:
            del self._pending[record.linkedid]
        self.rejected[record.linkedid] = (record, reason)
        self.rejected.move_to_end(record.linkedid)
        if len(self.rejected) > REJECTED_KEPT:
            self.rejected.popitem(last=False)
        self.rejected_count += 1

    @property
    def pending_count(self) -> int:
        return len(self._pending)


def _reason(error: BaseException) -> str:
    """The database's own message, on one line (a DBAPIError's text also carries the SQL and data)."""
    chain = _causes(getattr(error, "orig", None) or error)
    origin = chain[-1]  # the driver's own exception
    state = next((getattr(c, "sqlstate", None) for c in chain if getattr(c, "sqlstate", None)), None)
    text = " ".join(str(origin).split())[:300]
    return f"{type(origin).__name__}{f' (SQLSTATE {state})' if state else ''}: {text}"


def _uptime(msg: Message) -> float | None:
    try:
        return float(msg.get("Uptime", ""))
    except ValueError:
        return None
