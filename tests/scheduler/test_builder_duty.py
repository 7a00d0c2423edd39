"""Who is on duty: the production calendar (holidays, transfers, overrides) and absences."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from scheduler.calendar import WorkCalendar
from scheduler.model import ReasonCode
from tests.scheduler.world import CALENDAR, MSK, World, expert, item_for, only, summary
from texts.plan import NOTE_ABSENT, NOTE_DAY_OFF

ABSENT = ((date(2026, 12, 7), date(2026, 12, 11)),)


def world(day: date, absences: tuple[tuple[date, date], ...] = ()) -> World:
    return World(experts=[expert(absences=absences)]).calm_orgs(20, day=day)


def morning(day: date) -> datetime:
    return datetime.combine(day, time(6, 30), MSK)


@pytest.mark.parametrize(
    ("day", "absences", "calendar", "planned", "note"),
    [
        (date(2026, 12, 1), (), CALENDAR, 15, None),
        (date(2026, 12, 31), (), CALENDAR, 0, NOTE_DAY_OFF),  # transferred day off
        (date(2027, 1, 8), (), CALENDAR, 0, NOTE_DAY_OFF),  # New Year holidays
        (date(2027, 2, 20), (), CALENDAR, 15, None),  # transferred working Saturday
        (date(2027, 2, 22), (), CALENDAR, 0, NOTE_DAY_OFF),  # its Monday off
        (date(2026, 12, 5), (), CALENDAR, 0, NOTE_DAY_OFF),  # an ordinary Saturday
        (date(2026, 12, 7), ABSENT, CALENDAR, 0, NOTE_ABSENT),  # first day of an absence
        (date(2026, 12, 9), ABSENT, CALENDAR, 0, NOTE_ABSENT),
        (date(2026, 12, 11), ABSENT, CALENDAR, 0, NOTE_ABSENT),  # last day, inclusive
        (date(2026, 12, 14), ABSENT, CALENDAR, 15, None),  # back at work
        (date(2026, 12, 1), (), WorkCalendar(extra_days_off=[date(2026, 12, 1)]), 0, NOTE_DAY_OFF),
        (date(2026, 12, 5), (), WorkCalendar(extra_working_days=[date(2026, 12, 5)]), 15, None),
    ],
)
def test_duty(
    day: date, absences: tuple[tuple[date, date], ...], calendar: WorkCalendar, planned: int, note: str | None
) -> None:
    plan = world(day, absences).plan(day=day, now=morning(day), calendar=calendar)
    mine = only(plan)
    assert len(mine.items) == planned
    assert mine.deferred == ()
    if note is not None:
        assert mine.notes == (note,)
    else:
        assert mine.notes == ()


@pytest.mark.parametrize(
    ("attempted", "day", "retried"),
    [
        (date(2026, 12, 30), date(2026, 12, 30), False),  # not the same day
        (date(2026, 12, 30), date(2027, 1, 11), True),  # after the New Year break
        (date(2027, 2, 19), date(2027, 2, 20), True),  # on the transferred working Saturday
        (date(2027, 2, 20), date(2027, 2, 24), True),
        (date(2026, 12, 4), date(2026, 12, 7), True),  # Friday -> Monday
    ],
)
def test_retry_on_the_next_working_day(attempted: date, day: date, retried: bool) -> None:
    world = world_for_retry(attempted, day)
    item = item_for(only(world.plan(day=day, now=morning(day))), "K")
    assert (item is not None and ReasonCode.RETRY in [r.code for r in item.reasons]) is retried


def world_for_retry(attempted: date, day: date) -> World:
    world = World().calm_orgs(20, day=day)
    world.org("C", "K")
    world.summaries.append(
        summary(
            "K",
            last_contact_on=attempted,
            last_result="not_reached",
            last_attempt_at=datetime.combine(attempted, time(10), MSK),
            attempts_since_contact=1,
        )
    )
    return world
