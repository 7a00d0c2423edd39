"""The days a download or the CLI asks for, checked: real dates, in order, not too many. Pure."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from service.exports.errors import BadPeriod
from service.imports.cells import CellError, parse_date
from texts.words import plural

EARLIEST = date(2000, 1, 1)  # docs/security.md «Bad input»: dates lie between 2000 and 2100
LATEST = date(2100, 12, 31)
DATE_FORMS = "ГГГГ-ММ-ДД или ДД.ММ.ГГГГ"
MAX_TYPED = 40  # a date is 10 characters; a longer value is not shown back whole


@dataclass(frozen=True, slots=True)
class Days:
    """[first, last], both inclusive, in the organisation's calendar."""

    first: date
    last: date

    def __iter__(self) -> Iterator[date]:
        return (self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1))

    def __len__(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def stem(self) -> str:
        """The file name's stem: works-2026-12-07, or works-2026-12-01--2026-12-07 for a range."""
        if self.first == self.last:
            return f"works-{self.first:%Y-%m-%d}"
        return f"works-{self.first:%Y-%m-%d}--{self.last:%Y-%m-%d}"

    def __str__(self) -> str:
        if self.first == self.last:
            return f"{self.first:%d.%m.%Y}"
        return f"{self.first:%d.%m.%Y}–{self.last:%d.%m.%Y}"


def read_day(text: str, what: str) -> date:
    """A typed date (ГГГГ-ММ-ДД or ДД.ММ.ГГГГ); BadPeriod naming `what` («начало периода») otherwise."""
    typed = text.strip()
    if not typed:
        raise BadPeriod(f"Укажите {what}: {DATE_FORMS}")
    try:
        day = parse_date(typed)
    except CellError as e:
        shown = typed if len(typed) <= MAX_TYPED else typed[:MAX_TYPED] + "…"
        raise BadPeriod(f"{what[0].upper()}{what[1:]} «{shown}» — не дата: нужно {DATE_FORMS}, "
                        f"например 07.12.2026") from e
    return day


def check_days(first: date, last: date, max_days: int) -> Days:
    """The range if it can be exported; BadPeriod says what is wrong with it."""
    for day in (first, last):
        if not EARLIEST <= day <= LATEST:
            raise BadPeriod(f"Дата {_dmy(day)} вне {EARLIEST.year}–{LATEST.year} годов")
    if first > last:
        raise BadPeriod(f"Начало периода {first:%d.%m.%Y} позже его конца {last:%d.%m.%Y}")
    days = Days(first, last)
    if len(days) > max_days:
        raise BadPeriod(f"Период {days} — {len(days)} {_days(len(days))}; за один раз можно выгрузить не больше "
                        f"{max_days} {plural(max_days, 'дня', 'дней', 'дней')}: разбейте его на части")
    return days


def read_days(first: str, last: str, max_days: int) -> Days:
    """The form's «с» and «по» (an empty «по»: the same day as «с»)."""
    start = read_day(first, "начало периода")
    end = read_day(last, "конец периода") if last.strip() else start
    return check_days(start, end, max_days)


def _dmy(day: date) -> str:
    """ДД.ММ.ГГГГ for any year (strftime writes the year 1 as «1»)."""
    return f"{day.day:02}.{day.month:02}.{day.year:04}"


def _days(n: int) -> str:
    return plural(n, "день", "дня", "дней")
