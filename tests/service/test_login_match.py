"""The overlap rule for "logged in during the call" (service/logins/match.py): a table of cases."""

from __future__ import annotations

import random

import pytest

from service.logins.match import Login, Talk, index_logins, measure, overlaps

GRACE = 120.0
# The talk: answered at t=1000 s, 300 s of talk → [1000, 1300]; widened → [880, 1420].
TALK = Talk(call_id=1, client="C-1", start=1000.0, talk_s=300.0)


@pytest.mark.parametrize(("case", "login", "expected"), [
    ("a session inside the talk", Login("C-1", 1100, 1200), True),
    ("a session around the talk", Login("C-1", 500, 2000), True),
    ("a session that ends as the talk begins", Login("C-1", 500, 1000), True),
    ("a session that ends within the grace before", Login("C-1", 500, 880), True),
    ("a session that ends a second before the grace", Login("C-1", 500, 879), False),
    ("a session starting within the grace after", Login("C-1", 1420, 1500), True),
    ("a session starting a second after the grace", Login("C-1", 1421, 1500), False),
    ("a single event inside the talk", Login("C-1", 1150, None), True),
    ("a single event at the grace's first second", Login("C-1", 880, None), True),
    ("a single event before the grace", Login("C-1", 879.5, None), False),
    ("a single event long after", Login("C-1", 5000, None), False),
    ("another client's user, inside the talk", Login("C-2", 1100, 1200), False),
])
def test_the_rule(case: str, login: Login, expected: bool) -> None:
    assert overlaps(TALK, login, GRACE) is expected, case
    index = index_logins([(login.client, login.start, login.end)])
    assert list(measure([TALK], index, GRACE)) == [(1, expected)], case


def test_a_call_never_answered_has_no_login_during_it() -> None:
    unanswered = Talk(2, "C-1", None, 0.0)
    login = Login("C-1", 0, 10_000)
    assert not overlaps(unanswered, login, GRACE)
    assert list(measure([unanswered], index_logins([("C-1", 0, 10_000)]), GRACE)) == [(2, False)]


def test_a_call_of_a_client_without_usage_data_is_measured_no() -> None:
    # The caller measures only days the usage data covers; there, no login is a measured «no».
    assert list(measure([TALK], {}, GRACE)) == [(1, False)]


def test_zero_grace_needs_a_real_overlap() -> None:
    assert overlaps(TALK, Login("C-1", 1300, None), 0.0)
    assert not overlaps(TALK, Login("C-1", 1300.5, None), 0.0)


def test_an_end_before_the_start_counts_as_a_single_event() -> None:
    # The import refuses such rows; the rule still must not invent a session from them.
    assert not overlaps(TALK, Login("C-1", 700, 100), GRACE)
    assert list(measure([TALK], index_logins([("C-1", 700, 100)]), GRACE)) == [(1, False)]


def test_the_index_answers_as_the_rule_does_over_many_logins() -> None:
    """The bulk path (sorted starts, latest end so far) against the plain rule, on random data."""
    rng = random.Random(13)
    logins = []
    for _ in range(3000):
        client = f"C-{rng.randrange(40)}"
        start = rng.uniform(0, 100_000)
        end = None if rng.random() < 0.3 else start + rng.expovariate(1 / 900)
        logins.append(Login(client, start, end))
    talks = [Talk(n, f"C-{rng.randrange(45)}", None if rng.random() < 0.1 else rng.uniform(0, 100_000),
                  rng.uniform(0, 1200)) for n in range(2000)]
    index = index_logins((x.client, x.start, x.end) for x in logins)
    fast = dict(measure(talks, index, GRACE))
    plain = {t.call_id: any(overlaps(t, x, GRACE) for x in logins) for t in talks}
    assert fast == plain
    assert 0 < sum(fast.values()) < len(fast)  # the data has both answers
