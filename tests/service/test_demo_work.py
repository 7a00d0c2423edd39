"""The demo department's simulated Experts: a realistic, rule-abiding mix (service/demo_work.py),
and on a fresh start their last working days with a usage file, so the figures mean something."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from dialer.records import Outcome
from service.coaching.what_works import what_works
from service.db import models as m
from service.db.engine import SessionMaker
from service.db.figures import FiguresRepository
from service.db.ledger import LedgerRepository
from service.db.step_figures import logged_calls
from service.db.step_scripts import StepScriptsRepository
from service.demo_activity import DemoExperts
from service.demo_coaching import seed_demo_step_scripts
from service.demo_data import seed_demo_department
from service.demo_work import demo_wrapup, past_calls
from service.desk.wrapup import WrapUpResult
from service.figures.compute import FigureTargets, totals
from service.figures.model import Period, PeriodKind, Scope, ScopeKind
from service.settings import Settings
from tests.service.builders import closed_call

MSK = ZoneInfo("Europe/Moscow")
TOPICS = ("Обучение", "Обзор новостей")
DAY = date(2026, 12, 3)


def test_the_mix_keeps_the_rules_and_looks_like_a_department() -> None:
    rng = random.Random(1)
    clients = [(f"C-{1000 + n}", f"7911555{n:04d}") for n in range(50)]
    calls = [c for n in range(60) for c in past_calls(DAY - timedelta(days=n % 5), "102", clients, rng, MSK)]
    work = [(call, demo_wrapup(call, rng, TOPICS, 120.0, MSK)) for call in calls]
    assert all(w is None for c, w in work if c.outcome is Outcome.EXPERT_NO_ANSWER)
    done = [(c, w) for c, w in work if w is not None]
    assert all(w.wrapup.result is WrapUpResult.NOT_REACHED for c, w in done if c.outcome is not Outcome.ANSWERED)
    assert all(c.talk_s >= 120 and w.wrapup.result is WrapUpResult.CONTACT_MADE
               for c, w in done if w.wrapup.productive)  # never a short or non-contact productive call
    long_answered = [w for c, w in done if c.outcome is Outcome.ANSWERED and c.talk_s >= 180]
    productive_share = sum(w.wrapup.productive for w in long_answered) / len(long_answered)
    assert 0.6 < productive_share < 0.95  # most long calls productive, not all
    contacts = [w for _, w in done if w.wrapup.result in (WrapUpResult.CONTACT_MADE, WrapUpResult.REFUSED)]
    logged = sum(w.login is not None for w in contacts) / len(contacts)
    disagree = sum((w.login is not None) != w.wrapup.logged_in for w in contacts) / len(contacts)
    assert 0.25 < logged < 0.7 and 0.03 < disagree < 0.25
    assert all(w.login is None for w in (w for _, w in done) if w not in contacts)
    for call, w in done:  # the login falls inside the talk
        if w.login is not None:
            assert call.answered_at is not None and call.answered_at <= w.login[0] <= call.ended_at  # type: ignore[operator]


def test_a_past_day_is_a_working_days_worth_of_calls() -> None:
    calls = past_calls(DAY, "103", [("C-1", "79115550001")], random.Random(2), MSK)
    assert 10 <= len(calls) <= 17 and len({c.linkedid for c in calls}) == len(calls)
    local = [c.started_at.astimezone(MSK) for c in calls]
    assert local[0].hour == 9 and all(t.date() == DAY for t in local) and local == sorted(local)


def test_a_missed_call_of_the_expert_gets_no_wrapup() -> None:
    call = dataclasses.replace(closed_call(), outcome=Outcome.EXPERT_NO_ANSWER, answered_at=None, talk_s=0.0)
    assert demo_wrapup(call, random.Random(3), TOPICS, 120.0, MSK) is None


async def test_a_fresh_demo_has_past_days_measured_and_wraps_up_new_calls(db_sessions: SessionMaker,
                                                                          migrated_db: str, tmp_path: Path) -> None:
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    today = now.astimezone(MSK).date()
    clients = await seed_demo_department(db_sessions, today)
    settings = Settings.model_validate({"database": {"url": migrated_db},
                                        "recordings": {"dir": str(tmp_path / "recordings")}})
    await seed_demo_step_scripts(db_sessions, now)  # as the demo department's seed does
    experts = DemoExperts(db_sessions, settings, clients)
    await experts.backfill(today, now)
    await experts.backfill(today, now)  # a second start adds nothing
    await _the_news_review_calls_have_their_steps(db_sessions, now)
    assert list((tmp_path / "demo").glob("logins-2026-11-30_2026-12-04.csv"))
    week = Period(PeriodKind.WEEK, date(2026, 11, 30), date(2026, 12, 6))
    aggregates, _, _ = await FiguresRepository(db_sessions).figures(Scope(ScopeKind.DEPARTMENT), week, MSK, now)
    t = totals(aggregates)
    assert 100 <= t.made <= 170 and t.productive > 0.5 * t.contacts
    assert t.login_measured == t.contacts and 0 < t.login_disagree < 0.3 * t.contacts
    assert 8 * 60 <= t.productive_talk_s / t.productive <= 15 * 60  # several minutes, not seconds
    assert FigureTargets.of(settings.targets).productive_min_talk_s == 120

    # Today: a call of anna's (102) ends; a few seconds later she wraps it up, and today is measured.
    call = closed_call("live-1", expert_ext="102", client_id=clients[0][2], planned_call_id=None,
                       started_at=now - timedelta(minutes=10), answered_at=now - timedelta(minutes=9, seconds=50),
                       ended_at=now - timedelta(minutes=1), talk_s=530.0, duration_s=540.0)
    await LedgerRepository(db_sessions).upsert_calls([call])
    assert await experts.wrap_up_once(now) == 1
    assert await experts.wrap_up_once(now) == 0
    async with db_sessions() as session:
        wrapped = await session.scalar(select(func.count()).select_from(m.WrapUp).join(m.Call).where(
            m.Call.linkedid == "live-1"))
        measured = await session.scalar(select(func.count()).select_from(m.CallLogin).join(
            m.Call, m.Call.id == m.CallLogin.call_id).where(m.Call.linkedid == "live-1"))
    assert wrapped == 1 and measured == 1


def test_the_demos_calls_to_ds_clients_never_offer_the_move_to_ds() -> None:
    """Found trying issue 15: «Переход на ДС» topped the demo's topics while the funnel had two offers."""
    topics = ("Обучение", "Переход на дистанционный сервис", "СМАРТ-комплект")
    rng = random.Random(7)
    chosen = {work.wrapup.topic for _ in range(300)
              if (work := demo_wrapup(closed_call(), rng, topics, 120.0, ZoneInfo("Europe/Moscow"))) is not None}
    assert chosen == {"Обучение", "СМАРТ-комплект"}


def test_the_demo_departments_facts_agree_with_each_other() -> None:
    """Found trying issue 15: a КС client «не входили, за 30 дней: 35»; no ДС client used any service."""
    from service.demo_department import demo_rows

    clients = demo_rows(date(2026, 12, 7))["clients"]
    for client in clients:
        if client.get("online_logins_30d") not in ("", "0", None):
            assert client.get("online_last_login"), client
    ds = [c for c in clients if c["segment"] == "ДС"]
    assert sum(1 for c in ds if c.get("services")) > len(ds) // 2


async def _the_news_review_calls_have_their_steps(sessions: SessionMaker, now: datetime) -> None:
    """«Что работает» has figures on the first start: the past news-review calls went through its steps."""
    async with sessions() as session:
        topics = (await session.execute(
            select(m.WrapUp.topic, func.count(func.distinct(m.CallStep.linkedid)))
            .join(m.Call, m.Call.id == m.WrapUp.call_id).join(m.CallStep, m.CallStep.linkedid == m.Call.linkedid)
            .group_by(m.WrapUp.topic))).all()
    assert [topic for topic, _ in topics] == ["Обзор новостей и изменений"] and topics[0][1] >= 3
    script = await StepScriptsRepository(sessions).by_key("news_review")
    assert script is not None
    week = Period(PeriodKind.WEEK, date(2026, 11, 30), date(2026, 12, 6))
    figures = what_works(await logged_calls(sessions, script.id, week, MSK, now), frozenset({"login"}))
    assert figures.total.calls == topics[0][1] and 0 < figures.total.reached_login <= figures.total.calls
