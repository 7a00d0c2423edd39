"""How many calls: 15–17, owed over the maximum deferred with a note, fewer only with a note,
each contact and organisation once, existing items topped up, only the Expert's own clients."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from scheduler.inputs import Callback, ExistingItem, Signal
from scheduler.model import ExpertPlan, PlanState, ReasonCode, SignalKind
from tests.scheduler.world import DAY, World, ago, at, expert, item_for, only, summary

R = ReasonCode


def signals(world: World, count: int, prefix: str = "G") -> World:
    for n in range(count):
        cid = f"{prefix}{n:02}"
        world.org(cid, f"{cid}-k", last_contact=ago(5))
        world.signals.append(Signal(cid, f"{cid}-k", SignalKind.HOTLINE_REQUEST, ago(2)))
    return world


def retries(world: World, count: int) -> World:
    for n in range(count):
        cid = f"R{n:02}"
        world.org(cid, f"{cid}-k")
        world.summaries.append(
            summary(
                f"{cid}-k",
                last_contact_on=ago(5),
                last_result="not_reached",
                last_attempt_at=at(10, day=ago(1)),
                attempts_since_contact=1,
            )
        )
    return world


def due(world: World, count: int) -> World:
    for n in range(count):
        world.org(f"D{n:02}", last_contact=ago(20 + n))
    return world


def callbacks(world: World, count: int) -> World:
    for n in range(count):
        cid = f"B{n:02}"
        world.org(cid, f"{cid}-k", last_contact=ago(1))
        world.callbacks.append(Callback(f"{cid}-k", cid, "maria", at(9 + n, 30)))
    return world


def tiers(mine: ExpertPlan) -> Counter[str]:
    return Counter(i.client_external_id[0] for i in mine.items)


@pytest.mark.parametrize(
    ("name", "make", "planned", "deferred", "kinds"),
    [
        ("calm portfolio fills to 15", lambda: World().calm_orgs(30), 15, 0, {"Z": 15}),
        ("due fill up to 17", lambda: due(World().calm_orgs(10), 17), 17, 0, {"D": 17}),
        ("due over 17 deferred", lambda: due(World(), 20), 17, 3, {"D": 17}),
        ("signals before due", lambda: due(signals(World(), 10), 10), 17, 3, {"G": 10, "D": 7}),
        ("signals before retries", lambda: retries(signals(World(), 12), 8), 17, 3, {"G": 12, "R": 5}),
        ("callbacks first", lambda: signals(callbacks(World(), 3), 16), 17, 2, {"B": 3, "G": 14}),
    ],
)
def test_over_the_target_owed_rolls_over(
    name: str, make: Callable[[], World], planned: int, deferred: int, kinds: dict[str, int]
) -> None:
    mine = only(make().plan())
    assert len(mine.items) == planned
    assert len(mine.deferred) == deferred
    assert tiers(mine) == Counter(kinds)
    if deferred:
        noun = "обязательных звонка перенесено" if deferred in (2, 3) else "обязательных звонков перенесено"
        assert mine.notes == (f"{deferred} {noun} на 02.12",)
        assert all(i.reasons for i in mine.deferred)  # the reasons are kept
        assert all(i.slot.date() == date(2026, 12, 2) for i in mine.deferred)
    else:
        assert mine.notes == ()


def test_deferred_go_to_the_next_duty_day() -> None:
    world = due(World(experts=[expert(absences=((date(2026, 12, 2), date(2026, 12, 4)),))]), 18)
    mine = only(world.plan())
    assert mine.notes == ("1 обязательный звонок перенесён на 07.12",)


@pytest.mark.parametrize(
    ("orgs", "daily_target", "planned", "notes"),
    [
        (12, None, 12, ("в портфеле больше некого звонить: 12 из 15",)),
        (0, None, 0, ("в портфеле больше некого звонить: 0 из 15",)),
        (15, None, 15, ()),
        (30, 10, 10, ()),  # a part-time Expert's own target
        (30, 16, 16, ()),
        (12, 10, 10, ()),
    ],
)
def test_count_to_aim_for(orgs: int, daily_target: int | None, planned: int, notes: tuple[str, ...]) -> None:
    mine = only(World(experts=[expert(daily_target=daily_target)]).calm_orgs(orgs).plan())
    assert len(mine.items) == planned
    assert mine.notes == notes


def test_each_contact_once_with_all_its_reasons() -> None:
    world = World().calm_orgs(20)
    world.org("C", "K")
    world.summaries.append(
        summary(
            "K",
            last_contact_on=ago(20),
            last_result="not_reached",
            last_attempt_at=at(15, day=ago(1)),
            attempts_since_contact=1,
        )
    )
    world.signals += [Signal("C", "K", SignalKind.PROBLEM, ago(3)), Signal("C", "K", SignalKind.TASK, ago(2))]
    world.callbacks.append(Callback("K", "C", "maria", at(11)))
    mine = only(world.plan())
    assert sum(i.contact_external_id == "K" for i in mine.items) == 1
    item = item_for(mine, "K")
    assert item is not None and item.slot == at(11)
    assert [r.code for r in item.reasons] == [R.CALLBACK, R.SIGNAL, R.SIGNAL, R.RETRY, R.CADENCE]


def test_an_organisation_once_through_its_best_contact() -> None:
    world = World().calm_orgs(20)
    world.org("C", "K1", "K2", "K3", last_contact=ago(120))  # K1 a user, all untrained, cadence due
    world.contacts = [
        c if c.external_id != "K2" else c.__class__("K2", "C", "Абрамова Анна Ивановна", is_user=True)
        for c in world.contacts
    ]
    mine = only(world.plan())
    mine_c = [i for i in mine.items if i.client_external_id == "C"]
    assert len(mine_c) == 1
    assert mine_c[0].contact_external_id == "K1"  # users first, then the lowest id
    assert [r.code for r in mine_c[0].reasons] == [R.CADENCE, R.NOT_TRAINED, R.NOT_TRAINED]


def test_two_people_owed_in_one_organisation_are_both_called() -> None:
    world = World().calm_orgs(20)
    world.org("C", "K1", "K2", last_contact=ago(3))
    world.callbacks.append(Callback("K1", "C", "maria", at(10)))
    world.signals.append(Signal("C", "K2", SignalKind.CONSULTATION_REQUEST, ago(1)))
    mine = only(world.plan())
    assert {i.contact_external_id for i in mine.items if i.client_external_id == "C"} == {"K1", "K2"}


@pytest.mark.parametrize(
    ("states", "new"),
    [
        ((PlanState.PLANNED,) * 5, 10),
        ((PlanState.CONTACT_MADE, PlanState.NOT_REACHED, PlanState.IN_PROGRESS), 12),
        ((PlanState.CANCELLED,) * 3, 15),  # cancelled do not count, but are not planned again
        ((PlanState.PLANNED,) * 15, 0),
        ((PlanState.PLANNED,) * 17, 0),
    ],
)
def test_existing_items_are_topped_up(states: tuple[PlanState, ...], new: int) -> None:
    world = World().calm_orgs(40)
    for n, state in enumerate(states):
        world.existing.append(
            ExistingItem(f"P{n}", "maria", f"Z{n:03}-1", at(9) + timedelta(minutes=25 * n), state)
        )
    world.signals.append(Signal("Z000", "Z000-1", SignalKind.HOTLINE_REQUEST, DAY))  # already on the list
    mine = only(world.plan())
    assert len(mine.items) == new
    for item in mine.items:
        assert item.client_external_id not in {f"Z{n:03}" for n in range(len(states))}  # nor their orgs
        assert item.slot not in {e.slot for e in world.existing if e.state != PlanState.CANCELLED}


def test_rebuilding_with_the_plan_as_existing_adds_nothing() -> None:
    world = due(World().calm_orgs(20), 5)
    first = only(world.plan())
    world.existing = [
        ExistingItem(f"P{n}", "maria", i.contact_external_id, i.slot, PlanState.PLANNED)
        for n, i in enumerate(first.items)
    ]
    again = only(world.plan())
    assert len(first.items) == 15 and again.items == () and again.notes == ()


def test_each_expert_sees_only_own_clients() -> None:
    world = World(experts=[expert("maria"), expert("igor"), expert("olga")])
    world.calm_orgs(20, prefix="M", expert_login="maria").calm_orgs(20, prefix="I", expert_login="igor")
    world.org("U", "U-1", last_contact=None, expert_login=None)  # unassigned
    world.signals.append(Signal("I000", "I000-1", SignalKind.HOTLINE_REQUEST, ago(0)))
    plan = world.plan()
    assert {i.client_external_id[0] for i in only(plan, "maria").items} == {"M"}
    assert {i.client_external_id[0] for i in only(plan, "igor").items} == {"I"}
    assert only(plan, "olga").items == ()
    assert only(plan, "olga").notes == ("в портфеле больше некого звонить: 0 из 15",)
    assert [p.expert_login for p in plan.experts] == ["igor", "maria", "olga"]
