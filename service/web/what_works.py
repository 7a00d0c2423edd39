"""«Что работает в сценариях» (issue 18, item 5): per Expert and per script step, the mean time in each step, the
share of calls reaching it, the share reaching the login step and logging in, and how long productive calls
lasted — so a group lead sees which step loses the client. GET /coaching/steps?script=&period=&date=."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.coaching.what_works import WhatWorks, what_works
from service.db.step_figures import logged_calls
from service.db.step_scripts import StepScriptRow, StepScriptsRepository
from service.figures.errors import BadFiguresQuery
from service.figures.model import Period
from service.figures.params import parse_date, parse_period
from service.scripts.steps import StepScript
from service.web.auth import requires
from service.web.desk_context import settings_of, utc_now
from service.web.script_panel import SCRIPT_CATALOG

PERIOD_LABELS = {"day": "день", "week": "неделя", "month": "месяц"}


@dataclass(frozen=True, slots=True)
class StepLine:
    key: str
    title: str
    login: bool
    stop_share: float | None  # of all calls: reached this step but not the next one on the main line
    biggest_drop: bool  # where the most calls stop going on (everyone's calls)


def setup_what_works(app: web.Application) -> None:
    app.router.add_get("/coaching/steps", what_works_page, name="what_works")


@requires("supervisor", "admin")
async def what_works_page(request: web.Request) -> web.StreamResponse:
    repo = StepScriptsRepository(request.app[DB_SESSIONS])
    scripts = [row for row in await repo.all() if row.published]
    tz = settings_of(request).organisation.tz
    now = utc_now()
    catalog = request.app[SCRIPT_CATALOG]
    titles = {row.key: entry.title for row in scripts if (entry := catalog.by_file(row.catalog_file)) is not None}
    context: dict[str, Any] = {"scripts": scripts, "titles": titles, "periods": PERIOD_LABELS, "error": None,
                               "figures": None, "chosen": None, "period": None}
    try:
        period = Period.around(parse_period(request.query.get("period", "")),
                               parse_date(request.query.get("date", ""), now.astimezone(tz).date()))
    except BadFiguresQuery as e:
        return aiohttp_jinja2.render_template("coaching/what_works.html", request,
                                              {**context, "error": str(e)}, status=400)
    chosen = _chosen(scripts, request.query.get("script", ""))
    context |= {"period": period, "chosen": chosen}
    if chosen is None:
        return aiohttp_jinja2.render_template("coaching/what_works.html", request, context)
    latest = await repo.version(chosen.id, chosen.published or 0)
    script = latest.script if latest else StepScript("")
    login_steps = frozenset(step.key for step in script.steps if step.login)
    figures = what_works(await logged_calls(request.app[DB_SESSIONS], chosen.id, period, tz, now), login_steps)
    context |= {"figures": figures, "lines": _lines(script, figures)}
    return aiohttp_jinja2.render_template("coaching/what_works.html", request, context)


def _chosen(scripts: list[StepScriptRow], key: str) -> StepScriptRow | None:
    return next((row for row in scripts if row.key == key), scripts[0] if scripts else None)


def _lines(script: StepScript, figures: WhatWorks) -> list[StepLine]:
    """The latest version's steps in order, then any step logged under an older version only."""
    keys = [step.key for step in script.steps]
    keys += sorted(set(figures.total.steps) - set(keys))
    stops = stop_shares(script, figures)
    worst = max(stops, key=lambda key: stops[key]) if stops and max(stops.values()) > 0 else None
    titles = {step.key: (step.title, step.login) for step in script.steps}
    return [StepLine(key, titles.get(key, (f"{key} (в прежней версии)", False))[0],
                     titles.get(key, ("", False))[1], stops.get(key), key == worst) for key in keys]


def main_line(script: StepScript) -> list[str]:
    """The steps a call goes through when nothing branches: from the first to the last step no branch leads to
    (the steps after it — «Перезвонить», «Возражения» — are reached only by a branch)."""
    targets = {branch.to for step in script.steps for branch in step.branches}
    keys = [step.key for step in script.steps]
    last = max((i for i, key in enumerate(keys) if key not in targets), default=len(keys) - 1)
    return keys[:last + 1]


def stop_shares(script: StepScript, figures: WhatWorks) -> dict[str, float]:
    """Per main-line step but the last, the share of all calls that reached it and not the next one: the calls
    lost there (a call ended in «Заход в систему» is lost at that step, not at the one it never reached)."""
    total = figures.total
    line = main_line(script)
    shares = [total.reach_share(key) or 0.0 for key in line]
    return {key: max(0.0, shares[i] - shares[i + 1]) for i, key in enumerate(line[:-1])}
