"""When a client may be called: the contact's own window, else the client's business hours, on
working days of the production calendar, in the client's local time. Pure.

The same rule serves the plan builder (a contact without a window gets the client's hours), the
desk's call buttons (outside it the Expert confirms, or a supervisor's setting forbids the call)
and the wrap-up's callbacks (only inside it, on a working day, not too far ahead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.calendar import WorkCalendar

WEEKDAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")


@dataclass(frozen=True, slots=True)
class Window:
    """[start, end) of the client's local day; `end` before `start` is a window over midnight."""

    start: time
    end: time
    own: bool  # the contact's own window (else the client's business hours)

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    @property
    def text(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


def call_window(call_from: time | None, call_to: time | None, client_hours: tuple[time, time]) -> Window:
    """The contact's window when it has one (either end missing: the business hours' end), else the
    client's business hours. «с 10:00 до 10:00» is a typo in the CRM: the business hours then."""
    if call_from is None and call_to is None or call_from == call_to:
        return Window(client_hours[0], client_hours[1], own=False)
    return Window(call_from or client_hours[0], call_to or client_hours[1], own=True)


@dataclass(frozen=True, slots=True)
class CallTime:
    """The client's local moment and whether it is a time to call; `reason` says why not (Russian)."""

    local: datetime
    allowed: bool
    reason: str | None

    @property
    def local_text(self) -> str:
        """«01:22, вс»: how the desk names the client's time."""
        return f"{self.local:%H:%M}, {WEEKDAYS[self.local.weekday()]}"


def check_call_time(moment: datetime, client_zone: str, window: Window, calendar: WorkCalendar) -> CallTime:
    """Is `moment` (aware) a time to call this contact, in the client's local time?"""
    local = moment.astimezone(ZoneInfo(client_zone))
    if not calendar.is_working_day(local.date()):
        return CallTime(local, False, f"у клиента сейчас {_local(local)} — выходной день")
    if not window.contains(local.time().replace(second=0, microsecond=0)):
        what = "вне окна звонка контакта" if window.own else "вне рабочего времени клиента"
        return CallTime(local, False, f"у клиента сейчас {_local(local)} — {what} {window.text}")
    return CallTime(local, True, None)


def check_callback(at: datetime, now: datetime, client_zone: str, window: Window, calendar: WorkCalendar,
                   max_days: int) -> str | None:
    """Why a callback at `at` cannot be promised (Russian), or None when it can."""
    if at <= now:
        return "Следующий контакт должен быть в будущем"
    if at > now + timedelta(days=max_days):
        return f"Следующий контакт — не дальше чем через {max_days} дн."
    verdict = check_call_time(at, client_zone, window, calendar)
    if not verdict.allowed:
        return f"Перезвонить в это время нельзя: {verdict.reason.replace('сейчас', 'будет') if verdict.reason else ''}"
    return None


def _local(moment: datetime) -> str:
    return f"{moment:%H:%M}, {WEEKDAYS[moment.weekday()]} {moment:%d.%m}"
