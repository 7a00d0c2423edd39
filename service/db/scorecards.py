"""Scorecards and call scores (issue 18, docs/coaching-scorecards.md): versions, scores, the figures' rows.

A scorecard version is never changed: saving writes a new one and the newest is current. A scorer's score
of a call (its row and one tick per item) is replaced in one transaction; it keeps pointing to the version
it was made with. The figures' rows are grouped in SQL: first per call (a call scored by two supervisors
counts once, at their average), then per Expert and per Expert and item text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, delete, func, insert, select, true
from sqlalchemy.exc import IntegrityError

from service.coaching.scorecards import (
    ExpertScoreRow,
    ItemDraft,
    ItemScoreRow,
    ScorecardDraft,
    percent,
    score_pct,
)
from service.days import day_bounds
from service.db.engine import SessionMaker
from service.db.figures_queries import expert_filter
from service.db.models import Call, Expert
from service.db.models_coaching import CallScore, CallScoreItem, Scorecard, ScorecardItem
from service.figures.model import Period, Scope

HISTORY_LIMIT = 20


@dataclass(frozen=True, slots=True)
class StoredItem:
    id: int
    position: int  # 1-based
    text: str
    weight: int


@dataclass(frozen=True, slots=True)
class ScorecardVersion:
    id: int
    title: str
    items: tuple[StoredItem, ...]
    created_at: datetime
    author_name: str | None  # None: config.yaml's, stored by the first score made with it (or the account deleted)

    def draft(self) -> ScorecardDraft:
        return ScorecardDraft(self.title, tuple(ItemDraft(item.text, item.weight) for item in self.items))


@dataclass(frozen=True, slots=True)
class ScoredItem:
    position: int
    text: str
    weight: int
    met: bool


@dataclass(frozen=True, slots=True)
class CallScoreView:
    scorer_id: int | None
    scorer_name: str | None  # None: the scorer's account was deleted
    scored_at: datetime
    score_pct: float
    scorecard_id: int
    items: tuple[ScoredItem, ...]

    @property
    def ticked(self) -> frozenset[int]:
        return frozenset(item.position for item in self.items if item.met)

    @property
    def text(self) -> str:
        """«80 %», «66,7 %»."""
        return percent(self.score_pct / 100)


class ScoreConflict(Exception):
    """The same scorer's score of the call was saved by another request at the same moment."""


class ScorecardsRepository:
    """Every method is its own short transaction."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def current(self) -> ScorecardVersion | None:
        """The newest stored version, or None: none was ever stored (config.yaml's is used)."""
        versions = await self._versions(select(Scorecard.id).order_by(Scorecard.id.desc()).limit(1))
        return versions[0] if versions else None

    async def version(self, scorecard_id: int) -> ScorecardVersion | None:
        versions = await self._versions(select(Scorecard.id).where(Scorecard.id == scorecard_id))
        return versions[0] if versions else None

    async def history(self, limit: int = HISTORY_LIMIT) -> list[ScorecardVersion]:
        """The stored versions, newest first."""
        return await self._versions(select(Scorecard.id).order_by(Scorecard.id.desc()).limit(limit))

    async def save_version(self, draft: ScorecardDraft, author_id: int | None, now: datetime) -> ScorecardVersion:
        """A new version with its items, current from now on."""
        async with self._sessions.begin() as session:
            card = Scorecard(title=draft.title, author_id=author_id, created_at=now)
            session.add(card)
            await session.flush()
            card_id = card.id
            await session.execute(insert(ScorecardItem), [
                {"scorecard_id": card_id, "position": position, "text": item.text, "weight": item.weight}
                for position, item in enumerate(draft.items, start=1)])
        saved = await self.version(card_id)
        assert saved is not None  # just committed
        return saved

    async def current_or_stored(self, configured: ScorecardDraft, now: datetime) -> ScorecardVersion:
        """The current version; when none was ever stored, the configured one stored as the first.

        Scores always point at a stored version, so the config's scorecard is stored when it is first
        used. Two first scores at the same instant may store it twice: the same items, the newer current.
        """
        return await self.current() or await self.save_version(configured, None, now)

    async def save_score(self, call_id: int, version: ScorecardVersion, scorer_id: int,
                         met: Sequence[bool], now: datetime) -> None:
        """The scorer's score of the call with `version` (one tick per item), replacing her earlier one."""
        pct = score_pct([item.weight for item in version.items], met)
        mine = select(CallScore.id).where(CallScore.call_id == call_id, CallScore.scorer_id == scorer_id)
        try:
            async with self._sessions.begin() as session:
                await session.execute(delete(CallScoreItem).where(CallScoreItem.score_id.in_(mine)))
                await session.execute(delete(CallScore).where(CallScore.call_id == call_id,
                                                              CallScore.scorer_id == scorer_id))
                score = CallScore(call_id=call_id, scorecard_id=version.id, scorer_id=scorer_id, scored_at=now,
                                  score_pct=pct)
                session.add(score)
                await session.flush()
                await session.execute(insert(CallScoreItem), [
                    {"score_id": score.id, "item_id": item.id, "met": ticked}
                    for item, ticked in zip(version.items, met, strict=True)])
        except IntegrityError as e:
            raise ScoreConflict(str(e.orig)) from e

    async def call_scores(self, call_id: int) -> list[CallScoreView]:
        """The call's scores, oldest first, each with its items as they were when it was made."""
        async with self._sessions() as session:
            scores = (await session.execute(
                select(CallScore.id, CallScore.scorer_id, Expert.full_name, CallScore.scored_at, CallScore.score_pct,
                       CallScore.scorecard_id)
                .outerjoin(Expert, Expert.id == CallScore.scorer_id)
                .where(CallScore.call_id == call_id).order_by(CallScore.scored_at, CallScore.id))).all()
            ticks = (await session.execute(
                select(CallScoreItem.score_id, ScorecardItem.position, ScorecardItem.text, ScorecardItem.weight,
                       CallScoreItem.met)
                .join(ScorecardItem, ScorecardItem.id == CallScoreItem.item_id)
                .where(CallScoreItem.score_id.in_([row.id for row in scores]))
                .order_by(ScorecardItem.position))).all()
        return [CallScoreView(row.scorer_id, row.full_name, row.scored_at, row.score_pct, row.scorecard_id,
                              tuple(ScoredItem(t.position, t.text, t.weight, t.met) for t in ticks
                                    if t.score_id == row.id))
                for row in scores]

    async def figure_rows(self, scope: Scope, period: Period,
                          tz: ZoneInfo) -> tuple[list[ExpertScoreRow], list[ItemScoreRow]]:
        """The scope's Experts' scored calls whose organisation-time day is in the period, grouped."""
        start, end = day_bounds(period.first, tz)[0], day_bounds(period.last, tz)[1]
        in_period = (Call.started_at >= start, Call.started_at < end, Call.expert_id.is_not(None))
        per_call = (select(Call.expert_id, CallScore.call_id, func.avg(CallScore.score_pct).label("pct"))
                    .join(Call, Call.id == CallScore.call_id).where(*in_period)
                    .group_by(Call.expert_id, CallScore.call_id).subquery())
        experts = expert_filter(
            select(Expert.id, Expert.login, Expert.full_name, func.count(), func.sum(per_call.c.pct))
            .select_from(per_call).join(Expert, Expert.id == per_call.c.expert_id), scope,
        ).group_by(Expert.id, Expert.login, Expert.full_name)
        met = case((CallScoreItem.met == true(), 1.0), else_=0.0)
        per_item = (select(Call.expert_id, CallScore.call_id, ScorecardItem.text, func.avg(met).label("met"))
                    .select_from(CallScoreItem).join(CallScore, CallScore.id == CallScoreItem.score_id)
                    .join(ScorecardItem, ScorecardItem.id == CallScoreItem.item_id)
                    .join(Call, Call.id == CallScore.call_id).where(*in_period)
                    .group_by(Call.expert_id, CallScore.call_id, ScorecardItem.text).subquery())
        items = expert_filter(
            select(per_item.c.expert_id, per_item.c.text, func.count(), func.sum(per_item.c.met))
            .select_from(per_item).join(Expert, Expert.id == per_item.c.expert_id), scope,
        ).group_by(per_item.c.expert_id, per_item.c.text)
        async with self._sessions() as session:
            expert_rows = (await session.execute(experts)).all()
            item_rows = (await session.execute(items)).all()
        # PostgreSQL's AVG of the 1.0/0.0 literals is NUMERIC (a Decimal): every sum becomes a float here.
        return ([ExpertScoreRow(i, login, name, int(n), float(total)) for i, login, name, n, total in expert_rows],
                [ItemScoreRow(i, text, int(n), float(total)) for i, text, n, total in item_rows])

    async def _versions(self, ids: Select[int]) -> list[ScorecardVersion]:
        async with self._sessions() as session:
            cards = (await session.execute(
                select(Scorecard.id, Scorecard.title, Scorecard.created_at, Scorecard.author_id, Expert.full_name)
                .outerjoin(Expert, Expert.id == Scorecard.author_id)
                .where(Scorecard.id.in_(ids)).order_by(Scorecard.id.desc()))).all()
            items = (await session.execute(
                select(ScorecardItem.scorecard_id, ScorecardItem.id, ScorecardItem.position, ScorecardItem.text,
                       ScorecardItem.weight)
                .where(ScorecardItem.scorecard_id.in_([card.id for card in cards]))
                .order_by(ScorecardItem.position))).all()
        return [ScorecardVersion(card.id, card.title,
                                 tuple(StoredItem(i.id, i.position, i.text, i.weight) for i in items
                                       if i.scorecard_id == card.id),
                                 card.created_at, card.full_name)
                for card in cards]
