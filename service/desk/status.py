"""The Expert's own status (готов / пауза: причина / вышел) and the time it took. Pure.

An Expert says she is ready or on a pause (with a reason from `desk.pause_reasons`); signing out
ends her day's last status. Every change is a row of an append-only log
(service/db/models_status.py). Calls and wrap-ups are not in the log: they are the ledger's facts
(the board's state and the figures take them from there); the log says what the Expert declared.

A status belongs to its organisation-time day: a pause left on overnight is not a pause the next
morning, and a day's pauses end at the day's end (or now, for today).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class DeskStatus(StrEnum):
    READY = "ready"
    PAUSE = "pause"
    OFF = "off"  # signed out


@dataclass(frozen=True, slots=True)
class StatusEntry:
    at: datetime
    status: DeskStatus
    reason: str | None = None  # pauses only

    @property
    def label(self) -> str:
        if self.status is DeskStatus.PAUSE:
            return f"Пауза: {self.reason}" if self.reason else "Пауза"
        return "Готов" if self.status is DeskStatus.READY else "Вышел"


def status_problem(status: str, reason: str, reasons: Sequence[str]) -> str | None:
    """Why a status change cannot be taken (Russian, for the Expert), None when it can."""
    if status not in (DeskStatus.READY, DeskStatus.PAUSE):
        return "Неизвестный статус: нужен «Готов» или «Пауза»"
    if status == DeskStatus.PAUSE and reason not in reasons:
        shown = reason if len(reason) <= 40 else reason[:40] + "…"
        return f"Нет такой причины паузы: «{shown}». Можно: " + ", ".join(f"«{r}»" for r in reasons)
    return None


def current_status(entries: Iterable[StatusEntry], day_start: datetime) -> StatusEntry | None:
    """The Expert's latest declared status of the day (None: none yet today)."""
    today = [e for e in entries if e.at >= day_start]
    return max(today, key=lambda e: e.at) if today else None


def current_pause(entries: Iterable[StatusEntry], day_start: datetime) -> StatusEntry | None:
    """Her pause, if the day's latest status is one."""
    status = current_status(entries, day_start)
    return status if status is not None and status.status is DeskStatus.PAUSE else None


@dataclass(frozen=True, slots=True)
class PauseTime:
    """Seconds on a pause within one span, in all and by reason (in the order first taken)."""

    total_s: float = 0.0
    by_reason: dict[str, float] = field(default_factory=dict)


def pause_time(entries: Sequence[StatusEntry], start: datetime, end: datetime) -> PauseTime:
    """Time on a pause within [start, end): each pause lasts until the next entry, else until `end`.

    Entries before `start` do not carry over (a status belongs to its day); an `end` before
    `start` (a day not begun) gives nothing.
    """
    inside = sorted((e for e in entries if start <= e.at < end), key=lambda e: e.at)
    by_reason: dict[str, float] = {}
    for index, entry in enumerate(inside):
        if entry.status is not DeskStatus.PAUSE:
            continue
        until = inside[index + 1].at if index + 1 < len(inside) else end
        seconds = max((until - entry.at).total_seconds(), 0.0)
        reason = entry.reason or ""
        by_reason[reason] = by_reason.get(reason, 0.0) + seconds
    return PauseTime(sum(by_reason.values()), by_reason)
