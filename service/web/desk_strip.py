"""The desk strip's data: one Expert's figures of today, from scratch (never the summary's lock)."""

from __future__ import annotations

from datetime import datetime

from service.db.engine import SessionMaker
from service.db.figures import FiguresRepository
from service.desk.strip import StripItem, day_strip
from service.figures.compute import FigureTargets, pacing, totals
from service.figures.model import Period, PeriodKind, Scope, ScopeKind
from service.settings import Settings


async def strip_for(sessions: SessionMaker, expert_id: int, login: str, settings: Settings,
                    now: datetime) -> list[StripItem]:
    tz = settings.organisation.tz
    local = now.astimezone(tz)
    today = local.date()
    scope = Scope(ScopeKind.EXPERT, login)
    repo = FiguresRepository(sessions)
    aggregates = await repo.day_aggregates(scope, Period(PeriodKind.DAY, today, today), tz, expert_id=expert_id)
    due = await repo.pacing(scope, today, now)
    pace = None
    if due:
        [(items_due, finished)] = due.values()
        pace = pacing(items_due, finished, local.time())
    return day_strip(totals(aggregates), FigureTargets.of(settings.targets), pace)
