"""The move to ДС in figures (service/figures/funnel.py): clients per stage, refusals, conversion."""

from __future__ import annotations

from service.figures.funnel import Portfolio, Step, funnel, funnels_by_expert
from service.figures.model import ExpertInfo

MARIA = ExpertInfo(1, "maria", "Орлова Мария Сергеевна", "101", None)
ANNA = ExpertInfo(2, "anna", "Белова Анна Викторовна", "102", None)


def test_clients_are_counted_once_per_stage_and_refusals_by_their_first_reason() -> None:
    steps = [Step(1, "candidate", 1, None), Step(1, "offered", 1, None), Step(1, "postponed", 1, None),
             Step(1, "offered", 1, None),  # offered again after the postponement: still one client offered
             Step(1, "declined", 1, "Нет интернета"), Step(2, "offered", 1, None), Step(2, "agreed", 1, None),
             Step(2, "moved", 1, None), Step(3, "declined", 2, None)]
    shown = funnel(steps)
    assert shown.reached == {"candidate": 1, "offered": 2, "agreed": 1, "moved": 1, "declined": 2, "postponed": 1}
    assert shown.declined_by_reason == {"Нет интернета": 1, "причина не указана": 1}
    assert shown.conversion == 0.5


def test_no_offer_no_conversion_and_experts_without_steps_are_left_out() -> None:
    assert funnel([Step(1, "candidate", 1, None)]).conversion is None
    lines = funnels_by_expert([Step(1, "offered", 2, None)], [MARIA, ANNA])
    assert [(line.expert, line.reached["offered"]) for line in lines] == [(ANNA, 1)]


def test_the_portfolio_share_online() -> None:
    assert Portfolio(91, 74).online_share == 74 / 91  # the presentation's August 2018: 81%
    assert Portfolio().online_share is None
