"""How long a call spent in each script step, from the moments the Expert moved on. Pure.

A step lasts from its entry to the next entry; the last one to the call's end (or `now` while it is up). Entries
are the server's clock at the Expert's key press, so a step's time is measured, never typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class StepEntry:
    seq: int
    step_key: str
    entered_at: datetime


@dataclass(frozen=True, slots=True)
class StepTime:
    step_key: str
    entered_at: datetime
    seconds: float


def step_times(entries: Sequence[StepEntry], ended_at: datetime | None, now: datetime) -> list[StepTime]:
    """Each entry's time in order of `seq`; an entry after the call's end counts nothing (a late request)."""
    ordered = sorted(entries, key=lambda entry: entry.seq)
    end = ended_at or now
    times = []
    for entry, following in zip(ordered, [*ordered[1:], None], strict=True):
        until = min(following.entered_at, end) if following is not None else end
        times.append(StepTime(entry.step_key, entry.entered_at, max(0.0, (until - entry.entered_at).total_seconds())))
    return times
