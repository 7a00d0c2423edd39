"""The live board's state of one Expert (свободен, вызов, разговор, итоги звонка, пауза, нет на месте). Pure.

The inputs are facts the service already has: the live payloads of the Expert's calls that are
up (service/live.py), whether their latest call of the day still has no wrap-up and since when
(the ledger), the pause they declared (service/desk/status.py), whether their screen is open (the
hub's presence) and whether they are absent today (the plan's absences).
service/web/static/board.js applies the same rules to the events it is pushed;
tests/service/test_board.py is the table both follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.model import PlanState
from service.desk.queue import QueueRow, progress
from service.desk.status import StatusEntry
from service.figures.compute import pacing
from service.figures.model import Pacing
from texts.labels import BOARD_STATE_LABELS

Payload = Mapping[str, Any]  # one call's live payload (docs/live.md)


class BoardState(StrEnum):
    AVAILABLE = "available"
    RINGING = "ringing"
    TALKING = "talking"
    WRAPUP = "wrapup"
    PAUSE = "pause"
    AWAY = "away"


_RINGING_LIVE_STATES = frozenset({"dialling", "ringing"})


@dataclass(frozen=True, slots=True)
class ExpertBoardState:
    """What the board shows in an Expert's state cell; `since` starts its timer (time in state)."""

    state: BoardState
    since: datetime | None = None
    linkedid: str | None = None
    client: str | None = None  # the client's name, else the number
    direction: str | None = None
    reason: str | None = None  # a pause's

    @property
    def label(self) -> str:
        label = BOARD_STATE_LABELS[self.state]
        return f"{label}: {self.reason}" if self.state is BoardState.PAUSE and self.reason else label

    def elapsed_s(self, now: datetime) -> float | None:
        """Seconds in this state, never negative on a skewed clock (None: no timer)."""
        if self.since is None:
            return None
        return max((now - self.since).total_seconds(), 0.0)

    def overdue(self, now: datetime, wrapup_warn_s: float) -> bool:
        """A wrap-up waiting longer than `desk.wrapup_warn_s`: amber on the board."""
        elapsed = self.elapsed_s(now)
        return self.state is BoardState.WRAPUP and elapsed is not None and elapsed > wrapup_warn_s


def board_state(calls: Iterable[Payload], *, needs_wrapup: bool, present: bool, absent: bool,
                wrapup_since: datetime | None = None, pause: StatusEntry | None = None) -> ExpertBoardState:
    """The Expert's state: a call up wins, then a wrap-up owed, then a declared pause, then away,
    else available.

    A call is a fact from the PBX, so it shows even for an Expert without an open screen (or
    marked absent, or on a pause: an inbound call reached her). A wrap-up owed shows even with
    the screen closed: the work is still to do. A pause shows with the screen closed too (at
    lunch the laptop is shut): it is what she said.
    """
    up = [c for c in calls if c.get("state") != "ended"]
    talking = [c for c in up if c.get("state") == "talking"]
    if talking:
        call = talking[-1]
        return _on_call(BoardState.TALKING, call, _parse(call.get("answered_at")) or _parse(call.get("at")))
    ringing = [c for c in up if c.get("state") in _RINGING_LIVE_STATES]
    if ringing:
        call = ringing[-1]
        return _on_call(BoardState.RINGING, call, _parse(call.get("at")))
    if needs_wrapup:
        return ExpertBoardState(BoardState.WRAPUP, wrapup_since)
    if pause is not None and not absent:
        return ExpertBoardState(BoardState.PAUSE, pause.at, reason=pause.reason)
    if absent or not present:
        return ExpertBoardState(BoardState.AWAY)
    return ExpertBoardState(BoardState.AVAILABLE)


def _on_call(state: BoardState, call: Payload, since: datetime | None) -> ExpertBoardState:
    client = call.get("client_name") or call.get("client_number")
    return ExpertBoardState(state, since, call.get("linkedid"), client, call.get("direction"))


def _parse(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def calls_by_extension(calls: Iterable[Payload]) -> dict[str, list[Payload]]:
    """A snapshot's calls grouped by the Expert's extension (calls with none are nobody's)."""
    grouped: dict[str, list[Payload]] = {}
    for call in calls:
        ext = call.get("expert_ext")
        if ext:
            grouped.setdefault(str(ext), []).append(call)
    return grouped


@dataclass(frozen=True, slots=True)
class DayProgress:
    """«N из M, результативных K» and the pacing against the plan's slots so far."""

    text: str
    planned: int
    finished: int
    productive: int
    pacing: Pacing

    @property
    def pacing_text(self) -> str:
        """No verdict on the pace of no plan («0 из 0 … идёт по плану» said nothing true)."""
        return "" if self.planned == 0 else self.pacing.text

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "planned": self.planned, "finished": self.finished,
                "productive": self.productive, "pacing": self.pacing_text, "behind": self.pacing.behind,
                "due": self.pacing.due}


def day_progress(rows: Sequence[QueueRow], target: int, now: datetime, tz: ZoneInfo, *,
                 is_today: bool = True, day: date | None = None) -> DayProgress:
    """Progress as on the Expert's screen; pacing = items whose slot has come vs. items finished.

    On a day off the board shows the next working day's plan (`day`): nothing is due yet.
    """
    done = progress(rows, target)
    due = 0 if not is_today else sum(1 for r in rows if _is_due(r, now))
    local: time = now.astimezone(tz).time()
    text = done.text if done.planned else no_plan_text(None if is_today else day)
    return DayProgress(text, done.planned, done.finished, done.productive, pacing(due, done.finished, local))


def no_plan_text(day: date | None) -> str:
    """Today's (None) or the next working day's empty plan."""
    return "плана на сегодня нет" if day is None else f"плана на {day:%d.%m.%Y} нет"


def paused_after(pause: StatusEntry | None, wrapup_since: datetime | None) -> bool:
    """A pause declared after the call owing a wrap-up ended: she left it unsaved and went to lunch, so
    the pause is what she is doing (the card notes the wrap-up). A pause from before the call (an
    inbound call reached her on it) is not: the wrap-up of that call is her work now."""
    return pause is not None and wrapup_since is not None and pause.at >= wrapup_since


def wrapup_client(queue: Sequence[QueueRow], linkedid: str) -> str | None:
    """«ООО «Ромашка» · Иванова Ольга Петровна»: the client and contact of the call owing a wrap-up,
    from the Expert's queue of the day; the number when neither is known; None when not in the queue."""
    row = next((r for r in queue if r.linkedid == linkedid), None)
    if row is None:
        return None
    names = [name for name in (row.client_name, row.contact_name) if name]
    return " · ".join(names) if names else row.phone


def _is_due(row: QueueRow, now: datetime) -> bool:
    return (row.is_planned and row.state not in (PlanState.CANCELLED, None)
            and row.slot is not None and row.slot < now)
