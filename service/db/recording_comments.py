"""Comments on a call's recording in the database: adding one or a reply, a call's comments, what is new to its
Expert, and the replies new to whoever wrote earlier in their thread.

A comment's `seen_at` is when the call's Expert first saw it: set at once for what she writes herself, so
only the others' comments count as new on her desk. Anyone else (a supervisor) has no such column: a reply is
new to her until her last view of the call's comments (a `recording_access` row, action "comments").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, SQLColumnExpression, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.coaching.comments import Comment
from service.db.engine import SessionMaker
from service.db.models import Call, Client, Expert, RecordingAccess
from service.db.models_coaching import RecordingComment

NO_AUTHOR = "—"
MAX_NEW_LISTED = 200
VIEW_ACTION = "comments"  # recording_access.action: the comments were shown (beside play | download)


class UnknownParent(Exception):
    """The comment replied to is not one of this call's (deleted, forged, or another call's)."""


@dataclass(frozen=True, slots=True)
class CommentedCall:
    """What deciding about a comment needs of its call."""

    id: int
    linkedid: str
    expert_id: int | None  # the call's owner
    recording: str | None  # the path the PBX reported
    purged_at: datetime | None
    duration_s: float
    talk_s: float

    @property
    def has_conversation(self) -> bool:
        """Nobody talked (busy, no answer): the file holds nothing to comment on."""
        return self.recording is not None and self.talk_s > 0


@dataclass(frozen=True, slots=True)
class NewComment:
    """A comment on one of the Expert's calls she has not seen yet (the list behind her badge)."""

    id: int
    call_id: int
    linkedid: str
    call_started_at: datetime
    client_name: str | None
    author: str
    at_s: float
    text: str
    created_at: datetime
    is_reply: bool
    call_expert: str | None = None  # whose call: shown beside a reply to a supervisor

    @property
    def whole_s(self) -> int:
        """The `?t=` of a link to it: whole seconds, as the m:ss shown (service.coaching.comments.Thread)."""
        return round(self.at_s)


@dataclass(frozen=True, slots=True)
class SavedComment:
    id: int
    at_s: float  # a reply's is its thread's


class RecordingCommentsRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def call(self, linkedid: str) -> CommentedCall | None:
        async with self._sessions() as s:
            row = (await s.execute(
                select(Call.id, Call.linkedid, Call.expert_id, Call.recording, Call.recording_purged_at,
                       Call.duration_s, Call.talk_s).where(Call.linkedid == linkedid))).first()
        if row is None:
            return None
        return CommentedCall(row.id, row.linkedid, row.expert_id, row.recording, row.recording_purged_at,
                             row.duration_s or 0.0, row.talk_s or 0.0)

    async def add(self, call_id: int, author_id: int, at_s: float, text: str, now: datetime) -> SavedComment:
        async with self._sessions.begin() as s:
            return await _insert(s, call_id, None, author_id, at_s, text, now)

    async def reply(self, call_id: int, parent_id: int, author_id: int, text: str, now: datetime) -> SavedComment:
        """A reply in the thread of `parent_id`, at its time; raises UnknownParent if that is no comment of the call."""
        async with self._sessions.begin() as s:
            parent = (await s.execute(select(RecordingComment.call_id, RecordingComment.parent_id,
                                             RecordingComment.at_s)
                                      .where(RecordingComment.id == parent_id))).first()
            if parent is None or parent.call_id != call_id:
                raise UnknownParent(parent_id)
            # Threads are one level deep: a reply to a reply goes under the comment that started it.
            return await _insert(s, call_id, parent.parent_id or parent_id, author_id, parent.at_s, text, now)

    async def for_call(self, call_id: int) -> list[Comment]:
        """The call's comments and replies, oldest first (service.coaching.comments.threads orders them)."""
        async with self._sessions() as s:
            rows = await s.execute(
                select(RecordingComment.id, RecordingComment.parent_id, RecordingComment.author_id,
                       Expert.full_name, RecordingComment.at_s, RecordingComment.text,
                       RecordingComment.created_at, RecordingComment.seen_at)
                .outerjoin(Expert, Expert.id == RecordingComment.author_id)
                .where(RecordingComment.call_id == call_id)
                .order_by(RecordingComment.created_at, RecordingComment.id))
            return [Comment(r.id, r.parent_id, r.author_id, r.full_name or NO_AUTHOR, r.at_s, r.text,
                            r.created_at, r.seen_at) for r in rows]

    async def unseen_count(self, expert_id: int) -> int:
        """How many comments on the Expert's calls she has not opened yet (her desk's badge)."""
        async with self._sessions() as s:
            count = await s.scalar(select(func.count()).select_from(RecordingComment)
                                   .join(Call, Call.id == RecordingComment.call_id)
                                   .where(*_unseen_by(expert_id)))
        return int(count or 0)

    async def new_for(self, expert_id: int, limit: int = MAX_NEW_LISTED) -> list[NewComment]:
        """The comments behind the badge, newest first."""
        async with self._sessions() as s:
            rows = await s.execute(
                select(RecordingComment.id, Call.id.label("call_id"), Call.linkedid, Call.started_at,
                       func.coalesce(Client.name, Call.client_name).label("client_name"), Expert.full_name,
                       RecordingComment.at_s, RecordingComment.text, RecordingComment.created_at,
                       RecordingComment.parent_id)
                .join(Call, Call.id == RecordingComment.call_id)
                .outerjoin(Client, Client.external_id == Call.client_id)
                .outerjoin(Expert, Expert.id == RecordingComment.author_id)
                .where(*_unseen_by(expert_id))
                .order_by(RecordingComment.created_at.desc(), RecordingComment.id.desc()).limit(limit))
            return [NewComment(r.id, r.call_id, r.linkedid, r.started_at, r.client_name, r.full_name or NO_AUTHOR,
                               r.at_s, r.text, r.created_at, r.parent_id is not None) for r in rows]

    async def new_replies_count(self, user_id: int) -> int:
        """How many replies are new to the user in threads she wrote in (the supervisor's «Ответы: N»). One query."""
        async with self._sessions() as s:
            count = await s.scalar(select(func.count()).select_from(RecordingComment)
                                   .join(Call, Call.id == RecordingComment.call_id)
                                   .where(*_replies_new_to(user_id)))
        return int(count or 0)

    async def new_replies_for(self, user_id: int, limit: int = MAX_NEW_LISTED) -> list[NewComment]:
        """The replies behind «Ответы: N», newest first, with whose call each is on."""
        call_expert = aliased(Expert)
        async with self._sessions() as s:
            rows = await s.execute(
                select(RecordingComment.id, Call.id.label("call_id"), Call.linkedid, Call.started_at,
                       func.coalesce(Client.name, Call.client_name).label("client_name"), Expert.full_name,
                       RecordingComment.at_s, RecordingComment.text, RecordingComment.created_at,
                       call_expert.full_name.label("call_expert"))
                .join(Call, Call.id == RecordingComment.call_id)
                .outerjoin(Client, Client.external_id == Call.client_id)
                .outerjoin(Expert, Expert.id == RecordingComment.author_id)
                .outerjoin(call_expert, call_expert.id == Call.expert_id)
                .where(*_replies_new_to(user_id))
                .order_by(RecordingComment.created_at.desc(), RecordingComment.id.desc()).limit(limit))
            return [NewComment(r.id, r.call_id, r.linkedid, r.started_at, r.client_name, r.full_name or NO_AUTHOR,
                               r.at_s, r.text, r.created_at, True, r.call_expert) for r in rows]

    async def last_view(self, call_id: int, user_id: int) -> datetime | None:
        """When the user last saw the call's comments: what is older is no longer a new reply to her."""
        async with self._sessions() as s:
            return await s.scalar(select(func.max(RecordingAccess.at)).where(*_views_of(call_id, user_id)))

    async def log_view(self, call_id: int, user_id: int, remote: str | None, now: datetime) -> None:
        """A view of the call's comments, always written (RecordingsRepository.log_access folds repeats)."""
        async with self._sessions.begin() as s:
            s.add(RecordingAccess(call_id=call_id, user_id=user_id, at=now, action=VIEW_ACTION,
                                  remote=(remote or "")[:64] or None))

    async def mark_seen(self, call_id: int, expert_id: int, now: datetime) -> int:
        """The call's Expert opened its comments: none of them is new any more. How many were."""
        async with self._sessions.begin() as s:
            owner = await s.scalar(select(Call.expert_id).where(Call.id == call_id))
            if owner is None or owner != expert_id:
                return 0
            # Only what existed when the page read them: a comment arriving meanwhile was not shown.
            result = await s.execute(update(RecordingComment)
                                     .where(RecordingComment.call_id == call_id, RecordingComment.seen_at.is_(None),
                                            RecordingComment.created_at <= now)
                                     .values(seen_at=now).execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)  # a CursorResult for an UPDATE


async def _insert(s: AsyncSession, call_id: int, parent_id: int | None, author_id: int, at_s: float, text: str,
                  now: datetime) -> SavedComment:
    owner = await s.scalar(select(Call.expert_id).where(Call.id == call_id))
    comment = RecordingComment(call_id=call_id, parent_id=parent_id, author_id=author_id, at_s=at_s, text=text,
                               created_at=now, seen_at=now if owner == author_id else None)
    s.add(comment)
    await s.flush()
    return SavedComment(comment.id, at_s)


def _unseen_by(expert_id: int) -> tuple[ColumnElement[bool], ...]:
    return (Call.expert_id == expert_id, RecordingComment.seen_at.is_(None),
            or_(RecordingComment.author_id.is_(None), RecordingComment.author_id != expert_id))


def _views_of(call_id: SQLColumnExpression[int] | int, user_id: int) -> tuple[ColumnElement[bool], ...]:
    return (RecordingAccess.call_id == call_id, RecordingAccess.user_id == user_id,
            RecordingAccess.action == VIEW_ACTION)


def _replies_new_to(user_id: int) -> tuple[ColumnElement[bool], ...]:
    """Replies by others in a thread where the user wrote the comment or an earlier reply, made after her last
    view of that call's comments (service.coaching.comments.new_reply_ids says the same in Python).

    The user's own calls are left out: there `seen_at` already counts them (_unseen_by).
    """
    mine = aliased(RecordingComment)
    reply = RecordingComment
    last_view = select(func.max(RecordingAccess.at)).where(*_views_of(reply.call_id, user_id)).scalar_subquery()
    # Threads are one level deep (reply() files a reply to a reply under the first comment): parent_id is the thread.
    wrote_before = exists().where(mine.author_id == user_id, mine.id < reply.id,
                                  or_(mine.id == reply.parent_id, mine.parent_id == reply.parent_id))
    return (reply.parent_id.is_not(None),
            or_(reply.author_id.is_(None), reply.author_id != user_id),
            or_(Call.expert_id.is_(None), Call.expert_id != user_id),
            wrote_before,
            or_(last_view.is_(None), reply.created_at > last_view))
