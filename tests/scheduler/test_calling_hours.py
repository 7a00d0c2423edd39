"""When a client may be called (scheduler/calling_hours.py): a table of cases."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from scheduler.calendar import WorkCalendar
from scheduler.calling_hours import call_window, check_call_time, check_callback

CAL = WorkCalendar()
HOURS = (time(9), time(18))
MSK = ZoneInfo("Europe/Moscow")


def msk(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=MSK)


@pytest.mark.parametrize(("case", "moment", "zone", "window", "allowed", "reason"), [
    ("Moscow office hours", msk(2026, 12, 7, 10), "Europe/Moscow", (None, None), True, None),
    ("Novosibirsk is 4 h ahead: 15:00 Moscow is 19:00 there", msk(2026, 12, 7, 15), "Asia/Novosibirsk",
     (None, None), False, "у клиента сейчас 19:00, пн 07.12 — вне рабочего времени клиента 09:00–18:00"),
    ("Novosibirsk at 06:00 Moscow is 10:00 there", msk(2026, 12, 7, 6), "Asia/Novosibirsk", (None, None), True,
     None),
    ("Yekaterinburg at 16:59 Moscow is 18:59 there", msk(2026, 12, 7, 16, 59), "Asia/Yekaterinburg",
     (None, None), False, "у клиента сейчас 18:59, пн 07.12 — вне рабочего времени клиента 09:00–18:00"),
    ("01:22 on a Sunday", msk(2026, 12, 6, 1, 22), "Europe/Moscow", (None, None), False,
     "у клиента сейчас 01:22, вс 06.12 — выходной день"),
    ("the contact's window 09:00–12:00, at 12:30", msk(2026, 12, 7, 12, 30), "Europe/Moscow",
     (time(9), time(12)), False, "у клиента сейчас 12:30, пн 07.12 — вне окна звонка контакта 09:00–12:00"),
    ("a window over lunch, 12:00–15:00, at 13:30", msk(2026, 12, 7, 13, 30), "Europe/Moscow",
     (time(12), time(15)), True, None),
    ("the window's end is not in it", msk(2026, 12, 7, 15), "Europe/Moscow", (time(12), time(15)), False,
     "у клиента сейчас 15:00, пн 07.12 — вне окна звонка контакта 12:00–15:00"),
    ("a window with only its start", msk(2026, 12, 7, 17), "Europe/Moscow", (time(14), None), True, None),
    ("31 December 2026 is a day off", msk(2026, 12, 31, 11), "Europe/Moscow", (None, None), False,
     "у клиента сейчас 11:00, чт 31.12 — выходной день"),
    ("Saturday 20 February 2027 is a working day", msk(2027, 2, 20, 11), "Europe/Moscow", (None, None), True,
     None),
    ("a typo window 10:00–10:00 is the business hours", msk(2026, 12, 7, 16), "Europe/Moscow",
     (time(10), time(10)), True, None),
])
def test_the_rule(case: str, moment: datetime, zone: str, window: tuple[time | None, time | None], allowed: bool,
                  reason: str | None) -> None:
    verdict = check_call_time(moment, zone, call_window(*window, HOURS), CAL)
    assert (verdict.allowed, verdict.reason) == (allowed, reason), case


def test_the_desk_names_the_clients_time() -> None:
    verdict = check_call_time(msk(2026, 12, 6, 1, 22), "Europe/Moscow", call_window(None, None, HOURS), CAL)
    assert verdict.local_text == "01:22, вс"


NOW = msk(2026, 12, 7, 10)


@pytest.mark.parametrize(("case", "at", "zone", "message"), [
    ("tomorrow 11:00", msk(2026, 12, 8, 11), "Europe/Moscow", None),
    ("in the past", msk(2026, 12, 7, 9), "Europe/Moscow", "Следующий контакт должен быть в будущем"),
    ("Sunday 03:00", msk(2026, 12, 13, 3), "Europe/Moscow",
     "Перезвонить в это время нельзя: у клиента будет 03:00, вс 13.12 — выходной день"),
    ("03:00 on a working day", msk(2026, 12, 8, 3), "Europe/Moscow",
     "Перезвонить в это время нельзя: у клиента будет 03:00, вт 08.12 — вне рабочего времени клиента 09:00–18:00"),
    ("2031", datetime(2031, 3, 3, 8, tzinfo=UTC), "Europe/Moscow", "Следующий контакт — не дальше чем через 60 дн."),
    ("60 days ahead is fine", msk(2027, 2, 4, 10), "Europe/Moscow", None),
    ("17:00 Moscow is 21:00 in Novosibirsk", msk(2026, 12, 8, 17), "Asia/Novosibirsk",
     "Перезвонить в это время нельзя: у клиента будет 21:00, вт 08.12 — вне рабочего времени клиента 09:00–18:00"),
])
def test_callbacks(case: str, at: datetime, zone: str, message: str | None) -> None:
    assert check_callback(at, NOW, zone, call_window(None, None, HOURS), CAL, 60) == message, case
