"""Time: the Expert's working day, the contact's call window in the client's zone, retries at
another time of day, no shared slots, nothing before `now`."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.inputs import Callback
from scheduler.model import ReasonCode
from tests.scheduler.world import DAY, MSK, World, ago, at, client, contact, expert, item_for, only, summary

SOMEWHERE = {
    "msk": "Europe/Moscow",
    "vlat": "Asia/Vladivostok",  # +7 h from Moscow
    "yekt": "Asia/Yekaterinburg",  # +2 h
    "kgd": "Europe/Kaliningrad",  # -1 h
    "nsk": "Asia/Novosibirsk",  # +4 h
}


def windowed(expert_zone: str, client_zone: str, call_from: time | None, call_to: time | None) -> World:
    world = World(experts=[expert(timezone=SOMEWHERE[expert_zone])]).calm_orgs(20)
    world.clients.append(client("C", timezone=SOMEWHERE[client_zone]))
    world.contacts.append(contact("K", "C", is_user=True, call_from=call_from, call_to=call_to))
    world.summaries.append(summary("K", last_contact_on=ago(20)))  # due: on the list if reachable
    return world


@pytest.mark.parametrize(
    ("expert_zone", "client_zone", "window", "expected"),
    [
        ("msk", "vlat", (time(10), time(12)), None),  # 03:00–05:00 in Moscow: unreachable
        ("msk", "vlat", (time(16), time(18)), (time(9), time(11))),  # 09:00–11:00 in Moscow
        ("msk", "yekt", (time(9), time(10)), None),  # 07:00–08:00 in Moscow
        ("msk", "kgd", (time(17), time(18)), None),  # 18:00–19:00 in Moscow: after hours
        ("msk", "kgd", (time(8), time(9)), (time(9), time(10))),
        ("msk", "msk", (time(15), time(16)), (time(15), time(16))),
        ("msk", "msk", (time(17), None), (time(17), time(18))),
        ("msk", "msk", (None, time(10)), (time(9), time(10))),
        ("vlat", "msk", (time(9), time(18)), (time(16), time(18))),  # a Vladivostok Expert
        # No window of its own: the client's business hours, 09:00–18:00 its time (issue 14).
        ("msk", "vlat", (None, None), (time(9), time(11))),  # 02:00–11:00 in Moscow
        ("msk", "nsk", (None, None), (time(9), time(14))),  # 05:00–14:00 in Moscow, never 20:30 there
        ("msk", "kgd", (None, None), (time(10), time(18))),  # 10:00–19:00 in Moscow
        ("msk", "msk", (None, None), (time(9), time(18))),
        ("msk", "vlat", (time(10), time(10)), (time(9), time(11))),  # an empty window: a typo, business hours
        ("msk", "vlat", (time(22), time(2)), (time(15), time(18))),  # over midnight: 15:00–19:00 Moscow
    ],
)
def test_call_window(
    expert_zone: str,
    client_zone: str,
    window: tuple[time | None, time | None],
    expected: tuple[time, time] | None,
) -> None:
    mine = only(windowed(expert_zone, client_zone, *window).plan())
    item = item_for(mine, "K")
    if expected is None:
        assert item is None
        assert any("недоступен" in n for n in mine.notes)
        return
    assert item is not None
    local = item.slot.astimezone(ZoneInfo(SOMEWHERE[expert_zone]))
    assert item.slot.utcoffset() == local.utcoffset()  # slots are in the Expert's zone
    assert expected[0] <= local.time() < expected[1]


def test_unreachable_contact_gives_way_to_another_of_the_org() -> None:
    world = windowed("msk", "vlat", time(10), time(12))
    world.contacts.append(contact("K2", "C"))
    world.summaries[-1] = summary("K", last_contact_on=ago(100))  # an untrained user, too
    mine = only(world.plan())
    assert item_for(mine, "K") is None
    item = item_for(mine, "K2")
    assert item is not None and item.client_external_id == "C"
    assert [r.code for r in item.reasons] == [ReasonCode.CADENCE, ReasonCode.NOT_TRAINED]
    assert "(Петрова О. С.)" in item.reasons[1].text  # the untrained user is named


@pytest.mark.parametrize(
    ("last_attempt", "window", "afternoon"),
    [
        ((10, 0), None, True),  # missed in the morning: try after lunch
        ((15, 30), None, False),  # missed in the afternoon: try in the morning
        ((12, 50), None, True),
        ((14, 0), None, False),
        ((10, 0), (time(9), time(12)), False),  # mornings only: better than no retry
    ],
)
def test_retry_at_another_time_of_day(
    last_attempt: tuple[int, int], window: tuple[time, time] | None, afternoon: bool
) -> None:
    world = World().calm_orgs(20)
    world.org("C", "K", last_contact=None)
    if window:
        world.contacts[-1] = contact("K", "C", is_user=True, call_from=window[0], call_to=window[1])
    world.summaries.append(
        summary(
            "K",
            last_contact_on=ago(3),
            last_result="not_reached",
            last_attempt_at=at(*last_attempt, day=ago(1)),
            attempts_since_contact=1,
        )
    )
    item = item_for(only(world.plan()), "K")
    assert item is not None and ReasonCode.RETRY in [r.code for r in item.reasons]
    assert (item.slot.astimezone(MSK).time() >= time(14)) is afternoon


def test_a_full_day_shares_no_slot_and_keeps_lunch_free() -> None:
    world = World().calm_orgs(5)
    world.org("C", "K", last_contact=ago(1))
    world.org("D", "L", last_contact=ago(1))
    world.callbacks += [Callback("K", "C", "maria", at(11, 0)), Callback("L", "D", "maria", at(11, 10))]
    for n in range(20):
        world.org(f"S{n:02}", last_contact=ago(30))  # more due than fits: a full day
    mine = only(world.plan())
    assert len(mine.items) == 17
    slots = [i.slot for i in mine.items]
    assert slots == sorted(slots) and len(set(slots)) == 17
    grid = [s for s in slots if s not in (at(11, 0), at(11, 10))]
    for slot in grid:
        local = slot.astimezone(MSK).time()
        assert time(9) <= local and (local <= time(12, 35) or time(14) <= local <= time(17, 35))
    for a, b in zip(grid, grid[1:], strict=False):
        assert b - a >= timedelta(minutes=25)
    for promise in (at(11, 0), at(11, 10)):
        assert all(abs(s - promise) >= timedelta(minutes=25) for s in grid)


def test_nothing_is_planned_before_now() -> None:
    now = at(12, 0)
    mine = only(World().calm_orgs(20).plan(now=now))
    assert mine.items and all(i.slot >= now for i in mine.items)
    assert len(mine.items) == 11  # 12:00, 12:25 and the nine after lunch
    assert mine.notes == ("не хватило свободного времени в рабочем дне: 11 из 15",)


def test_a_top_up_during_the_day_starts_on_a_round_minute() -> None:
    mine = only(World().calm_orgs(20).plan(now=at(15, 2)))
    assert [i.slot.astimezone(MSK).strftime("%H:%M") for i in mine.items] == [
        "15:05",
        "15:30",
        "15:55",
        "16:20",
        "16:45",
        "17:10",
        "17:35",
    ]


def test_a_short_list_is_spread_over_the_day() -> None:
    mine = only(World().calm_orgs(5).plan())
    hours = [i.slot.astimezone(MSK).time() for i in mine.items]
    assert hours[0] == time(9) and hours[-1] >= time(15)
    assert sum(h < time(13) for h in hours) in (2, 3)


def test_callback_in_another_zone_keeps_its_instant() -> None:
    world = World(experts=[expert(timezone="Asia/Vladivostok")]).calm_orgs(3)
    world.org("C", "K", last_contact=ago(1))
    promised = datetime(2026, 12, 1, 4, 0, tzinfo=ZoneInfo("UTC"))  # 14:00 in Vladivostok
    world.callbacks.append(Callback("K", "C", "maria", promised))
    item = item_for(only(world.plan(now=datetime(2026, 11, 30, 20, 0, tzinfo=ZoneInfo("UTC")))), "K")
    assert item is not None and item.slot == promised
    assert item.slot.utcoffset() == timedelta(hours=10)
    assert item.reasons[0].text == "обещали перезвонить в 14:00"
    assert DAY == item.slot.date()


def test_a_contact_without_a_window_is_never_planned_after_the_clients_hours() -> None:
    """Issue 14: a Moscow Expert's afternoon is 19:00 and later in Novosibirsk: no slot for its client."""
    afternoon = datetime.combine(DAY, time(15), MSK)
    far = only(windowed("msk", "nsk", None, None).plan(now=afternoon))
    assert item_for(far, "K") is None
    near = only(windowed("msk", "msk", None, None).plan(now=afternoon))
    item = item_for(near, "K")
    assert item is not None and item.slot.astimezone(MSK).time() >= time(15)
