"""A time in state as an office worker reads it (issue 14): «1 ч 07 мин», not «67:26». Pure."""

from __future__ import annotations

import pytest

from service.figures.report import show_value
from service.figures.time_in_state import duration_text


@pytest.mark.parametrize(("seconds", "shown"), [
    (0, "0 с"),
    (0.4, "0 с"),
    (40, "40 с"),
    (59.4, "59 с"),
    (59.6, "1 мин"),  # rounds to a whole minute: no «60 с»
    (60, "1 мин"),
    (89, "1 мин"),
    (90, "2 мин"),
    (45 * 60, "45 мин"),
    (59 * 60 + 29, "59 мин"),
    (59 * 60 + 30, "1 ч 00 мин"),
    (67 * 60 + 26, "1 ч 07 мин"),  # the tryout's «67:26»
    (3600 + 10 * 60, "1 ч 10 мин"),
    (25 * 3600 + 5 * 60, "25 ч 05 мин"),  # a period's sum runs past a day: still hours
    (-3, "0 с"),  # a skewed clock never shows a negative time
])
def test_a_duration_is_spelt_in_hours_and_minutes(seconds: float, shown: str) -> None:
    assert duration_text(seconds) == shown


def test_the_page_shows_a_duration_spelt_out_and_a_call_length_as_before() -> None:
    assert show_value(4046, "duration") == "1 ч 07 мин"
    assert show_value(None, "duration") == "—"
    assert show_value(615, "seconds") == "10:15"  # a call's average length stays min:s
