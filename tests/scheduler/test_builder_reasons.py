"""One case per rule and per boundary: which reasons put a contact on today's list.

Each world has one organisation «C» (contact «K», a user) among a few calm ones; the table
says which reason codes K's item carries (FILL: it is only there to fill the day; None: no
item) and, where the wording matters, a text the Expert reads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from scheduler.inputs import Callback, ExistingItem, Signal
from scheduler.model import PlanState, Reason, ReasonCode, SignalKind, Version
from tests.scheduler.world import DAY, World, ago, at, codes, item_for, only, summary, texts

R = ReasonCode
FILL = (R.FILL,)


def one_org(last_contact_days: int | None = 1, **changes: Any) -> World:
    world = World().calm_orgs(3)
    last = None if last_contact_days is None else ago(last_contact_days)
    return world.org("C", "K", "K2", last_contact=last, **changes)


def with_summary(world: World, **changes: Any) -> World:
    world.summaries = [s for s in world.summaries if s.contact_external_id != "K"] + [summary("K", **changes)]
    return world


def with_signal(
    days_ago: int,
    contact: str | None = "K",
    kind: SignalKind = SignalKind.HOTLINE_REQUEST,
    last_contact_days: int = 5,
) -> World:
    world = one_org(last_contact_days)
    world.signals.append(Signal("C", contact, kind, ago(days_ago), "не открывается документ"))
    return world


def not_reached(at_day_hour: tuple[int, int], attempts: int, day_offset: int = 1) -> World:
    hour, minute = at_day_hour
    last = at(hour, minute, day=ago(day_offset))
    return with_summary(
        one_org(),
        last_contact_on=ago(5),
        last_result="not_reached",
        last_attempt_at=last,
        attempts_since_contact=attempts,
    )


def rolled_over() -> World:
    world = one_org()
    original = (Reason(R.SIGNAL, "обращалась на Горячую линию 27.11"),)
    world.existing.append(
        ExistingItem(
            "P-1",
            "maria",
            "K",
            at(10, day=ago(1)),
            PlanState.ROLLED_OVER,
            original,
            "Ответ на обращение на ГЛ",
        )
    )
    return world


CASES: list[tuple[str, Callable[[], World], tuple[ReasonCode, ...] | None, str | None]] = [
    # cadence: 14 days by default, per client if set; the edge day is due
    ("cadence N-1 not due", lambda: one_org(13), FILL, None),
    ("cadence N due", lambda: one_org(14), (R.CADENCE,), "14 дней без контакта"),
    ("client cadence 7 due", lambda: one_org(7, contact_every_days=7), (R.CADENCE,), "7 дней без контакта"),
    ("client cadence 30, 20 days", lambda: one_org(20, contact_every_days=30), FILL, None),
    ("never contacted", lambda: one_org(None), (R.CADENCE, R.NOT_TRAINED), "ещё не было контакта"),
    # signals: only when newer than the last contact made with that person
    ("signal newer", lambda: with_signal(2), (R.SIGNAL,), "обращалась на Горячую линию 29.11"),
    ("signal on the contact day", lambda: with_signal(5), FILL, None),
    ("signal older", lambda: with_signal(9), FILL, None),
    ("signal tomorrow ignored", lambda: with_signal(-1), FILL, None),
    (
        "signal of the org",
        lambda: with_signal(2, contact=None),
        (R.SIGNAL,),
        "обращение на Горячую линию 29.11",
    ),
    (
        "problem with note",
        lambda: with_signal(2, kind=SignalKind.PROBLEM),
        (R.SIGNAL,),
        "зарегистрирована проблема 29.11: не открывается документ",
    ),
    # retries: next working day, while attempts are left
    ("retry next day", lambda: not_reached((10, 0), 1), (R.RETRY,), "не дозвонились 30.11, попытка 2 из 3"),
    ("retry same day not yet", lambda: not_reached((10, 0), 1, day_offset=0), FILL, None),
    (
        "retry after weekend",
        lambda: not_reached((10, 0), 2, day_offset=4),
        (R.RETRY,),
        "не дозвонились 27.11, попытка 3 из 3",
    ),
    ("retry limit reached", lambda: not_reached((10, 0), 3), FILL, None),
    # users not trained: no contact made with that user for 90 days
    (
        "not trained 90",
        lambda: one_org(90, contact_every_days=365),
        (R.NOT_TRAINED,),
        "пользователь без обучения 90 дней",
    ),
    ("not trained 89", lambda: one_org(89, contact_every_days=365), FILL, None),
    # online version without a login (and no contact since) for 14 days
    (
        "not logged in 14",
        lambda: one_org(20, contact_every_days=365, version=Version.ONLINE, online_last_login=ago(14)),
        (R.NOT_LOGGED_IN,),
        "не заходили в онлайн-версию 14 дней",
    ),
    (
        "not logged in 13",
        lambda: one_org(20, contact_every_days=365, version=Version.ONLINE, online_last_login=ago(13)),
        FILL,
        None,
    ),
    (
        "never logged in",
        lambda: one_org(20, contact_every_days=365, version=Version.ONLINE),
        (R.NOT_LOGGED_IN,),
        "ни разу не заходили в онлайн-версию",
    ),
    (
        "not online version",
        lambda: one_org(20, contact_every_days=365, online_last_login=ago(40)),
        FILL,
        None,
    ),
    # financial terms ending within 30 days, once per ending
    (
        "terms in 30 days",
        lambda: one_org(terms_end=DAY + timedelta(days=30)),
        (R.TERMS_ENDING,),
        "заканчиваются финансовые условия 31.12",
    ),
    (
        "terms, talked since the window opened",
        lambda: one_org(5, terms_end=DAY + timedelta(days=20)),
        FILL,
        None,
    ),
    ("terms in 31 days", lambda: one_org(5, terms_end=DAY + timedelta(days=31)), FILL, None),
    ("terms ended", lambda: one_org(5, terms_end=DAY - timedelta(days=1)), FILL, None),
    (
        "terms today",
        lambda: one_org(40, contact_every_days=365, terms_end=DAY),
        (R.TERMS_ENDING,),
        "заканчиваются финансовые условия 01.12",
    ),
    # debt above the threshold; not again within a week of a contact made
    ("debt", lambda: one_org(7, debt_rub=12500.0), (R.DEBT,), "задолженность 12 500 ₽"),
    ("debt just talked about", lambda: one_org(3, debt_rub=12500.0), FILL, None),
    ("no debt", lambda: one_org(7, debt_rub=0.0), FILL, None),
    # promises and items carried over
    ("rolled over keeps reasons", rolled_over, (R.ROLLED_OVER, R.SIGNAL), "перенесён с 30.11"),
]


@pytest.mark.parametrize(("name", "make", "expected", "text"), CASES, ids=[c[0] for c in CASES])
def test_reasons(
    name: str, make: Callable[[], World], expected: tuple[ReasonCode, ...] | None, text: str | None
) -> None:
    item = item_for(only(make().plan()), "K")
    assert codes(item) == expected
    if text is not None:
        assert text in texts(item)


@pytest.mark.parametrize(
    ("promised", "slot"),
    [
        (at(11, 0), at(11, 0)),  # today: exactly the promised time
        (at(11, 10, day=ago(1)), at(11, 10)),  # missed yesterday: the same time today
        (at(11, 0, day=DAY + timedelta(days=1)), None),  # tomorrow: not today
        (at(8, 0), at(8, 0)),  # before working hours: a promise is still kept
    ],
)
def test_callback_at_the_promised_time(promised: datetime, slot: datetime | None) -> None:
    world = one_org()
    world.callbacks.append(Callback("K", "C", "maria", promised, "Продление СМАРТ-комплекта", "ждёт счёт"))
    item = item_for(only(world.plan()), "K")
    if slot is None:
        assert codes(item) == FILL
        return
    assert item is not None and item.slot == slot
    assert codes(item) == (R.CALLBACK,)
    assert item.topic == "Продление СМАРТ-комплекта"
    assert f"в {slot:%H:%M}" in texts(item)[0]


@pytest.mark.parametrize(
    ("main", "topic"),
    [
        (lambda: with_signal(2), "Ответ на обращение на ГЛ"),
        (
            lambda: with_signal(2, kind=SignalKind.CONSULTATION_REQUEST),
            "Ответ на вопрос в Линию консультаций",
        ),
        (lambda: one_org(5, terms_end=DAY + timedelta(days=26)), "Продление финансовых условий"),
        (lambda: one_org(20, contact_every_days=365, version=Version.ONLINE), "Обучение"),
        (lambda: one_org(14), "Обзор новостей и изменений"),
        (lambda: one_org(2), "Обзор новостей и изменений"),
        (lambda: one_org(14, debt_rub=900.0), "Задолженность"),
    ],
)
def test_topic_follows_the_main_reason(main: Callable[[], World], topic: str) -> None:
    item = item_for(only(main().plan()), "K")
    assert item is not None and item.topic == topic


def test_previous_comment_is_attached() -> None:
    world = with_summary(
        one_org(),
        last_contact_on=ago(14),
        last_result="contact_made",
        last_comment="просила прислать обзор по НДС",
    )
    item = item_for(only(world.plan()), "K")
    assert item is not None and item.previous_comment == "просила прислать обзор по НДС"
