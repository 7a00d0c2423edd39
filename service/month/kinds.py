"""What the month is made of: the kinds of business events and of monthly plans, their Russian names,
and months as dates (the 1st). Pure.

The CRM and a head type these in Russian, in many spellings («Продление фин. условий», «продление
финансовых условий»); each kind's code is accepted too. Spellings are compared the way column names
are (service/imports/aliases.normalise: case, runs of spaces and underscores, ё/е, a trailing dot), and
quotes do not matter («Подписка на «Главную книгу»» is «Подписка на Главную книгу»).
"""

from __future__ import annotations

import re
from datetime import date

from service.imports.aliases import normalise

# code → its Russian names, the first being the label shown on pages and in reports.
EVENT_NAMES: dict[str, tuple[str, ...]] = {
    "terms_renewed": ("Продление фин. условий", "Продление финансовых условий", "Продление условий",
                      "Продление ФУ"),
    "prepay_long": ("Переход на длительную предоплату", "Длительная предоплата", "Переход на длинную предоплату",
                    "Длинная предоплата"),
    "prepay_monthly": ("Возврат на ежемесячную оплату", "Ежемесячная оплата", "Возврат на ежемесячную предоплату",
                       "Переход на ежемесячную оплату", "Ежемесячная предоплата"),
    "gk_subscription": ("Подписка на ГК", "Подписка ГК", "Подписка на Главную книгу"),
    "seminar_sold": ("Продажа семинара", "Продажа платного семинара", "Семинар продан"),
    "sale": ("Продажа",),
    "upsell": ("Допродажа",),
    "problem_registered": ("Проблема зарегистрирована", "Регистрация проблемы", "Зарегистрирована проблема",
                           "Новая проблема"),
    "problem_solved": ("Проблема решена", "Решение проблемы"),
    "debt_collected": ("Погашение задолженности", "Задолженность погашена", "Долг погашен", "Сбор задолженности"),
    "client_disconnected": ("Отключение клиента", "Клиент отключён", "Отключение"),
    "client_restored": ("Восстановление клиента", "Клиент восстановлен", "Восстановление"),
    "competitor_lost": ("Уход к конкуренту", "Отвал на конкурента", "Отвал к конкуренту", "Ушёл к конкуренту"),
    "competitor_won": ("Переход от конкурента", "Пришёл от конкурента", "Отбит у конкурента"),
}
PLAN_NAMES: dict[str, tuple[str, ...]] = {
    "training": ("Обучение", "План по обучению", "Выполнение плана по обучению"),
    "st_invitations": ("Приглашения на СТ", "Приглашение на СТ", "План по приглашению на СТ"),
    "seminar_sales": ("Продажа платных семинаров", "Продажи семинаров", "План по продаже платных семинаров"),
    "gk_subscriptions": ("Подписки на ГК", "Подписка на ГК", "План по подписке на ГК"),
    "vksp_balance": ("Баланс ВКСП", "ВКСП"),
    "collection_completeness": ("Полнота сбора", "Полнота сбора СТТ", "Процент сбора СТТ"),
    "pm_visits_planned": ("Плановые визиты", "Запланированные визиты", "Визиты плановые"),
    "pm_visits_unplanned": ("Внеплановые визиты", "Неплановые визиты", "Визиты внеплановые"),
    "pm_calls": ("Звонки ПМ", "Звонки", "Звонков в месяц"),
}
EVENT_KINDS = tuple(EVENT_NAMES)
PLAN_KINDS = tuple(PLAN_NAMES)
SIGNED_PLAN_KINDS = frozenset({"vksp_balance"})  # weight gained minus weight lost: may be below zero
SHARE_PLAN_KINDS = frozenset({"collection_completeness"})  # a share, 0–1 (0,8 or «80 %»)

MONTH_NAMES = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
               "ноябрь", "декабрь")
_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_RU_MONTH = re.compile(r"(\d{1,2})\.(\d{4})")
_QUOTES = str.maketrans("", "", "«»\"“”„")
_NAMED_MONTH = re.compile(r"([а-я]+)\s+(\d{4})(?:\s*(?:г|год|года))?")


def _folded(text: str) -> str:
    return normalise(text.translate(_QUOTES))


def spellings(names: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Every accepted spelling, normalised → its code (the code itself included)."""
    return {_folded(name): code for code, listed in names.items() for name in (code, *listed)}


EVENT_SPELLINGS = spellings(EVENT_NAMES)
PLAN_SPELLINGS = spellings(PLAN_NAMES)


def kind_of(spelled: dict[str, str], text: str) -> str | None:
    """The code `text` names in `spelled` (EVENT_SPELLINGS or PLAN_SPELLINGS), or None."""
    return spelled.get(_folded(text))


def label(code: str) -> str:
    """The Russian name of an event or plan kind (the code itself for one nobody named)."""
    names = EVENT_NAMES.get(code) or PLAN_NAMES.get(code)
    return names[0] if names else code


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_label(month: date) -> str:
    """«март 2026»."""
    return f"{MONTH_NAMES[month.month - 1]} {month.year}"


def read_month(text: str) -> date | None:
    """`YYYY-MM`, `MM.YYYY` or «март 2026» → the month's 1st; None for anything else.

    ValueError for a month number that does not exist (`2026-13`).
    """
    folded = normalise(text)
    if iso := _ISO_MONTH.fullmatch(folded):
        return date(int(iso[1]), int(iso[2]), 1)
    if ru := _RU_MONTH.fullmatch(folded):
        return date(int(ru[2]), int(ru[1]), 1)
    if (named := _NAMED_MONTH.fullmatch(folded)) and named[1] in MONTH_NAMES:
        return date(int(named[2]), MONTH_NAMES.index(named[1]) + 1, 1)
    return None
