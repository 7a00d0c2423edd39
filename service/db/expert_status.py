"""The Experts' status log (models_status.py): appending a status, reading the day's and a period's."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, insert, select

from service.db.engine import SessionMaker
from service.db.models import ExpertStatus
from service.desk.status import DeskStatus, StatusEntry


class ExpertStatusRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def add(self, expert_id: int, status: DeskStatus, reason: str | None, at: datetime) -> StatusEntry:
        async with self._sessions.begin() as session:
            await session.execute(insert(ExpertStatus).values(
                expert_id=expert_id, status=str(status), reason=reason, at=at))
        return StatusEntry(at, status, reason)

    async def latest(self, expert_ids: Collection[int], since: datetime) -> dict[int, StatusEntry]:
        """Each Expert's latest status since `since` (the day's start); Experts with none are absent."""
        if not expert_ids:
            return {}
        newest = (select(ExpertStatus.expert_id, func.max(ExpertStatus.id).label("id"))
                  .where(ExpertStatus.expert_id.in_(list(expert_ids)), ExpertStatus.at >= since)
                  .group_by(ExpertStatus.expert_id).subquery())
        query = select(ExpertStatus).join(newest, newest.c.id == ExpertStatus.id)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return {row.expert_id: _entry(row) for row in rows}

    async def entries(self, expert_ids: Collection[int] | None, start: datetime,
                      end: datetime) -> dict[int, list[StatusEntry]]:
        """Every status in [start, end) by Expert, in order (None: every Expert's)."""
        query = (select(ExpertStatus).where(ExpertStatus.at >= start, ExpertStatus.at < end)
                 .order_by(ExpertStatus.expert_id, ExpertStatus.at, ExpertStatus.id))
        if expert_ids is not None:
            query = query.where(ExpertStatus.expert_id.in_(list(expert_ids)))
        grouped: dict[int, list[StatusEntry]] = {}
        async with self._sessions() as session:
            for row in await session.scalars(query):
                grouped.setdefault(row.expert_id, []).append(_entry(row))
        return grouped


def _entry(row: ExpertStatus) -> StatusEntry:
    return StatusEntry(row.at, DeskStatus(row.status), row.reason)
