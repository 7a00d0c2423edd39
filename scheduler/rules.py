"""The plan builder's tunable rules (`PlanRules`): targets, working hours, thresholds.

The `plan:` section of config.yaml maps onto these fields one to one; the defaults are the
department's targets (15–17 calls a day) and the thresholds named in the daily-plan issue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from scheduler.model import SignalKind


@dataclass(frozen=True, slots=True)
class PlanRules:
    """Everything the builder needs to know besides the data; immutable and validated."""

    target_min: int = 15  # the count to aim for unless `Expert.daily_target` says otherwise
    target_max: int = 17  # owed and due calls may fill the day up to here, the rest rolls over
    day_start: time = time(9, 0)  # in the Expert's time zone
    day_end: time = time(18, 0)
    lunch_start: time = time(13, 0)
    lunch_end: time = time(14, 0)
    # 25 minutes gives 9 slots before and 9 after lunch: 17 calls fit with one to spare.
    slot_minutes: int = 25
    retry_max_attempts: int = 3  # `attempts_since_contact` at or above this stops retries
    cadence_days: int = 14  # when `Client.contact_every_days` is not set
    not_logged_in_days: int = 14  # online version without a login (and no contact) this long
    not_trained_days: int = 90  # a user without a contact made this long
    terms_ending_days: int = 30  # financial terms ending within this many days
    debt_threshold_rub: float = 0.0  # debt strictly above this is a reason to call
    # Debt has no start date: after a contact made, wait this long before raising it again.
    debt_repeat_days: int = 7
    signal_kinds: frozenset[SignalKind] = field(default_factory=lambda: frozenset(SignalKind))
    # A contact without a call window of its own is called in these hours, the client's local time.
    client_hours: tuple[time, time] = (time(9, 0), time(18, 0))

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise ValueError("invalid plan rules: " + "; ".join(problems))

    def _problems(self) -> list[str]:
        found: list[str] = []
        if not 0 < self.target_min <= self.target_max:
            found.append(f"need 0 < target_min <= target_max, got {self.target_min}, {self.target_max}")
        if not self.day_start <= self.lunch_start <= self.lunch_end <= self.day_end:
            found.append("need day_start <= lunch_start <= lunch_end <= day_end")
        if self.day_start >= self.day_end:
            found.append("need day_start < day_end")
        if self.slot_minutes <= 0:
            found.append(f"slot_minutes must be positive, got {self.slot_minutes}")
        for name in ("retry_max_attempts", "cadence_days", "not_logged_in_days", "not_trained_days"):
            if getattr(self, name) < 1:
                found.append(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("terms_ending_days", "debt_repeat_days"):
            if getattr(self, name) < 0:
                found.append(f"{name} must not be negative, got {getattr(self, name)}")
        if self.debt_threshold_rub < 0:
            found.append(f"debt_threshold_rub must not be negative, got {self.debt_threshold_rub}")
        return found

    @property
    def slot_length(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)

    def slots_per_day(self) -> int:
        """How many slots the working day holds (the grid the builder spreads calls over)."""
        return _fit(self.day_start, self.lunch_start, self.slot_minutes) + _fit(
            self.lunch_end, self.day_end, self.slot_minutes
        )


def _fit(start: time, end: time, minutes: int) -> int:
    """Whole slots of `minutes` between two times of one day."""
    anchor = date(2000, 1, 1)
    span = datetime.combine(anchor, end) - datetime.combine(anchor, start)
    return max(0, int(span // timedelta(minutes=minutes)))
