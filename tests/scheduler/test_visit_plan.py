"""The PM's monthly visit plan from the call plan's reasons (issue 16, item 1): the pure builder."""

from __future__ import annotations

from datetime import timedelta

from scheduler.model import ReasonCode
from scheduler.visit_plan import build_visit_plan
from tests.scheduler.world import CALENDAR, DAY, MSK, RULES, World, ago, expert


def petrova_world() -> World:
    world = World(experts=[expert("petrova")])
    world.org("CALM", last_contact=ago(1), expert_login="petrova")  # contacted yesterday: nothing due
    world.org("SOON", last_contact=ago(RULES.cadence_days - 2), expert_login="petrova")  # due in two days
    world.org("DEBT", last_contact=ago(40), expert_login="petrova", debt_rub=50_000.0)
    world.org("TERMS", last_contact=ago(35), expert_login="petrova", terms_end=DAY + timedelta(days=5))
    world.org("NEVER", expert_login="petrova")  # never contacted
    world.org("OTHER", last_contact=ago(400), expert_login="maria")  # not hers
    return world


def test_the_most_urgent_organisations_come_first_with_their_reasons() -> None:
    visits = build_visit_plan(petrova_world().inputs(), CALENDAR, RULES, MSK, {"petrova": 10}, {})
    order = [v.client_external_id for v in visits]
    assert set(order[:3]) == {"DEBT", "TERMS", "NEVER"}  # each has a reason; the calm ones fill after
    assert order[3:] == ["SOON", "CALM"]  # the soonest due first
    assert "OTHER" not in order and [v.rank for v in visits] == [1, 2, 3, 4, 5]
    debt = next(v for v in visits if v.client_external_id == "DEBT")
    assert ReasonCode.DEBT in {r.code for r in debt.reasons} and any("задолж" in r.text for r in debt.reasons)
    terms = next(v for v in visits if v.client_external_id == "TERMS")
    assert terms.reasons[0].code is ReasonCode.TERMS_ENDING
    soon = next(v for v in visits if v.client_external_id == "SOON")
    assert [r.code for r in soon.reasons] == [ReasonCode.FILL] and "через 2 дня" in soon.reasons[0].text


def test_the_count_is_the_plan_and_a_top_up_skips_the_planned() -> None:
    world = petrova_world()
    first = build_visit_plan(world.inputs(), CALENDAR, RULES, MSK, {"petrova": 2}, {})
    assert len(first) == 2
    have = {"petrova": {v.client_external_id for v in first}}
    more = build_visit_plan(world.inputs(), CALENDAR, RULES, MSK, {"petrova": 4}, have)
    assert len(more) == 2 and not have["petrova"] & {v.client_external_id for v in more}
    assert [v.rank for v in more] == [3, 4]
    assert build_visit_plan(world.inputs(), CALENDAR, RULES, MSK, {"petrova": 2}, have) == []
    assert build_visit_plan(world.inputs(), CALENDAR, RULES, MSK, {}, {}) == []  # no count: nothing planned
