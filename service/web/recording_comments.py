"""Comments on a call's recording (issue 18, docs/coaching-comments.md): POST /calls/{linkedid}/comments, the
comments block of a call's page, the Expert's badge on her desk and GET /comments (what is new to her).

Who may, as for the recording itself (service/web/calls.py): supervisors and admins on every call, an Expert
on her own. Every time comments are shown, the recording's access log gets a "comments" row.
"""

from __future__ import annotations

import asyncio
import json
import struct
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy

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
    parse_id,
    recording_length,
    start_at,
    threads,
    unseen_ids,
)
from service.db.call_log import CallDetail
from service.db.recording_comments import (
    CommentedCall,
    RecordingCommentsRepository,
    SavedComment,
    UnknownParent,
)
from service.db.recordings import RecordingsRepository
from service.settings import Settings
from service.web.auth import wants_html
from service.web.desk_context import forbidden, settings_of, signed_in, utc_now
from service.web.keys import SignedInUser

VIEW_ACTION = "comments"  # recording_access.action: the comments were shown (beside play | download)
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
    new_ids: frozenset[int]  # new to the call's Expert until this view
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
    """The call page's comments; opening it as the call's Expert makes them seen, and the view is logged."""
    call = CommentedCall(detail.id, detail.row.linkedid, detail.row.expert_id, detail.recording,
                         detail.recording_purged_at, detail.row.duration_s, detail.row.talk_s)
    if not call.has_conversation:
        return {"rec_comments": None}
    repo = _repo(request)
    found = await repo.for_call(call.id)
    new = unseen_ids(found, user.id, call.expert_id)
    now = utc_now()
    if found:
        await RecordingsRepository(request.app[DB_SESSIONS]).log_access(call.id, user.id, VIEW_ACTION,
                                                                         request.remote, now)
    if new:
        await repo.mark_seen(call.id, user.id, now)
    length = await recording_length_of(settings_of(request), call)
    block = CommentsBlock(call.linkedid, threads(found), length, start_at(request.query.get("t"), length), new,
                          player=call.purged_at is None)
    return {"rec_comments": block}


async def new_comments_badge(request: web.Request, user: SignedInUser, expert_id: int) -> str | None:
    """«2 новых комментария к вашим звонкам» on the Expert's own desk; None on another's or when none is new."""
    if expert_id != user.id:
        return None
    return badge_text(await _repo(request).unseen_count(user.id))


# ---- GET /comments ---------------------------------------------------------------------------
async def new_comments(request: web.Request) -> web.Response:
    """The comments on the signed-in user's calls she has not opened yet; each links to its place."""
    user = signed_in(request)
    found = await _repo(request).new_for(user.id)
    recordings = RecordingsRepository(request.app[DB_SESSIONS])
    for call_id in dict.fromkeys(c.call_id for c in found):  # their texts are shown here: a view of each call's
        await recordings.log_access(call_id, user.id, VIEW_ACTION, request.remote, utc_now())
    context = {"found": found, "badge": badge_text(len(found)), "tz": settings_of(request).organisation.timezone,
               "format_at": format_at}
    return aiohttp_jinja2.render_template("calllog/new_comments.html", request, context)


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
