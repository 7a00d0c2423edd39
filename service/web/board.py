"""The supervisor's live board: every Expert's state now, today's progress, listening in (ChanSpy).

GET /board renders the first state on the server; board.js then follows `GET /live` (the
supervisor's stream: every Expert's `call` events, `presence` and `wrapup`) and asks
GET /board/state?ext=… for one Expert's progress when a call of theirs ends or is wrapped up.
POST /board/listen rings the supervisor's phone and runs ChanSpy on the Expert's call.
See docs/board.md.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

import aiohttp_jinja2
from aiohttp import web

from dialer.actions import SPY_OPTIONS, SpyMode
from dialer.errors import (
    AmiActionError,
    AmiActionTimeout,
    AmiConnectionError,
    DialerError,
)
from dialer.pbx import Pbx
from service.appkeys import DB_SESSIONS, PBX
from service.board import (
    BoardState,
    DayProgress,
    ExpertBoardState,
    board_state,
    calls_by_extension,
    day_progress,
    paused_after,
    wrapup_client,
)
from service.days import day_bounds
from service.db.board import BoardRepository, LatestCall, local_day
from service.db.desk_queue import DeskQueueRepository
from service.db.expert_status import ExpertStatusRepository
from service.db.experts import ExpertProfile, ExpertsRepository
from service.desk.queue import QueueRow
from service.desk.status import DeskStatus, StatusEntry
from service.web.auth import requires
from service.web.desk_context import desk_day, settings_of, signed_in, utc_now
from service.web.keys import SignedInUser
from service.web.live import LIVE_HUB
from texts.labels import SPY_MODE_LABELS
from texts.pbx import request_failed_text

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

NO_OWN_EXTENSION = "У вас не указан добавочный номер: некуда позвонить для прослушивания (попросите администратора)"
UNKNOWN_MODE = "Неизвестный режим прослушивания: нужен «Слушать», «Подсказывать» или «Вмешаться»"
NO_EXPERT = "Не указан Эксперт (добавочный номер)"
NO_PBX = "АТС не подключена: прослушивание недоступно"
BAD_REQUEST = "Неверный запрос"
CONFIRMATIONS: dict[str, str] = {
    "listen": "слушать", "whisper": "подсказывать", "barge": "вмешаться в разговор",
}
WRAPUP_OWED = "итоги звонка не сохранены"  # the note on a paused card (board.js has it from the page)


def setup_board(app: web.Application) -> None:
    app.router.add_get("/board", board_page, name="board")
    app.router.add_get("/board/state", board_state_json, name="board_state")
    app.router.add_post("/board/listen", listen_in, name="board_listen")
    app.middlewares.append(wrapup_announcer)


# ---- the board's data --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BoardCard:
    expert: ExpertProfile
    state: ExpertBoardState
    progress: DayProgress
    present: bool
    absent: bool
    needs_wrapup: bool
    wrapup_since: datetime | None  # when the call owing a wrap-up ended
    pause: StatusEntry | None
    wrapup_client: str | None = None  # whom the owed wrap-up is for

    @property
    def wrapup_owed_on_pause(self) -> bool:
        """On a pause with a wrap-up still owed: the card says so under the pause."""
        return self.needs_wrapup and self.state.state is BoardState.PAUSE

    def wrapup_elapsed_s(self, now: datetime) -> float | None:
        if not self.needs_wrapup or self.wrapup_since is None:
            return None
        return max((now - self.wrapup_since).total_seconds(), 0.0)

    def overdue(self, now: datetime, wrapup_warn_s: float) -> bool:
        """Amber: a wrap-up owed for longer than `desk.wrapup_warn_s`, a pause taken meanwhile or not
        (the pause does not stop its clock: the call's details fade all the same)."""
        elapsed = self.wrapup_elapsed_s(now)
        return elapsed is not None and elapsed > wrapup_warn_s

    def as_json(self, now: datetime, wrapup_warn_s: float) -> dict[str, Any]:
        state = self.state
        return {
            "login": self.expert.login, "full_name": self.expert.full_name, "ext": self.expert.extension,
            "state": str(state.state), "label": state.label,
            "since": None if state.since is None else state.since.isoformat(), "elapsed_s": state.elapsed_s(now),
            "overdue": self.overdue(now, wrapup_warn_s),
            "linkedid": state.linkedid, "client": state.client, "present": self.present, "absent": self.absent,
            "needs_wrapup": self.needs_wrapup, "wrapup_client": self.wrapup_client,
            "progress": self.progress.as_json(),
            "wrapup_since": None if self.wrapup_since is None else self.wrapup_since.isoformat(),
            "pause": None if self.pause is None else {"reason": self.pause.reason, "since": self.pause.at.isoformat()},
        }


async def board_cards(request: web.Request, extension: str | None = None) -> list[BoardCard]:
    """One card per active Expert (or the one with `extension`), from the hub, the ledger and the plan.

    A bounded number of statements whatever the number of Experts (tests/service/test_page_queries.py).
    """
    settings = settings_of(request)
    sessions = request.app[DB_SESSIONS]
    now = utc_now()
    tz = settings.organisation.tz
    plan_day = desk_day(settings, now)
    repo = BoardRepository(sessions)
    experts = await ExpertsRepository(sessions).active_experts(extension)
    hub = request.app[LIVE_HUB]
    live = calls_by_extension(hub.snapshot(None)["calls"])
    present = hub.present_extensions()
    absent = await repo.absent_ids(local_day(now, tz))
    latest = await repo.latest_calls([e.extension for e in experts if e.extension], local_day(now, tz), tz)
    day_start = day_bounds(local_day(now, tz), tz)[0]
    pauses = await ExpertStatusRepository(sessions).latest([e.id for e in experts], day_start)
    queues = await DeskQueueRepository(sessions).queues([e.id for e in experts], plan_day.day, tz)
    cards = []
    for expert in experts:
        target = expert.daily_target or settings.plan.target_min
        progress = day_progress(queues[expert.id], target, now, tz, is_today=plan_day.is_today, day=plan_day.day)
        status = pauses.get(expert.id)
        pause = status if status is not None and status.status is DeskStatus.PAUSE else None
        cards.append(_card(expert, live, present, absent, latest, progress, pause, queues[expert.id]))
    return cards


def _card(expert: ExpertProfile, live: dict[str, list[Any]], present: frozenset[str], absent: set[int],
          latest: dict[str, LatestCall], progress: DayProgress, pause: StatusEntry | None,
          queue: Sequence[QueueRow] = ()) -> BoardCard:
    ext = expert.extension or ""
    call = latest.get(ext)
    needs_wrapup = call is not None and call.needs_wrapup
    wrapup_since = call.ended_at if call is not None and needs_wrapup else None
    is_present, is_absent = ext in present, expert.id in absent
    paused_over = not is_absent and paused_after(pause, wrapup_since)
    state = board_state(live.get(ext, []), needs_wrapup=needs_wrapup and not paused_over, present=is_present,
                        absent=is_absent, wrapup_since=wrapup_since, pause=pause)
    client = wrapup_client(queue, call.linkedid) if call is not None and needs_wrapup else None
    if state.state is BoardState.WRAPUP:
        state = replace(state, client=client)
    return BoardCard(expert, state, progress, is_present, is_absent, needs_wrapup, wrapup_since, pause, client)


# ---- routes ------------------------------------------------------------------------------
@requires("supervisor", "admin")
@aiohttp_jinja2.template("board/page.html")
async def board_page(request: web.Request) -> dict[str, Any]:
    settings = settings_of(request)
    now = utc_now()
    user = signed_in(request)
    return {"cards": await board_cards(request), "now": now, "day": desk_day(settings, now),
            "modes": SPY_MODE_LABELS, "tz": settings.organisation.tz.key, "own_extension": user.extension,
            "wrapup_warn_s": settings.desk.wrapup_warn_s, "wrapup_owed": WRAPUP_OWED}


@requires("supervisor", "admin")
async def board_state_json(request: web.Request) -> web.Response:
    """Every card, or one Expert's (`?ext=`). No waiting: an `ended` event goes out only once the
    ledger has committed the closed call, so the board asking at that event finds it."""
    extension = request.query.get("ext", "").strip() or None
    now = utc_now()
    cards = await board_cards(request, extension)
    warn = settings_of(request).desk.wrapup_warn_s
    return web.json_response({"experts": [c.as_json(now, warn) for c in cards], "at": now.isoformat()})


@requires("supervisor", "admin")
async def listen_in(request: web.Request) -> web.Response:
    """Ring the supervisor's own phone; once picked up, it listens, whispers or barges in."""
    user = signed_in(request)
    try:
        form = await _fields(request)
    except ValueError:
        return _error(400, BAD_REQUEST)
    mode, extension = form.get("mode", "listen"), form.get("expert", "").strip()
    problem = _listen_problem(user, mode, extension)
    if problem is not None:
        return _error(400, problem)
    experts = await ExpertsRepository(request.app[DB_SESSIONS]).active_experts(extension)
    if not experts:
        return _error(404, f"Нет Эксперта с добавочным номером {extension}")
    expert = experts[0]
    pbx = request.app.get(PBX)
    if pbx is None:
        return _error(503, NO_PBX)
    if not _is_talking(request, extension):
        return _error(409, f"{expert.full_name} сейчас не разговаривает: слушать нечего")
    # Accepted is not done: if the supervisor's phone then fails, the board hears why (`originate_failed`).
    failure = await _send_listen_in(pbx, pbx.spy(user.extension or "", extension, _spy_mode(mode),
                                                 requested_by=user.id))
    if failure is not None:
        return failure
    return web.json_response({"ok": True, "message": (
        f"Звоним на ваш телефон (доб. {user.extension}): снимите трубку, чтобы "
        f"{CONFIRMATIONS[mode]} — {expert.full_name}")})


def _listen_problem(user: SignedInUser, mode: str, extension: str) -> str | None:
    if mode not in SPY_OPTIONS:
        return UNKNOWN_MODE
    if not user.extension:
        return NO_OWN_EXTENSION
    if not extension:
        return NO_EXPERT
    if extension == user.extension:
        return "Нельзя слушать собственный добавочный номер"
    return None


def _spy_mode(mode: str) -> SpyMode:
    return cast(SpyMode, mode)  # checked against SPY_OPTIONS by _listen_problem


def _is_talking(request: web.Request, extension: str) -> bool:
    return any(call.get("state") == "talking" for call in request.app[LIVE_HUB].snapshot(extension)["calls"])


async def _send_listen_in(pbx: Pbx, sending: Awaitable[None]) -> web.Response | None:
    """None when the PBX accepted the Originate; else the error the supervisor reads (a refused
    AMI login is said as such: the link's state tells why the PBX could not be asked)."""
    try:
        await sending
    except (TimeoutError, AmiActionTimeout, AmiConnectionError) as e:
        link = str(pbx.link_state().status)
        timed_out = isinstance(e, (TimeoutError, AmiActionTimeout))
        return _error(504 if timed_out and link == "connected" else 503, request_failed_text("spy", link, timed_out))
    except AmiActionError as e:
        return _error(502, f"АТС отказала в прослушивании: {e.message or 'ошибка'}")
    except (DialerError, OSError, ValueError):
        return _error(503, request_failed_text("spy", str(pbx.link_state().status), False))
    return None


async def _fields(request: web.Request) -> dict[str, str]:
    """The form's or the JSON body's fields as text (a fetch() may send either)."""
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.read())  # bytes: UTF-8/16/32 detected, never a bogus charset
        except (ValueError, RecursionError) as e:  # deep nesting is a RecursionError in the parser
            raise ValueError("not JSON") from e
        if not isinstance(body, dict):
            raise ValueError("not an object")
        if not all(v is None or isinstance(v, str | int | float) for v in body.values()):
            raise ValueError("a field that is not text or a number")
        return {str(k): str(v) for k, v in body.items() if v is not None}
    return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


# ---- a saved wrap-up ends the «итоги звонка» state --------------------------------------
@web.middleware
async def wrapup_announcer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Tell the supervisors' boards when an Expert saves a wrap-up (their next state is due).

    The wrap-up view answers 200 (fetch) or 303 (a plain form); both mean saved.
    """
    if request.method != "POST" or _route_name(request) != "wrapup_save":
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPSeeOther:
        _announce_wrapup(request)
        raise
    if response.status == 200:
        _announce_wrapup(request)
    return response


def _route_name(request: web.Request) -> str | None:
    route = request.match_info.route
    return getattr(route, "name", None)


def _announce_wrapup(request: web.Request) -> None:
    user = signed_in(request)
    hub = request.app.get(LIVE_HUB)
    if hub is not None and user.extension:  # only one's own call can be wrapped up (calls.py checks)
        hub.announce("wrapup", {"expert_ext": user.extension, "linkedid": request.match_info.get("linkedid")})
