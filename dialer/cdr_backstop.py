"""The CDR backstop's shell: after a gap, put Asterisk's own record where the ledger had to guess.

Two kinds of work, both by linkedid against a CdrSource (dialer/cdr_sources.py, or a table in
service/db/cdr_table.py):
- a call closed with a guessed field (its end, answer or start fell into a gap) is looked up
  until its rows come (Asterisk writes them as the call ends; in batch mode a little later);
- a gap's window is searched for calls that started and ended inside it, which DS Desk never saw.
The decisions are dialer/cdr.py's; the recorder writes what comes back like any other record.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dialer.call_state import to_datetime
from dialer.cdr import INFERRED, CdrRow, ExpertOf, correct, record_from_rows
from dialer.records import CallRecord

log = logging.getLogger(__name__)

# A call's rows are looked for this long after it closed (cdr.conf `batch = yes` may hold them for minutes).
RETRY_AFTER_S = (0.5, 2.0, 5.0, 15.0, 60.0, 300.0)
WINDOW_MARGIN_S = 2.0  # a gap's window is widened this much (CDR times are whole seconds)
SECOND_LOOK_S = 5.0  # a correction is checked once more this much later
BUILT_KEPT = 10_000  # calls recorded from the CDR alone, remembered for the window's second pass
ERROR_RETRY_S = 5.0  # a CDR source that failed is asked again after this
STARTUP_LOOKBACK_S = 3600.0  # after DS Desk's own start, the CDR is searched at least this far back,
STARTUP_LOOKBACK_MAX_S = 7 * 86400.0  # and back to the ledger's last call, but never further than this


class CdrSource(Protocol):
    async def rows_for(self, linkedids: Collection[str]) -> dict[str, list[CdrRow]]: ...
    async def rows_ended_between(self, start: float, end: float) -> dict[str, list[CdrRow]]:
        """Every row of the calls with a row ending in [start, end]: a call DS Desk saw begin, but
        not yet as a call of an Expert's (no Dial), and that ended in a gap has no record either."""
        ...

    async def close(self) -> None:
        """Give back what it holds (a database engine); called when the ledger stops."""
        ...


class KnownCalls(Protocol):
    """Which linkedids the ledger already holds (a call found in a gap's window may be one of them)."""

    async def existing_linkedids(self, linkedids: Collection[str]) -> set[str]: ...
    async def guessed_calls(self, since: datetime) -> list[CallRecord]: ...
    async def last_call_time(self) -> datetime | None: ...


@dataclass(slots=True)
class _Due:
    record: CallRecord
    attempt: int
    at: float
    put: CallRecord | None = None  # the correction already written: one more look may finish it


class CdrBackstop:
    def __init__(self, source: CdrSource, known: KnownCalls, expert_of: ExpertOf,
                 seen: Callable[[str], bool], put: Callable[[CallRecord], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._source, self._known, self._expert_of = source, known, expert_of
        self._seen, self._put, self._clock = seen, put, clock  # seen: up now, being written, or DS Desk's own
        self._due: dict[str, _Due] = {}
        self._windows: list[tuple[float, float, int, float]] = []  # (start, end, attempt, due)
        self._wake = asyncio.Event()
        self._recheck_since: float | None = None
        self._startup_end: float | None = None  # DS Desk's own start: a window still to be placed
        self._built: OrderedDict[str, CallRecord] = OrderedDict()  # calls recorded from the CDR alone (recent)
        self._task: asyncio.Task[None] | None = None
        self.corrected = 0  # records put right from the CDR
        self.recovered = 0  # calls found only in the CDR
        self.last_error: str | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="cdr-backstop")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._source.close()

    def closed(self, record: CallRecord) -> None:
        """A call closed: look its rows up if anything of it was guessed."""
        if INFERRED & set(record.quality):
            self._due[record.linkedid] = _Due(record, 0, self._clock() + RETRY_AFTER_S[0])
            self._wake.set()

    def gap(self, start: float | None, end: float) -> None:
        """A gap in the PBX link (PBX clock): search it for calls DS Desk never saw. `start` None: DS
        Desk itself was down: the window reaches back to the ledger's last call (see _run_windows),
        and the calls closed with a guess since then are looked up again (a restart forgets what was due)."""
        if start is None:
            self._startup_end = end  # the window's start needs the ledger's last call: see _run_windows
        else:
            self._windows.append((start - WINDOW_MARGIN_S, end + WINDOW_MARGIN_S, 0, self._clock()))
        self._wake.set()

    @property
    def waiting(self) -> int:
        return len(self._due) + len(self._windows) + (self._startup_end is not None)

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self.waiting:
                try:
                    await self._run_due()
                    await self._run_windows()
                    self.last_error = None
                except Exception as e:  # a CDR source that is away must not stop the ledger
                    self.last_error = f"{type(e).__name__}: {e}"
                    log.warning("CDR backstop: the CDR source failed, will retry in %.0f s: %s",
                                ERROR_RETRY_S, self.last_error)
                    await asyncio.sleep(ERROR_RETRY_S)
                    continue
                await asyncio.sleep(self._next_in())

    def _next_in(self) -> float:
        dues = [d.at for d in self._due.values()] + [w[3] for w in self._windows]
        return max(0.05, min(dues, default=self._clock()) - self._clock())

    async def _run_due(self) -> None:
        if self._recheck_since is not None:
            guessed = await self._known.guessed_calls(to_datetime(self._recheck_since))
            self._recheck_since = None  # only once it worked: a failure keeps it for the next try
            for record in guessed:
                if record.linkedid not in self._due:
                    self._due[record.linkedid] = _Due(record, 0, self._clock())
        now = self._clock()
        ready = {k: d for k, d in self._due.items() if d.at <= now}
        if not ready:
            return
        rows = await self._source.rows_for(list(ready))
        for linkedid, due in ready.items():
            fixed = correct(due.record, rows.get(linkedid, []), self._expert_of)
            if due.put is not None:  # the second look: rows written after the first (a Hangup row)
                if fixed is not None and fixed != due.put:
                    self._put(fixed)
                del self._due[linkedid]
            elif fixed is not None:
                self._put(fixed)
                self.corrected += 1
                # Asterisk writes a call's rows one per channel as each ends: look once more.
                self._due[linkedid] = _Due(due.record, due.attempt, now + SECOND_LOOK_S, fixed)
            elif due.attempt + 1 < len(RETRY_AFTER_S):
                self._due[linkedid] = _Due(due.record, due.attempt + 1, now + RETRY_AFTER_S[due.attempt + 1])
            else:
                log.info("call %s: Asterisk's CDR has no rows for it; its guessed fields stay flagged", linkedid)
                del self._due[linkedid]

    async def _run_windows(self) -> None:
        if self._startup_end is not None:  # DS Desk was down since its last recorded call, at least
            end, last = self._startup_end, await self._known.last_call_time()
            start = end - STARTUP_LOOKBACK_S if last is None else min(end - STARTUP_LOOKBACK_S, last.timestamp())
            start = max(start, end - STARTUP_LOOKBACK_MAX_S)
            self._windows.append((start - WINDOW_MARGIN_S, end + WINDOW_MARGIN_S, 0, self._clock()))
            self._recheck_since, self._startup_end = start, None
        now = self._clock()
        for window in [w for w in self._windows if w[3] <= now]:
            start, end, attempt, _ = window
            await self._search(start, end)  # a failure leaves the window in place for the next try
            self._windows.remove(window)
            if attempt + 1 < 2:  # once more a little later: a CDR written in batch mode may lag
                self._windows.append((start, end, attempt + 1, now + RETRY_AFTER_S[2]))

    async def _search(self, start: float, end: float) -> None:
        found = await self._source.rows_ended_between(start, end)
        candidates = {k: v for k, v in found.items() if not self._seen(k) and k not in self._due}
        log.debug("CDR window %.3f..%.3f: %d calls in it, %d not seen live", start, end, len(found), len(candidates))
        if not candidates:
            return
        rebuilt = {k: v for k, v in candidates.items() if k in self._built}  # its first pass saw fewer rows
        known = await self._known.existing_linkedids([k for k in candidates if k not in rebuilt])
        for record in _built(rebuilt, set(), self._expert_of):
            if record != self._built[record.linkedid]:
                self._put(record)
                self._built[record.linkedid] = record
        for record in _built({k: v for k, v in candidates.items() if k not in rebuilt}, known, self._expert_of):
            log.warning("call %s started and ended while the PBX link was down: recorded from Asterisk's CDR",
                        record.linkedid)
            self._put(record)
            self._built[record.linkedid] = record
            if len(self._built) > BUILT_KEPT:
                self._built.popitem(last=False)
            self.recovered += 1


def _built(candidates: dict[str, list[CdrRow]], known: set[str], expert_of: ExpertOf) -> Iterable[CallRecord]:
    for linkedid, rows in candidates.items():
        if linkedid in known:
            continue
        record = record_from_rows(rows, expert_of)
        if record is not None:
            yield record
