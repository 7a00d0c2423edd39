"""Selection for ДС, pure: eligibility, every criterion's boundaries, manual overrides, the candidate rule,
checking manual entries and the `selection:` settings (docs/selection.md)."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from service.errors import SettingsError
from service.selection.scoring import (
    CRITERIA,
    ClientFacts,
    ManualScore,
    SelectionRules,
    check_manual,
    normalise_manual,
    score_client,
    whole_years,
)
from service.settings import SelectionSettings, Settings, load_settings

TODAY = date(2026, 12, 7)
RULES = SelectionRules()
# Eligible, and every computed criterion at 0 with data present: each test changes what it looks at.
BASE = ClientFacts(
    client_id="C-501", segment="КС", version="online", ip_possible=None, client_since=TODAY,
    debt_rub=Decimal(0), online_logins_30d=0, users=8, prepaid_months=0, services=(),
    distance_km=0.0, came_from="other",
)


def facts(**changes: Any) -> ClientFacts:
    return dataclasses.replace(BASE, **changes)


def manual(criterion: str, value: str, note: str | None = None, author: str = "Иванова Ольга Петровна",
           at: datetime = datetime(2026, 12, 2, 15, 30)) -> ManualScore:
    return ManualScore(criterion, value, author, at, note)


def score(criterion: str, **changes: Any) -> tuple[int, str]:
    result = score_client(facts(**changes), {}, RULES, TODAY).scores[criterion]
    assert not result.manual
    return result.value, result.explanation


# --- eligibility ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("segment", "version", "ip_possible", "reason"), [
    ("ДС", "online", True, "уже на ДС"),
    ("ДС", "other", None, "уже на ДС"),
    ("КС", "online", None, None),
    ("VIP", "online", False, None),
    ("КС", "internet_update", None, None),
    ("КС", "internet_update", False, None),
    ("КС", "other", True, None),
    ("VIP", "other", True, None),
    ("КС", "other", False, "нет онлайн-версии, ИП и возможности ИП"),
    ("КС", "other", None, "нет онлайн-версии и ИП, возможность ИП не указана"),
    ("КС", "", False, "нет онлайн-версии, ИП и возможности ИП"),
])
def test_eligibility(segment: str, version: str, ip_possible: bool | None, reason: str | None) -> None:
    result = score_client(facts(segment=segment, version=version, ip_possible=ip_possible), {}, RULES, TODAY)
    assert (result.eligible, result.ineligible_reason) == (reason is None, reason)


def test_an_ineligible_client_is_still_scored_but_never_a_candidate() -> None:
    strong = facts(segment="ДС", client_since=date(2010, 1, 1), online_logins_30d=30, users=1,
                   prepaid_months=12, services=("st", "lk", "mailing"), distance_km=100.0, came_from="glavbukh")
    result = score_client(strong, {}, RULES, TODAY)
    assert result.total == 21 and not result.eligible and not result.candidate


# --- loyalty -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("since", "debt", "points", "explanation"), [
    (None, 0, 0, "0 — нет данных"),
    (None, 500, 0, "0 — нет данных"),
    (date(2026, 12, 7), 0, 0, "0 — меньше года с нами"),
    (date(2027, 3, 1), 0, 0, "0 — меньше года с нами"),  # a date ahead of today: a new client
    (date(2025, 12, 8), 0, 0, "0 — меньше года с нами"),
    (date(2025, 12, 7), 0, 1, "1 — 1 год с нами"),
    (date(2023, 12, 8), 0, 1, "1 — 2 года с нами"),
    (date(2023, 12, 7), 0, 2, "2 — 3 года с нами"),
    (date(2021, 12, 8), 0, 2, "2 — 4 года с нами"),
    (date(2021, 12, 7), 0, 3, "3 — 5 лет с нами"),
    (date(2005, 12, 7), 0, 3, "3 — 21 год с нами"),
    (date(2026, 1, 1), 100, 0, "0 — меньше года с нами, есть долг"),
    (date(2025, 12, 7), Decimal("0.01"), 0, "0 — 1 год с нами, есть долг: −1"),
    (date(2021, 12, 8), 1, 1, "1 — 4 года с нами, есть долг: −1"),
    (date(2021, 12, 7), 1, 2, "2 — 5 лет с нами, есть долг: −1"),
    (date(2021, 12, 7), -50, 3, "3 — 5 лет с нами"),  # an overpayment is no debt
])
def test_loyalty(since: date | None, debt: int | Decimal, points: int, explanation: str) -> None:
    assert score("loyalty", client_since=since, debt_rub=Decimal(debt)) == (points, explanation)


@pytest.mark.parametrize(("since", "today", "years"), [
    (date(2023, 12, 7), date(2026, 12, 7), 3),
    (date(2023, 12, 7), date(2026, 12, 6), 2),
    (date(2024, 2, 29), date(2025, 2, 28), 0),
    (date(2024, 2, 29), date(2025, 3, 1), 1),
    (date(2026, 12, 7), date(2026, 12, 7), 0),
])
def test_whole_years(since: date, today: date, years: int) -> None:
    assert whole_years(since, today) == years


def test_a_debt_threshold_lets_small_debts_pass() -> None:
    rules = SelectionRules(debt_threshold_rub=Decimal(1000))
    five_years = facts(client_since=date(2021, 12, 7))
    assert score_client(dataclasses.replace(five_years, debt_rub=Decimal(1000)), {}, rules, TODAY).scores[
        "loyalty"].value == 3
    assert score_client(dataclasses.replace(five_years, debt_rub=Decimal("1000.01")), {}, rules, TODAY).scores[
        "loyalty"].value == 2


# --- К+ skills -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("logins", "points", "explanation"), [
    (None, 0, "0 — нет данных"),
    (0, 0, "0 — ни одного входа в систему за 30 дней"),
    (1, 1, "1 — 1 вход в систему за 30 дней"),
    (4, 1, "1 — 4 входа в систему за 30 дней"),
    (5, 2, "2 — 5 входов в систему за 30 дней"),
    (14, 2, "2 — 14 входов в систему за 30 дней"),
    (15, 3, "3 — 15 входов в систему за 30 дней"),
    (21, 3, "3 — 21 вход в систему за 30 дней"),
])
def test_skills(logins: int | None, points: int, explanation: str) -> None:
    assert score("skills", online_logins_30d=logins) == (points, explanation)


# --- number of users -----------------------------------------------------------------------------

@pytest.mark.parametrize(("users", "points", "explanation"), [
    (0, 0, "0 — нет данных: пользователи не отмечены"),
    (1, 3, "3 — 1 пользователь"),
    (2, 3, "3 — 2 пользователя"),
    (3, 2, "2 — 3 пользователя"),
    (4, 2, "2 — 4 пользователя"),
    (5, 1, "1 — 5 пользователей"),
    (7, 1, "1 — 7 пользователей"),
    (8, 0, "0 — 8 пользователей"),
    (21, 0, "0 — 21 пользователь"),
])
def test_users(users: int, points: int, explanation: str) -> None:
    assert score("users", users=users) == (points, explanation)


# --- ability to prepay ---------------------------------------------------------------------------

@pytest.mark.parametrize(("months", "points", "explanation"), [
    (None, 0, "0 — нет данных"),
    (0, 0, "0 — без предоплаты"),
    (1, 1, "1 — предоплата на 1 месяц"),
    (2, 2, "2 — предоплата на 2 месяца"),
    (5, 2, "2 — предоплата на 5 месяцев"),
    (6, 3, "3 — предоплата на 6 месяцев"),
    (12, 3, "3 — предоплата на 12 месяцев"),
])
def test_prepay(months: int | None, points: int, explanation: str) -> None:
    assert score("prepay", prepaid_months=months) == (points, explanation)


# --- use of services -----------------------------------------------------------------------------

@pytest.mark.parametrize(("services", "points", "explanation"), [
    ((), 0, "0 — не пользуется сервисными услугами"),
    (("webinars", ""), 0, "0 — не пользуется сервисными услугами"),
    (("lk",), 1, "1 — 1 услуга: ЛК"),
    (("lk", "lk", "unknown"), 1, "1 — 1 услуга: ЛК"),
    (("mailing", "st"), 2, "2 — 2 услуги: СТ, рассылка"),
    ((" ST ", "video_seminars", "paid"), 2, "2 — 2 услуги: СТ, видеосеминары"),
    (("lk", "mailing", "st"), 3, "3 — 3 услуги: СТ, рассылка, ЛК"),
    (("st", "mailing", "video_seminars", "lk"), 3, "3 — 4 услуги: СТ, рассылка, видеосеминары, ЛК"),
])
def test_services(services: tuple[str, ...], points: int, explanation: str) -> None:
    assert score("services", services=services) == (points, explanation)


# --- remoteness ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("km", "points", "explanation"), [
    (None, 0, "0 — нет данных"),
    (0.0, 0, "0 — 0 км"),
    (9.99, 0, "0 — 9,99 км"),
    (10.0, 1, "1 — 10 км"),
    (29.9, 1, "1 — 29,9 км"),
    (30.0, 2, "2 — 30 км"),
    (79.9, 2, "2 — 79,9 км"),
    (80.0, 3, "3 — 80 км"),
    (412.5, 3, "3 — 412,5 км"),
])
def test_remoteness(km: float | None, points: int, explanation: str) -> None:
    assert score("remoteness", distance_km=km) == (points, explanation)


# --- came from Главбух, ready without a СИО ------------------------------------------------------

@pytest.mark.parametrize(("came_from", "points", "explanation"), [
    ("glavbukh", 3, "3 — перешли с Главбуха"),
    ("Glavbukh ", 3, "3 — перешли с Главбуха"),
    ("garant", 0, "0 — перешли с Гаранта"),
    ("other", 0, "0 — пришли не с Главбуха"),
    ("", 0, "0 — нет данных"),
    (None, 0, "0 — нет данных"),
])
def test_from_glavbukh(came_from: str | None, points: int, explanation: str) -> None:
    assert score("from_glavbukh", came_from=came_from) == (points, explanation)


def test_without_sio_is_zero_until_the_sio_scores_it() -> None:
    assert score("without_sio") == (0, "0 — СИО ещё не оценил")
    scored = score_client(BASE, {"without_sio": manual("without_sio", "3", "готовы")}, RULES, TODAY)
    assert scored.scores["without_sio"].value == 3


# --- scores, total, manual overrides -------------------------------------------------------------

def test_every_criterion_in_order_and_the_total() -> None:
    strong = facts(client_since=date(2021, 12, 7), online_logins_30d=15, users=2, prepaid_months=6,
                   services=("st", "lk", "mailing"), distance_km=80.0, came_from="glavbukh")
    result = score_client(strong, {}, RULES, TODAY)
    assert tuple(result.scores) == CRITERIA
    assert {name: s.value for name, s in result.scores.items()} == {
        "loyalty": 3, "skills": 3, "users": 3, "prepay": 3, "services": 3, "without_sio": 0,
        "remoteness": 3, "from_glavbukh": 3}
    assert result.total == 21
    full = score_client(strong, {"without_sio": manual("without_sio", "3")}, RULES, TODAY)
    assert full.total == 24


def test_a_zero_score_of_data_present_and_an_empty_client() -> None:
    empty = facts(client_since=None, online_logins_30d=None, users=0, prepaid_months=None, distance_km=None,
                  came_from=None)
    result = score_client(empty, {}, RULES, TODAY)
    assert result.total == 0
    assert all(s.explanation.startswith("0 — ") for s in result.scores.values())


def test_a_manual_zero_overrides_a_computed_three() -> None:
    two_users = facts(users=2)
    assert score_client(two_users, {}, RULES, TODAY).scores["users"].value == 3
    entry = manual("users", "0", "на деле пользуются 12 человек")
    result = score_client(two_users, {"users": entry}, RULES, TODAY)
    assert result.scores["users"].value == 0
    assert result.scores["users"].manual
    assert result.scores["users"].explanation == "вручную: Иванова, 02.12: на деле пользуются 12 человек"


@pytest.mark.parametrize(("entry", "explanation"), [
    (manual("without_sio", "2", "готовы"), "вручную: Иванова, 02.12: готовы"),
    (manual("without_sio", " 2 ", None), "вручную: Иванова, 02.12"),
    (manual("without_sio", "2", "  "), "вручную: Иванова, 02.12"),
    (manual("without_sio", "2", "готовы", at=datetime(2025, 11, 30, 9, 0)), "вручную: Иванова, 30.11.2025: готовы"),
    (manual("without_sio", "2", "готовы", author="Петров"), "вручную: Петров, 02.12: готовы"),
    (manual("without_sio", "2", "готовы", author=" "), "вручную, 02.12: готовы"),
])
def test_a_manual_explanation_names_the_author_and_date(entry: ManualScore, explanation: str) -> None:
    result = score_client(BASE, {"without_sio": entry}, RULES, TODAY).scores["without_sio"]
    assert (result.value, result.explanation, result.manual) == (2, explanation, True)


def test_a_manual_score_raises_a_computed_one() -> None:
    result = score_client(facts(distance_km=3.0), {"remoteness": manual("remoteness", "3", "нет дорог")},
                          RULES, TODAY)
    assert result.scores["remoteness"].value == 3
    assert result.total == 3


def test_an_invalid_manual_entry_is_refused() -> None:
    refused = "C-501: балл по критерию «навыки работы с К+» — целое число от 0 до 3, а не «4»"
    with pytest.raises(ValueError, match=re.escape(refused)):
        score_client(BASE, {"skills": manual("skills", "4")}, RULES, TODAY)
    with pytest.raises(ValueError, match="неизвестный критерий «mood»"):
        score_client(BASE, {"mood": manual("mood", "2")}, RULES, TODAY)


# --- the candidate rule --------------------------------------------------------------------------

TWELVE = facts(client_since=date(2021, 12, 7), online_logins_30d=15, users=2, prepaid_months=6)  # 3+3+3+3


@pytest.mark.parametrize(("min_total", "recommendation", "candidate"), [
    (12, None, True),
    (12, "yes", True),
    (12, "да", True),
    (12, "no", False),
    (12, "Нет", False),
    (13, None, False),
    (13, "yes", False),
    (11, None, True),
    (0, None, True),
    (0, "no", False),
])
def test_candidate(min_total: int, recommendation: str | None, candidate: bool) -> None:
    entries = {"recommendation": manual("recommendation", recommendation)} if recommendation else {}
    result = score_client(TWELVE, entries, SelectionRules(min_total=min_total), TODAY)
    assert result.total == 12
    assert result.candidate is candidate
    assert result.recommendation == {"yes": "yes", "да": "yes", "no": "no", "Нет": "no", None: None}[recommendation]


def test_a_manual_score_can_tip_the_total_over_the_line() -> None:
    eleven = dataclasses.replace(TWELVE, prepaid_months=5)
    assert score_client(eleven, {}, RULES, TODAY).candidate is False
    result = score_client(eleven, {"without_sio": manual("without_sio", "1")}, RULES, TODAY)
    assert (result.total, result.candidate) == (12, True)


def test_an_ineligible_client_with_a_high_total_and_a_yes_is_no_candidate() -> None:
    result = score_client(dataclasses.replace(TWELVE, version="other", ip_possible=False),
                          {"recommendation": manual("recommendation", "yes")}, RULES, TODAY)
    assert (result.total, result.recommendation, result.candidate) == (12, "yes", False)


# --- checking manual entries ---------------------------------------------------------------------

@pytest.mark.parametrize(("criterion", "value", "error"), [
    ("loyalty", "0", None),
    ("from_glavbukh", "3", None),
    ("users", " 2 ", None),
    ("recommendation", "yes", None),
    ("recommendation", "NO", None),
    ("recommendation", "да", None),
    ("recommendation", " Нет ", None),
    ("mood", "2", "неизвестный критерий «mood»; возможные: «лояльность», «навыки работы с К+»"),
    ("Loyalty", "2", "неизвестный критерий «Loyalty»"),
    ("loyalty", "4", "балл по критерию «лояльность» — целое число от 0 до 3, а не «4»"),
    ("loyalty", "-1", "балл по критерию «лояльность» — целое число от 0 до 3, а не «-1»"),
    ("skills", "2.5", "балл по критерию «навыки работы с К+» — целое число от 0 до 3, а не «2.5»"),
    ("skills", "yes", "балл по критерию «навыки работы с К+» — целое число от 0 до 3, а не «yes»"),
    ("skills", "", "не указан балл по критерию «навыки работы с К+» (от 0 до 3)"),
    ("recommendation", "maybe", "рекомендация СИО — «да» или «нет», а не «maybe»"),
    ("recommendation", "1", "рекомендация СИО — «да» или «нет», а не «1»"),
    ("recommendation", "", "рекомендация СИО — «да» или «нет», а не «»"),
])
def test_check_manual(criterion: str, value: str, error: str | None) -> None:
    found = check_manual(criterion, value)
    if error is None:
        assert found is None
    else:
        assert found is not None and found.startswith(error)


@pytest.mark.parametrize(("criterion", "value", "stored"), [
    ("loyalty", " 3", "3"), ("recommendation", "Да", "yes"), ("recommendation", "нет", "no"),
    ("recommendation", "YES", "yes"),
])
def test_normalise_manual(criterion: str, value: str, stored: str) -> None:
    assert normalise_manual(criterion, value) == stored


def test_normalise_manual_refuses_what_check_manual_refuses() -> None:
    with pytest.raises(ValueError, match="а не «4»"):
        normalise_manual("loyalty", "4")


# --- rules and the selection: settings -----------------------------------------------------------

def test_default_settings_give_the_default_rules() -> None:
    assert Settings().selection.rules() == SelectionRules()
    assert SelectionRules().min_total == 12


def test_settings_from_config_yaml_reach_the_rules(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("selection:\n  min_total: 15\n  remoteness_km: [5, 20.5, 100]\n"
                    "  debt_threshold_rub: 1500.50\n", encoding="utf-8")
    rules = load_settings(path, env={}).selection.rules()
    assert (rules.min_total, rules.remoteness_km, rules.debt_threshold_rub) == (15, (5.0, 20.5, 100.0),
                                                                                Decimal("1500.50"))
    assert rules.loyalty_years == (1, 3, 5)


@pytest.mark.parametrize(("text", "key"), [
    ("min_total: 25", "selection.min_total"),
    ("min_total: -1", "selection.min_total"),
    ("loyalty_years: [1, 5, 3]", "selection.loyalty_years"),
    ("loyalty_years: [1, 3, 3]", "selection.loyalty_years"),
    ("skills_logins: [-1, 5, 15]", "selection.skills_logins"),
    ("prepay_months: [1, 2]", "selection.prepay_months"),
    ("services_count: [1, 2, 3, 4]", "selection.services_count"),
    ("users_at_most: [0, 4, 7]", "selection.users_at_most"),
    ("remoteness_km: [30, 10, 80]", "selection.remoteness_km"),
    ("skills_logins: [1, 5.5, 15]", "selection.skills_logins"),
    ("debt_threshold_rub: -1", "selection.debt_threshold_rub"),
    ("min_totl: 12", "selection.min_totl"),
])
def test_selection_settings_are_validated(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"selection:\n  {text}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        load_settings(path, env={})


def test_selection_settings_accept_the_edges() -> None:
    edges = SelectionSettings(min_total=24, loyalty_years=(0, 1, 2), users_at_most=(1, 2, 3))
    assert edges.rules().min_total == 24
    assert SelectionSettings(min_total=0).rules().min_total == 0


@pytest.mark.parametrize("changes", [
    {"min_total": 25}, {"loyalty_years": (3, 1, 5)}, {"users_at_most": (0, 4, 7)},
    {"remoteness_km": (10.0, 10.0, 80.0)}, {"debt_threshold_rub": Decimal(-1)},
])
def test_selection_rules_refuse_what_settings_refuse(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="invalid selection rules"):
        SelectionRules(**changes)
