"""Wrong-password throttling (pure: time is an argument)."""

from __future__ import annotations

from service.login_throttle import LoginThrottle


def test_a_key_pauses_after_its_failures_until_the_oldest_leaves_the_window() -> None:
    throttle = LoginThrottle(max_failures=3, window_s=60.0)
    for t in (0.0, 10.0, 20.0):
        assert throttle.retry_after("maria", t) == 0.0
        throttle.failed("maria", t)
    assert throttle.retry_after("maria", 30.0) == 30.0  # the failure at 0 leaves at 60
    assert throttle.retry_after("anna", 30.0) == 0.0  # other keys are not affected
    assert throttle.retry_after("maria", 60.0) == 0.0
    throttle.failed("maria", 61.0)
    assert throttle.retry_after("maria", 62.0) == 8.0  # 10, 20 and 61 are in the window: wait for 10 to leave


def test_success_clears_the_count() -> None:
    throttle = LoginThrottle(max_failures=2, window_s=60.0)
    throttle.failed("maria", 0.0)
    throttle.succeeded("maria")
    throttle.failed("maria", 1.0)
    assert throttle.retry_after("maria", 2.0) == 0.0


def test_invented_logins_cannot_grow_memory_without_end() -> None:
    throttle = LoginThrottle(max_failures=2, window_s=60.0, max_keys=100)
    for n in range(1000):
        throttle.failed(f"bot{n}", float(n) / 1000)
    assert len(throttle._failures) == 100
    throttle.failed("bot999", 1.0)
    assert throttle.retry_after("bot999", 1.0) > 0  # the newest keys are kept
