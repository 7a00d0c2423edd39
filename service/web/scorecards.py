"""Scorecards on the web (issue 18, docs/coaching-scorecards.md): the editor, scoring a call, the figures' block.

GET/POST /admin/scorecard (supervisors, admins): the scorecard's rows; saving writes a new version.
POST /calls/{linkedid}/score (supervisors, admins): the scorer's ticks, replacing her earlier score.
The call page shows the form and the call's scores (an Expert: her own calls' scores, read-only), and
/figures the average score per Expert and each item's share of calls met, with the calls behind each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.calllog.filters import is_linkedid
from service.coaching.scorecards import (
    MAX_ITEMS,
    BadTicks,
    ItemDraft,
    RowInput,
    ScorecardDraft,
    ScoreFigures,
    by_calls,
    carry_ticks,
    parse_scorecard,
    parse_ticks,
    score_figures,
)
from service.coaching.scorecards_xlsx import scores_sheet
from service.db.call_log import CallDetail, CallLogRepository
from service.db.scorecards import CallScoreView, ScorecardsRepository, ScorecardVersion, ScoreConflict
from service.digits import small_int
from service.figures.export import ExtraSheet
from service.figures.model import ScopeKind
from service.figures.params import FiguresQuery
from service.figures.report import FiguresReport
from service.web.auth import requires
from service.web.desk_context import settings_of, signed_in, utc_now
from service.web.keys import SignedInUser

EDITOR = "/admin/scorecard"
MAX_ROWS = MAX_ITEMS + 20  # rows beyond the items allowed, for blank ones; more is no editor's form
SAVED = "Сохранено: звонки оцениваются по новой версии. Прежние оценки остались при своей."
UNCHANGED = "Ничего не изменилось: новая версия не сохранена."
NOTICES = {"saved": SAVED, "unchanged": UNCHANGED}
NOT_SAVED = "Не сохранено: исправьте отмеченные строки."
TOO_MANY_ROWS = f"Строк больше {MAX_ROWS}: столько пунктов в оценочном листе не бывает"
NO_CONVERSATION = "Разговора не было — оценивать нечего"
STALE_FORM = "Форма оценки устарела: обновите страницу звонка"
BAD_TICKS = "Непонятная отметка в форме оценки: обновите страницу звонка"
CHANGED = ("Оценочный лист изменился, пока вы оценивали звонок: проверьте отметки по новой версии "
           "и сохраните ещё раз")
CONFLICT = "Оценка этого звонка только что сохранена в другой вкладке: проверьте отметки и сохраните ещё раз"
SCORED = "Оценка сохранена"


@dataclass(frozen=True, slots=True)
class ScoreAttempt:
    """A score form that was not saved: shown again with its ticks and why."""

    ticked: frozenset[int]
    message: str


SCORE_ATTEMPT: web.RequestKey[ScoreAttempt] = web.RequestKey("dsdesk.score_attempt")


def setup_scorecards(app: web.Application) -> None:
    app.router.add_get(EDITOR, editor_page, name="admin_scorecard")
    app.router.add_post(EDITOR, editor_submit)
    app.router.add_post("/calls/{linkedid}/score", score_call, name="score_call")


def _repo(request: web.Request) -> ScorecardsRepository:
    return ScorecardsRepository(request.app[DB_SESSIONS])


def _configured(request: web.Request) -> ScorecardDraft:
    return settings_of(request).coaching.scorecard()


async def _shown_scorecard(request: web.Request) -> tuple[ScorecardVersion | None, ScorecardDraft]:
    """The current stored version (None: none yet) and the scorecard in force (config.yaml's without one)."""
    current = await _repo(request).current()
    return current, current.draft() if current else _configured(request)


# ---- the editor -----------------------------------------------------------------------------------


@requires("supervisor", "admin")
async def editor_page(request: web.Request) -> web.StreamResponse:
    _, draft = await _shown_scorecard(request)
    rows = [RowInput(item.text, str(item.weight)) for item in draft.items]
    return await _editor(request, draft.title, rows, notice=NOTICES.get(request.query.get("done", "")))


@requires("supervisor", "admin")
async def editor_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    title, rows = _field(form, "title"), _rows(form)
    if len(rows) > MAX_ROWS:
        return await _editor(request, title, rows[:MAX_ROWS], general=[TOO_MANY_ROWS], status=422)
    action = _field(form, "action")
    if action == "add":
        return await _editor(request, title, [*rows, RowInput("", "")])
    if action.startswith("remove:"):
        return await _editor(request, title, _without(rows, action.removeprefix("remove:")))
    parsed = parse_scorecard(title, rows)
    if not isinstance(parsed, ScorecardDraft):
        general = [NOT_SAVED] + [p.message for p in parsed if p.row is None]
        by_row = {p.row: p.message for p in reversed(parsed) if p.row is not None}
        return await _editor(request, title, rows, general=general, by_row=by_row, status=422)
    _, in_force = await _shown_scorecard(request)
    if parsed == in_force:
        raise web.HTTPSeeOther(f"{EDITOR}?done=unchanged")
    await _repo(request).save_version(parsed, signed_in(request).id, utc_now())
    raise web.HTTPSeeOther(f"{EDITOR}?done=saved")


def _rows(form: Any) -> list[RowInput]:
    """The rows as typed; a row short of a field (no browser sends that) gets it empty."""
    texts, weights = _all(form, "text"), _all(form, "weight")
    size = max(len(texts), len(weights))
    texts += [""] * (size - len(texts))
    weights += [""] * (size - len(weights))
    return [RowInput(text, weight) for text, weight in zip(texts, weights, strict=True)]


def _without(rows: list[RowInput], raw: str) -> list[RowInput]:
    """The rows without the one-based row `raw` (anything else: the rows unchanged)."""
    removed = small_int(raw, 3)
    if removed is None:
        return rows
    return [row for number, row in enumerate(rows, start=1) if number != removed]


async def _editor(request: web.Request, title: str, rows: Sequence[RowInput], *, general: Sequence[str] = (),
                  by_row: dict[int, str] | None = None, notice: str | None = None, status: int = 200) -> web.Response:
    current, _ = await _shown_scorecard(request)
    context = {
        "title": title, "rows": rows, "general": general, "by_row": by_row or {}, "notice": notice,
        "current": current, "history": await _repo(request).history(), "configured": _configured(request),
        "tz": settings_of(request).organisation.timezone, "max_items": MAX_ITEMS,
    }
    return aiohttp_jinja2.render_template("admin/scorecard.html", request, context, status=status)


# ---- scoring a call --------------------------------------------------------------------------------


@requires("supervisor", "admin")
async def score_call(request: web.Request) -> web.StreamResponse:
    linkedid = request.match_info["linkedid"]
    detail = await _call(request, linkedid)
    if not _scorable(detail):
        raise web.HTTPBadRequest(text=NO_CONVERSATION)
    form = await request.post()
    shown = await _form_scorecard(request, _field(form, "version"))
    try:
        ticked = parse_ticks(_all(form, "met"), len(shown.items))
    except BadTicks as e:
        raise web.HTTPBadRequest(text=BAD_TICKS) from e
    current, in_force = await _shown_scorecard(request)
    if shown != in_force:  # saved in the editor since the form was made: the ticks may mean other things
        return await _again(request, carry_ticks(_texts(shown), ticked, _texts(in_force)), CHANGED)
    repo = _repo(request)
    version = current or await repo.current_or_stored(in_force, utc_now())
    met = [position in ticked for position in range(1, len(version.items) + 1)]
    try:
        await repo.save_score(detail.id, version, signed_in(request).id, met, utc_now())
    except ScoreConflict:
        return await _again(request, ticked, CONFLICT)
    raise web.HTTPSeeOther(f"/calls/{linkedid}?scored=1#score")


async def _call(request: web.Request, linkedid: str) -> CallDetail:
    repo = CallLogRepository(request.app[DB_SESSIONS], settings_of(request).organisation.tz)
    detail = await repo.call(linkedid) if is_linkedid(linkedid) else None
    if detail is None:
        raise web.HTTPNotFound(text="Такого звонка нет в журнале")
    return detail


def _scorable(detail: CallDetail) -> bool:
    """A finished call with a conversation: there is something to listen to and score."""
    return detail.row.outcome is not None and detail.row.talk_s > 0


async def _form_scorecard(request: web.Request, raw: str) -> ScorecardDraft:
    """The scorecard the form was made with: `version` is a stored version's id, or "config" (none stored)."""
    if raw == "config":
        return _configured(request)
    version_id = small_int(raw, 9)
    version = await _repo(request).version(version_id) if version_id is not None else None
    if version is None:
        raise web.HTTPBadRequest(text=STALE_FORM)
    return version.draft()


def _texts(draft: ScorecardDraft) -> list[str]:
    return [item.text for item in draft.items]


async def _again(request: web.Request, ticked: frozenset[int], message: str) -> web.StreamResponse:
    """The call page again, the form showing `ticked` and why nothing was saved (409)."""
    from service.web.call_log import call_page  # here: call_log imports this module for score_context

    request[SCORE_ATTEMPT] = ScoreAttempt(ticked, message)
    response = await call_page(request)
    response.set_status(409)
    return response


@dataclass(frozen=True, slots=True)
class ScoringView:
    """What templates/calllog/_score.html shows."""

    can_score: bool  # a supervisor or an admin, on a call with a conversation
    no_conversation: bool
    version: str  # the form's `version`: the stored id, or "config"
    title: str
    items: tuple[ItemDraft, ...]
    ticked: frozenset[int]
    rescoring: bool  # the scorer scored this call before: saving replaces her score
    scores: list[CallScoreView]
    error: str | None
    notice: str | None


async def score_context(request: web.Request, detail: CallDetail, user: SignedInUser) -> dict[str, Any]:
    """The call page's scoring part (call_page has already refused an Expert another Expert's call)."""
    scores = await _repo(request).call_scores(detail.id)
    current, in_force = await _shown_scorecard(request)
    mine = next((score for score in scores if score.scorer_id == user.id), None)
    attempt = request.get(SCORE_ATTEMPT)
    ticked = attempt.ticked if attempt else _ticks_of(mine, in_force)
    view = ScoringView(
        can_score=user.is_supervisor and _scorable(detail), no_conversation=not _scorable(detail),
        version=str(current.id) if current else "config", title=in_force.title, items=in_force.items,
        ticked=ticked, rescoring=mine is not None, scores=scores, error=attempt.message if attempt else None,
        notice=SCORED if request.query.get("scored") and attempt is None else None)
    return {"scoring": view}


def _ticks_of(mine: CallScoreView | None, in_force: ScorecardDraft) -> frozenset[int]:
    """Her earlier ticks on the scorecard in force (by the items' text); nothing ticked for a first score."""
    if mine is None:
        return frozenset()
    return carry_ticks([item.text for item in mine.items], mine.ticked, _texts(in_force))


# ---- the figures' block and sheet -------------------------------------------------------------------


async def score_figures_context(request: web.Request, query: FiguresQuery, report: FiguresReport) -> dict[str, Any]:
    """For templates/figures/_scores.html: the scope's scores in the report's period."""
    return {"score_figures": await _score_figures(request, query, report), "by_calls": by_calls}


async def score_sheet(request: web.Request, query: FiguresQuery, report: FiguresReport) -> ExtraSheet:
    return scores_sheet(await _score_figures(request, query, report))


async def _score_figures(request: web.Request, query: FiguresQuery, report: FiguresReport) -> ScoreFigures:
    experts, items = await _repo(request).figure_rows(query.scope, query.period, settings_of(request).organisation.tz)
    _, in_force = await _shown_scorecard(request)
    return score_figures(experts, items, _texts(in_force), report.title,
                         one_expert=query.scope.kind is ScopeKind.EXPERT)


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _all(form: Any, name: str) -> list[str]:
    return [value if isinstance(value, str) else "" for value in form.getall(name, [])]
