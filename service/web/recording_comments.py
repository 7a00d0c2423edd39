"""Comments on a call's recording (issue 18, docs/coaching-comments.md): POST /calls/{linkedid}/comments, the
comments block of a call's page, the Expert's badge on her desk, a supervisor's «Ответы: N» in the top bar and
GET /comments (what is new to her: comments on her calls, replies to what she wrote).

Who may, as for the recording itself (service/web/calls.py): supervisors and admins on every call, an Expert
on her own. Every time a call's comments are shown, the recording's access log gets a "comments" row; that row
is also when the replies on the call stop being new to the viewer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import wave
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.exc import SQLAlchemyError

from service.appkeys import DB_SESSIONS
from service.calllog.filters import is_linkedid
from service.coaching.comments import (
    NO_RECORDING,
    NOT_THIS_CALL,
    Problem,
    Thread,
    badge_text,
    check_comment,
    check_text,
    format_at,
    mark_left_pct,
    new_reply_ids,
    parse_id,
    recording_length,
    replies_badge_text,
    replies_title,
    start_at,
    threads,
    unseen_ids,
)
from service.db.call_log import CallDetail
from service.db.recording_comments import (
    VIEW_ACTION,
    CommentedCall,
    NewComment,
    RecordingCommentsRepository,
    SavedComment,
    UnknownParent,
)
from service.db.recordings import RecordingsRepository
from service.settings import Settings
from service.web.auth import wants_html
from service.web.desk_context import forbidden, settings_of, signed_in, utc_now
from service.web.keys import CALLING_ROLES, USER_KEY, SignedInUser

log = logging.getLogger(__name__)

FIELDS = ("at", "text", "parent")


def setup_recording_comments(app: web.Application) -> None:
    app.router.add_post("/calls/{linkedid}/comments", add_comment, name="recording_comment")
    app.router.add_get("/comments", new_comments, name="new_comments")


@dataclass(frozen=True, slots=True)
class CommentsBlock:
    """What templates/calllog/_comments.html shows."""

    linkedid: str
    threads: list[Thread]
    length_s: float
    start_s: float | None  # the link's `?t=`: where the player starts
    new_ids: frozenset[int]  # new to the viewer until this view (comments to the call's Expert, replies to others)
    player: bool  # the recording is still there to play (the timeline goes with it)

    @property
    def length(self) -> str:
        return format_at(self.length_s)

    def left(self, at_s: float) -> float:
        return mark_left_pct(at_s, self.length_s)

    def highlighted(self, thread: Thread) -> bool:
        return self.start_s is not None and thread.whole_s == round(self.start_s)


# ---- the call page and the desk --------------------------------------------------------------
async def comments_context(request: web.Request, detail: CallDetail, user: SignedInUser) -> dict[str, Any]:
    """The call page's comments; opening it makes them seen (the Expert's `seen_at`, everyone's view log)."""
    call = CommentedCall(detail.id, detail.row.linkedid, detail.row.expert_id, detail.recording,
                         detail.recording_purged_at, detail.row.duration_s, detail.row.talk_s)
    if not call.has_conversation:
        return {"rec_comments": None}
    repo = _repo(request)
    now = utc_now()  # before reading: a comment arriving meanwhile stays new
    found = await repo.for_call(call.id)
    unseen = unseen_ids(found, user.id, call.expert_id)  # to the call's Expert
    replies = new_reply_ids(found, user.id, call.expert_id, await repo.last_view(call.id, user.id))  # to others
    if found:
        await _log_view(request, call.id, user.id, now, shows_new_replies=bool(replies))
    if unseen:
        await repo.mark_seen(call.id, user.id, now)
    length = await recording_length_of(settings_of(request), call)
    block = CommentsBlock(call.linkedid, threads(found), length, start_at(request.query.get("t"), length),
                          unseen | replies, player=call.purged_at is None)
    if replies:  # the top bar's count was taken before this view made them seen: this page shows it after
        return {"rec_comments": block, "replies_badge": await replies_badge(request)}
    return {"rec_comments": block}


async def _log_view(request: web.Request, call_id: int, user_id: int, now: datetime, *,
                    shows_new_replies: bool) -> None:
    """A view of the call's comments. One that shows new replies is written even within SAME_PLAYBACK_S of the
    last (which would fold it in): the row is what makes those replies seen."""
    if shows_new_replies:
        await _repo(request).log_view(call_id, user_id, request.remote, now)
    else:
        await RecordingsRepository(request.app[DB_SESSIONS]).log_access(call_id, user_id, VIEW_ACTION,
                                                                        request.remote, now)


async def new_comments_badge(request: web.Request, user: SignedInUser, expert_id: int) -> str | None:
    """«2 новых комментария к вашим звонкам» on the Expert's own desk; None on another's or when none is new.

    Replies to her on her own calls are among the first count; the second only matters for the rare thread she
    wrote in on a call that is not hers (a call moved to another Expert, a former supervisor).
    """
    if expert_id != user.id:
        return None
    repo = _repo(request)
    return badge_text(await repo.unseen_count(user.id) + await repo.new_replies_count(user.id))


@dataclass(frozen=True, slots=True)
class RepliesBadge:
    """The top bar's «Ответы: 2» (templates/base.html) and its tooltip."""

    text: str
    title: str


async def replies_badge(request: web.Request) -> RepliesBadge | None:
    """For a supervisor or admin on every page (they have no desk): the replies new to her; None when none.

    aiohttp_jinja2 runs this before every request's handler, so only a page being loaded asks (one query): not
    the scripts' fetches, the player's range requests or the forms' posts. A database that fails here leaves
    the page without the badge rather than failing it.
    """
    user = request.get(USER_KEY)
    sessions = request.app.get(DB_SESSIONS)
    if user is None or not user.is_supervisor or sessions is None:
        return None
    if request.method != "GET" or not wants_html(request):
        return None
    try:
        count = await RecordingCommentsRepository(sessions).new_replies_count(user.id)
    except (SQLAlchemyError, OSError):
        log.warning("the top bar's replies badge could not be counted", exc_info=True)
        return None
    text = replies_badge_text(count)
    return None if text is None else RepliesBadge(text, replies_title(count))


# ---- GET /comments ---------------------------------------------------------------------------
async def new_comments(request: web.Request) -> web.Response:
    """What is new to the signed-in user, each linking to its place: comments on her calls she has not opened
    yet, and replies to what she wrote on other calls since she last saw them."""
    user = signed_in(request)
    repo = _repo(request)
    found = await repo.new_for(user.id)
    replies = await repo.new_replies_for(user.id)
    await _log_listed_views(request, user, found)
    context = {"found": found, "badge": badge_text(len(found)), "replies": replies,
               "own_calls": user.role in CALLING_ROLES, "tz": settings_of(request).organisation.timezone,
               "format_at": format_at}
    return aiohttp_jinja2.render_template("calllog/new_comments.html", request, context)


async def _log_listed_views(request: web.Request, user: SignedInUser, found: list[NewComment]) -> None:
    """The comments on her calls are shown here: a view of each call's. The replies are not logged: the view log
    is what makes them no longer new, and they stay listed until she opens them in place."""
    recordings = RecordingsRepository(request.app[DB_SESSIONS])
    for call_id in dict.fromkeys(c.call_id for c in found):
        await recordings.log_access(call_id, user.id, VIEW_ACTION, request.remote, utc_now())


# ---- POST /calls/{linkedid}/comments ----------------------------------------------------------
async def add_comment(request: web.Request) -> web.StreamResponse:
    """A comment at a time of the recording, or (`parent`) a reply; refused whole with Russian messages."""
    user = signed_in(request)
    call = await _commentable_call(request, user)
    fields = _fields(await request.post())
    saved = await _save(request, user, call, fields)
    if isinstance(saved, list):
        return _refused(request, call, saved)
    url = comment_url(call.linkedid, saved)
    if wants_html(request):
        raise web.HTTPSeeOther(url)
    return web.json_response({"id": saved.id, "at_s": saved.at_s, "at": format_at(saved.at_s), "url": url},
                             status=201)


def comment_url(linkedid: str, saved: SavedComment) -> str:
    return f"/calls/{linkedid}?t={round(saved.at_s)}#comment-{saved.id}"


async def _commentable_call(request: web.Request, user: SignedInUser) -> CommentedCall:
    linkedid = request.match_info["linkedid"]
    call = await _repo(request).call(linkedid) if is_linkedid(linkedid) else None
    if call is None:
        raise _not_found(request, "Такого звонка нет в журнале")
    if not user.is_supervisor and call.expert_id != user.id:
        raise forbidden("Это звонок другого Эксперта")
    if not call.has_conversation:
        raise _not_found(request, NO_RECORDING)
    return call


def _not_found(request: web.Request, message: str) -> web.HTTPNotFound:
    """404 as text for a page, as {"error": …} for the page's script (it shows the message under the form)."""
    if wants_html(request):
        return web.HTTPNotFound(text=message)
    return web.HTTPNotFound(text=json.dumps({"error": message}, ensure_ascii=False), content_type="application/json")


def _fields(form: MultiDictProxy[Any]) -> dict[str, str]:
    """The form's text fields; a file sent in their place reads as nothing typed."""
    return {name: value if isinstance(value := form.get(name, ""), str) else "" for name in FIELDS}


async def _save(request: web.Request, user: SignedInUser, call: CommentedCall,
                fields: dict[str, str]) -> SavedComment | list[Problem]:
    repo = _repo(request)
    if fields["parent"].strip():
        return await _save_reply(repo, user, call, fields)
    draft = check_comment(fields["at"], fields["text"],
                          await recording_length_of(settings_of(request), call))
    if isinstance(draft, list):
        return draft
    return await repo.add(call.id, user.id, draft.at_s, draft.text, utc_now())


async def _save_reply(repo: RecordingCommentsRepository, user: SignedInUser, call: CommentedCall,
                      fields: dict[str, str]) -> SavedComment | list[Problem]:
    text = check_text(fields["text"])
    parent = parse_id(fields["parent"])
    if isinstance(text, Problem):
        return [text]
    if parent is None:
        return [Problem("parent", NOT_THIS_CALL)]
    try:
        return await repo.reply(call.id, parent, user.id, text, utc_now())
    except UnknownParent:
        return [Problem("parent", NOT_THIS_CALL)]


def _refused(request: web.Request, call: CommentedCall, problems: list[Problem]) -> web.Response:
    """422, nothing saved: the messages for the form (JSON), or a page with them and the way back."""
    if not wants_html(request):
        return web.json_response({"error": "; ".join(p.message for p in problems),
                                  "problems": [{"field": p.field, "message": p.message} for p in problems]},
                                 status=422)
    context = {"linkedid": call.linkedid, "problems": problems}
    return aiohttp_jinja2.render_template("calllog/comment_refused.html", request, context, status=422)


# ---- the recording's length --------------------------------------------------------------------
async def recording_length_of(settings: Settings, call: CommentedCall) -> float:
    """From the WAV file's header (read off the event loop), else the call's duration in the ledger."""
    header_s = None
    if call.recording is not None and call.purged_at is None:
        header_s = await asyncio.to_thread(_file_seconds, settings, call.recording)
    return recording_length(header_s, call.duration_s)


def _file_seconds(settings: Settings, pbx_path: str) -> float | None:
    path = settings.recordings.existing_file(pbx_path)
    return None if path is None else wav_seconds(path)


def wav_seconds(path: Path) -> float | None:
    """The length a WAV header states; None when the file is gone, cut short or not PCM (MixMonitor's wav49)."""
    try:
        with wave.open(str(path), "rb") as recording:
            frames, rate = recording.getnframes(), recording.getframerate()
    except (OSError, EOFError, wave.Error, struct.error, ValueError):
        return None
    return frames / rate if rate > 0 else None


def _repo(request: web.Request) -> RecordingCommentsRepository:
    return RecordingCommentsRepository(request.app[DB_SESSIONS])
