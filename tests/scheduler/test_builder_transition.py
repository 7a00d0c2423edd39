"""The campaign for ДС in the plan (issue 15): a candidate's call is owed like a signal, to the campaign's
Expert (in her portfolio or not), with the topic «Переход на дистанционный сервис»; deferred with its
reason when the day is full; a postponed client comes back on its day; the Expert's follow-ups stay hers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from scheduler.inputs import Callback, ExistingItem, Signal, Transition
from scheduler.model import ExpertPlan, PlanState, Reason, ReasonCode, SignalKind
from tests.scheduler.world import DAY, World, ago, at, codes, expert, item_for, only, summary, texts

R = ReasonCode
TOPIC = "Переход на дистанционный сервис"


def campaign(world: World, count: int, prefix: str = "T", *, expert_login: str | None = None,
             status: str = "candidate", since: date | None = None, to: str = "maria") -> World:
    """`count` КС organisations (in nobody's portfolio by default) assigned to `to`, contacted 40 days ago."""
    for n in range(count):
        cid = f"{prefix}{n:02}"
        world.org(cid, f"{cid}-k", last_contact=ago(40), expert_login=expert_login)
        world.transitions.append(Transition(cid, to, status, since or ago(1)))
    return world


def signals(world: World, count: int) -> World:
    for n in range(count):
        cid = f"G{n:02}"
        world.org(cid, f"{cid}-k", last_contact=ago(5))
        world.signals.append(Signal(cid, f"{cid}-k", SignalKind.HOTLINE_REQUEST, ago(2)))
    return world


def due(world: World, count: int) -> World:
    for n in range(count):
        world.org(f"D{n:02}", last_contact=ago(20 + n))
    return world


def transition_items(mine: ExpertPlan) -> list[str]:
    return sorted(i.client_external_id for i in mine.items if R.TRANSITION in (codes(i) or ()))


def test_a_candidate_is_called_by_the_campaigns_expert_with_the_transition_topic() -> None:
    world = campaign(World(experts=[expert("maria"), expert("olga")]).calm_orgs(20), 1)
    plan = world.plan()
    mine = only(plan, "maria")
    item = item_for(mine, "T00-k")
    assert item is not None
    # Not in her portfolio: only the campaign's reason, never the organisation's cadence.
    assert item.reasons == (Reason(R.TRANSITION, "переход на ДС: кандидат (назначен 30.11)"),)
    assert item.topic == TOPIC
    assert item_for(only(plan, "olga"), "T00-k") is None


def test_a_candidate_in_her_own_portfolio_keeps_its_other_reasons_and_takes_the_topic() -> None:
    world = World().calm_orgs(20)
    world.org("C", "K", last_contact=ago(40), terms_end=DAY)
    world.transitions.append(Transition("C", "maria", "candidate", ago(3)))
    item = item_for(only(world.plan()), "K")
    assert codes(item) == (R.TRANSITION, R.CADENCE, R.TERMS_ENDING)
    assert item is not None and item.topic == TOPIC
    assert "переход на ДС: кандидат (назначен 28.11)" in texts(item)


@pytest.mark.parametrize(("last_contact", "planned"), [
    (None, True), (ago(2), True),  # nothing since the assignment: owed
    (ago(1), False), (DAY, False),  # a contact made on or after the assignment's day: dealt with
])
def test_owed_like_a_signal_until_a_contact_is_made(last_contact: date | None, planned: bool) -> None:
    world = World().calm_orgs(20)
    world.org("T", "T-k", expert_login=None)  # in nobody's portfolio
    if last_contact is not None:
        world.summaries.append(summary("T-k", last_contact_on=last_contact, last_result="contact_made"))
    world.transitions.append(Transition("T", "maria", "candidate", ago(1)))
    assert (item_for(only(world.plan()), "T-k") is not None) == planned


@pytest.mark.parametrize(("until", "planned"), [(date(2026, 12, 2), False), (DAY, True), (ago(3), True)])
def test_a_postponed_client_comes_back_on_its_day(until: date, planned: bool) -> None:
    world = campaign(World().calm_orgs(20), 1, status="postponed", since=until)
    item = item_for(only(world.plan()), "T00-k")
    assert (item is not None) == planned
    if item is not None:
        assert texts(item) == [f"переход на ДС: отложено до {until:%d.%m}"] and item.topic == TOPIC


def test_a_postponed_client_is_planned_on_the_day_it_was_postponed_until() -> None:
    world = campaign(World().calm_orgs(20, day=date(2026, 12, 8)), 1, status="postponed", since=date(2026, 12, 8))
    assert item_for(only(world.plan(date(2026, 12, 7), at(6, 30, date(2026, 12, 7)))), "T00-k") is None
    back = item_for(only(world.plan(date(2026, 12, 8), at(6, 30, date(2026, 12, 8)))), "T00-k")
    assert back is not None and codes(back) == (R.TRANSITION,)


@pytest.mark.parametrize("status", ["offered", "agreed"])
def test_offered_or_agreed_is_not_called_again_but_her_promise_is_kept(status: str) -> None:
    world = campaign(World().calm_orgs(20), 2, status=status)
    world.callbacks.append(Callback("T01-k", "T01", "maria", at(15)))
    world.callbacks.append(Callback("T00-k", "T00", "olga", at(16)))  # not hers: not on her list
    mine = only(world.plan())
    assert item_for(mine, "T00-k") is None
    promise = item_for(mine, "T01-k")
    assert promise is not None and codes(promise) == (R.CALLBACK,) and promise.slot == at(15)


def test_her_unfinished_campaign_call_rolls_into_today() -> None:
    world = campaign(World().calm_orgs(20), 1)
    world.existing.append(ExistingItem("PC-1", "maria", "T00-k", at(10, day=ago(1)), PlanState.ROLLED_OVER,
                                       (Reason(R.TRANSITION, "переход на ДС: кандидат (назначен 30.11)"),), TOPIC))
    item = item_for(only(world.plan()), "T00-k")
    assert item is not None and codes(item) == (R.ROLLED_OVER, R.TRANSITION) and item.topic == TOPIC


@pytest.mark.parametrize(("make", "placed", "deferred"), [
    # Owed before due contacts: 3 campaign calls and 14 of 20 due ones; 6 due deferred.
    (lambda: due(campaign(World(), 3), 20), {"T": 3, "D": 14}, {"D": 6}),
    # More campaign calls than the day holds: the oldest assignments first, the rest deferred.
    (lambda: campaign(campaign(World(), 10, "A", since=ago(5)), 10, "T", since=ago(1)), {"A": 10, "T": 7},
     {"T": 3}),
    # Same rank as signals: the older reason first.
    (lambda: signals(campaign(World(), 10, since=ago(1)), 10), {"G": 10, "T": 7}, {"T": 3}),
])
def test_when_the_day_is_full_the_campaign_is_deferred_with_its_reason(
        make: Callable[[], World], placed: dict[str, int], deferred: dict[str, int]) -> None:
    mine = only(make().plan())
    assert len(mine.items) == 17
    first = {k: sum(i.client_external_id.startswith(k) for i in mine.items) for k in placed}
    assert first == placed
    later = {k: sum(i.client_external_id.startswith(k) for i in mine.deferred) for k in deferred}
    assert later == deferred and len(mine.deferred) == sum(deferred.values())
    count = len(mine.deferred)
    assert mine.notes[0].startswith(f"{count} обязательн") and mine.notes[0].endswith("на 02.12")
    for item in mine.deferred:
        if item.client_external_id.startswith("T"):
            assert codes(item) == (R.TRANSITION,) and item.topic == TOPIC  # the reason is kept


def test_an_absent_expert_gets_no_campaign_calls_and_an_unknown_client_is_ignored() -> None:
    world = campaign(World(experts=[expert(absences=((DAY, DAY),))]), 1)
    world.transitions.append(Transition("NOPE", "maria", "candidate", ago(1)))
    assert only(world.plan()).items == ()
    present = campaign(World(), 1)
    present.transitions.append(Transition("NOPE", "maria", "candidate", ago(1)))
    assert transition_items(only(present.plan())) == ["T00"]


def test_a_contact_already_planned_today_is_not_planned_twice() -> None:
    world = campaign(World().calm_orgs(20), 1)
    world.existing.append(ExistingItem("PC-7", "maria", "T00-k", at(11), PlanState.PLANNED))
    mine = only(world.plan())
    assert item_for(mine, "T00-k") is None and transition_items(mine) == []
