"""The same inputs give the same plan, in whatever order the shell loaded them."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TypeVar

import pytest

from scheduler.inputs import ExistingItem
from scheduler.model import PlanState, Reason, ReasonCode
from tests.scheduler.generate import department
from tests.scheduler.world import World, ago, at

T = TypeVar("T")


def shuffled(world: World, seed: int) -> World:
    rng = random.Random(seed)

    def mixed(rows: list[T]) -> list[T]:
        rows = list(rows)
        rng.shuffle(rows)
        return rows

    return World(
        mixed(world.experts),
        mixed(world.clients),
        mixed(world.contacts),
        mixed(world.summaries),
        mixed(world.signals),
        mixed(world.callbacks),
        mixed(world.existing),
    )


def busy_department() -> World:
    """Generated portfolios plus items already on today's list and some rolled over from yesterday."""
    world = department(experts=5, clients_per_expert=60, backlog=True)
    reason = (Reason(ReasonCode.CADENCE, "20 дней без контакта"),)
    for n, contact in enumerate(world.contacts[::25]):
        if n % 2:
            world.existing.append(
                ExistingItem(
                    f"P{n}",
                    f"e{n % 5:04}",
                    contact.external_id,
                    at(9) + timedelta(minutes=25 * (n % 9)),
                    PlanState.PLANNED,
                )
            )
        else:
            world.existing.append(
                ExistingItem(
                    f"P{n}",
                    "e0000",
                    contact.external_id,
                    at(10, day=ago(1)),
                    PlanState.ROLLED_OVER,
                    reason,
                    "Обзор новостей и изменений",
                )
            )
    return world


def test_same_inputs_twice_give_the_same_plan() -> None:
    world = busy_department()
    first = world.plan()
    assert first == world.plan()
    today = sum(1 for e in world.existing if e.state == PlanState.PLANNED)
    assert sum(len(p.items) for p in first.experts) + today == 5 * 17  # a backlog: every day full
    assert any(p.deferred for p in first.experts)
    assert any(r.code == ReasonCode.ROLLED_OVER for p in first.experts for i in p.items for r in i.reasons)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_inputs_give_the_same_plan(seed: int) -> None:
    world = busy_department()
    assert shuffled(world, seed).plan() == world.plan()
