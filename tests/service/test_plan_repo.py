"""Saving the plan: idempotent top-up, public ids, roll-over, listing; SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from scheduler.inputs import ExistingItem
from scheduler.model import PlanState, Reason, ReasonCode
from service.db import models as m
from service.db.engine import SessionMaker
from service.db.plan import PlanRepository
from service.errors import LedgerError, UnknownClientError, UnknownExpertError
from tests.service.planning import MSK, at, item, plan, seed_portfolio

DAY = date(2026, 3, 2)
NEXT = date(2026, 3, 3)


@pytest.fixture
async def repo(db_sessions: SessionMaker) -> PlanRepository:
    await seed_portfolio(db_sessions)
    return PlanRepository(db_sessions)


async def _count_items(sessions: SessionMaker) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(m.PlannedCall)) or 0)


async def test_save_inserts_items_with_public_ids(repo: PlanRepository) -> None:
    first = plan(DAY, item("K-1", "C-1", at(DAY, 9), previous_comment="Просила перезвонить"),
                 item("K-3", "C-2", at(DAY, 9, 30), reason=ReasonCode.SIGNAL, topic="Семинар"),
                 notes=("в портфеле больше некого звонить: 2 из 16",))
    result = await repo.save_plan(first)
    assert result.created == ("PC-1001", "PC-1002") and result.kept == 0 and result.notes_added == 1
    listed = await repo.list_plan(DAY)
    assert [(v.public_id, v.contact_external_id, v.client_external_id, v.expert_login) for v in listed] == [
        ("PC-1001", "K-1", "C-1", "ivanova"), ("PC-1002", "K-3", "C-2", "ivanova")]
    one = listed[0]
    assert (one.slot, one.state, one.topic, one.comment, one.rolled_from) == (
        at(DAY, 9), PlanState.PLANNED, "Обзор новостей", "Просила перезвонить", None)
    assert listed[1].reasons == (Reason(ReasonCode.SIGNAL, "причина: signal"),)
    assert await repo.list_notes(DAY) == [("ivanova", "в портфеле больше некого звонить: 2 из 16")]


async def test_saving_again_tops_up_and_never_duplicates(repo: PlanRepository,
                                                         db_sessions: SessionMaker) -> None:
    first = plan(DAY, item("K-1", "C-1", at(DAY, 9)), item("K-3", "C-2", at(DAY, 9, 30)), notes=("n",))
    created = (await repo.save_plan(first)).created
    await repo.set_state(created[0], PlanState.CONTACT_MADE, result_comment="Обсудили новости")
    again = await repo.save_plan(first)
    assert (again.created, again.kept, again.notes_added) == ((), 2, 0)
    # A rebuild proposes K-1 at another time (already called), K-2 new, K-2 twice by mistake.
    top_up = plan(DAY, item("K-1", "C-1", at(DAY, 15)), item("K-2", "C-1", at(DAY, 10)),
                  item("K-2", "C-1", at(DAY, 11)), item("K-6", "C-4", at(DAY, 12), expert="petrov"))
    result = await repo.save_plan(top_up)
    assert (len(result.created), result.kept) == (2, 1)
    listed = {v.contact_external_id: v for v in await repo.list_plan(DAY)}
    assert await _count_items(db_sessions) == 4
    made = listed["K-1"]  # what was already made is neither dropped nor altered
    assert (made.state, made.slot, made.result_comment) == (PlanState.CONTACT_MADE, at(DAY, 9), "Обсудили новости")
    assert listed["K-2"].slot == at(DAY, 10)
    assert [v.contact_external_id for v in await repo.list_plan(DAY, expert_login="petrov")] == ["K-6"]


async def test_public_ids_are_unique_across_days(repo: PlanRepository) -> None:
    ids = [*(await repo.save_plan(plan(DAY, item("K-1", "C-1", at(DAY, 9))))).created,
           *(await repo.save_plan(plan(NEXT, item("K-1", "C-1", at(NEXT, 9)),
                                       item("K-2", "C-1", at(NEXT, 10))))).created]
    assert len(set(ids)) == 3 and all(re.fullmatch(r"PC-\d{4,}", i) for i in ids)


async def test_roll_over_marks_unfinished_items_and_returns_them_until_replanned(
        repo: PlanRepository) -> None:
    created = (await repo.save_plan(plan(DAY,
        item("K-1", "C-1", at(DAY, 9), reason=ReasonCode.RETRY, topic="Обучение"),
        item("K-2", "C-1", at(DAY, 10)), item("K-3", "C-2", at(DAY, 11)),
        item("K-4", "C-2", at(DAY, 12))))).created
    await repo.set_state(created[1], PlanState.IN_PROGRESS)
    await repo.set_state(created[2], PlanState.CONTACT_MADE)
    await repo.set_state(created[3], PlanState.NOT_REACHED)
    rolled = await repo.roll_over(NEXT)
    assert rolled == [
        ExistingItem(created[0], "ivanova", "K-1", at(DAY, 9), PlanState.ROLLED_OVER,
                     reasons=(Reason(ReasonCode.RETRY, "причина: retry"),), topic="Обучение"),
        ExistingItem(created[1], "ivanova", "K-2", at(DAY, 10), PlanState.ROLLED_OVER,
                     reasons=(Reason(ReasonCode.CADENCE, "причина: cadence"),), topic="Обзор новостей"),
    ]
    states = {v.contact_external_id: v.state for v in await repo.list_plan(DAY)}
    assert states == {"K-1": PlanState.ROLLED_OVER, "K-2": PlanState.ROLLED_OVER,
                      "K-3": PlanState.CONTACT_MADE, "K-4": PlanState.NOT_REACHED}
    # The service may stop before the next plan is saved: a second run returns them again.
    assert await repo.roll_over(NEXT) == rolled
    inputs = await repo.load_plan_inputs(NEXT, MSK)
    assert [e.public_id for e in inputs.existing] == list(created[:2])
    # The builder re-plans K-1 («перенесён»); K-2 stays owed.
    saved = await repo.save_plan(plan(NEXT, item("K-1", "C-1", at(NEXT, 9), reason=ReasonCode.ROLLED_OVER)))
    assert [v.rolled_from for v in await repo.list_plan(NEXT)] == [created[0]]
    assert [r.public_id for r in await repo.roll_over(NEXT)] == [created[1]]
    existing = (await repo.load_plan_inputs(NEXT, MSK)).existing
    assert [(e.public_id, e.state) for e in existing] == [
        (created[1], PlanState.ROLLED_OVER), (saved.created[0], PlanState.PLANNED)]


async def test_roll_over_leaves_the_day_itself_alone(repo: PlanRepository) -> None:
    await repo.save_plan(plan(DAY, item("K-1", "C-1", at(DAY, 9))))
    assert await repo.roll_over(DAY) == []
    assert [v.state for v in await repo.list_plan(DAY)] == [PlanState.PLANNED]


async def test_a_rolled_over_item_continued_days_later_is_linked(repo: PlanRepository) -> None:
    old = (await repo.save_plan(plan(DAY, item("K-1", "C-1", at(DAY, 9))))).created[0]
    later = DAY + timedelta(days=7)
    await repo.roll_over(later)
    await repo.save_plan(plan(later, item("K-1", "C-1", at(later, 9))))
    assert [v.rolled_from for v in await repo.list_plan(later)] == [old]
    # An item planned for a contact whose last item was finished continues nothing.
    await repo.save_plan(plan(later + timedelta(days=1), item("K-1", "C-1", at(later, 9))))
    assert [v.rolled_from for v in await repo.list_plan(later + timedelta(days=1))] == [None]


async def test_save_rejects_unknown_or_mismatched_ids(repo: PlanRepository,
                                                      db_sessions: SessionMaker) -> None:
    with pytest.raises(UnknownClientError):
        await repo.save_plan(plan(DAY, item("K-404", "C-1", at(DAY, 9))))
    with pytest.raises(UnknownExpertError):
        await repo.save_plan(plan(DAY, item("K-1", "C-1", at(DAY, 9), expert="nobody")))
    with pytest.raises(LedgerError, match="belongs to client 'C-1'"):
        await repo.save_plan(plan(DAY, item("K-1", "C-2", at(DAY, 9))))
    with pytest.raises(LookupError):
        await repo.set_state("PC-404", PlanState.CONTACT_MADE)
    assert await _count_items(db_sessions) == 0
