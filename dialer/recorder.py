"""The ledger shell: AMI event batches → tracker → persisted call records, with reconcile on reconnect.

I/O lives here (the store, the AMI actions); the decisions live in the pure tracker, reconcile
and durable modules. A call is written when it opens, again whenever a fact of it changes (an
answer, a recording, a leg's cause: dialer/resume.py) and when it closes; writes are buffered per
Linkedid (latest state wins; batches gather longer the busier the ledger is: gather_time) and retried
while the store is unreachable, so a database restart loses nothing and duplicates nothing. A
record the store itself refuses (a value too long, a constraint) is set aside with an error
naming its call, and the others are written: one bad record never blocks the ledger.

Live listeners hear of a call's first state and of its end only once the record behind it has
been committed (dialer/durable.py): commit, then publish. Should the store stay away longer than
`publish_wait_s`, the events go out anyway, marked unsaved, so no screen freezes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Protocol

from dialer.ami.message import Message
from dialer.cdr_backstop import CdrBackstop, CdrSource
from dialer.durable import DurableEvents, Release
from dialer.errors import AmiActionError, RecordsRefused, StoreUnavailable
from dialer.reconcile import ReconnectEvidence, reconcile, restore
from dialer.records import CallClosed, CallOpened, CallRecord, CallStateChanged, Effect, LiveState
from dialer.resume import Facts, facts, resume_state
from dialer.store import CallStore, StoredCall
from dialer.tracker import CallTracker

log = logging.getLogger(__name__)

# A listener gets the change and when the AMI events behind it reached DS Desk (epoch seconds):
# the live screens measure their latency from there.
LiveListener = Callable[[CallStateChanged, float], None]

PENDING_WARN, PENDING_MAX = 100_000, 1_000_000  # waiting records: past the first say so; past the second drop
REJECTED_KEPT = 1_000  # records the database refused, kept for the health page / a support engineer
FLUSH_INTERVAL_S = 0.05  # the longest a batch gathers (under a heavy stream); see gather_time
GATHER_PER_RECORD_S = 0.002  # a quiet ledger writes at once; a busy one gathers longer batches
PUBLISH_WAIT_S = 2.0  # with the store away this long, live events go out unsaved rather than freeze


class PbxActions(Protocol):
    """What reconcile needs from the AMI connection."""

    async def ping(self) -> Message: ...
    async def core_status(self) -> Message: ...
    async def core_show_channels(self) -> list[Message]: ...
    async def channel_variables(self) -> dict[str, dict[str, str]]: ...


class LedgerRecorder:
    """Owns the tracker; persists its effects; pushes live state to listeners."""

    def __init__(self, tracker: CallTracker, store: CallStore, *, clock: Callable[[], float] = time.time,
                 flush_interval_s: float = FLUSH_INTERVAL_S, max_retry_s: float = 5.0,
                 pending_warn: int = PENDING_WARN, pending_max: int = PENDING_MAX,
                 publish_wait_s: float = PUBLISH_WAIT_S, cdr: CdrSource | None = None) -> None:
        self.tracker = tracker
        self._store = store
        self._clock = clock
        self._flush_interval = flush_interval_s
        self._max_retry = max_retry_s
        self._publish_wait = publish_wait_s
        self._pending: dict[str, tuple[CallRecord, int]] = {}  # linkedid → (latest record, its version)
        self._facts: dict[str, Facts] = {}  # open calls: the facts last put for writing
        self._last_batch = 0  # records in the last flush: how busy the ledger is
        self._durable = DurableEvents()
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
        self.reconciles = 0  # links reconciled (on_connected done): a gap's bound ends there, not at connect
        # Asterisk's own CDR where the live events were missing (None: no `cdr:` source configured).
        self.backstop = None if cdr is None else CdrBackstop(cdr, store, tracker.expert_ext_of, self._seen,
                                                             self._put_corrected)
        self.last_error: str | None = None

    # ---- lifecycle ------------------------------------------------------------------
    async def start(self) -> None:
        restored = await self._store.open_calls()
        restore(self.tracker, restored)
        # Calls open when DS Desk stopped are the first connect's "calls in the gap".
        self._gap_calls = {record.linkedid for record in restored if record.is_open} or None
        self.tracker.holed |= self._gap_calls or set()
        self._task = asyncio.create_task(self._flush_loop(), name="ledger-flush")
        if self.backstop is not None:
            self.backstop.start()

    async def stop(self) -> None:
        if self.backstop is not None:
            await self.backstop.stop()
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
        # The newest Timestamp (FullyBooted, for one, has none): usually the last event's.
        stamp = next((s for s in map(Message.timestamp, reversed(batch)) if s is not None), None)
        self._pbx_last = stamp if stamp is not None else self._pbx_last
        self._wall_last = received_at
        self._apply(self.tracker.handle_many(batch, received_at), received_at)
        self._write_changed(self.tracker.take_touched())

    def on_disconnected(self) -> None:
        """The gap starts here: at the old link's last PBX timestamp, with the calls open now.

        Recorded at once, because the next link's first events (SuccessfulAuth and FullyBooted
        carry Timestamps with `read = all`) arrive before its reconcile runs and would make the
        gap look ~0 s long and its new calls look like old ones. A gap whose reconcile never
        finished is still open: it keeps its start and gains the calls seen since.
        """
        self._booted = None  # an Uptime from before the drop says nothing about a restart
        if self._gap_start is None:
            self._gap_start = self._pbx_last if self._pbx_last is not None else 0.0
        self._gap_calls = (self._gap_calls or set()) | set(self.tracker.calls)
        self.tracker.holed |= self._gap_calls

    async def on_connected(self, pbx: PbxActions, is_reconnect: bool) -> None:
        """Detect a PBX restart (CoreStatus) and reconcile open calls (CoreShowChannels).

        Times here are the PBX's clock (event Timestamps): the Ping response says what time it
        is there now, so a simulator running faster than real time is handled too. If an action
        fails, the gap's evidence (its start, the calls open then) is kept for the next connect.
        """
        # The gap's start and its calls were taken at disconnect (on_disconnected); the first
        # connect knows nothing before it but the calls restored from the store.
        if self._gap_start is None:
            self._gap_start = 0.0
        if self._gap_calls is None:
            self._gap_calls = set()
        pong = await pbx.ping()
        gap_end = self._pbx_now(pong)  # before the channel list is read: legs newer than this are not in it
        # Variables first: a channel ending before the list keeps them; a newer one's VarSets come as events.
        variables = await _channel_variables(pbx)
        status = await pbx.core_status()
        channels = await pbx.core_show_channels()
        gap_start, known_before = self._gap_start, self._gap_calls
        stamp = f"{status.get('CoreStartupDate', '')} {status.get('CoreStartupTime', '')}"
        restarted = self._startup_stamp is not None and stamp != self._startup_stamp
        restart_at = self._restart_time(gap_start, gap_end) if restarted else None
        if restarted:
            log.warning("the PBX restarted while we were away: closing %d open calls", len(known_before))
        evidence = ReconnectEvidence(channels, gap_start, gap_end, restart_at, variables)
        self._gap_start = self._gap_calls = None
        self._startup_stamp = stamp
        self._apply(reconcile(self.tracker, evidence, only=known_before), self._clock())
        self.tracker.holed.clear()  # the gap's calls are reconciled: what comes now is seen whole
        self._write_changed(list(self.tracker.calls))
        if self.backstop is not None:
            self.backstop.gap(gap_start if is_reconnect and gap_start > 0 else None, gap_end)
        self._pbx_last, self._wall_last = max(gap_end, self._pbx_last or gap_end), self._clock()
        self.reconciles += 1

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
        now = self._clock()
        for effect in effects:
            if not isinstance(effect, CallStateChanged):
                self._put(effect.record)  # opened or closed: written
                self._note_facts(effect)
            elif effect.state is LiveState.ENDED:  # out once the closed row is committed
                self._publish(self._durable.release_or_hold(effect, received_at, self._put(effect.record), now))
            else:  # the first waits for the opening row; the others only for what waits before them
                version = self._durable.latest_version(effect.linkedid)
                self._publish(self._durable.release_or_hold(effect, received_at, version, now))
        self._check_pending()
        self._wakeup.set()

    def _write_changed(self, linkedids: Iterable[str]) -> None:
        """Open calls whose facts changed (an answer, a recording, a leg's cause) are written
        again, so a restart of DS Desk loses at most one flush interval of them."""
        calls, written = self.tracker.calls, False
        for linkedid in linkedids:
            call = calls.get(linkedid)
            if call is None or not call.opened:
                continue
            now = facts(call)
            if self._facts.get(linkedid) != now:
                self._facts[linkedid] = now
                self._put(call.record(None))
                written = True
        if written:
            self._wakeup.set()

    def _seen(self, linkedid: str) -> bool:
        """Not for the CDR backstop to build: up now (its own events will tell), waiting to be written
        (a record of it exists), or DS Desk's own ChanSpy. A call closed unopened is fair game."""
        tracker = self.tracker
        return linkedid in tracker.calls or linkedid in self._pending or tracker.is_ignored(linkedid)

    def _put_corrected(self, record: CallRecord) -> None:
        self._put(record)
        self._wakeup.set()

    def _note_facts(self, effect: CallOpened | CallClosed) -> None:
        linkedid = effect.record.linkedid
        if isinstance(effect, CallClosed) and self.backstop is not None:
            self.backstop.closed(effect.record)
        call = self.tracker.calls.get(linkedid)
        if isinstance(effect, CallClosed) or call is None:
            self._facts.pop(linkedid, None)
        else:
            self._facts[linkedid] = facts(call)

    def _put(self, record: CallRecord) -> int:
        version = self._durable.next_version(record.linkedid)
        self._pending[record.linkedid] = (record, version)
        return version

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
                self._publish(self._durable.give_up(linkedid))
            self.dropped += excess
            log.error("LEDGER BACKLOG FULL: dropped the %d oldest unwritten call records (%d in all)",
                      excess, self.dropped)

    def _publish(self, releases: list[Release]) -> None:
        for release in releases:
            for listener in self._listeners:
                try:
                    listener(release.change, release.received_at)
                except Exception:  # a broken screen must never stop the ledger
                    log.exception("live listener failed")

    async def _flush_loop(self) -> None:
        delay = self._flush_interval
        while True:
            await self._wakeup.wait()
            await asyncio.sleep(gather_time(self._last_batch, self._flush_interval))
            self._wakeup.clear()
            self._last_batch = len(self._pending)
            if await self._flush_once():
                delay = self._flush_interval
                continue
            self._wakeup.set()  # keep the pending records; try again after a pause
            self._publish(self._durable.overdue(self._clock(), self._publish_wait))
            delay = min(max(delay * 2, 0.1), self._max_retry)
            await asyncio.sleep(delay)

    async def _flush_once(self) -> bool:
        if not self._pending:
            return True
        batch = [self._to_write(linkedid, record, version) for linkedid, (record, version) in self._pending.items()]
        try:
            # The store links inbound calls to a client by the caller's number (in its transaction).
            stored = await self._store.upsert_calls([record for record, _ in batch])
        except StoreUnavailable as e:  # down or restarting: keep everything, retry
            self._failed(e, len(batch))
            return False
        except RecordsRefused as e:
            log.warning("the database refused a batch of %d call records (%s); finding the bad ones", len(batch), e)
            if len(batch) == 1:
                self._set_aside(*batch[0], str(e))
            elif not await self._write_apart(batch):
                return False
        else:
            self._written(batch, stored)
        self.last_error = None
        return True

    def _to_write(self, linkedid: str, record: CallRecord, version: int) -> tuple[CallRecord, int]:
        """The freshest record of a call still up (facts that changed no state, such as the
        caller's number, arrived meanwhile), with what the store added to its earlier records."""
        call = self.tracker.calls.get(linkedid) if record.is_open else None
        if call is not None and call.opened:
            record = replace(call.record(None), resume=resume_state(call))
        return self._durable.with_stored(record), version

    async def _write_apart(self, batch: list[tuple[CallRecord, int]]) -> bool:
        """Write what the database accepts of a refused batch; set aside the single records it refuses.

        Halving, so a backlog of thousands with one bad record costs a few dozen statements, not
        thousands. False: the database went away meanwhile (what is left stays pending).
        """
        half = len(batch) // 2
        for part in (batch[:half], batch[half:]):
            try:
                stored = await self._store.upsert_calls([record for record, _ in part])
            except StoreUnavailable as e:
                self._failed(e, len(self._pending))
                return False
            except RecordsRefused as e:
                if len(part) == 1:
                    self._set_aside(*part[0], str(e))
                elif not await self._write_apart(part):
                    return False
            else:
                self._written(part, stored)
        return True

    def _written(self, batch: Iterable[tuple[CallRecord, int]], stored: Mapping[str, StoredCall]) -> None:
        count = 0
        for record, version in batch:
            count += 1
            linkedid = record.linkedid
            if self._pending.get(linkedid, (None, -1))[1] == version:
                del self._pending[linkedid]
            self._publish(self._durable.committed(linkedid, version, stored.get(linkedid), record))
        self.committed += count

    def _failed(self, error: BaseException, count: int) -> None:
        self.last_error = f"{type(error).__name__}: {error}"
        log.warning("could not write %d call records, will retry: %s", count, self.last_error)

    def _set_aside(self, record: CallRecord, version: int, reason: str) -> None:
        log.error("call %s: the database refused its record, set aside (not retried): %s", record.linkedid, reason)
        if self._pending.get(record.linkedid, (None, -1))[1] == version:
            del self._pending[record.linkedid]
        self._publish(self._durable.give_up(record.linkedid))
        self.rejected[record.linkedid] = (record, reason)
        self.rejected.move_to_end(record.linkedid)
        if len(self.rejected) > REJECTED_KEPT:
            self.rejected.popitem(last=False)
        self.rejected_count += 1

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    @property
    def held_count(self) -> int:
        return self._durable.held_count()


def gather_time(last_batch: int, longest_s: float) -> float:
    """How long the next batch gathers: live events wait for the commit, so a quiet ledger writes
    at once (a call's event goes out a few ms after it happened), while a heavy stream gathers
    up to `longest_s`: a flush has a fixed cost (a transaction, thread hops), so batches of one
    record would halve the ledger's throughput. The last batch's size says which case this is."""
    return min(longest_s, last_batch * GATHER_PER_RECORD_S)


async def _channel_variables(pbx: PbxActions) -> dict[str, dict[str, str]]:
    """Status with AllVariables; an AMI user without the `call` read class is refused it: then the
    calls adopted after a gap lack their linkage and recording, as before, and the log says why."""
    try:
        return await pbx.channel_variables()
    except AmiActionError as e:
        log.warning("the PBX refused Status (channel variables): calls adopted after the gap get no "
                    "planned call, client or recording from it: %s", e)
        return {}


def _uptime(msg: Message) -> float | None:
    try:
        return float(msg.get("Uptime", ""))
    except ValueError:
        return None
