"""Supervisors' versions of the call scripts: the latest one per file overrides the shipped text.

A version whose `source` is None is "reset to the shipped text": it is stored rather than the
older versions being deleted, so the history of who changed what stays whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias, cast

from sqlalchemy import Select, func, select

from service.db.engine import SessionMaker
from service.db.models import Expert, ScriptVersion

HISTORY_LIMIT = 30


@dataclass(frozen=True, slots=True)
class ScriptVersionRow:
    id: int
    file: str
    source: str | None  # None: back to the shipped file
    created_at: datetime
    author_login: str | None  # None: the author's account was deleted
    author_name: str | None

    @property
    def is_reset(self) -> bool:
        return self.source is None


_VersionQuery: TypeAlias = Select[int, str, str | None, datetime, str | None, str | None]


def _rows() -> _VersionQuery:
    query = (select(ScriptVersion.id, ScriptVersion.file, ScriptVersion.source, ScriptVersion.created_at,
                    Expert.login, Expert.full_name)
             .outerjoin(Expert, Expert.id == ScriptVersion.author_id))
    # The outer join makes the author's columns nullable, which SQLAlchemy's column types cannot say.
    return cast(_VersionQuery, query)


class ScriptVersionsRepository:
    """Every method is its own short transaction."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def add(self, file: str, source: str | None, author_id: int | None, now: datetime) -> ScriptVersionRow:
        """A new version of `file` (None: reset to the shipped text), the latest from now on."""
        async with self._sessions.begin() as session:
            version = ScriptVersion(file=file, source=source, author_id=author_id, created_at=now)
            session.add(version)
            await session.flush()
            version_id = version.id
        added = await self._first(_rows().where(ScriptVersion.id == version_id))
        assert added is not None  # just committed
        return added

    async def reset(self, file: str, author_id: int | None, now: datetime) -> ScriptVersionRow:
        return await self.add(file, None, author_id, now)

    async def latest(self, file: str) -> ScriptVersionRow | None:
        """The newest version of `file` (possibly a reset), or None when it was never edited."""
        return await self._first(_rows().where(ScriptVersion.file == file).order_by(ScriptVersion.id.desc()).limit(1))

    async def override_text(self, file: str) -> str | None:
        """The text that replaces the shipped file, or None (never edited, or reset).

        The Expert's screen calls it for every script it shows: one indexed row, no join.
        """
        async with self._sessions() as session:
            return (await session.execute(
                select(ScriptVersion.source).where(ScriptVersion.file == file)
                .order_by(ScriptVersion.id.desc()).limit(1))).scalar_one_or_none()

    async def latest_per_file(self) -> dict[str, ScriptVersionRow]:
        """The newest version of every file ever edited (for the catalog page)."""
        newest = select(func.max(ScriptVersion.id)).group_by(ScriptVersion.file).scalar_subquery()
        async with self._sessions() as session:
            rows = (await session.execute(_rows().where(ScriptVersion.id.in_(newest)))).all()
        return {row.file: row for row in (ScriptVersionRow(*r) for r in rows)}

    async def history(self, file: str, limit: int = HISTORY_LIMIT) -> list[ScriptVersionRow]:
        """The versions of `file`, newest first."""
        async with self._sessions() as session:
            rows = (await session.execute(
                _rows().where(ScriptVersion.file == file).order_by(ScriptVersion.id.desc()).limit(limit))).all()
        return [ScriptVersionRow(*row) for row in rows]

    async def _first(self, query: _VersionQuery) -> ScriptVersionRow | None:
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
        return None if row is None else ScriptVersionRow(*row)
