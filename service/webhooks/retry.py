"""When a failed delivery is tried again, and when DS Desk gives up on it. Pure.

10 s, 30 s, 1 min, 5 min, 15 min, 30 min, then every hour; the last attempt is made when the give-up
period (24 h by default) since the event is reached, and a failure then is final.
"""

from __future__ import annotations

from datetime import datetime, timedelta

BACKOFF_S = (10, 30, 60, 300, 900, 1800)
HOURLY_S = 3600


def backoff_s(failures: int) -> int:
    """Seconds to wait after the `failures`-th failed attempt (1, 2, …)."""
    if failures < 1:
        raise ValueError("failures must be >= 1")
    return BACKOFF_S[failures - 1] if failures <= len(BACKOFF_S) else HOURLY_S


def next_attempt(created_at: datetime, failures: int, now: datetime, give_up: timedelta) -> datetime | None:
    """When to try again after a failure at `now`; None: give up (the period since `created_at` is over)."""
    deadline = created_at + give_up
    if now >= deadline:
        return None
    return min(now + timedelta(seconds=backoff_s(failures)), deadline)
