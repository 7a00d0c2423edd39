"""Scripts as steps (issue 18, item 1): the step model's checks in Russian, naming the step, and a step's
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
    # Each names the step by its number and title, as the editor shows its rows (its key without a title).
    assert "шаг 1 «Приветствие»: нет переменной {Фамилия клиента}; можно: {Клиент}, {ИО контакта}," in said[2]
    assert "шаг 1 «Приветствие»: длительность шага — от 1 до 3600 секунд" in said
    for place, name in ((1, "Приветствие"), (2, "greeting")):
        assert (f"шаг {place} «{name}»: ключ «greeting» есть и у другого шага: ключ должен быть у каждого шага свой"
                in said)
    assert "шаг 2 «greeting»: у шага нет заголовка" in said
    assert "шаг 2 «greeting»: пустой шаг: напишите, что говорит Эксперт" in said
    assert "шаг 3 «Инфоповод»: переход «клиент занят» ведёт на шаг «nowhere», которого нет" in said
    assert "шаг 3 «Инфоповод»: у перехода на шаг «reason» не сказано, когда он" in said
    assert "шаг 3 «Инфоповод»: переход «» ведёт на этот же шаг" in said
    assert "шаг 4 «Шаг»: ключ шага — от 1 до 40 букв, цифр, «-» или «_»" in said
    nameless = [str(p) for p in problems(StepScript("Без имени", (Step("", "", ""),)))]
    assert nameless == ["шаг 1: у шага нет заголовка", "шаг 1: пустой шаг: напишите, что говорит Эксперт"]
    assert problems(StepScript("Пустой")) == [StepProblem(None, "в сценарии нет ни одного шага")]


def test_every_variable_is_filled_for_a_call_and_escaped() -> None:
    client = SimpleNamespace(name="ООО «Ромашка» <b>", debt_rub=12500.5, terms_end=date(2026, 12, 31))
    contact = SimpleNamespace(full_name="Иванова Ольга Петровна", position="главный бухгалтер")
    data = {"client": client, "contact": contact, "expert": SimpleNamespace(first_name="Мария"),
            "item": SimpleNamespace(topic="новые формы отчётности"), "today": date(2026, 12, 7),
            "offer": SimpleNamespace(kit="СМАРТ-комплект", price="4 900 ₽", date=date(2027, 2, 1))}
    text = " | ".join(f"{{{name}}}" for name in VARIABLES)
    filled = render_step(Step("all", "Все", text), data)
    assert filled == ("ООО «Ромашка» &lt;b&gt; | Ольга Петровна | главный бухгалтер | Мария | новые формы отчётности"
                      " | 07.12.2026 | 12 500 ₽ | 31.12.2026 | СМАРТ-комплект, 4 900 ₽, с 01.02.2027")
    assert render_step(GREETING, data) == "Здравствуйте, Ольга Петровна! Это Мария, КонсультантПлюс."
    assert render_step(Step("x", "X", "{Нет такой}"), data) == "{Нет такой}"  # refused before publishing
    assert variables_in("{ Клиент } и {Долг}, {Клиент}") == ["Клиент", "Долг", "Клиент"]


def test_the_variables_come_from_the_variables_every_script_gets() -> None:
    """The desk fills steps from script_variables' views, the same ones the Jinja2 scripts read."""
    from service.scripts.variables import script_variables

    variables = script_variables(
        {"name": "ООО «Вектор»", "debt_rub": 0, "terms_end": None}, {"full_name": "Петров Иван Сергеевич"},
        {"first_name": "Анна", "last_name": "Смирнова"}, {"topic": "Обучение"}, date(2026, 12, 7),
        offer={"kit": "СМАРТ-комплект Оптимальный", "price": "5 200 ₽", "date": None})
    step = Step("s", "Шаг",
                "{ИО контакта}, это {Имя эксперта}: {Инфоповод}. {Предложение}. {Долг}. {Окончание условий}")
    assert render_step(step, variables) == (
        "Иван Сергеевич, это Анна: Обучение. СМАРТ-комплект Оптимальный, 5 200 ₽. 0 ₽. ")
    unplanned = script_variables({"name": "X"}, None, {"first_name": "Анна"}, None, date(2026, 12, 7))
    assert render_step(Step("s", "Шаг", "[{ИО контакта}|{Инфоповод}]"), unplanned) == "[|]"


def test_a_jinja_step_is_not_read_for_brace_variables_and_limits_hold() -> None:
    jinja = Step("j", "Jinja", "{% if client.has_debt %}Долг{% endif %} {{ client.name }}", jinja=True)
    assert problems(StepScript("С Jinja2", (jinja,))) == []
    many = StepScript("Много", tuple(Step(f"s{i}", "Шаг", "Текст") for i in range(61)))
    assert [str(p) for p in problems(many)] == ["в сценарии больше 60 шагов"]
    branchy = Step("a", "А", "Текст", branches=tuple(Branch(f"когда {i}", "b") for i in range(7)))
    said = [str(p) for p in problems(StepScript("Ветки", (branchy, Step("b", "Б", "Текст"))))]
    assert said == ["шаг 1 «А»: больше 6 переходов из одного шага"]
    no_arrow = Step("a", "А", "Текст", branches=(Branch("клиент занят перезвонить", ""),))
    assert [str(p) for p in problems(StepScript("Без стрелки", (no_arrow,)))] == [
        "шаг 1 «А»: переход «клиент занят перезвонить»: напишите «когда → шаг», "
        "например «клиент занят → Перезвонить»"]
