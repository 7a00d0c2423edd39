"""The scorecards' repository on SQLite and PostgreSQL: versions, a score replaced in one transaction, the figures.

The calls are tests/service/test_figures_db.py's (Europe/Moscow; maria, anna, pavel; olga a supervisor).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from service.coaching.scorecards import ItemDraft, ScorecardDraft
from service.db.engine import SessionMaker
from service.db.models import Expert
from service.db.models_coaching import CallScore, CallScoreItem, Scorecard
from service.db.scorecards import ScorecardsRepository, ScorecardVersion, ScoreConflict, StoredItem
from service.figures.model import Period, PeriodKind, Scope, ScopeKind
from service.settings import Settings
from tests.service.test_figures_db import GROUP_1, MONTH, MSK, WEEK, seed_figures

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
CONFIGURED = Settings().coaching.scorecard()
DEPARTMENT = Scope(ScopeKind.DEPARTMENT)
OLGA, ADMIN = 4, 5
# Call ids of the dataset: c1 and c4 maria's (Monday), c9 anna's (Monday), c12 pavel's (Thursday),
# c13 maria's on 09.03 00:30 Moscow (in March, not in the week), c14 olga's own call (never an Expert's).
C1, C4, C9, C12, C13, C14 = 1, 4, 9, 12, 13, 14


@pytest.fixture
async def repo(db_sessions: SessionMaker) -> ScorecardsRepository:
    await seed_figures(db_sessions)
    async with db_sessions.begin() as session:
        await session.execute(insert(Expert), [{"id": ADMIN, "login": "root", "full_name": "Админ Админович",
                                                "role": "admin"}])
    return ScorecardsRepository(db_sessions)


async def counts(sessions: SessionMaker) -> tuple[int, int, int]:
    async with sessions() as session:
        return (int(await session.scalar(select(func.count()).select_from(Scorecard)) or 0),
                int(await session.scalar(select(func.count()).select_from(CallScore)) or 0),
                int(await session.scalar(select(func.count()).select_from(CallScoreItem)) or 0))


async def test_the_configured_scorecard_is_stored_when_first_used(repo: ScorecardsRepository) -> None:
    assert await repo.current() is None
    first = await repo.current_or_stored(CONFIGURED, NOW)
    assert (first.title, first.author_name, first.draft()) == ("Оценка звонка", None, CONFIGURED)
    assert [(i.position, i.weight) for i in first.items] == [(1, 1), (2, 1), (3, 2), (4, 1)]
    again = await repo.current_or_stored(CONFIGURED, NOW + timedelta(minutes=1))
    assert again == first  # stored once


async def test_a_saved_version_is_current_and_the_old_one_stays(repo: ScorecardsRepository,
                                                                db_sessions: SessionMaker) -> None:
    first = await repo.current_or_stored(CONFIGURED, NOW)
    draft = ScorecardDraft("Новая оценка", (ItemDraft("Поздоровался", 1), ItemDraft("Назвал инфоповод", 3)))
    second = await repo.save_version(draft, OLGA, NOW + timedelta(hours=1))
    assert await repo.current() == second
    assert (second.author_name, second.draft()) == ("Смирнова Ольга", draft)
    assert [v.id for v in await repo.history()] == [second.id, first.id]
    assert await repo.version(first.id) == first  # never changed in place
    assert (await counts(db_sessions))[0] == 2


async def test_scoring_again_replaces_the_scorers_score(repo: ScorecardsRepository, db_sessions: SessionMaker) -> None:
    version = await repo.current_or_stored(CONFIGURED, NOW)
    await repo.save_score(C1, version, OLGA, [True, False, True, False], NOW)
    await repo.save_score(C1, version, OLGA, [True, True, True, True], NOW + timedelta(minutes=5))
    await repo.save_score(C1, version, ADMIN, [False, False, False, True], NOW + timedelta(minutes=6))
    scores = await repo.call_scores(C1)
    assert [(s.scorer_name, s.score_pct, s.scored_at) for s in scores] == [
        ("Смирнова Ольга", 100.0, NOW + timedelta(minutes=5)), ("Админ Админович", 20.0, NOW + timedelta(minutes=6))]
    assert scores[1].ticked == frozenset({4}) and scores[1].text == "20 %"
    assert [(i.text, i.weight, i.met) for i in scores[1].items][3] == ("Договорились о следующем контакте", 1, True)
    assert await counts(db_sessions) == (1, 2, 8)
    assert await repo.call_scores(C4) == []


async def test_a_score_keeps_the_version_it_was_made_with(repo: ScorecardsRepository) -> None:
    first = await repo.current_or_stored(CONFIGURED, NOW)
    await repo.save_score(C1, first, OLGA, [True, False, False, False], NOW)
    await repo.save_version(ScorecardDraft("Другая", (ItemDraft("Только это", 5),)), OLGA, NOW)
    (score,) = await repo.call_scores(C1)
    assert score.scorecard_id == first.id and len(score.items) == 4 and score.score_pct == 20.0


async def test_a_failed_score_saves_nothing_and_keeps_the_old_one(repo: ScorecardsRepository,
                                                                  db_sessions: SessionMaker) -> None:
    version = await repo.current_or_stored(CONFIGURED, NOW)
    await repo.save_score(C1, version, OLGA, [True, True, False, False], NOW)
    # An item that is in no stored scorecard: the tick's row is refused after the old score was deleted
    # and the new one written in the same transaction, so all of it is rolled back.
    broken = ScorecardVersion(version.id, version.title, (*version.items, StoredItem(99_999, 5, "Нет такого", 1)),
                              version.created_at, None)
    with pytest.raises(ScoreConflict):
        await repo.save_score(C1, broken, OLGA, [False] * 5, NOW + timedelta(minutes=1))
    (score,) = await repo.call_scores(C1)
    assert (score.score_pct, score.scored_at) == (40.0, NOW)
    assert await counts(db_sessions) == (1, 1, 4)
    with pytest.raises(ValueError):
        await repo.save_score(C1, version, OLGA, [True], NOW)  # one tick per item, checked before anything
    assert await counts(db_sessions) == (1, 1, 4)


async def scored(repo: ScorecardsRepository) -> None:
    """maria: c1 60 % and c4 100 % (this week), c13 0 % (March only); anna: c9 scored by two, 40 % and
    80 %; pavel: c12 20 %; olga's own call c14 100 % (a supervisor's call: in no Expert's figures)."""
    version = await repo.current_or_stored(CONFIGURED, NOW)
    for call, scorer, met in [(C1, OLGA, [True, False, True, False]), (C4, OLGA, [True] * 4),
                              (C13, OLGA, [False] * 4), (C9, OLGA, [False, False, True, False]),
                              (C9, ADMIN, [True, True, True, False]), (C12, OLGA, [False, False, False, True]),
                              (C14, ADMIN, [True] * 4)]:
        await repo.save_score(call, version, scorer, met, NOW)


async def test_the_figure_rows_of_the_week_per_expert_and_item(repo: ScorecardsRepository) -> None:
    await scored(repo)
    experts, items = await repo.figure_rows(DEPARTMENT, WEEK, MSK)
    assert sorted((e.login, e.calls, e.pct_sum) for e in experts) == [
        ("anna", 1, pytest.approx(60.0)), ("maria", 2, pytest.approx(160.0)), ("pavel", 1, pytest.approx(20.0))]
    by_key = {(i.expert_id, i.text): (i.calls, i.met_sum) for i in items}
    assert by_key[(1, "Поздоровался и представился")] == (2, pytest.approx(2.0))
    assert by_key[(1, "Назвал инфоповод")] == (2, pytest.approx(1.0))
    assert by_key[(2, "Поздоровался и представился")] == (1, pytest.approx(0.5))  # one scorer of two ticked it
    assert by_key[(2, "Клиент зашёл в систему")] == (1, pytest.approx(1.0))
    assert by_key[(3, "Договорились о следующем контакте")] == (1, pytest.approx(1.0))
    assert len(items) == 12 and all(isinstance(i.met_sum, float) for i in items)


async def test_the_figure_rows_follow_the_period_and_the_scope(repo: ScorecardsRepository) -> None:
    await scored(repo)
    month, _ = await repo.figure_rows(DEPARTMENT, MONTH, MSK)
    assert {e.login: (e.calls, e.pct_sum) for e in month}["maria"] == (3, pytest.approx(160.0))
    group, _ = await repo.figure_rows(GROUP_1, WEEK, MSK)
    assert sorted(e.login for e in group) == ["anna", "maria"]
    pavel, pavel_items = await repo.figure_rows(Scope(ScopeKind.EXPERT, "pavel"), WEEK, MSK)
    assert [(e.login, e.calls) for e in pavel] == [("pavel", 1)] and {i.expert_id for i in pavel_items} == {3}
    tuesday = Period.around(PeriodKind.DAY, WEEK.first + timedelta(days=1))
    assert await repo.figure_rows(DEPARTMENT, tuesday, MSK) == ([], [])
