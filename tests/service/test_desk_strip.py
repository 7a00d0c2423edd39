"""The desk strip (service/desk/strip.py): today's figures against their targets, and the pace."""

from __future__ import annotations

import dataclasses

from service.desk.strip import day_strip
from service.figures.compute import FigureTargets
from service.figures.model import Pacing, Status, Totals

TARGETS = FigureTargets()


def shown(totals: Totals, pace: Pacing | None = None) -> dict[str, tuple[str, Status, str, str]]:
    return {i.key: (i.value, i.status, i.note, i.source) for i in day_strip(totals, TARGETS, pace)}


def test_a_day_not_begun_shows_zeros_and_no_colour_for_averages() -> None:
    strip = shown(Totals(), Pacing(0, 0, "идёт по плану"))
    assert strip["calls_per_day"][:2] == ("0", Status.NONE)
    assert strip["productive"][:2] == ("0", Status.NONE)
    assert strip["avg_productive"][:2] == ("—", Status.NONE)
    assert strip["login_share"][:2] == ("—", Status.NONE)
    assert strip["pace"][:2] == ("идёт по плану", Status.OK)


def test_a_full_day_on_target() -> None:
    day = Totals(expert_days=1, planned=16, finished=16, made=16, contacts=13, productive=12,
                 productive_talk_s=12 * 660, logged_in=8)
    strip = shown(day)
    assert strip["calls_per_day"][:2] == ("16", Status.OK) and strip["calls_per_day"][2] == "цель 15–17 в день"
    assert strip["productive"][:2] == ("12", Status.OK)
    assert strip["avg_productive"][:2] == ("11:00", Status.OK)
    assert strip["login_share"][:2] == ("61,5 %", Status.OK)
    assert "pace" not in strip  # no plan today: nothing to pace


def test_behind_is_red_and_said() -> None:
    day = Totals(expert_days=1, planned=16, finished=3, made=4, contacts=3, productive=1, productive_talk_s=300,
                 logged_in=1, login_measured=3)
    strip = shown(day, Pacing(6, 3, "к 12:00 отстаёт на 3 звонка"))
    assert strip["calls_per_day"][1] is Status.LOW and strip["productive"][1] is Status.LOW
    assert strip["avg_productive"][:2] == ("5:00", Status.LOW)
    assert strip["login_share"] == ("33,3 %", Status.LOW, "цель ≥ 60 %", "по статистике")
    assert shown(dataclasses.replace(day, login_measured=0))["login_share"][3] == "по отметке"
    assert shown(dataclasses.replace(day, login_measured=2))["login_share"][3] == "по статистике 2 из 3"
    assert strip["pace"][2] == "выполнено 3; к этому часу по плану 6"
    assert strip["pace"][:2] == ("к 12:00 отстаёт на 3 звонка", Status.LOW)
