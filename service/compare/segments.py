"""Which segment (ДС, КС, VIP) each client was in on each day (issue 17, item 2), from what DS Desk
stores today. Pure.

Two sources. The clients import records each change it sees (segment_changes: the day, the new
segment and the one before), so from the first recorded change on the history is what was recorded.
Before it (and for a client never seen changing) the history is derived from three facts: the
client's segment then, the day it went onto ДС (`ds_since`, from the CRM's clients export) and the
transition campaign's «переведён» with its date (service/transition/). A ДС client was КС before its
move; a client with no move is in its segment since it is known. Where the CRM's `ds_since` and the
campaign's date disagree, the campaign's (recorded by the department) wins.

A disconnected client («Отключение клиента» or «Уход к конкуренту» among the CRM's events) is in no segment
(GONE) from the day after it until a «Восстановление клиента»: it is lost on its day, and no longer a client
of the segment at the end of the period (found trying it: the lost clients were still counted in the base).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from service.compare.definitions import segment_on

DS, KS = "ДС", "КС"
KNOWN_FROM = date(2000, 1, 1)  # «since always»: before any period a report asks about
GONE = "отключён"  # from the day after its disconnection until it is restored a client is in no segment


@dataclass(frozen=True, slots=True)
class ClientSegmentFacts:
    client_id: int
    segment: str  # now
    client_since: date | None  # a client of the centre since
    ds_since: date | None  # on ДС since (the CRM's)
    moved_on: date | None = None  # the campaign's «переведён» date, if any
    recorded: tuple[tuple[date, str, str], ...] = ()  # (since, segment, previous), oldest first
    # The CRM's disconnections (True: «Отключение клиента», «Уход к конкуренту») and restorations (False), by day
    lost: tuple[tuple[date, bool], ...] = ()


def history(facts: ClientSegmentFacts) -> list[tuple[date, str]]:
    """The client's segment changes, (since, segment), oldest first; GONE while it is disconnected."""
    changes = _segments(facts)
    gaps = _gaps(facts.lost) if facts.lost else None
    if not gaps:
        return changes
    days = sorted({since for since, _ in changes} | {day for gap in gaps for day in gap if day is not None})
    merged: list[tuple[date, str]] = []
    for day in days:
        segment = GONE if any(start <= day and (until is None or day < until) for start, until in gaps) \
            else segment_on(changes, day)
        if segment is not None and (not merged or merged[-1][1] != segment):
            merged.append((day, segment))
    return merged


def _gaps(lost: tuple[tuple[date, bool], ...]) -> list[tuple[date, date | None]]:
    """[from, until) of each time the client was disconnected: from the day after a disconnection to the day of
    its restoration (None: not restored)."""
    gaps: list[tuple[date, date | None]] = []
    gone: date | None = None
    for day, disconnected in sorted(lost):
        if disconnected and gone is None:
            gone = day + timedelta(days=1)
        elif not disconnected and gone is not None:
            if day > gone:
                gaps.append((gone, day))
            gone = None
    if gone is not None:
        gaps.append((gone, None))
    return gaps


def _segments(facts: ClientSegmentFacts) -> list[tuple[date, str]]:
    start = facts.client_since or KNOWN_FROM
    moved = facts.moved_on or facts.ds_since
    if not facts.recorded:
        return _derived(facts.segment, start, moved)
    first = facts.recorded[0][0]
    # Before the first recorded change the client was in that change's `previous` segment.
    changes = [(since, segment) for since, segment in _derived(facts.recorded[0][2], min(start, first),
                                                                moved if moved and moved < first else None)
               if since < first]
    for since, segment, _ in facts.recorded:
        if not changes or changes[-1][1] != segment:
            changes.append((since, segment))
    return changes


def _derived(segment: str, start: date, moved: date | None) -> list[tuple[date, str]]:
    if segment != DS or moved is None or moved <= start:
        return [(start, segment)]
    return [(start, KS), (moved, DS)]


def histories(facts: Iterable[ClientSegmentFacts]) -> dict[int, list[tuple[date, str]]]:
    return {f.client_id: history(f) for f in facts}
