"""Click-to-calls DS Desk sent and has not yet seen become calls. Pure: `now` is an argument.

Each expectation is known before any event of its call: by its ActionID (the OriginateResponse
names it) and by the Linkedid DS Desk chose for the first channel. It goes with its
OriginateResponse, its call's end, a failed send, or after `ttl_s`; a settled ActionID is
remembered a while, so a late OriginateResponse is never taken for another call's.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

log = logging.getLogger(__name__)

SETTLED_KEPT = 4096


@dataclass(frozen=True, slots=True)
class ExpectedOriginate:
    """A click-to-call DS Desk sent: known before any event, so a failed one is still recorded."""

    action_id: str
    linkedid: str  # the ChannelId we chose for the first channel
    expert_ext: str
    client_number: str | None
    planned_call_id: str | None
    client_id: str | None


class OriginateExpectations:
    def __init__(self, ttl_s: float) -> None:
        self._ttl = ttl_s
        self._by_action: dict[str, ExpectedOriginate] = {}
        self._by_linkedid: dict[str, ExpectedOriginate] = {}
        self._deadline: dict[str, float | None] = {}  # None: stamped by the next event batch
        self._next_check = 0.0
        self._settled: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_action)

    def all(self) -> list[ExpectedOriginate]:
        return list(self._by_action.values())

    def expect(self, expected: ExpectedOriginate, now: float | None = None) -> None:
        self.forget(expected.action_id)
        self._by_action[expected.action_id] = expected
        self._by_linkedid[expected.linkedid] = expected
        self._deadline[expected.action_id] = None if now is None else now + self._ttl

    def forget(self, action_id: str) -> None:
        """Settled: sent and answered, failed to send, its call ended, or expired."""
        expected = self._by_action.pop(action_id, None)
        self._deadline.pop(action_id, None)
        if expected is None:
            return
        if self._by_linkedid.get(expected.linkedid) is expected:
            del self._by_linkedid[expected.linkedid]
        self._settled[action_id] = None
        if len(self._settled) > SETTLED_KEPT:
            self._settled.popitem(last=False)

    def by_action(self, action_id: str) -> ExpectedOriginate | None:
        return self._by_action.get(action_id)

    def by_linkedid(self, linkedid: str) -> ExpectedOriginate | None:
        return self._by_linkedid.get(linkedid)

    def was_settled(self, action_id: str) -> bool:
        return action_id in self._settled

    def for_extension(self, expert_ext: str) -> bool:
        """A click-to-call of this Expert's is on its way."""
        return any(e.expert_ext == expert_ext for e in self._by_action.values())

    def expire(self, now: float) -> None:
        """Drop the expectations older than the TTL (checked at most every TTL/10, ≤ 10 s)."""
        if not self._by_action or now < self._next_check:
            return
        self._next_check = now + min(self._ttl / 10, 10.0)
        for action_id, deadline in list(self._deadline.items()):
            if deadline is None:
                self._deadline[action_id] = now + self._ttl
            elif deadline <= now:
                log.info("click-to-call %s: no OriginateResponse within %.0f s; expectation dropped",
                         action_id, self._ttl)
                self.forget(action_id)
