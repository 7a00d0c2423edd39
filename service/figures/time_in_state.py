"""Time in state per Expert and day: talking, on a call, in wrap-up, on a pause (issue 14). Pure.

Talking, on a call and in wrap-up come from the figures' day aggregates (the PBX's times and the
wrap-ups' saves, guessed calls aside: service/db/figures_queries.py); pauses from the Experts'
status log (service/desk/status.py). An Expert-day counts when she had a call, a planned item or a
pause on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from service.days import day_bounds
from service.desk.status import PauseTime, StatusEntry, pause_time
from service.figures.model import DayAggregate, ExpertInfo

DayKey = tuple[int, date]  # (Expert id, organisation-time day)


@dataclass(frozen=True, slots=True)
class TimeLine:
    """One Expert's time in each state over `days` Expert-days (`day`: that day alone, None: the period)."""

    expert: ExpertInfo
    day: date | None
    days: int
    talk_s: float = 0.0
    on_call_s: float = 0.0
    wrapup_s: float = 0.0
    pause_s: float = 0.0
    pause_by_reason: dict[str, float] = field(default_factory=dict)

    def per_day(self, seconds: float) -> float | None:
        return None if self.days == 0 else seconds / self.days

    @property
    def pause_reasons_text(self) -> str:
        """«Обед 45 мин, Обучение 1 ч 00 мин» for a tooltip and the XLSX."""
        return ", ".join(f"{reason or 'без причины'} {duration_text(s)}" for reason, s in self.pause_by_reason.items())


def pauses_by_day(entries: Mapping[int, Sequence[StatusEntry]], days: Sequence[date], tz: ZoneInfo,
                  now: datetime) -> dict[DayKey, PauseTime]:
    """Each Expert's pauses on each day of `days` (today up to `now`); days without a pause are left out."""
    found: dict[DayKey, PauseTime] = {}
    for expert_id, own in entries.items():
        for day in days:
            start, end = day_bounds(day, tz)
            paused = pause_time(own, start, min(end, now))
            if paused.total_s > 0:
                found[(expert_id, day)] = paused
    return found


def time_lines(experts: Sequence[ExpertInfo], aggregates: Iterable[DayAggregate],
               pauses: Mapping[DayKey, PauseTime]) -> tuple[list[TimeLine], list[TimeLine]]:
    """(one line per Expert over the period, one line per Expert-day), in the experts' order."""
    by_day: dict[DayKey, DayAggregate] = {(a.expert_id, a.day): a for a in aggregates if a.is_working_day}
    keys = sorted(set(by_day) | set(pauses), key=lambda k: k[1])
    daily: dict[int, list[TimeLine]] = {}
    known = {e.id: e for e in experts}
    for expert_id, day in keys:
        if expert_id in known:
            line = _day_line(known[expert_id], day, by_day.get((expert_id, day)), pauses.get((expert_id, day)))
            daily.setdefault(expert_id, []).append(line)
    totals = [_sum(e, daily.get(e.id, [])) for e in experts]
    return totals, [line for e in experts for line in daily.get(e.id, [])]


def _day_line(expert: ExpertInfo, day: date, agg: DayAggregate | None, paused: PauseTime | None) -> TimeLine:
    pause = paused or PauseTime()
    return TimeLine(expert, day, 1, talk_s=agg.talk_total_s if agg else 0.0, on_call_s=agg.on_call_s if agg else 0.0,
                    wrapup_s=agg.wrapup_s if agg else 0.0, pause_s=pause.total_s, pause_by_reason=dict(pause.by_reason))


def _sum(expert: ExpertInfo, lines: Sequence[TimeLine]) -> TimeLine:
    reasons: dict[str, float] = {}
    for line in lines:
        for reason, seconds in line.pause_by_reason.items():
            reasons[reason] = reasons.get(reason, 0.0) + seconds
    return TimeLine(expert, None, len(lines), talk_s=sum(x.talk_s for x in lines),
                    on_call_s=sum(x.on_call_s for x in lines), wrapup_s=sum(x.wrapup_s for x in lines),
                    pause_s=sum(x.pause_s for x in lines), pause_by_reason=reasons)


def duration_text(seconds: float) -> str:
    """«1 ч 07 мин», «45 мин», «40 с»: hours and minutes in words, seconds only under a minute.

    Not «67:26»: an office worker reads a clock as hours:minutes, so a time in state is spelt out.
    Rounded to the nearest minute from a minute up (a day's totals do not need seconds).
    """
    whole = max(round(seconds), 0)
    if whole < 60:
        return f"{whole} с"
    minutes = (whole + 30) // 60
    hours, rest = divmod(minutes, 60)
    return f"{hours} ч {rest:02d} мин" if hours else f"{rest} мин"
