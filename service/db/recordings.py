"""Recordings in the database: who may get a call's file, the access log, what retention is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, tuple_, update

from service.db.engine import SessionMaker
from service.db.models import Call, RecordingAccess

# Two requests from one player within this long are one playback (a player re-asks for the start).
SAME_PLAYBACK_S = 30


@dataclass(frozen=True, slots=True)
class RecordingRef:
    call_id: int
    linkedid: str
    expert_ext: str | None
    expert_id: int | None  # the call's owner
    started_at: datetime
    recording: str | None  # the path the PBX reported
    purged_at: datetime | None


@dataclass(frozen=True, slots=True)
class DueRecording:
    call_id: int
    started_at: datetime
    recording: str


class RecordingsRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def by_linkedid(self, linkedid: str) -> RecordingRef | None:
        async with self._sessions() as s:
            row = (await s.execute(select(Call.id, Call.linkedid, Call.expert_ext, Call.expert_id, Call.started_at,
                                          Call.recording, Call.recording_purged_at)
                                   .where(Call.linkedid == linkedid))).first()
        return None if row is None else RecordingRef(*row)

    async def log_access(self, call_id: int, user_id: int, action: str, remote: str | None,
                         now: datetime) -> bool:
        """One row per playback: False (nothing written) when this user just started the same one."""
        async with self._sessions.begin() as s:
            recent = (await s.execute(
                select(RecordingAccess.id).where(
                    RecordingAccess.call_id == call_id, RecordingAccess.user_id == user_id,
                    RecordingAccess.action == action,
                    RecordingAccess.at > now - timedelta(seconds=SAME_PLAYBACK_S)).limit(1))).first()
            if recent is not None:
                return False
            s.add(RecordingAccess(call_id=call_id, user_id=user_id, at=now, action=action,
                                  remote=(remote or "")[:64] or None))
        return True

    async def due(self, cutoff: datetime, limit: int = 1000,
                  after: tuple[datetime, int] | None = None) -> list[DueRecording]:
        """Recordings of calls started before `cutoff` not purged yet, oldest first, after `after`."""
        query = (select(Call.id, Call.started_at, Call.recording)
                 .where(Call.started_at < cutoff, Call.recording.is_not(None), Call.recording_purged_at.is_(None))
                 .order_by(Call.started_at, Call.id).limit(limit))
        if after is not None:
            query = query.where(tuple_(Call.started_at, Call.id) > tuple_(*after))
        async with self._sessions() as s:
            rows = await s.execute(query)
            return [DueRecording(call_id, started_at, recording) for call_id, started_at, recording in rows
                    if recording is not None]  # never false (the WHERE above): it narrows the type

    async def mark_purged(self, call_ids: list[int], now: datetime) -> None:
        if not call_ids:
            return
        async with self._sessions.begin() as s:
            await s.execute(update(Call).where(Call.id.in_(call_ids)).values(recording_purged_at=now))
