"""How many wrong passwords are allowed before sign-in pauses (pure: `now` is an argument).

Failures are counted per key (a login, a client address) in a sliding window; once a key has
`max_failures` inside the window, it waits until its oldest failure leaves the window. A
successful sign-in clears the login's count. The number of keys is bounded, so a flood of
invented logins cannot grow memory without end (the oldest keys are forgotten first).

Checks still in flight count as failures until they end (`begin`/`end`): forty simultaneous
guesses for one login must not all pass the door while none has failed yet.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    max_failures: int
    window_s: float
    max_keys: int = 10_000
    in_flight_retry_s: float = 1.0  # the wait to suggest when only unfinished checks fill the quota
    _failures: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)
    _in_flight: Counter[str] = field(default_factory=Counter)

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until `key` may try again; 0.0 when it may try now (checks in flight count)."""
        failures = self._recent(key, now)
        done = 0 if failures is None else len(failures)
        if done + self._in_flight[key] < self.max_failures:
            return 0.0
        if failures is None or done < self.max_failures:
            return self.in_flight_retry_s
        return max(0.0, failures[0] + self.window_s - now)

    def begin(self, key: str) -> None:
        """A check for `key` starts: it counts against the quota until `end`."""
        self._in_flight[key] += 1

    def end(self, key: str) -> None:
        """The check started by `begin` is over (record its failure first, if it failed)."""
        self._in_flight[key] -= 1
        if self._in_flight[key] <= 0:
            del self._in_flight[key]

    def failed(self, key: str, now: float) -> None:
        failures = self._recent(key, now)
        if failures is None:
            failures = self._failures[key] = deque(maxlen=self.max_failures)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
        failures.append(now)
        self._failures.move_to_end(key)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        return failures
