"""The record of files imported from the web page or the drop folder (`file_imports`, migration 0011).

The imports area's own table, so its repository lives here (it replaces service/db/file_imports.py,
which nothing uses any more). `record` returns the new row's id: the upload page redirects to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
    message: str  # the outcome's message, then a line per bad row kept
    user: str | None  # the uploader's full name
    id: int = 0
    user_id: int | None = None


class FileImportsRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def record(self, *, kind: str, name: str, sha256: str, source: str, ok: bool, rows: int,
                     message: str, user_id: int | None, at: datetime) -> int:
        """Keep one file's outcome; its id."""
        async with self._sessions.begin() as session:
            result = await session.execute(insert(FileImport).values(
                kind=kind, name=name[:255], sha256=sha256, source=source, ok=ok, rows=rows, message=message,
                user_id=user_id, at=at).returning(FileImport.id))
            return int(result.scalar_one())

    async def imported_before(self, sha256: str) -> FileImportRow | None:
        """The successful import of a file with these exact bytes, if there was one."""
        rows = await self._rows(_with_user().where(FileImport.sha256 == sha256, FileImport.ok.is_(True))
                                .order_by(FileImport.id.desc()).limit(1))
        return rows[0] if rows else None

    async def recent(self, limit: int = RECENT) -> list[FileImportRow]:
        return await self._rows(_with_user().order_by(FileImport.id.desc()).limit(limit))

    async def get(self, record_id: int) -> FileImportRow | None:
        rows = await self._rows(_with_user().where(FileImport.id == record_id))
        return rows[0] if rows else None

    async def _rows(self, query: Any) -> list[FileImportRow]:
        async with self._sessions() as session:
            found = (await session.execute(query)).all()
        return [FileImportRow(f.at, f.kind, f.name, f.source, f.ok, f.rows, f.message, name, f.id, f.user_id)
                for f, name in found]


def _with_user() -> Any:
    return select(FileImport, Expert.full_name).outerjoin(Expert, Expert.id == FileImport.user_id)
