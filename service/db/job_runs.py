"""Job run log: when each scheduled job last succeeded, and every failure with its message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from service.db.engine import SessionMaker
from service.db.models import JobRun


@dataclass(frozen=True, slots=True)
class JobRunView:
    job: str
    fire_time: datetime
    started_at: datetime
    finished_at: datetime | None
    status: str
    detail: str | None


class JobRunsRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def started(self, job: str, fire_time: datetime) -> int:
        async with self._sessions.begin() as s:
            run = JobRun(job=job, fire_time=fire_time, started_at=datetime.now(UTC), status="running")
            s.add(run)
            await s.flush()
            return run.id

    async def finished(self, run_id: int, ok: bool, detail: str) -> None:
        async with self._sessions.begin() as s:
            await s.execute(update(JobRun).where(JobRun.id == run_id).values(
                finished_at=datetime.now(UTC), status="ok" if ok else "failed", detail=detail[:4000]))

    async def last_success(self, job: str) -> datetime | None:
        async with self._sessions() as s:
            query = select(func.max(JobRun.fire_time)).where(JobRun.job == job, JobRun.status == "ok")
            return (await s.execute(query)).scalar_one_or_none()

    async def recent(self, limit: int = 20, job: str | None = None) -> list[JobRunView]:
        """The latest runs, newest first; of one job only when `job` is given."""
        async with self._sessions() as s:
            query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
            rows = await s.execute(query if job is None else query.where(JobRun.job == job))
            return [JobRunView(r.job, r.fire_time, r.started_at, r.finished_at, r.status, r.detail)
                    for r in rows.scalars()]
