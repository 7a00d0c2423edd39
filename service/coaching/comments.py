"""Comments on a call's recording (issue 18, docs/coaching-comments.md): a time read as people write it,
a comment checked against the recording's length, replies threaded under their comment, what is new to whom and
the badges. Pure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from texts.words import minutes_seconds, plural

MAX_TEXT = 2000
# The m:ss shown is rounded to the second: a time that reads as the recording's last second is inside it.
END_SLACK_S = 0.5
MAX_ID = 2**31 - 1  # recording_comments.id is an INTEGER

NO_TIME = "Укажите время в записи, например 2:15"
NO_TEXT = "Напишите текст комментария"
NOT_THIS_CALL = "Ответить можно только на комментарий к этому звонку: обновите страницу"
NO_RECORDING = "У этого звонка нет записи разговора: комментировать нечего"

_SECONDS = r"[0-5]?[0-9](?:[.,][0-9]{1,3})?"
_TIME = re.compile(
    rf"(?:(?P<h>[0-9]{{1,2}}):(?P<hm>[0-5]?[0-9]):(?P<hs>{_SECONDS}))"  # 1:02:15
    rf"|(?:(?P<m>[0-9]{{1,4}}):(?P<ms>{_SECONDS}))"  # 2:15, 75:00
    r"|(?P<s>[0-9]{1,6}(?:[.,][0-9]{1,3})?)",  # 135, 135,5
    re.ASCII)
_ID = re.compile(r"[0-9]{1,10}", re.ASCII)


@dataclass(frozen=True, slots=True)
class Comment:
    """A stored comment (or a reply: `parent_id`), with its author's name."""

    id: int
    parent_id: int | None
    author_id: int | None
    author: str  # «—» when the author's account is gone
    at_s: float
    text: str
    created_at: datetime
    seen_at: datetime | None  # when the call's Expert first saw it


@dataclass(frozen=True, slots=True)
class Thread:
    """A comment at a time of the recording and the replies to it, oldest first."""

    comment: Comment
    replies: tuple[Comment, ...]

    @property
    def at_s(self) -> float:
        return self.comment.at_s

    @property
    def at(self) -> str:
        return format_at(self.comment.at_s)

    @property
    def whole_s(self) -> int:
        """The `?t=` of a link to it: whole seconds, as the m:ss shown."""
        return round(self.comment.at_s)


@dataclass(frozen=True, slots=True)
class CommentDraft:
    at_s: float
    text: str


@dataclass(frozen=True, slots=True)
class Problem:
    field: str  # "at" or "text": which form field is wrong
    message: str


def format_at(at_s: float) -> str:
    """`2:15` for 135 s (minutes past 59 stay minutes: a call is no longer than an hour or two)."""
    return minutes_seconds(at_s)


def parse_at(raw: str) -> float | None:
    """Seconds into the recording from «2:15», «1:02:15», «135» or «135,5»; None if it reads as no time."""
    match = _TIME.fullmatch(raw.strip())
    if match is None:
        return None
    parts = match.groupdict()
    if parts["s"] is not None:
        return _number(parts["s"])
    if parts["m"] is not None:
        return int(parts["m"]) * 60 + _number(parts["ms"])
    return int(parts["h"]) * 3600 + int(parts["hm"]) * 60 + _number(parts["hs"])


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def beyond_end(at_s: float, length_s: float) -> str:
    return f"Время {format_at(at_s)} за концом записи (длина записи {format_at(length_s)})"


def check_at(raw: str, length_s: float) -> float | Problem:
    """The time typed or clicked, inside the recording; a time past the end names both places."""
    if not raw.strip():
        return Problem("at", NO_TIME)
    at_s = parse_at(raw)
    if at_s is None:
        return Problem("at", f"Время «{raw.strip()[:20]}» не понять: напишите минуты и секунды, например 2:15")
    if not math.isfinite(at_s) or at_s < 0:  # the pattern has no sign or exponent; kept for callers' floats
        return Problem("at", NO_TIME)
    if at_s > length_s + END_SLACK_S:
        return Problem("at", beyond_end(at_s, length_s))
    return min(at_s, max(length_s, 0.0))


def check_text(raw: str) -> str | Problem:
    text = raw.strip()
    if not text:
        return Problem("text", NO_TEXT)
    if len(text) > MAX_TEXT:
        return Problem("text", f"Комментарий длиннее {MAX_TEXT} знаков ({len(text)}): сократите его")
    return text


def check_comment(raw_at: str, raw_text: str, length_s: float) -> CommentDraft | list[Problem]:
    """A new comment at a time of the recording, or every problem with it (nothing is saved then)."""
    at = check_at(raw_at, length_s)
    text = check_text(raw_text)
    if isinstance(at, Problem) or isinstance(text, Problem):
        return [p for p in (at, text) if isinstance(p, Problem)]
    return CommentDraft(at, text)


def parse_id(raw: str) -> int | None:
    """A comment's id from a form field; None for anything that cannot be one."""
    raw = raw.strip()
    if not _ID.fullmatch(raw):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def start_at(raw: str | None, length_s: float) -> float | None:
    """Where the player starts for a link's `?t=` (seconds or m:ss); None when absent or off the recording."""
    if raw is None:
        return None
    at = check_at(raw, length_s)
    return None if isinstance(at, Problem) else at


def mark_left_pct(at_s: float, length_s: float) -> float:
    """A mark's place on the timeline, in percent of its width."""
    if length_s <= 0:
        return 0.0
    return round(min(100.0, max(0.0, at_s / length_s * 100)), 2)


def recording_length(header_s: float | None, duration_s: float) -> float:
    """The recording's length: its file's own header, else the call's duration in the ledger.

    The duration (ring time included) is never shorter than the recording: a time inside the recording
    is never refused when the file cannot be read (gone by retention, a format the header reader lacks).
    """
    if header_s is not None and math.isfinite(header_s) and header_s > 0:
        return header_s
    return max(duration_s, 0.0)


def threads(comments: Iterable[Comment]) -> list[Thread]:
    """Comments in the order of the recording, each with its replies (a reply to a reply joins the same thread)."""
    by_id = {c.id: c for c in comments}
    roots: dict[int, list[Comment]] = {c.id: [] for c in by_id.values() if _root_of(c, by_id) == c.id}
    for comment in by_id.values():
        root = _root_of(comment, by_id)
        if root != comment.id:
            roots[root].append(comment)
    ordered = sorted(roots, key=lambda i: (by_id[i].at_s, by_id[i].created_at, i))
    return [Thread(by_id[i], tuple(sorted(roots[i], key=lambda c: (c.created_at, c.id)))) for i in ordered]


def _root_of(comment: Comment, by_id: dict[int, Comment]) -> int:
    """The comment a thread starts with; a reply whose parent is missing starts its own."""
    seen = {comment.id}
    while comment.parent_id is not None and comment.parent_id in by_id and comment.parent_id not in seen:
        comment = by_id[comment.parent_id]
        seen.add(comment.id)
    return comment.id


def unseen_ids(comments: Sequence[Comment], viewer_id: int, call_expert_id: int | None) -> frozenset[int]:
    """What is new to the viewer: only the call's own Expert has comments she has not seen."""
    if viewer_id != call_expert_id:
        return frozenset()
    return frozenset(c.id for c in comments if c.seen_at is None)


def new_reply_ids(comments: Sequence[Comment], viewer_id: int, call_expert_id: int | None,
                  last_seen: datetime | None) -> frozenset[int]:
    """Replies new to someone who wrote in their thread before them: by others, after her last view of the
    call's comments (service.db.recording_comments says the same in SQL for the badge and the list).

    The call's own Expert is left out: `seen_at` (unseen_ids) already tells her what is new, replies included.
    """
    if viewer_id == call_expert_id:
        return frozenset()
    by_id = {c.id: c for c in comments}
    hers = [c for c in comments if c.author_id == viewer_id]
    return frozenset(c.id for c in comments if _answers(c, viewer_id, last_seen, by_id, hers))


def _answers(reply: Comment, viewer_id: int, last_seen: datetime | None, by_id: dict[int, Comment],
             hers: list[Comment]) -> bool:
    """A reply by someone else, made since `last_seen`, after she wrote in its thread (ids grow with time)."""
    if reply.parent_id is None or reply.author_id == viewer_id:
        return False
    if last_seen is not None and reply.created_at <= last_seen:
        return False
    thread = _root_of(reply, by_id)
    return any(mine.id < reply.id and _root_of(mine, by_id) == thread for mine in hers)


def badge_text(count: int) -> str | None:
    """«1 новый комментарий к вашим звонкам», «2 новых комментария …», «5 новых комментариев …»; None for 0."""
    if count <= 0:
        return None
    words = plural(count, "новый комментарий", "новых комментария", "новых комментариев")
    return f"{count} {words} к вашим звонкам"


def replies_badge_text(count: int) -> str | None:
    """«Ответы: 2» in a supervisor's top bar (the nav is tight at 1280 px); None for 0."""
    return f"Ответы: {count}" if count > 0 else None


def replies_title(count: int) -> str:
    """«1 новый ответ на ваши комментарии», «2 новых ответа …», «5 новых ответов …»: the badge's tooltip."""
    return f"{count} {plural(count, 'новый ответ', 'новых ответа', 'новых ответов')} на ваши комментарии"
