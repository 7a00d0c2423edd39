"""Where the AMI server is and how to watch it, and the reconnect back-off. Pure."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from dialer.ami.framing import DEFAULT_MAX_FRAME_BYTES
from dialer.ami_client import DEFAULT_BUFFER_SIZE, Clock


@dataclass(frozen=True, slots=True)
class AmiOptions:
    """Where the AMI server is and how to watch it; times in seconds."""

    host: str = "127.0.0.1"
    port: int = 5038
    username: str = ""
    secret: str = field(default="", repr=False)
    auth: Literal["plain", "md5"] = "plain"
    connect_timeout: float = 3.0
    action_timeout: float = 10.0
    ping_interval: float = 20.0
    ping_timeout: float = 5.0
    backoff_min: float = 0.5
    backoff_max: float = 30.0
    backoff_jitter: float = 0.2  # ± this fraction of each delay, so desks do not reconnect in lockstep
    buffer_size: int = DEFAULT_BUFFER_SIZE
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    send_threads: int = 4


def backoff_delay(attempt: int, minimum: float, maximum: float, jitter: float, rnd: Clock = random.random) -> float:
    """minimum · 2^attempt, capped at maximum, then spread by ± jitter."""
    base = min(maximum, minimum * 2.0 ** min(attempt, 32))
    return max(0.0, base * (1 + jitter * (2 * rnd() - 1)))
