"""A generated department of 50 Experts × 90 clients: every plan is full and built quickly."""

from __future__ import annotations

from scheduler.model import ReasonCode
from tests.scheduler.generate import department


def test_fifty_experts_get_full_plans() -> None:
    """Speed is bench/plan_build.py's business (a timed assertion here failed on a loaded machine)."""
    world = department(experts=50, clients_per_expert=90)
    plan = world.plan()
    assert len(plan.experts) == 50
    for mine in plan.experts:
        assert 15 <= len(mine.items) <= 17, mine.notes
        slots = [i.slot for i in mine.items]
        assert len(set(slots)) == len(slots)
        contacts = [i.contact_external_id for i in mine.items]
        assert len(set(contacts)) == len(contacts)
        assert all(i.client_external_id.startswith(mine.expert_login) for i in mine.items)
        assert all(i.reasons and i.topic for i in mine.items)
    codes = {r.code for p in plan.experts for i in p.items for r in i.reasons}
    assert {ReasonCode.CALLBACK, ReasonCode.SIGNAL, ReasonCode.RETRY, ReasonCode.CADENCE} <= codes
