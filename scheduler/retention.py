"""Recording retention: every night, delete the recordings of calls older than N days.

The pure part says what is due and how the run is summed up (`retention_cutoff`, `PurgeReport`);
`RetentionJob` is the thin shell that reads the ledger, deletes files — only inside the
recordings directory — marks the calls (`recording_purged_at`) and writes the job-run log.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from texts.words import plural

log = logging.getLogger(__name__)

RETENTION_JOB = "recording-retention"
RETENTION_AT = time(3, 30)  # organisation time: nobody listens at night, the PBX is quiet
MISFIRE_GRACE_S = 6 * 3600
# A night's run missed while the service was down happens this long after the next start
# (the in-memory job store remembers nothing across restarts); a purge that finds nothing is cheap.
CATCH_UP_AFTER = timedelta(minutes=2)
CATCH_UP_JOB = f"{RETENTION_JOB}-catch-up"
BATCH = 1000
Clock = Callable[[], datetime]


class DueRecordingLike(Protocol):
    @property
    def call_id(self) -> int: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def recording(self) -> str: ...


class RecordingStore(Protocol):
    async def due(self, cutoff: datetime, limit: int = BATCH,
                  after: tuple[datetime, int] | None = None) -> Sequence[DueRecordingLike]: ...
    async def mark_purged(self, call_ids: list[int], now: datetime) -> None: ...


class RunLog(Protocol):
    async def started(self, job: str, fire_time: datetime) -> int: ...
    async def finished(self, run_id: int, ok: bool, detail: str) -> None: ...


# ---- pure ---------------------------------------------------------------------------------
def retention_cutoff(now: datetime, days: int) -> datetime | None:
    """Calls that started before this have their recordings deleted; None: keep forever (0 days)."""
    if days <= 0:
        return None
    return now - timedelta(days=days)


@dataclass
class PurgeReport:
    days: int
    dry_run: bool = False
    deleted: int = 0  # files removed (or, dry run, that would be)
    bytes: int = 0
    missing: int = 0  # the file was already gone: the call is marked all the same
    outside: int = 0  # the path points outside the recordings directory: never touched
    failed: list[str] = field(default_factory=list)  # could not delete: the call stays unmarked

    def summary(self) -> str:
        verb = "будет удалено" if self.dry_run else "удалено"
        text = f"{verb} {self.deleted} {_records(self.deleted)} старше {self.days} {_days(self.days)}"
        extras = [f"{self.bytes / 1_048_576:.1f} МБ"]
        if self.missing:
            extras.append(f"файлов уже не было: {self.missing}")
        if self.outside:
            extras.append(f"вне каталога записей, не тронуто: {self.outside}")
        if self.failed:
            extras.append(f"не удалось удалить: {len(self.failed)} ({'; '.join(self.failed[:3])})")
        return f"{text} ({', '.join(extras)})"


def _records(n: int) -> str:
    return plural(n, "запись", "записи", "записей")


def _days(n: int) -> str:
    return plural(n, "дня", "дней", "дней")  # «старше 1 дня», «старше 2 дней», «старше 90 дней»


# ---- the shell ----------------------------------------------------------------------------
class RetentionJob:
    """`run(now)` is the job body (also `dsdesk recordings purge`); `add_to` schedules it nightly."""

    def __init__(self, store: RecordingStore, runs: RunLog, inside: Callable[[str], Path | None], days: int,
                 tz: ZoneInfo, clock: Clock = lambda: datetime.now(UTC)) -> None:
        # `inside`: the real path of a PBX recording inside the recordings directory, or None;
        # it never raises (a symlink loop or an overlong name is simply not ours to touch).
        self._store, self._runs, self._inside = store, runs, inside
        self._days, self._tz, self._clock = days, tz, clock
        self.last_error: str | None = None
        # The start-up catch-up and the nightly run are two jobs: if the service starts just before
        # 03:30 they could delete the same files at once (and report each other's as failed).
        self._one_at_a_time = asyncio.Lock()

    def add_to(self, scheduler: AsyncIOScheduler) -> None:
        if self._days <= 0:
            return  # keep forever: nothing to schedule
        trigger = CronTrigger(hour=RETENTION_AT.hour, minute=RETENTION_AT.minute, timezone=self._tz)
        scheduler.add_job(self._fire, trigger, id=RETENTION_JOB, name="delete old recordings",
                          misfire_grace_time=MISFIRE_GRACE_S, coalesce=True, max_instances=1,
                          replace_existing=True)
        scheduler.add_job(self._fire, DateTrigger(self._clock() + CATCH_UP_AFTER), id=CATCH_UP_JOB,
                          name="delete old recordings (catch-up at start)", misfire_grace_time=None,
                          replace_existing=True)

    async def _fire(self) -> None:
        async with self._one_at_a_time:
            now = self._clock()
            await self.run(now, fire_time=now)

    async def run(self, now: datetime, *, fire_time: datetime | None = None,
                  dry_run: bool = False) -> PurgeReport:
        report = PurgeReport(self._days, dry_run)
        cutoff = retention_cutoff(now, self._days)
        if cutoff is None:
            return report
        run_id = None if dry_run else await self._runs.started(RETENTION_JOB, fire_time or now)
        try:
            await self._purge(cutoff, now, report)
        except Exception as e:
            self.last_error = f"{type(e).__name__}: {e}"
            log.exception("recording retention failed")
            if run_id is not None:
                await self._runs.finished(run_id, False, self.last_error)
            raise
        self.last_error = None
        log.info("recording retention: %s", report.summary())
        if run_id is not None:
            await self._runs.finished(run_id, True, report.summary())
        return report

    async def _purge(self, cutoff: datetime, now: datetime, report: PurgeReport) -> None:
        after: tuple[datetime, int] | None = None
        while True:
            # Keyset over (started_at, id): failed and dry-run ones are not asked for again.
            batch = await self._store.due(cutoff, BATCH, after)
            if not batch:
                return
            done = [d.call_id for d in batch if self._delete(d.recording, report)]
            after = (batch[-1].started_at, batch[-1].call_id)
            if not report.dry_run:
                await self._store.mark_purged(done, now)

    def _delete(self, pbx_path: str, report: PurgeReport) -> bool:
        """True when the call may be marked purged (deleted, already gone or not ours to touch)."""
        path = self._inside(pbx_path)
        if path is None:
            report.outside += 1
            return True
        try:
            if not _is_file(path):
                report.missing += 1
                return True
            size = path.stat().st_size
            if not report.dry_run:
                path.unlink()
        except OSError as e:
            report.failed.append(f"{path.name}: {e.strerror or e}")
            return False
        report.deleted += 1
        report.bytes += size
        return True


def _is_file(path: Path) -> bool:
    """Path.is_file, and False for a name too long to exist (raised, not answered, by is_file);
    other errors (a permission) are raised: the file may be there and must not be marked purged."""
    try:
        return path.is_file()
    except OSError as e:
        if e.errno == errno.ENAMETOOLONG:
            return False
        raise
