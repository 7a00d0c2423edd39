"""`PlanRules`: the defaults fit the department's day, and nonsense is refused by name."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from scheduler.model import SignalKind
from scheduler.rules import PlanRules


def test_defaults_fit_the_maximum_into_the_day() -> None:
    rules = PlanRules()
    assert (rules.target_min, rules.target_max) == (15, 17)
    assert rules.slots_per_day() == 18 >= rules.target_max
    assert rules.signal_kinds == frozenset(SignalKind)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"target_min": 18}, "target_min"),
        ({"target_min": 0}, "target_min"),
        ({"lunch_start": time(8)}, "lunch_start"),
        ({"day_start": time(18), "lunch_start": time(18), "lunch_end": time(18)}, "day_start < day_end"),
        ({"slot_minutes": 0}, "slot_minutes"),
        ({"retry_max_attempts": 0}, "retry_max_attempts"),
        ({"terms_ending_days": -1}, "terms_ending_days"),
        ({"debt_threshold_rub": -5.0}, "debt_threshold_rub"),
    ],
)
def test_nonsense_is_refused(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        PlanRules(**changes)
