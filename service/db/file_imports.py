"""The record of files imported from the web page or the drop folder (migration 0011)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from service.db.engine import SessionMaker
from service.db.models import Expert, FileImport

RECENT = 30


@dataclass(frozen=True, slots=True)
class FileImportRow:
    at: datetime
    kind: str
    name: str
    source: str  # web | folder
    ok: bool
    rows: int
    message: str
    user: str | None


class FileImportsRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def record(self, *, kind: str, name: str, sha256: str, source: str, ok: bool, rows: int,
                     message: str, user_id: int | None, at: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(insert(FileImport).values(
                kind=kind, name=name[:255], sha256=sha256, source=source, ok=ok, rows=rows, message=message,
                user_id=user_id, at=at))

    async def imported_before(self, sha256: str) -> FileImportRow | None:
        """The successful import of a file with these exact bytes, if there was one."""
        rows = await self._rows(select(FileImport, Expert.full_name).outerjoin(Expert, Expert.id == FileImport.user_id)
                                .where(FileImport.sha256 == sha256, FileImport.ok.is_(True))
                                .order_by(FileImport.id.desc()).limit(1))
        return rows[0] if rows else None

    async def recent(self, limit: int = RECENT) -> list[FileImportRow]:
        return await self._rows(select(FileImport, Expert.full_name).outerjoin(Expert, Expert.id == FileImport.user_id)
                                .order_by(FileImport.id.desc()).limit(limit))

    async def _rows(self, query: object) -> list[FileImportRow]:
        async with self._sessions() as session:
            found = (await session.execute(query)).all()  # type: ignore[call-overload]
        return [FileImportRow(f.at, f.kind, f.name, f.source, f.ok, f.rows, f.message, name) for f, name in found]
