"""Live state changes held until the record they depend on is committed. Pure: no I/O, no clock.

A call's record is written when it opens and when it closes (and whenever the recorder is
given a newer one). Its live events go out in order, and:
- its first event waits for the opening record's commit: it then names the client the store
  matched by the caller's number, and the call's owner;
- `ended` waits for the closing record's commit: a screen told `ended` can read the closed
  row at once (the wrap-up form, the board);
- the events between (ringing, talking) go out at once, unless an earlier one still waits.
Each record handed to the store gets a version per call; the store keeps only a call's latest
record, so a commit of version n covers every version up to n.

What the store added (client, owner) is remembered while the call is up: later events carry
it, and the call's later records carry the client, so the store matches a caller once.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dialer.records import CallRecord, CallStateChanged
from dialer.store import StoredCall


@dataclass(frozen=True, slots=True)
class Release:
    """An event ready for the live screens, with when its AMI batch arrived (epoch seconds)."""

    change: CallStateChanged
    received_at: float


@dataclass(slots=True)
class _Held:
    version: int
    change: CallStateChanged
    received_at: float
    since: float  # when it started waiting, in the caller's clock


class DurableEvents:
    """Versions of each call's records, the events waiting for them, and what the store added."""

    def __init__(self) -> None:
        self._versions: dict[str, int] = {}
        self._committed: dict[str, int] = {}
        self._held: dict[str, deque[_Held]] = {}
        self._stored: dict[str, StoredCall] = {}

    def next_version(self, linkedid: str) -> int:
        """A new record of this call goes to the store: its version."""
        version = self._versions.get(linkedid, 0) + 1
        self._versions[linkedid] = version
        return version

    def latest_version(self, linkedid: str) -> int:
        """The version of the call's latest record handed to the store (0: none since start)."""
        return self._versions.get(linkedid, 0)

    def release_or_hold(self, change: CallStateChanged, received_at: float, version: int,
                        now: float) -> list[Release]:
        """`change` now, if `version` of its call is committed and nothing of it waits; else kept."""
        linkedid = change.linkedid
        if linkedid not in self._held and version <= self._committed.get(linkedid, 0):
            return [Release(_enriched(change, change.record, self._stored.get(linkedid)), received_at)]
        self._held.setdefault(linkedid, deque()).append(_Held(version, change, received_at, now))
        return []

    def with_stored(self, record: CallRecord) -> CallRecord:
        """`record` with what the store added earlier (the client it matched), for writing it again."""
        stored = self._stored.get(record.linkedid)
        if stored is None or record.client_id is not None or stored.client_id is None:
            return record
        return dataclasses.replace(record, client_id=stored.client_id,
                                   client_name=record.client_name or stored.client_name)

    def committed(self, linkedid: str, version: int, stored: StoredCall | None,
                  written: CallRecord) -> list[Release]:
        """`version` of the call is durable: its waiting events up to it, with the committed facts."""
        if stored is not None:
            self._stored[linkedid] = _merged(self._stored.get(linkedid), stored)
        self._committed[linkedid] = max(version, self._committed.get(linkedid, 0))
        released = self._take(linkedid, lambda held: held.version <= version)
        facts = self._stored.get(linkedid)
        if not written.is_open and self._versions.get(linkedid) == version:
            self._forget(linkedid)  # closed and nothing newer pending: nothing more will come
        return [Release(_enriched(h.change, written, facts), h.received_at) for h in released]

    def give_up(self, linkedid: str) -> list[Release]:
        """The call's records will not be written (refused, or dropped from a full backlog):
        its events go out as they are, the screens must not wait for ever."""
        released = self._take(linkedid, lambda held: True)
        self._forget(linkedid)
        return [Release(h.change, h.received_at) for h in released]

    def overdue(self, now: float, wait_s: float) -> list[Release]:
        """Events that waited longer than `wait_s` (the store is down): released unconfirmed.

        A call's later events go with its overdue first one, so its order is kept.
        """
        late = [linkedid for linkedid, queue in self._held.items() if queue and now - queue[0].since >= wait_s]
        out: list[Release] = []
        for linkedid in late:
            out += [Release(dataclasses.replace(h.change, saved=False), h.received_at)
                    for h in self._take(linkedid, lambda held: True)]
        return out

    def held_count(self) -> int:
        return sum(len(queue) for queue in self._held.values())

    def _take(self, linkedid: str, ready: Callable[[_Held], bool]) -> list[_Held]:
        queue = self._held.get(linkedid)
        taken: list[_Held] = []
        while queue and ready(queue[0]):
            taken.append(queue.popleft())
        if queue is not None and not queue:
            del self._held[linkedid]
        return taken

    def _forget(self, linkedid: str) -> None:
        self._versions.pop(linkedid, None)
        self._committed.pop(linkedid, None)
        self._stored.pop(linkedid, None)
        self._held.pop(linkedid, None)

    def forget_all(self, linkedids: Iterable[str]) -> None:
        for linkedid in linkedids:
            self._forget(linkedid)


def _merged(before: StoredCall | None, now: StoredCall) -> StoredCall:
    if before is None:
        return now
    return StoredCall(client_id=now.client_id or before.client_id, client_name=now.client_name or before.client_name,
                      owner_id=now.owner_id if now.owner_id is not None else before.owner_id)


def _enriched(change: CallStateChanged, written: CallRecord, facts: StoredCall | None) -> CallStateChanged:
    """The event's own record (its state's moment), completed from the committed row: the caller's
    number if the tracker learned it meanwhile, the client the store matched; and the owner."""
    record = change.record
    updates: dict[str, object] = {}
    if record.client_number is None and written.client_number is not None:
        updates["client_number"] = written.client_number
        updates["client_name"] = record.client_name or written.client_name
    if facts is not None and facts.client_id is not None and record.client_id in (None, facts.client_id):
        updates["client_id"] = facts.client_id
        if facts.client_name:  # the organisation's name, not the caller ID's
            updates["client_name"] = facts.client_name
    # Only what differs: replacing a 20-field record per event cost as much as the write itself.
    changed = {name: value for name, value in updates.items() if getattr(record, name) != value}
    owner = facts.owner_id if facts is not None else None
    if not changed and owner == change.owner_id:
        return change
    fresh = dataclasses.replace(record, **changed) if changed else record  # type: ignore[arg-type]
    return dataclasses.replace(change, record=fresh, owner_id=owner if owner is not None else change.owner_id)
