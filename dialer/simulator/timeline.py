"""Re-time a template: new burst start times from phase durations, and capture time → simulated time. Pure."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from dialer.simulator.config import CallPlan
from dialer.simulator.templates import CallTemplate

MIN_GAP_S = 0.001  # a phase never overlaps the burst that opened it


def plan_starts(template: CallTemplate, plan: CallPlan, start: float) -> list[float]:
    """Simulated start time of every burst: each phase lasts what the plan says, start to start."""
    starts = [start]
    for index, phase in enumerate(template.gaps):
        burst = template.bursts[index]
        length = burst.end - burst.start
        starts.append(starts[-1] + max(plan.phase_seconds(phase), length + MIN_GAP_S))
    return starts


class TimeMap:
    """Maps a capture timestamp to simulated time, given when each burst was (or will be) played.

    Inside a burst the capture's offsets are kept; a time that fell in a wait is placed at
    the same fraction of the re-timed wait. Only the first `len(new_starts)` bursts are used,
    so a call cut short (an AMI Hangup) maps its earlier times onto what really happened.
    """

    __slots__ = ("_starts", "_ends", "_new")

    def __init__(self, starts: Sequence[float], ends: Sequence[float], new_starts: Sequence[float]) -> None:
        count = min(len(starts), len(new_starts))
        self._starts = list(starts[:count])
        self._ends = list(ends[:count])
        self._new = list(new_starts[:count])

    def __call__(self, t: float) -> float:
        index = bisect_right(self._starts, t) - 1
        if index < 0:
            return self._new[0] - (self._starts[0] - t)
        offset = t - self._starts[index]
        within = t <= self._ends[index] or index + 1 >= len(self._starts)
        if within:
            return self._new[index] + offset
        return self._in_gap(index, t)

    def _in_gap(self, index: int, t: float) -> float:
        gap_from = self._ends[index]
        gap_to = self._starts[index + 1]
        new_from = self._new[index] + (gap_from - self._starts[index])
        new_to = self._new[index + 1]
        share = (t - gap_from) / (gap_to - gap_from)
        return new_from + share * (new_to - new_from)
