"""The ДС-versus-КС figures (issue 17, item 4): a table per definition, with a client that moved from КС
to ДС inside the period counted in the segment it was in then, and «нет данных» never 0 %."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from service.compare.definitions import (
    Period,
    Ratio,
    acts_on_time,
    churn,
    clients_in,
    paid_webinars,
    prepayment_share,
    requests_per_client,
    segment_on,
    st_attendance,
    trained_share,
)

Q2 = Period(date(2026, 4, 1), date(2026, 6, 30))
LONG_AGO = date(2020, 1, 1)
# 1, 2: ДС all along; 3: КС all along; 4: КС, moved to ДС on 15.05; 5: known from 01.05 (ДС).
HISTORY = {
    1: [(LONG_AGO, "ДС")], 2: [(LONG_AGO, "ДС")], 3: [(LONG_AGO, "КС")],
    4: [(LONG_AGO, "КС"), (date(2026, 5, 15), "ДС")], 5: [(date(2026, 5, 1), "ДС")],
}


@pytest.mark.parametrize(("client", "day", "segment"), [
    (4, date(2026, 5, 14), "КС"), (4, date(2026, 5, 15), "ДС"), (5, date(2026, 4, 30), None),
    (5, date(2026, 5, 1), "ДС"), (3, date(2030, 1, 1), "КС"),
])
def test_a_clients_segment_is_the_one_in_force_that_day(client: int, day: date, segment: str | None) -> None:
    assert segment_on(HISTORY[client], day) == segment


def test_the_segments_at_the_start_and_the_end() -> None:
    assert clients_in(HISTORY, "ДС", Q2.first) == {1, 2}
    assert clients_in(HISTORY, "ДС", Q2.last) == {1, 2, 4, 5}
    assert clients_in(HISTORY, "КС", Q2.first) == {3, 4} and clients_in(HISTORY, "КС", Q2.last) == {3}


def test_churn_counts_a_client_in_the_segment_it_was_in_that_day() -> None:
    lost = [(4, date(2026, 5, 10)), (1, date(2026, 6, 1)), (2, date(2026, 3, 31)), (3, date(2026, 7, 1))]
    assert churn(HISTORY, "ДС", Q2, lost) == Ratio(1, 2)  # client 1; client 2's was before the period
    assert churn(HISTORY, "КС", Q2, lost) == Ratio(1, 2)  # client 4, still КС on 10.05; client 3's after it
    assert churn(HISTORY, "VIP", Q2, lost).value is None  # no client: «нет данных», not 0 %


def test_the_trained_share_reads_the_last_twelve_months_of_the_users_at_the_end() -> None:
    user_counts = {1: 2, 2: 1, 4: 1, 3: 1}  # client → its users (11, 12; 21; 41; 31)
    trainings = [(11, 1, date(2025, 7, 1)), (12, 1, date(2025, 6, 30)), (41, 4, date(2026, 5, 1)),
                 (31, 3, date(2026, 6, 1))]
    share = trained_share(HISTORY, "ДС", Q2, user_counts, trainings)
    assert share == Ratio(2, 4)  # 11 (inside 12 months) and 41 (client 4 is ДС at the end); 12 is too old
    assert share.value == Decimal("0.5")
    assert trained_share(HISTORY, "КС", Q2, user_counts, trainings) == Ratio(1, 1)


def test_acts_on_time_and_prepayment() -> None:
    acts = [(1, date(2026, 4, 10), date(2026, 4, 10)), (2, date(2026, 4, 10), date(2026, 4, 11)),
            (4, date(2026, 5, 1), date(2026, 4, 30)), (4, date(2026, 6, 1), None), (1, date(2026, 7, 1), None)]
    assert acts_on_time(HISTORY, "ДС", Q2, acts) == Ratio(1, 3)  # the returned-late one and the unreturned one
    assert acts_on_time(HISTORY, "КС", Q2, acts) == Ratio(1, 1)  # client 4's act due while it was КС
    assert prepayment_share(HISTORY, "ДС", Q2, {1: 6, 2: 0, 4: None, 5: 1}) == Ratio(2, 4)


def test_requests_visits_and_webinars() -> None:
    requests = [(1, date(2026, 4, 2)), (1, date(2026, 4, 3)), (4, date(2026, 4, 20)), (4, date(2026, 6, 20))]
    assert requests_per_client(HISTORY, "ДС", Q2, requests) == (3, 4, Decimal("0.75"))
    assert requests_per_client(HISTORY, "VIP", Q2, requests) == (0, 0, None)
    visits = [(1, date(2026, 4, 5)), (1, date(2026, 5, 5)), (3, date(2026, 5, 5)), (2, date(2026, 7, 5))]
    assert st_attendance(HISTORY, "ДС", Q2, visits) == Ratio(1, 4)
    assert st_attendance(HISTORY, "КС", Q2, visits) == Ratio(1, 1)
    sold = [(4, date(2026, 5, 14)), (4, date(2026, 5, 15)), (5, date(2026, 4, 20))]
    assert (paid_webinars(HISTORY, "ДС", Q2, sold), paid_webinars(HISTORY, "КС", Q2, sold)) == (1, 1)
