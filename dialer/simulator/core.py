"""The PBX's simulated clock and its id counters (Uniqueid sequence, Local channel numbers, bridges)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable


class SimClock:
    """Simulated unix time: starts at `epoch` and runs `speed` times faster than the real clock."""

    __slots__ = ("_epoch", "_t0", "speed", "_mono")

    def __init__(self, epoch: float, speed: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._epoch = epoch
        self._mono = monotonic
        self._t0 = monotonic()
        self.speed = speed

    def now(self) -> float:
        return self._epoch + (self._mono() - self._t0) * self.speed

    def real_delay(self, until: float) -> float:
        """Real seconds to wait until simulated time `until` (0 if it has passed)."""
        return max(0.0, (until - self.now()) / self.speed)

    def to_real(self, simulated_seconds: float) -> float:
        return max(0.0, simulated_seconds / self.speed)

    def advance(self, seconds: float) -> None:
        """Jump forward (a restart takes a while on a real PBX)."""
        self._epoch += seconds


class PbxCounters:
    """Asterisk's global counters: `epoch.seq` Uniqueids, `-0000001a` Local pairs, bridge UUIDs.

    They are not reset by a simulated restart: a restart inside the same simulated second
    would otherwise hand out Uniqueids that trackers have already seen.
    """

    __slots__ = ("_seq", "_local", "_rng")

    def __init__(self, rng: random.Random) -> None:
        self._seq = 0
        self._local = 0
        self._rng = rng

    def uniqueid(self, at: float) -> str:
        value = f"{int(at)}.{self._seq}"
        self._seq += 1
        return value

    def local_suffix(self) -> str:
        value = f"-{self._local:08x}"
        self._local += 1
        return value

    def bridge_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
