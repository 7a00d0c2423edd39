"""Today's queue on the Expert's screen: rows, the next call and the progress line. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from scheduler.model import FINISHED_STATES, PlanState
from texts.labels import queue_state_label


@dataclass(frozen=True, slots=True)
class QueueRow:
    """A planned item (public_id set) or an unplanned call of the day (public_id None)."""

    public_id: str | None
    slot: datetime | None  # planned items only
    state: str | None  # planned items only (scheduler.model.PlanState)
    client_id: str | None  # external ids
    client_name: str | None
    contact_id: str | None
    contact_name: str | None
    phone: str | None
    reasons: tuple[str, ...]
    topic: str | None
    comment: str | None  # the previous contact's comment
    linkedid: str | None = None  # the latest call of this row
    direction: str | None = None
    outcome: str | None = None
    started_at: datetime | None = None
    talk_s: float | None = None
    wrapup_result: str | None = None
    productive: bool = False

    @property
    def is_planned(self) -> bool:
        return self.public_id is not None

    @property
    def is_open(self) -> bool:
        """Still to be called today."""
        return self.state in (PlanState.PLANNED, PlanState.IN_PROGRESS)

    @property
    def needs_wrapup(self) -> bool:
        """A call ended and not wrapped up; the Expert's own miss (her phone not answered) needs none."""
        return (self.linkedid is not None and self.outcome is not None and self.wrapup_result is None
                and self.outcome != "expert_no_answer")

    @property
    def state_label(self) -> str:
        return queue_state_label(self.state, self.outcome, self.wrapup_result)


@dataclass(frozen=True, slots=True)
class Progress:
    """SPEC-NOTES: finished planned items (any result) of planned calls; productive of them."""

    planned: int
    finished: int
    productive: int
    unplanned: int
    target: int

    @property
    def text(self) -> str:
        return f"{self.finished} из {self.planned}, результативных {self.productive}"


def progress(rows: Sequence[QueueRow], target: int) -> Progress:
    planned = [r for r in rows if r.is_planned and r.state not in (PlanState.CANCELLED, None)]
    finished = [r for r in planned if r.state in FINISHED_STATES]
    return Progress(
        planned=len(planned), finished=len(finished),
        productive=sum(1 for r in finished if r.productive),
        unplanned=sum(1 for r in rows if not r.is_planned), target=target,
    )


def next_row(rows: Sequence[QueueRow]) -> QueueRow | None:
    """The call to make now: one in progress, else the earliest still planned, by slot."""
    planned = sorted((r for r in rows if r.is_planned and r.is_open), key=_slot_order)
    in_progress = [r for r in planned if r.state == PlanState.IN_PROGRESS]
    return (in_progress or planned)[0] if planned else None


def ordered(rows: Sequence[QueueRow]) -> list[QueueRow]:
    """Planned items by slot, unplanned calls among them by their start time."""
    return sorted(rows, key=lambda r: (_sort_time(r), r.public_id or r.linkedid or ""))


def _slot_order(row: QueueRow) -> tuple[float, str]:
    return (row.slot.timestamp() if row.slot else float("inf"), row.public_id or "")


def _sort_time(row: QueueRow) -> float:
    moment = row.slot or row.started_at
    return moment.timestamp() if moment is not None else float("inf")
