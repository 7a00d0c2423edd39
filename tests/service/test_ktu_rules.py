"""The КТУ sheet's rules (docs/ktu.md): every component's edges, entries, the money, versions, settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from service.errors import SettingsError
from service.ktu.rules import (
    COLLECTION_COMPLETENESS,
    DEDUCTION,
    DEFAULT_RULES,
    GK_SUBSCRIPTIONS_PLAN,
    SEMINAR_SALES_PLAN,
    ST_INVITATIONS_PLAN,
    TRAINING_EXCELLENCE,
    TRAINING_PLAN,
    VKSP_BALANCE,
    Entry,
    KtuError,
    KtuInputs,
    KtuRules,
    KtuSheet,
    PlanFact,
    PlanKind,
    Role,
    SheetState,
    Source,
    append_version,
    approve,
    check_approve,
    check_change,
    check_entry,
    compute_sheet,
    first_version,
    money,
    new_version,
    revise,
)
from service.settings import REPO_ROOT, KtuExpertSettings, KtuSettings, load_settings

D = Decimal
MARCH = date(2026, 3, 1)
NOW = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
EXPERT, PM = Role.EXPERT, Role.PM
# Every plan met and both figures imported: nothing is missing.
ALL_PLANS = {kind: PlanFact(plan=1, fact=1) for kind in PlanKind}


def inputs(**changes: object) -> KtuInputs:
    base: dict[str, object] = {"person": "anna", "month": MARCH, "plans": ALL_PLANS,
                               "vksp_balance": D(0), "collection_completeness": D("0.5")}
    return KtuInputs(**{**base, **changes})  # type: ignore[arg-type]


def value_of(sheet: KtuSheet, key: str) -> Decimal:
    return next(v.value for v in sheet.values if v.key == key)


def component(role: Role, key: str, rules: KtuRules = DEFAULT_RULES, **changes: object) -> tuple[Decimal, str]:
    sheet = compute_sheet(role, inputs(**changes), rules)
    found = next(v for v in sheet.values if v.key == key)
    return found.value, found.explanation


# --- the components per role ---------------------------------------------------------------------

def test_each_role_has_the_presentations_components_in_order() -> None:
    expert = DEFAULT_RULES.components(EXPERT)
    pm = DEFAULT_RULES.components(PM)
    assert [c.key for c in expert] == [VKSP_BALANCE, TRAINING_PLAN, ST_INVITATIONS_PLAN, COLLECTION_COMPLETENESS,
                                       TRAINING_EXCELLENCE, DEDUCTION]
    assert [c.key for c in pm] == [VKSP_BALANCE, TRAINING_PLAN, SEMINAR_SALES_PLAN, GK_SUBSCRIPTIONS_PLAN,
                                   COLLECTION_COMPLETENESS, TRAINING_EXCELLENCE, DEDUCTION]
    assert [c.label for c in pm][2:4] == ["Выполнение плана по продаже платных семинаров",
                                          "Выполнение плана по подписке на ГК"]
    assert {c.key for c in expert if c.source is Source.ENTERED} == {TRAINING_EXCELLENCE, DEDUCTION}


@pytest.mark.parametrize(("role", "key", "allowed"), [
    (EXPERT, VKSP_BALANCE, ["-0.1", "0", "0.3"]),
    (EXPERT, TRAINING_PLAN, ["-0.5", "0", "0.5"]),  # 0: no plan set for the month
    (EXPERT, ST_INVITATIONS_PLAN, ["-0.5", "0", "0.5"]),
    (PM, SEMINAR_SALES_PLAN, ["0", "0.5"]),
    (PM, GK_SUBSCRIPTIONS_PLAN, ["0", "0.1"]),
    (PM, COLLECTION_COMPLETENESS, ["0", "0.1", "0.2", "0.3"]),
    (PM, TRAINING_EXCELLENCE, ["0", "0.05"]),
])
def test_allowed_values(role: Role, key: str, allowed: list[str]) -> None:
    found = DEFAULT_RULES.component(role, key)
    assert found is not None and list(found.allowed) == [D(v) for v in allowed]


def test_deductions_run_from_minus_0_05_to_minus_0_8_by_0_05() -> None:
    found = DEFAULT_RULES.component(EXPERT, DEDUCTION)
    assert found is not None
    assert found.allowed[0] == D("-0.8") and found.allowed[-2:] == (D("-0.05"), D(0))
    assert len(found.allowed) == 17
    assert found.allowed_text == "0 или от −0,05 до −0,8 с шагом 0,05"


# --- Баланс ВКСП -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("balance", "points"), [
    ("-5", "-0.1"), ("-0.01", "-0.1"), ("0", "0"), ("0.01", "0.3"), ("12.5", "0.3"),
])
def test_vksp_balance_default_edges(balance: str, points: str) -> None:
    assert component(EXPERT, VKSP_BALANCE, vksp_balance=D(balance))[0] == D(points)


@pytest.mark.parametrize(("balance", "points"), [
    ("-1.01", "-0.1"), ("-1", "0"), ("-0.99", "0"), ("1.99", "0"), ("2", "0"), ("2.01", "0.3"),
])
def test_vksp_balance_configured_thresholds(balance: str, points: str) -> None:
    rules = KtuSettings(vksp_balance_thresholds=(D(-1), D(2))).rules()
    assert component(PM, VKSP_BALANCE, rules, vksp_balance=D(balance))[0] == D(points)


def test_vksp_balance_explanations() -> None:
    assert component(EXPERT, VKSP_BALANCE, vksp_balance=D("-1.5"))[1] == "−0,1 — баланс −1,5: меньше 0"
    assert component(EXPERT, VKSP_BALANCE, vksp_balance=D("2.50"))[1] == "+0,3 — баланс 2,5: больше 0"
    assert component(EXPERT, VKSP_BALANCE, vksp_balance=D(0))[1] == "0 — баланс 0: равен 0"


# --- Полнота сбора -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("share", "points"), [
    ("0", "0"), ("0.69", "0"), ("0.7", "0.1"), ("0.71", "0.1"), ("0.79", "0.1"), ("0.8", "0.2"),
    ("0.81", "0.2"), ("0.89", "0.2"), ("0.9", "0.3"), ("0.91", "0.3"), ("1", "0.3"),
])
@pytest.mark.parametrize("role", [EXPERT, PM])
def test_collection_completeness_edges(role: Role, share: str, points: str) -> None:
    assert component(role, COLLECTION_COMPLETENESS, collection_completeness=D(share))[0] == D(points)


def test_collection_completeness_explanation() -> None:
    explained = component(EXPERT, COLLECTION_COMPLETENESS, collection_completeness=D("0.85"))[1]
    assert explained == "+0,2 — полнота сбора 0,85: от 0,8, меньше 0,9"
    assert component(EXPERT, COLLECTION_COMPLETENESS, collection_completeness=D("0.65"))[1] == (
        "0 — полнота сбора 0,65: меньше 0,7")


@pytest.mark.parametrize("share", ["-0.01", "1.01", "80"])
def test_collection_completeness_is_a_share(share: str) -> None:
    with pytest.raises(KtuError, match="доля от 0 до 1"):
        compute_sheet(EXPERT, inputs(collection_completeness=D(share)), DEFAULT_RULES)


# --- plans ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "key", "kind", "plan", "fact", "points"), [
    (EXPERT, TRAINING_PLAN, PlanKind.TRAINING, 5, 4, "-0.5"),
    (EXPERT, TRAINING_PLAN, PlanKind.TRAINING, 5, 5, "0.5"),
    (EXPERT, TRAINING_PLAN, PlanKind.TRAINING, 5, 6, "0.5"),
    (EXPERT, TRAINING_PLAN, PlanKind.TRAINING, 0, 3, "0"),
    (PM, TRAINING_PLAN, PlanKind.TRAINING, 1, 0, "-0.5"),
    (PM, TRAINING_PLAN, PlanKind.TRAINING, 1, 1, "0.5"),
    (EXPERT, ST_INVITATIONS_PLAN, PlanKind.ST_INVITATIONS, 10, 9, "-0.5"),
    (EXPERT, ST_INVITATIONS_PLAN, PlanKind.ST_INVITATIONS, 10, 10, "0.5"),
    (EXPERT, ST_INVITATIONS_PLAN, PlanKind.ST_INVITATIONS, 10, 11, "0.5"),
    (EXPERT, ST_INVITATIONS_PLAN, PlanKind.ST_INVITATIONS, 0, 0, "0"),
    (PM, SEMINAR_SALES_PLAN, PlanKind.SEMINAR_SALES, 2, 1, "0"),
    (PM, SEMINAR_SALES_PLAN, PlanKind.SEMINAR_SALES, 2, 2, "0.5"),
    (PM, SEMINAR_SALES_PLAN, PlanKind.SEMINAR_SALES, 2, 3, "0.5"),
    (PM, SEMINAR_SALES_PLAN, PlanKind.SEMINAR_SALES, 0, 1, "0"),
    (PM, GK_SUBSCRIPTIONS_PLAN, PlanKind.GK_SUBSCRIPTIONS, 3, 2, "0"),
    (PM, GK_SUBSCRIPTIONS_PLAN, PlanKind.GK_SUBSCRIPTIONS, 3, 3, "0.1"),
    (PM, GK_SUBSCRIPTIONS_PLAN, PlanKind.GK_SUBSCRIPTIONS, 3, 4, "0.1"),
    (PM, GK_SUBSCRIPTIONS_PLAN, PlanKind.GK_SUBSCRIPTIONS, 0, 0, "0"),
])
def test_plan_components(role: Role, key: str, kind: PlanKind, plan: int, fact: int, points: str) -> None:
    plans = {**ALL_PLANS, kind: PlanFact(plan, fact)}
    assert component(role, key, plans=plans)[0] == D(points)


def test_plan_explanations() -> None:
    plans = {**ALL_PLANS, PlanKind.TRAINING: PlanFact(5, 4)}
    sheet = compute_sheet(EXPERT, inputs(plans=plans), DEFAULT_RULES)
    training = sheet.values[1]
    assert training.source == "из данных: план и факт по обучению"
    assert training.explanation == "−0,5 — не выполнен: 4 при плане 5"


@pytest.mark.parametrize(("role", "kind", "key"), [
    (EXPERT, PlanKind.TRAINING, TRAINING_PLAN),
    (EXPERT, PlanKind.ST_INVITATIONS, ST_INVITATIONS_PLAN),
    (PM, PlanKind.SEMINAR_SALES, SEMINAR_SALES_PLAN),
    (PM, PlanKind.GK_SUBSCRIPTIONS, GK_SUBSCRIPTIONS_PLAN),
])
def test_a_plan_not_imported_is_missing(role: Role, kind: PlanKind, key: str) -> None:
    plans = {k: v for k, v in ALL_PLANS.items() if k is not kind}
    sheet = compute_sheet(role, inputs(plans=plans), DEFAULT_RULES)
    assert sheet.missing == (key,)
    assert value_of(sheet, key) == 0
    assert next(v.source for v in sheet.values if v.key == key).startswith("нет данных: план ")


def test_figures_not_imported_are_missing() -> None:
    sheet = compute_sheet(PM, inputs(vksp_balance=None, collection_completeness=None), DEFAULT_RULES)
    assert sheet.missing == (VKSP_BALANCE, COLLECTION_COMPLETENESS)
    assert sheet.points == D("1.1")  # the three plans met, the rest 0


def test_negative_plan_or_fact_is_refused() -> None:
    with pytest.raises(KtuError, match="не могут быть отрицательными"):
        compute_sheet(EXPERT, inputs(plans={PlanKind.TRAINING: PlanFact(3, -1)}), DEFAULT_RULES)


def test_month_is_its_first_day() -> None:
    with pytest.raises(KtuError, match="первым днём"):
        compute_sheet(EXPERT, inputs(month=date(2026, 3, 15)), DEFAULT_RULES)


# --- entered values ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "key", "value", "reason", "problem"), [
    (EXPERT, TRAINING_EXCELLENCE, "0.05", "все 5 пользователей сдали тест", None),
    (PM, TRAINING_EXCELLENCE, "0.05", "отзыв клиента", None),
    (EXPERT, TRAINING_EXCELLENCE, "0.050", "то же значение", None),
    (EXPERT, TRAINING_EXCELLENCE, "0", "", None),  # nothing awarded needs no reason
    (EXPERT, TRAINING_EXCELLENCE, "0.05", "", "Укажите причину"),
    (EXPERT, TRAINING_EXCELLENCE, "0.1", "много обучил", "значение +0,1 не допускается; допустимо: 0; +0,05"),
    (EXPERT, TRAINING_EXCELLENCE, "-0.05", "ошибка", "не допускается"),
    (EXPERT, DEDUCTION, "-0.05", "задание просрочено", None),
    (EXPERT, DEDUCTION, "-0.8", "грубое нарушение", None),
    (PM, DEDUCTION, "-0.35", "не выполнены задания", None),
    (EXPERT, DEDUCTION, "0", "", None),
    (EXPERT, DEDUCTION, "-0.85", "сверх меры", "допустимо: 0 или от −0,05 до −0,8 с шагом 0,05"),
    (EXPERT, DEDUCTION, "-0.07", "не по шагу", "не допускается"),
    (EXPERT, DEDUCTION, "0.05", "премия", "не допускается"),
    (EXPERT, DEDUCTION, "-0.05", "", "Снижение без причины не принимается"),
    (PM, DEDUCTION, "-0.8", "   ", "Снижение без причины не принимается"),
    (EXPERT, VKSP_BALANCE, "0.3", "хороший месяц", "«Баланс ВКСП» считается из данных и не вводится вручную"),
    (EXPERT, TRAINING_PLAN, "0.5", "выполнил", "считается из данных"),
    (PM, GK_SUBSCRIPTIONS_PLAN, "0.1", "подписал", "считается из данных"),
    (PM, ST_INVITATIONS_PLAN, "0.5", "пригласил", "В КТУ роли «ПМ по ДС» нет составляющей"),
    (EXPERT, SEMINAR_SALES_PLAN, "0.5", "продал", "В КТУ роли «Эксперт по ДС» нет составляющей"),
    (EXPERT, "bonus", "0.1", "просто так", "нет составляющей «bonus»"),
    (EXPERT, DEDUCTION, "NaN", "x", "должно быть числом"),
])
def test_check_entry(role: Role, key: str, value: str, reason: str, problem: str | None) -> None:
    found = check_entry(role, key, D(value), reason, DEFAULT_RULES)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_entered_values_on_the_sheet() -> None:
    entries = {DEDUCTION: Entry(D("-0.2"), "два задания просрочены", "Иванова О. П."),
               TRAINING_EXCELLENCE: Entry(D("0.05"), "все сдали тест", "Иванова О. П.")}
    sheet = compute_sheet(EXPERT, inputs(entries=entries), DEFAULT_RULES)
    deduction = sheet.values[-1]
    assert deduction.value == D("-0.2")
    assert deduction.source == "введено: Иванова О. П., два задания просрочены"
    assert deduction.explanation == "−0,2 — введено руководителем"
    assert value_of(sheet, TRAINING_EXCELLENCE) == D("0.05")


def test_not_entered_is_zero_and_not_missing() -> None:
    sheet = compute_sheet(EXPERT, inputs(), DEFAULT_RULES)
    assert (sheet.values[-1].value, sheet.values[-1].source) == (0, "не введено")
    assert sheet.missing == ()


@pytest.mark.parametrize(("key", "entry", "problem"), [
    (DEDUCTION, Entry(D("-0.05"), "", "Иванова О. П."), "Снижение без причины"),
    (DEDUCTION, Entry(D("-0.9"), "много", "Иванова О. П."), "не допускается"),
    (VKSP_BALANCE, Entry(D("0.3"), "вручную", "Иванова О. П."), "считается из данных"),
    (GK_SUBSCRIPTIONS_PLAN, Entry(D("0.1"), "вручную", "Иванова О. П."), "нет составляющей"),
    (TRAINING_EXCELLENCE, Entry(D("0.05"), "отлично", " "), "Не указано, кто ввёл"),
])
def test_a_refused_entry_refuses_the_sheet(key: str, entry: Entry, problem: str) -> None:
    with pytest.raises(KtuError, match=problem):
        compute_sheet(EXPERT, inputs(entries={key: entry}), DEFAULT_RULES)


# --- the total and the money -----------------------------------------------------------------------

def test_total_and_money_0_35_points() -> None:
    plans = {PlanKind.TRAINING: PlanFact(5, 3), PlanKind.ST_INVITATIONS: PlanFact(10, 12)}
    entries = {TRAINING_EXCELLENCE: Entry(D("0.05"), "все сдали тест", "Иванова О. П.")}
    sheet = compute_sheet(EXPERT, inputs(plans=plans, vksp_balance=D("1.5"), collection_completeness=D("0.6"),
                                         entries=entries), DEFAULT_RULES)
    assert [v.value for v in sheet.values] == [D("0.3"), D("-0.5"), D("0.5"), D(0), D("0.05"), D(0)]
    assert sheet.points == D("0.35")
    assert sheet.money == D("5250.00")
    assert str(sheet.money) == "5250.00"
    assert sheet.money_explanation == "0,35 × 1\u202f500,00 ₽ ÷ 0,1 = 5\u202f250,00 ₽"


@pytest.mark.parametrize(("points", "rub", "expected"), [
    ("0.35", "1500", "5250.00"),
    ("0.1", "1200", "1200.00"),
    ("1.1", "2500", "27500.00"),
    ("0", "1500", "0.00"),
    ("0.35", "1234.57", "4321.00"),  # 4320.995: half up
    ("-0.35", "1234.57", "-4321.00"),  # half away from zero on a negative total too
    ("0.05", "1234.57", "617.29"),  # 617.285
    ("-1.9", "1500", "-28500.00"),  # the worst month: not floored at 0
])
def test_money(points: str, rub: str, expected: str) -> None:
    assert str(money(D(points), D(rub))) == expected


def test_money_is_rounded_once_at_the_end() -> None:
    # 0.35 and 0.05 at 1,234.57 ₽: 4,320.995 + 617.285 = 4,938.28 once; rounding each gives 4,938.29.
    expert = KtuExpertSettings(vksp_balance=(D("-0.1"), D(0), D("0.35")))
    rules = KtuSettings(rub_per_0_1=D("1234.57"), expert=expert).rules()
    plans = {kind: PlanFact(0, 0) for kind in PlanKind}
    entries = {TRAINING_EXCELLENCE: Entry(D("0.05"), "все сдали тест", "Иванова О. П.")}
    sheet = compute_sheet(EXPERT, inputs(plans=plans, vksp_balance=D(1), entries=entries), rules)
    assert sheet.points == D("0.40")
    assert sheet.money == D("4938.28")
    assert money(D("0.35"), sheet.rub_per_0_1) + money(D("0.05"), sheet.rub_per_0_1) == D("4938.29")


# --- versions ------------------------------------------------------------------------------------------

def sheet_for(person: str = "anna", deduction: str | None = None) -> KtuSheet:
    entries = {} if deduction is None else {DEDUCTION: Entry(D(deduction), "задание просрочено", "Иванова О. П.")}
    return compute_sheet(EXPERT, inputs(person=person, entries=entries), DEFAULT_RULES)


def test_a_draft_is_edited_in_place() -> None:
    draft = first_version(sheet_for(), "Иванова О. П.", NOW)
    assert (draft.number, draft.state, draft.reason) == (1, SheetState.DRAFT, None)
    assert check_change(SheetState.DRAFT) is None
    edited = revise(draft, sheet_for(deduction="-0.1"))
    assert (edited.number, edited.sheet.points) == (1, draft.sheet.points - D("0.1"))


def test_approve_locks_the_sheet() -> None:
    approved = approve(first_version(sheet_for(), "Иванова О. П.", NOW), "Петров П. П.", NOW)
    assert (approved.state, approved.approved_by, approved.approved_at) == (SheetState.APPROVED, "Петров П. П.", NOW)
    assert check_change(SheetState.APPROVED) == (
        "Ведомость утверждена и закрыта для правки: изменение — только новой версией с указанием причины")
    assert check_change(SheetState.APPROVED, new_version_reason="  ") is not None
    assert check_change(SheetState.APPROVED, new_version_reason="пересчёт ВКСП") is None
    with pytest.raises(KtuError, match="закрыта для правки"):
        revise(approved, sheet_for(deduction="-0.1"))
    with pytest.raises(KtuError, match="уже утверждена"):
        approve(approved, "Петров П. П.", NOW)


def test_approval_needs_the_data_and_an_approver() -> None:
    missing = compute_sheet(EXPERT, inputs(vksp_balance=None, plans={}), DEFAULT_RULES)
    draft = first_version(missing, "Иванова О. П.", NOW)
    assert check_approve(draft) == ("Нельзя утвердить: нет данных — «Баланс ВКСП», «Выполнение плана по обучению», "
                                    "«Выполнение плана по приглашению на СТ»")
    with pytest.raises(KtuError, match="нет данных"):
        approve(draft, "Петров П. П.", NOW)
    with pytest.raises(KtuError, match="кто утверждает"):
        approve(first_version(sheet_for(), "Иванова О. П.", NOW), " ", NOW)


def test_a_change_after_approval_is_a_new_version_and_every_version_is_kept() -> None:
    v1 = approve(first_version(sheet_for(), "Иванова О. П.", NOW), "Петров П. П.", NOW)
    history = append_version((), v1)
    v2 = new_version(v1, "  пересчёт   ВКСП ", "Иванова О. П.", NOW)
    assert (v2.number, v2.state, v2.reason, v2.sheet) == (2, SheetState.DRAFT, "пересчёт ВКСП", v1.sheet)
    history = append_version(history, v2)
    v2 = approve(revise(v2, sheet_for(deduction="-0.3")), "Петров П. П.", NOW)
    history = (*history[:-1], v2)
    v3 = new_version(v2, "ошибка в снижении", "Иванова О. П.", NOW)
    history = append_version(history, v3)
    assert [v.number for v in history] == [1, 2, 3]
    assert history[0] == v1 and history[0].sheet.points == sheet_for().points  # v1 untouched
    assert history[1].sheet.points == sheet_for().points - D("0.3")
    assert [v.state for v in history] == [SheetState.APPROVED, SheetState.APPROVED, SheetState.DRAFT]


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_new_version_needs_a_reason(reason: str) -> None:
    v1 = approve(first_version(sheet_for(), "Иванова О. П.", NOW), "Петров П. П.", NOW)
    with pytest.raises(KtuError, match="только с указанием причины"):
        new_version(v1, reason, "Иванова О. П.", NOW)


def test_a_draft_needs_no_new_version() -> None:
    draft = first_version(sheet_for(), "Иванова О. П.", NOW)
    with pytest.raises(KtuError, match="ещё черновик"):
        new_version(draft, "пересчёт", "Иванова О. П.", NOW)
    with pytest.raises(KtuError, match="ещё не утверждена"):
        append_version((draft,), replace(draft, number=2))


def test_history_refuses_gaps_and_other_sheets() -> None:
    v1 = approve(first_version(sheet_for(), "Иванова О. П.", NOW), "Петров П. П.", NOW)
    with pytest.raises(KtuError, match="Ожидалась версия 1"):
        append_version((), new_version(v1, "пересчёт", "Иванова О. П.", NOW))
    other = approve(first_version(sheet_for("pavel"), "Иванова О. П.", NOW), "Петров П. П.", NOW)
    with pytest.raises(KtuError, match="другого сотрудника"):
        append_version((v1,), new_version(other, "пересчёт", "Иванова О. П.", NOW))
    with pytest.raises(KtuError, match="другого сотрудника"):
        revise(first_version(sheet_for(), "Иванова О. П.", NOW), sheet_for("pavel"))


# --- settings ------------------------------------------------------------------------------------------

def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_settings_are_the_presentations_rules() -> None:
    assert KtuSettings().rules() == DEFAULT_RULES
    assert load_settings(REPO_ROOT / "config.yaml", env={}).ktu.rules() == DEFAULT_RULES


def test_configured_rules(tmp_path: Path) -> None:
    text = ("ktu:\n  rub_per_0_1: 2000.50\n  vksp_balance_thresholds: [-1, 2]\n"
            "  collection_completeness_thresholds: [0.6, 0.75, 0.85]\n  deduction_step: 0.1\n"
            "  expert: {deduction: [-0.75, -0.05]}\n  pm: {gk_subscriptions_plan: [0, 0.2], deduction: [-0.5, -0.1]}\n")
    rules = load_settings(write(tmp_path, text), env={}).ktu.rules()
    assert rules.rub_per_0_1 == D("2000.50")
    gk = rules.component(PM, GK_SUBSCRIPTIONS_PLAN)
    deduction = rules.component(PM, DEDUCTION)
    assert gk is not None and gk.allowed == (D(0), D("0.2"))
    assert deduction is not None and deduction.allowed == tuple(D(v) for v in ("-0.5", "-0.4", "-0.3", "-0.2",
                                                                               "-0.1", "0"))
    assert component(PM, COLLECTION_COMPLETENESS, rules, collection_completeness=D("0.75"))[0] == D("0.2")
    assert component(EXPERT, VKSP_BALANCE, rules, vksp_balance=D(-1))[0] == 0


@pytest.mark.parametrize("rub", ["1200", "2500", "1500", "1333.33"])
def test_rub_per_0_1_within_the_presentations_range(tmp_path: Path, rub: str) -> None:
    assert load_settings(write(tmp_path, f"ktu: {{rub_per_0_1: {rub}}}\n"), env={}).ktu.rub_per_0_1 == D(rub)


@pytest.mark.parametrize(("text", "key"), [
    ("ktu: {rub_per_0_1: 1199.99}", "ktu.rub_per_0_1"),
    ("ktu: {rub_per_0_1: 2500.01}", "ktu.rub_per_0_1"),
    ("ktu: {rub_per_0_1: 1500.005}", "ktu.rub_per_0_1"),
    ("ktu: {vksp_balance_thresholds: [1, 0]}", "ktu.vksp_balance_thresholds"),
    ("ktu: {collection_completeness_thresholds: [0.8, 0.7, 0.9]}", "ktu.collection_completeness_thresholds"),
    ("ktu: {collection_completeness_thresholds: [0.7, 0.8, 1.1]}", "ktu.collection_completeness_thresholds"),
    ("ktu: {collection_completeness_thresholds: [0.7, 0.8]}", "ktu.collection_completeness_thresholds"),
    ("ktu: {deduction_step: 0}", "ktu.deduction_step"),
    ("ktu: {expert: {training_plan: [0.5, -0.5]}}", "ktu.expert.training_plan"),
    ("ktu: {expert: {st_invitations_plan: [0.5, -0.5]}}", "ktu.expert.st_invitations_plan"),
    ("ktu: {pm: {seminar_sales_plan: [0.5, 0]}}", "ktu.pm.seminar_sales_plan"),
    ("ktu: {pm: {vksp_balance: [0.3, 0, -0.1]}}", "ktu.pm.vksp_balance"),
    ("ktu: {pm: {collection_completeness: [0, 0.1, 0.2]}}", "ktu.pm.collection_completeness"),
    ("ktu: {pm: {training_excellence: -0.05}}", "ktu.pm.training_excellence"),
    ("ktu: {expert: {deduction: [-0.05, -0.8]}}", "ktu.expert.deduction"),
    ("ktu: {expert: {deduction: [-0.8, 0]}}", "ktu.expert.deduction"),
    ("ktu: {expert: {deduction: [-0.8, -0.07]}}", "expert.deduction"),
    ("ktu: {expert: {gk_subscriptions_plan: [0, 0.1]}}", "ktu.expert.gk_subscriptions_plan"),
    ("ktu: {bonus: 1}", "ktu.bonus"),
])
def test_bad_ktu_settings_are_named(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, text + "\n"), env={})
    assert key in str(caught.value)
