"""Scripts as steps (issue 18, item 1, first part): the step model's checks in Russian, naming the step, and a step's
variables filled for a call. Pure."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from service.scripts.steps import VARIABLES, Branch, Step, StepProblem, StepScript, problems, render_step, variables_in

GREETING = Step("greeting", "Приветствие", "Здравствуйте, {ИО контакта}! Это {Имя эксперта}, КонсультантПлюс.",
                target_s=30)
REASON = Step("reason", "Инфоповод", "Звоню по поводу: {Инфоповод}.", branches=(Branch("клиент занят", "callback"),))
LOGIN = Step("login", "Заход в систему", "Откройте, пожалуйста, систему — покажу на экране.", login=True)
CALLBACK = Step("callback", "Перезвонить", "Когда вам удобно, чтобы я перезвонил?")
SCRIPT = StepScript("Речевой ролик", (GREETING, REASON, LOGIN, CALLBACK))


def test_a_sound_script_has_no_problems() -> None:
    assert problems(SCRIPT) == []


def test_each_problem_names_its_step_in_russian() -> None:
    broken = StepScript("", (
        Step("greeting", "Приветствие", "Добрый день, {Фамилия клиента}!", target_s=-5),
        Step("greeting", "", "   "),
        Step("reason", "Инфоповод", "Звоню по поводу {Инфоповод}",
             branches=(Branch("клиент занят", "nowhere"), Branch("", "reason"))),
        Step("bad key!", "Шаг", "Текст"),
    ))
    said = [str(p) for p in problems(broken)]
    assert said[0] == "у сценария нет названия"
    assert "шаг «greeting»: нет переменной {Фамилия клиента}; можно: {Клиент}, {ИО контакта}," in said[2]
    assert "шаг «greeting»: длительность шага — от 1 до 3600 секунд" in said
    assert said.count("шаг «greeting»: два шага с одним ключом: ключ должен быть у каждого шага свой") == 2
    assert "шаг «greeting»: у шага нет заголовка" in said
    assert "шаг «greeting»: пустой шаг: напишите, что говорит Эксперт" in said
    assert "шаг «reason»: переход «клиент занят» ведёт на шаг «nowhere», которого нет" in said
    assert "шаг «reason»: у перехода на шаг «reason» не сказано, когда он" in said
    assert "шаг «reason»: переход «» ведёт на этот же шаг" in said
    assert "шаг «bad key!»: ключ шага — от 1 до 40 букв, цифр, «-» или «_»" in said
    assert problems(StepScript("Пустой")) == [StepProblem(None, "в сценарии нет ни одного шага")]


def test_every_variable_is_filled_for_a_call_and_escaped() -> None:
    client = SimpleNamespace(name="ООО «Ромашка» <b>", debt_rub=12500.5, terms_end=date(2026, 12, 31))
    contact = SimpleNamespace(full_name="Иванова Ольга Петровна", position="главный бухгалтер")
    data = {"client": client, "contact": contact, "expert": SimpleNamespace(first_name="Мария"),
            "topic": "новые формы отчётности", "today": date(2026, 12, 7), "offer": "СМАРТ-комплект, 4 900 ₽"}
    text = " | ".join(f"{{{name}}}" for name in VARIABLES)
    filled = render_step(Step("all", "Все", text), data)
    assert filled == ("ООО «Ромашка» &lt;b&gt; | Ольга Петровна | главный бухгалтер | Мария | новые формы отчётности"
                      " | 07.12.2026 | 12 500 ₽ | 31.12.2026 | СМАРТ-комплект, 4 900 ₽")
    assert render_step(GREETING, data) == "Здравствуйте, Ольга Петровна! Это Мария, КонсультантПлюс."
    assert render_step(Step("x", "X", "{Нет такой}"), data) == "{Нет такой}"  # refused before publishing
    assert variables_in("{ Клиент } и {Долг}, {Клиент}") == ["Клиент", "Долг", "Клиент"]
