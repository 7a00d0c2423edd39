"""engine.py (one pass, prefix sums) gives the same numbers as report.figures (the definitions, one segment and one
period at a time) on random departments: clients known from inside the period, moves КС → ДС and back, VIP, users
without trainings and trainings of non-users, acts not back, requests on the day of a move."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from service.compare.definitions import Period
from service.compare.report import SEGMENTS, Facts, compare, figures, months_of

YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))


def _day(rng: random.Random, first: date = date(2024, 1, 1), days: int = 760) -> date:
    return first + timedelta(days=rng.randrange(days))


def department(seed: int) -> Facts:
    rng = random.Random(seed)
    history: dict[int, list[tuple[date, str]]] = {}
    for client in range(400):
        start = rng.choice((date(2000, 1, 1), _day(rng)))
        changes = [(start, rng.choice(("ДС", "КС", "КС", "VIP")))]
        for _ in range(rng.choice((0, 0, 0, 1, 2))):
            since = changes[-1][0] + timedelta(days=rng.randint(1, 300))
            changes.append((since, rng.choice([s for s in ("ДС", "КС", "VIP") if s != changes[-1][1]])))
        history[client] = changes
    users = {user: rng.randrange(400) for user in range(900) if rng.random() < 0.8}
    return Facts(
        history=history,
        disconnections=[(rng.randrange(400), _day(rng)) for _ in range(60)],
        competitor_losses=[(rng.randrange(400), _day(rng), rng.choice(("Главбух", "Гарант", ""))) for _ in range(20)],
        user_counts=dict(Counter(users.values())),
        trainings=[(user, users[user], _day(rng)) for user in (rng.randrange(900) for _ in range(700))
                   if user in users],
        prepaid_months={c: rng.choice((None, 0, 1, 6)) for c in range(400)},
        completeness={c: Decimal(rng.randint(40, 100)) / 100 for c in range(400) if rng.random() < 0.7},
        acts=[(rng.randrange(400), _day(rng), rng.choice((None, _day(rng)))) for _ in range(1500)],
        requests=[(rng.randrange(400), _day(rng)) for _ in range(3000)],
        seminar_visits=[(rng.randrange(400), _day(rng)) for _ in range(500)],
        webinars_sold=[(rng.randrange(400), _day(rng)) for _ in range(80)],
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("period", [YEAR, Period(date(2025, 3, 15), date(2025, 5, 2)), Period(date(2024, 12, 31),
                                                                                             date(2024, 12, 31))])
def test_the_engine_agrees_with_the_definitions(seed: int, period: Period) -> None:
    facts = department(seed)
    found = compare(facts, period, [], [], {})
    months = months_of(period)
    for segment in SEGMENTS:
        assert {k: v[segment] for k, v in found.table.items()} == figures(facts, segment, period)
        for index, month in enumerate(months):
            expected = figures(facts, segment, month)
            assert {k: v[segment][index] for k, v in found.series.items()} == {k: v.value for k, v in expected.items()}
