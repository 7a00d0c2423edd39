"""The Russian production calendar with transfers both ways, and config.yaml overrides."""

from __future__ import annotations

from datetime import date

import pytest

from scheduler.calendar import WorkCalendar

CAL = WorkCalendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 30), True),  # Wednesday before the New Year
        (date(2026, 12, 31), False),  # Thursday, a day off transferred from 04.01.2026
        (date(2027, 1, 1), False),
        (date(2027, 1, 8), False),  # New Year holidays end
        (date(2027, 1, 11), True),  # first working day of 2027
        (date(2027, 2, 20), True),  # Saturday, working: its day off moved to 22.02
        (date(2027, 2, 22), False),  # Monday, the day off transferred from 20.02
        (date(2027, 2, 23), False),  # Defender of the Fatherland Day
        (date(2026, 12, 5), False),  # an ordinary Saturday
        (date(2026, 12, 6), False),  # an ordinary Sunday
        (date(2026, 1, 9), False),  # Friday, transferred from Saturday 03.01.2026
        (date(2026, 3, 9), False),  # observed: 08.03.2026 is a Sunday
        (date(2026, 12, 1), True),
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 30), date(2027, 1, 11)),  # over the New Year break
        (date(2027, 2, 19), date(2027, 2, 20)),  # Friday -> the working Saturday
        (date(2027, 2, 20), date(2027, 2, 24)),  # over the transferred Monday and 23.02
        (date(2026, 12, 4), date(2026, 12, 7)),  # Friday -> Monday
    ],
)
def test_next_working_day(day: date, expected: date) -> None:
    assert CAL.next_working_day(day) == expected


@pytest.mark.parametrize(
    ("a", "b", "count"),
    [
        (date(2026, 12, 28), date(2027, 1, 12), 4),  # 29, 30 Dec; 11, 12 Jan
        (date(2026, 12, 1), date(2026, 12, 1), 0),
        (date(2026, 12, 4), date(2026, 12, 7), 1),
        (date(2026, 12, 7), date(2026, 12, 4), -1),
        (date(2027, 2, 19), date(2027, 2, 24), 2),  # Saturday 20.02 and Wednesday 24.02
    ],
)
def test_working_days_between(a: date, b: date, count: int) -> None:
    assert CAL.working_days_between(a, b) == count


@pytest.mark.parametrize(
    ("extra_off", "extra_working", "day", "working"),
    [
        ((date(2026, 12, 1),), (), date(2026, 12, 1), False),  # a regional day off
        ((), (date(2026, 12, 5),), date(2026, 12, 5), True),  # a Saturday worked by order
        ((), (date(2026, 12, 31),), date(2026, 12, 31), True),  # override beats the calendar
    ],
)
def test_overrides(
    extra_off: tuple[date, ...], extra_working: tuple[date, ...], day: date, working: bool
) -> None:
    assert WorkCalendar(extra_off, extra_working).is_working_day(day) is working


def test_a_date_cannot_be_both_off_and_working() -> None:
    with pytest.raises(ValueError, match="2026-12-01"):
        WorkCalendar([date(2026, 12, 1)], [date(2026, 12, 1)])
