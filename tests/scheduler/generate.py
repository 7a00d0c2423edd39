"""A department generated from a seed: many Experts with realistic portfolios, for the smoke
test and the timing check (`python -m tests.scheduler.generate`)."""

from __future__ import annotations

import random
import sys
import time as clock
from datetime import datetime, time, timedelta

from scheduler.inputs import Callback, Client, Contact, ContactSummary, Expert, Signal
from scheduler.model import Segment, SignalKind, Version
from tests.scheduler.world import DAY, MSK, NOW, World, ago

ZONES = ("Europe/Moscow",) * 8 + ("Asia/Yekaterinburg", "Asia/Vladivostok")
WINDOWS = ((None, None),) * 7 + ((time(9), time(12)), (time(14), time(17)), (time(10), time(18)))


def department(
    experts: int,
    clients_per_expert: int,
    contacts_per_client: float = 2.5,
    seed: int = 7,
    backlog: bool = False,
) -> World:
    """A department in its steady state, or with a `backlog` (last contacts up to 120 days ago)."""
    rng = random.Random(seed)
    oldest = 120 if backlog else 0
    world = World(
        experts=[Expert(f"e{n:04}", f"Эксперт {n}", str(100 + n), "Europe/Moscow") for n in range(experts)]
    )
    contact_n = 0
    for e in world.experts:
        for m in range(clients_per_expert):
            cid = f"{e.login}-c{m:03}"
            world.clients.append(_client(rng, cid, e.login))
            people = max(1, round(rng.gauss(contacts_per_client, 1)))
            for p in range(people):
                kid = f"k{contact_n:07}"
                contact_n += 1
                call_from, call_to = rng.choice(WINDOWS)
                world.contacts.append(
                    Contact(
                        kid,
                        cid,
                        "Иванова Ольга Петровна",
                        is_user=p < 2,
                        call_from=call_from,
                        call_to=call_to,
                    )
                )
                world.summaries.append(_summary(rng, kid, oldest))
            if rng.random() < 0.05:
                world.signals.append(
                    Signal(cid, f"k{contact_n - 1:07}", rng.choice(list(SignalKind)), ago(rng.randint(0, 6)))
                )
        if rng.random() < 0.5:
            kid = world.contacts[-1].external_id
            world.callbacks.append(
                Callback(
                    kid,
                    world.contacts[-1].client_external_id,
                    e.login,
                    datetime.combine(DAY, time(rng.randint(9, 17), 30), MSK),
                )
            )
    return world


def _client(rng: random.Random, cid: str, login: str) -> Client:
    online = rng.random() < 0.8
    return Client(
        cid,
        f"ООО «{cid}»",
        Segment.DS,
        login,
        rng.choice(ZONES),
        Version.ONLINE if online else Version.INTERNET_UPDATE,
        online_last_login=ago(rng.randint(0, 40)) if online else None,
        debt_rub=rng.choice((0.0,) * 19 + (15000.0,)),
        terms_end=DAY + timedelta(days=rng.randint(-30, 200)) if rng.random() < 0.3 else None,
        contact_every_days=rng.choice((None, None, 7, 30)),
    )


def _summary(rng: random.Random, kid: str, oldest: int) -> ContactSummary:
    # Steady state: most organisations were called within the last week and a half.
    last = (
        rng.randint(1, oldest) if oldest else rng.choice((rng.randint(1, 10),) * 9 + (rng.randint(11, 60),))
    )
    if rng.random() < 0.1:
        return ContactSummary(
            kid,
            last_contact_on=ago(rng.randint(2, 30)),
            last_result="not_reached",
            last_attempt_at=datetime.combine(ago(1), time(rng.randint(9, 17)), MSK),
            attempts_since_contact=rng.randint(1, 3),
        )
    return ContactSummary(
        kid,
        last_contact_on=ago(last),
        last_result="contact_made",
        last_comment="обсудили новые формы отчётности",
    )


def main(experts: int = 1000, clients_per_expert: int = 100) -> None:
    for backlog in (False, True):
        world = department(experts, clients_per_expert, backlog=backlog)
        print(
            f"{'backlog' if backlog else 'steady state'}: {len(world.experts)} Experts, {len(world.clients)} "
            f"clients, {len(world.contacts)} contacts, {len(world.summaries)} summaries, "
            f"{len(world.signals)} signals, {len(world.callbacks)} callbacks"
        )
        for _ in range(3):
            started = clock.perf_counter()
            plan = world.plan(now=NOW)
            took = clock.perf_counter() - started
            planned = sum(len(p.items) for p in plan.experts)
            deferred = sum(len(p.deferred) for p in plan.experts)
            print(f"  build_plan: {took:.2f} s, {planned} calls planned, {deferred} deferred")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
