"""Scripts as steps (issue 18, docs/coaching.md): what a group lead edits instead of Jinja2. Pure.

A step script is a sequence of steps: a key, a title, Russian text with named variables in braces
(«Здравствуйте, {ИО контакта}!»), an optional target duration, an optional mark that it is the step
where the Expert asks the client to log in, and branches («если клиент занят» → the step «Перезвонить»).
`problems` says, in Russian and naming the step, everything that keeps a script from being published;
`render_step` fills a step's variables for one call from the variables every script gets
(service/scripts/variables.py `script_variables`). A step marked `jinja` is Jinja2 instead, for advanced
users: it is checked and rendered in the scripts' sandbox (service/scripts/worker.py), not here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.scripts.variables import respectful_name

KEY = re.compile(r"[a-zа-яё0-9_-]{1,40}", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\{([^{}]{1,60})\}")
MAX_TEXT = 4000
MAX_TARGET_S = 3600
MAX_STEPS = 60
MAX_BRANCHES = 6


def _money(value: Any) -> str:
    return f"{float(value or 0):,.0f}".replace(",", " ") + " ₽"


def _day(value: Any) -> str:
    return value.strftime("%d.%m.%Y") if value is not None else ""


def _offer(value: Any) -> str:
    """«СМАРТ-комплект, 4 900 ₽, с 01.02.2027»: the parts the offer has."""
    if value is None:
        return ""
    when = getattr(value, "date", None)
    parts = [str(getattr(value, "kit", "") or ""), str(getattr(value, "price", "") or ""),
             f"с {_day(when) if hasattr(when, 'strftime') else when}" if when else ""]
    return ", ".join(part for part in parts if part)


# The variables a step may name, as the picker lists them: name → (what it is, how it is read from the call's
# variables: the `client`, `contact`, `expert`, `item` and `offer` views and `today`).
VARIABLES: dict[str, tuple[str, Callable[[Mapping[str, Any]], str]]] = {
    "Клиент": ("название организации", lambda d: str(getattr(d.get("client"), "name", "") or "")),
    "ИО контакта": ("имя и отчество контактного лица",
                    lambda d: respectful_name(getattr(d.get("contact"), "full_name", None))),
    "Должность контакта": ("должность контактного лица",
                           lambda d: str(getattr(d.get("contact"), "position", "") or "")),
    "Имя эксперта": ("имя Эксперта", lambda d: str(getattr(d.get("expert"), "first_name", "") or "")),
    "Инфоповод": ("тема звонка", lambda d: str(getattr(d.get("item"), "topic", "") or "")),
    "Сегодня": ("сегодняшняя дата", lambda d: _day(d.get("today"))),
    "Долг": ("задолженность клиента", lambda d: _money(getattr(d.get("client"), "debt_rub", 0))),
    "Окончание условий": ("дата окончания финансовых условий",
                          lambda d: _day(getattr(d.get("client"), "terms_end", None))),
    "Предложение": ("предложение кампании (комплект, цена, срок)", lambda d: _offer(d.get("offer"))),
}


@dataclass(frozen=True, slots=True)
class Branch:
    when: str  # «клиент говорит, что занят»
    to: str  # the key of the step it leads to


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    title: str
    text: str
    target_s: int | None = None  # how long the step should take
    login: bool = False  # the step where the Expert asks the client to log in to the system
    branches: tuple[Branch, ...] = ()
    jinja: bool = False  # the text is Jinja2 (advanced users), rendered in the sandbox


@dataclass(frozen=True, slots=True)
class StepScript:
    name: str
    steps: tuple[Step, ...] = field(default_factory=tuple)

    def step(self, key: str) -> Step | None:
        return next((step for step in self.steps if step.key == key), None)


@dataclass(frozen=True, slots=True)
class StepProblem:
    step: str | None  # the step's key; None: the script as a whole
    message: str  # Russian
    place: int | None = None  # the step's number in the script (1, 2, …), as the editor numbers its rows
    title: str = ""

    def __str__(self) -> str:
        """«шаг 3 «Заход в систему»: …»: the number and the title a group lead sees, not only the key."""
        if self.step is None:
            return self.message
        name = f" «{self.title or self.step}»" if self.title or self.step else ""
        return f"шаг{'' if self.place is None else f' {self.place}'}{name}: {self.message}"


def variables_in(text: str) -> list[str]:
    """The variable names a text uses, in order (repeats kept)."""
    return [match.group(1).strip() for match in PLACEHOLDER.finditer(text)]


def problems(script: StepScript) -> list[StepProblem]:
    """Everything that keeps the script from being published, each naming its step (empty: it may be)."""
    found: list[StepProblem] = []
    if not script.name.strip():
        found.append(StepProblem(None, "у сценария нет названия"))
    if not script.steps:
        found.append(StepProblem(None, "в сценарии нет ни одного шага"))
    elif len(script.steps) > MAX_STEPS:
        found.append(StepProblem(None, f"в сценарии больше {MAX_STEPS} шагов"))
    keys = [step.key for step in script.steps]
    for place, step in enumerate(script.steps, start=1):
        found += _step_problems(step, keys, place)
    return found


def _step_problems(step: Step, keys: Sequence[str], place: int) -> list[StepProblem]:
    def problem(message: str) -> StepProblem:
        return StepProblem(step.key, message, place, step.title.strip())

    found = []
    if step.key and not KEY.fullmatch(step.key):  # an empty key: the title is missing too (said below)
        found.append(problem("ключ шага — от 1 до 40 букв, цифр, «-» или «_»"))
    if step.key and keys.count(step.key) > 1:
        found.append(problem(f"ключ «{step.key}» есть и у другого шага: ключ должен быть у каждого шага свой"))
    if not step.title.strip():
        found.append(problem("у шага нет заголовка"))
    if not step.text.strip():
        found.append(problem("пустой шаг: напишите, что говорит Эксперт"))
    elif len(step.text) > MAX_TEXT:
        found.append(problem(f"текст шага длиннее {MAX_TEXT} знаков"))
    for name in () if step.jinja else dict.fromkeys(variables_in(step.text)):
        if name not in VARIABLES:
            known = ", ".join(f"{{{known}}}" for known in VARIABLES)
            found.append(problem(f"нет переменной {{{name}}}; можно: {known}"))
    if step.target_s is not None and not 0 < step.target_s <= MAX_TARGET_S:
        found.append(problem(f"длительность шага — от 1 до {MAX_TARGET_S} секунд"))
    if len(step.branches) > MAX_BRANCHES:
        found.append(problem(f"больше {MAX_BRANCHES} переходов из одного шага"))
    for branch in step.branches:
        if not branch.to:
            found.append(problem(f"переход «{branch.when}»: напишите «когда → шаг», "
                                 "например «клиент занят → Перезвонить»"))
            continue
        if not branch.when.strip():
            found.append(problem(f"у перехода на шаг «{branch.to}» не сказано, когда он"))
        if branch.to not in keys:
            found.append(problem(f"переход «{branch.when}» ведёт на шаг «{branch.to}», которого нет"))
        elif branch.to == step.key:
            found.append(problem(f"переход «{branch.when}» ведёт на этот же шаг"))
    return found


def render_step(step: Step, data: Mapping[str, Any]) -> str:
    """The step's text for one call, HTML-escaped, each variable filled from `data` (an unknown one is left as
    it was written: `problems` refuses such a script before it is published)."""
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        known = VARIABLES.get(name)
        return match.group(0) if known is None else known[1](data)

    return html.escape(PLACEHOLDER.sub(fill, step.text))
