"""Per-token rate limits: a token bucket per token, refilled continuously. Pure: `now` is given."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """`per_minute` requests a minute on average, a burst of up to `per_minute` at once."""

    def __init__(self) -> None:
        self._buckets: dict[int, _Bucket] = {}

    def take(self, key: int, per_minute: int, now: float) -> float:
        """0 when the request may go; else the seconds until it may (the Retry-After)."""
        capacity = float(max(per_minute, 1))
        rate = capacity / 60.0
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + max(0.0, now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate

    def forget(self, key: int) -> None:
        self._buckets.pop(key, None)
