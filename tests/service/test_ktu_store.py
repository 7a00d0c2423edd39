"""The КТУ sheets stored (docs/ktu.md «Storage»), on SQLite and PostgreSQL: a draft edited, approval locks it,
a new version needs a reason, every version kept, approved money frozen, a closed month refuses, and two heads
at once make one approval without losing an entry."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from service.db.engine import SessionMaker
from service.db.ktu import KtuRepository, Person
from service.db.models import KtuEntry, KtuVersion
from service.imports.runner import import_rows
from service.ktu import sheets
from service.ktu.rules import KtuError, SheetState
from service.settings import Settings
from tests.service.test_ktu_facts import MARCH, seed_people

NOW = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
TODAY = date(2026, 4, 2)
HEAD = "Смирнова Ольга Викторовна"


def settings_for(url: str, rub: int = 1500) -> Settings:
    return Settings.model_validate({"database": {"url": url}, "ktu": {"rub_per_0_1": rub}})


def full_plans(login: str, month: date = MARCH) -> list[dict[str, str]]:
    values = {"training": "0", "st_invitations": "0", "vksp_balance": "1", "collection_completeness": "0.85"}
    return [{"employee_login": login, "month": f"{month:%Y-%m}", "kind": kind, "value": value}
            for kind, value in values.items()]


async def person(repo: KtuRepository, login: str) -> Person:
    found = await repo.person(login)
    assert found is not None
    return found


async def count(sessions: SessionMaker, model: type[KtuEntry] | type[KtuVersion]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def ready(db_sessions: SessionMaker) -> KtuRepository:
    """ivanova with every plan and value of March imported (+0,3 for the balance, +0,2 for completeness)."""
    await seed_people(db_sessions)
    await import_rows("plans", full_plans("ivanova"), db_sessions)
    return KtuRepository(db_sessions)


async def test_a_draft_is_edited_then_approval_locks_it(ready: KtuRepository, migrated_db: str,
                                                        db_sessions: SessionMaker) -> None:
    settings, ivanova = settings_for(migrated_db), await person(ready, "ivanova")
    await sheets.enter(ready, settings, ivanova, MARCH, "deduction", "-0.2", "два задания просрочены", 1, HEAD, NOW)
    await sheets.enter(ready, settings, ivanova, MARCH, "deduction", "-0,1", "одно задание просрочено", 1, HEAD,
                       NOW + timedelta(minutes=1))
    sheet = await sheets.person_sheet(ready, settings, MARCH, ivanova)
    assert sheet.latest.state is SheetState.DRAFT and sheet.latest.number == 1
    assert sheet.sheet is not None and sheet.sheet.points == Decimal("0.4")  # 0.3 + 0.2 − 0.1: the latest counts
    deduction = next(v for v in sheet.sheet.values if v.key == "deduction")
    assert deduction.source == "введено: Смирнова О. В., одно задание просрочено"
    assert len(await ready.entry_history(MARCH)) == 2  # append-only: both kept
    assert await sheets.approve(ready, settings, ivanova, MARCH, HEAD, NOW) == 1
    with pytest.raises(KtuError, match="Ведомость утверждена и закрыта для правки"):
        await sheets.enter(ready, settings, ivanova, MARCH, "deduction", "-0.5", "ещё", 1, HEAD, NOW)
    with pytest.raises(KtuError, match=r"Ведомость уже утверждена \(версия 1\)"):
        await sheets.approve(ready, settings, ivanova, MARCH, HEAD, NOW)
    assert await count(db_sessions, KtuEntry) == 2
    approved = await sheets.person_sheet(ready, settings, MARCH, ivanova)
    assert approved.approved and approved.latest.approved_by == "Смирнова О. В."
    assert approved.sheet is not None and approved.sheet.money == Decimal("6000.00")


async def test_refusals_change_nothing(ready: KtuRepository, migrated_db: str, db_sessions: SessionMaker) -> None:
    settings = settings_for(migrated_db)
    ivanova, petrov = await person(ready, "ivanova"), await person(ready, "petrov")
    cases = [("deduction", "-0.85", "x", "значение −0,85 не допускается; допустимо: 0 или от −0,05 до −0,8"),
             ("deduction", "-0.2", "  ", "Снижение без причины не принимается"),
             ("training_excellence", "0.05", "", "Укажите причину"),
             ("vksp_balance", "0.3", "x", "«Баланс ВКСП» считается из данных и не вводится вручную"),
             ("deduction", "много", "x", "значение должно быть числом")]
    for key, value, reason, message in cases:
        with pytest.raises(KtuError, match=message):
            await sheets.enter(ready, settings, ivanova, MARCH, key, value, reason, 1, HEAD, NOW)
    with pytest.raises(KtuError, match="Нельзя утвердить: нет данных — «Баланс ВКСП», «Выполнение плана по обучению»"):
        await sheets.approve(ready, settings, petrov, MARCH, HEAD, NOW)
    assert (await count(db_sessions, KtuEntry), await count(db_sessions, KtuVersion)) == (0, 0)


async def test_a_new_version_needs_a_reason_and_every_version_is_kept(ready: KtuRepository, migrated_db: str,
                                                                      db_sessions: SessionMaker) -> None:
    settings, ivanova = settings_for(migrated_db), await person(ready, "ivanova")
    with pytest.raises(KtuError, match="ещё черновик"):
        await sheets.new_version(ready, settings, ivanova, MARCH, "пересчёт", HEAD, NOW)
    await sheets.approve(ready, settings, ivanova, MARCH, HEAD, NOW)
    with pytest.raises(KtuError, match="только с указанием причины"):
        await sheets.new_version(ready, settings, ivanova, MARCH, "   ", HEAD, NOW)
    assert await sheets.new_version(ready, settings, ivanova, MARCH, "пропущено нарушение", HEAD, NOW) == 2
    await sheets.enter(ready, settings, ivanova, MARCH, "deduction", "-0.5", "пропущено нарушение", 1, HEAD, NOW)
    await sheets.approve(ready, settings, ivanova, MARCH, HEAD, NOW + timedelta(hours=1))
    sheet = await sheets.person_sheet(ready, settings, MARCH, ivanova)
    assert [(v.number, v.state, v.reason) for v in sheet.versions] == [
        (1, SheetState.APPROVED, None), (2, SheetState.APPROVED, "пропущено нарушение")]
    first, second = (v.sheet for v in sheet.versions)
    assert first is not None and second is not None
    assert (first.points, second.points) == (Decimal("0.5"), Decimal("0.0"))
    assert await count(db_sessions, KtuVersion) == 2


async def test_approved_money_stays_when_the_rate_changes(ready: KtuRepository, migrated_db: str) -> None:
    ivanova = await person(ready, "ivanova")
    await sheets.approve(ready, settings_for(migrated_db, 1500), ivanova, MARCH, HEAD, NOW)
    dearer = settings_for(migrated_db, 2000)
    await import_rows("plans", [{"employee_login": "ivanova", "month": "2026-03", "kind": "vksp_balance",
                                 "value": "-3"}], ready._sessions)  # the data change too
    sheet = await sheets.person_sheet(ready, dearer, MARCH, ivanova)
    assert sheet.sheet is not None
    assert (sheet.sheet.points, sheet.sheet.rub_per_0_1, sheet.sheet.money) == (
        Decimal("0.5"), Decimal(1500), Decimal("7500.00"))
    await sheets.new_version(ready, dearer, ivanova, MARCH, "баланс пересчитан", HEAD, NOW)
    draft = (await sheets.person_sheet(ready, dearer, MARCH, ivanova)).sheet
    assert draft is not None and (draft.points, draft.money) == (Decimal("0.1"), Decimal("2000.00"))


async def test_a_closed_month_refuses_every_change(ready: KtuRepository, migrated_db: str,
                                                  db_sessions: SessionMaker) -> None:
    settings = settings_for(migrated_db)
    people = {p.login: p for p in await ready.people()}
    assert sorted(people) == ["ivanova", "orlova", "petrov"]  # the supervisor has no sheet
    await sheets.approve(ready, settings, people["ivanova"], MARCH, HEAD, NOW)
    with pytest.raises(KtuError, match="не утверждены ведомости — Петров Павел Андреевич, Орлова Вера Павловна"):
        await sheets.close_month(ready, MARCH, None, NOW, TODAY)
    assert not await ready.is_closed(MARCH)
    # Found trying it: the current month closed on its 7th, and its plans could no longer be imported.
    with pytest.raises(KtuError, match="Месяц март 2026 ещё не закончился: закрыть его можно с 01.04.2026"):
        await sheets.close_month(ready, MARCH, None, NOW, date(2026, 3, 31))
    await import_rows("plans", full_plans("petrov") + [
        {"employee_login": "orlova", "month": "2026-03", "kind": kind, "value": "1"}
        for kind in ("training", "seminar_sales", "gk_subscriptions", "vksp_balance", "collection_completeness")],
        db_sessions)
    for login in ("petrov", "orlova"):
        await sheets.approve(ready, settings, people[login], MARCH, HEAD, NOW)
    await sheets.close_month(ready, MARCH, None, NOW, TODAY)
    assert await ready.is_closed(MARCH)
    for attempt in (sheets.new_version(ready, settings, people["ivanova"], MARCH, "поздно", HEAD, NOW),
                    sheets.enter(ready, settings, people["ivanova"], MARCH, "deduction", "-0.1", "x", 1, HEAD, NOW)):
        with pytest.raises(KtuError, match="Месяц март 2026 закрыт"):
            await attempt
    with pytest.raises(KtuError, match="уже закрыт"):
        await sheets.close_month(ready, MARCH, None, NOW, TODAY)
    assert await count(db_sessions, KtuVersion) == 3


async def test_two_heads_approving_at_once_make_one_approval(ready: KtuRepository, migrated_db: str,
                                                             db_sessions: SessionMaker) -> None:
    settings, ivanova = settings_for(migrated_db), await person(ready, "ivanova")
    months = [date(2026, m, 1) for m in range(3, 8)]
    await import_rows("plans", [row for m in months[1:] for row in full_plans("ivanova", m)], db_sessions)
    for month in months:
        results = await asyncio.gather(*(sheets.approve(ready, settings, ivanova, month, name, NOW)
                                         for name in (HEAD, "Кузнецова Анна Петровна")), return_exceptions=True)
        assert sorted(type(r).__name__ for r in results) == ["KtuError", "int"], results
        versions = (await ready.versions(month))[ivanova.id]
        assert [(v.number, v.state) for v in versions] == [(1, "approved")]


async def test_an_entry_racing_an_approval_is_never_lost(ready: KtuRepository, migrated_db: str,
                                                         db_sessions: SessionMaker) -> None:
    settings, ivanova = settings_for(migrated_db), await person(ready, "ivanova")
    months = [date(2026, m, 1) for m in range(3, 9)]
    await import_rows("plans", [row for m in months[1:] for row in full_plans("ivanova", m)], db_sessions)
    for month in months:
        entered, approved = await asyncio.gather(
            sheets.enter(ready, settings, ivanova, month, "deduction", "-0.3", "опоздания", 1, HEAD, NOW),
            sheets.approve(ready, settings, ivanova, month, HEAD, NOW), return_exceptions=True)
        assert approved == 1, approved
        frozen = (await sheets.person_sheet(ready, settings, month, ivanova)).sheet
        assert frozen is not None
        if entered is None:  # written before the approval: the approved sheet has it
            assert frozen.points == Decimal("0.2")
        else:  # refused after the approval: not written at all
            assert isinstance(entered, KtuError) and frozen.points == Decimal("0.5")
            assert not (await ready.entries(month)).get(ivanova.id)
