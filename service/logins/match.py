"""Did a user of the call's client log in while the call was talking? Pure.

The rule (docs/figures.md, SPEC-NOTES "share with login"): a login of any user of the call's
client counts when it overlaps the call's talk interval, [answered, answered + talk time], widened
by the grace on each side. A login with no end is a single event at its start. A call never
answered had no talk, so no login can count for it.

Times are seconds since the epoch (floats): a month of a large department is a million logins
against ~330,000 calls, and comparing floats is what keeps that within seconds.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from itertools import accumulate

# A login session is looked for at most this long before the talk (the import refuses longer
# ones): it bounds the logins read, by an index range on their start.
LONGEST_SESSION = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Talk:
    """A call's talk: `start` None when it was never answered."""

    call_id: int
    client: str | None
    start: float | None
    talk_s: float

    @property
    def end(self) -> float | None:
        return None if self.start is None else self.start + self.talk_s


@dataclass(frozen=True, slots=True)
class Login:
    client: str
    start: float
    end: float | None  # None: a single login event

    @property
    def last(self) -> float:
        return self.start if self.end is None else max(self.end, self.start)


def overlaps(talk: Talk, login: Login, grace_s: float) -> bool:
    """The rule itself, for one call and one login."""
    if talk.start is None or talk.end is None or talk.client is None or login.client != talk.client:
        return False
    return login.start <= talk.end + grace_s and login.last >= talk.start - grace_s


class ClientLogins:
    """One client's logins, ready for many questions: starts sorted, the latest end so far at each.

    Among the logins that start before the widened talk ends, one reaches into it exactly when
    the latest end among them does: a binary search and one look-up per call.
    """

    __slots__ = ("_starts", "_reach")

    def __init__(self, spans: Sequence[tuple[float, float]]) -> None:
        ordered = sorted(spans)
        self._starts = [start for start, _ in ordered]
        self._reach = list(accumulate((last for _, last in ordered), max))

    def any_within(self, start: float, end: float) -> bool:
        """A login overlapping [start, end]."""
        before = bisect_right(self._starts, end)
        return before > 0 and self._reach[before - 1] >= start


def index_logins(logins: Iterable[tuple[str, float, float | None]]) -> dict[str, ClientLogins]:
    """(client, start, end or None) rows, in any order → each client's logins."""
    spans: dict[str, list[tuple[float, float]]] = {}
    for client, start, end in logins:
        spans.setdefault(client, []).append((start, start if end is None or end < start else end))
    return {client: ClientLogins(rows) for client, rows in spans.items()}


def measure(talks: Iterable[Talk], logins: dict[str, ClientLogins], grace_s: float) -> Iterator[tuple[int, bool]]:
    """(call id, logged in during the call) for every talk of a known client (the same answer as
    `overlaps` over all logins). A call whose client is unknown (an inbound call from a number in
    no directory) cannot be measured: it is left out, and the Expert's tick stands for it."""
    for talk in talks:
        if talk.client is None:
            continue
        found = False
        if talk.start is not None:
            mine = logins.get(talk.client)
            found = mine is not None and mine.any_within(talk.start - grace_s, talk.start + talk.talk_s + grace_s)
        yield talk.call_id, found

