"""The Russian words of the daily plan: reason texts, suggested topics (инфоповоды) and notes. Pure.

Kept apart from the rules so the wording can be reviewed by the department in one place; the
tone follows Мария's list in JOURNEYS.md («обращалась на Горячую линию 12.11»). Keyed by the
codes' values (scheduler.model.SignalKind): this package imports nothing from DS Desk.
"""

from __future__ import annotations

from datetime import date, datetime

from texts.words import days, ddmm, grammatical_gender, hhmm, plural, rubles

TOPIC_REVIEW = "Обзор новостей и изменений"
TOPIC_TERMS = "Продление финансовых условий"
TOPIC_TRAINING = "Обучение"
TOPIC_DEBT = "Задолженность"
TOPIC_CALLBACK = "Обратный звонок"

SIGNAL_TOPICS: dict[str, str] = {
    "hotline_request": "Ответ на обращение на ГЛ",
    "consultation_request": "Ответ на вопрос в Линию консультаций",
    "problem": "Решение проблемы",
    "task": "Выполнение задания",
    "new_user": "Обучение нового пользователя",
    "seminar_invite": "Приглашение на семинар",
}

# (a person did it: feminine, masculine, unknown) — the unknown form names the event instead.
_SIGNAL_PHRASES: dict[str, tuple[str, str, str]] = {
    "hotline_request": (
        "обращалась на Горячую линию",
        "обращался на Горячую линию",
        "обращение на Горячую линию",
    ),
    "consultation_request": (
        "задала вопрос Линии консультаций",
        "задал вопрос Линии консультаций",
        "вопрос Линии консультаций",
    ),
    "problem": ("зарегистрирована проблема",) * 3,
    "task": ("поставлено задание",) * 3,
    "new_user": ("новый пользователь с",) * 3,
    "seminar_invite": ("приглашение на семинар",) * 3,
}
_NOTE_KINDS = frozenset({"problem", "task", "seminar_invite"})  # their note says what it is about
_NOTE_LIMIT = 80  # a reason is one line on Мария's list; the full note is in the client's brief


def signal_text(kind: str, occurred_on: date, note: str, person: str | None) -> str:
    feminine, masculine, neutral = _SIGNAL_PHRASES[kind]
    gender = grammatical_gender(person) if person else None
    phrase = feminine if gender == "f" else masculine if gender == "m" else neutral
    text = f"{phrase} {ddmm(occurred_on)}"
    note = " ".join(note.split())
    if note and kind in _NOTE_KINDS:
        text += ": " + (note if len(note) <= _NOTE_LIMIT else note[: _NOTE_LIMIT - 1] + "…")
    return text


def callback_text(at_local: datetime, day: date) -> str:
    if at_local.date() == day:
        return f"обещали перезвонить в {hhmm(at_local)}"
    return f"обещали перезвонить {ddmm(at_local.date())} в {hhmm(at_local)}"


def rolled_over_text(from_day: date) -> str:
    return f"перенесён с {ddmm(from_day)}"


def retry_text(last_attempt: date, attempt_number: int, max_attempts: int) -> str:
    return f"не дозвонились {ddmm(last_attempt)}, попытка {attempt_number} из {max_attempts}"


def cadence_text(days_since: int | None) -> str:
    return "ещё не было контакта" if days_since is None else f"{days(days_since)} без контакта"


def not_logged_in_text(days_since: int | None) -> str:
    if days_since is None:
        return "ни разу не заходили в онлайн-версию"
    return f"не заходили в онлайн-версию {days(days_since)}"


def not_trained_text(days_since: int | None) -> str:
    if days_since is None:
        return "пользователь ещё не обучен: контакта не было"
    return f"пользователь без обучения {days(days_since)}"


def terms_text(terms_end: date) -> str:
    return f"заканчиваются финансовые условия {ddmm(terms_end)}"


def debt_text(amount: float) -> str:
    return f"задолженность {rubles(amount)}"


def fill_text(days_left: int, last_contact: date) -> str:
    when = "сегодня" if days_left <= 0 else f"через {days(days_left)}"
    return f"плановый контакт {when} (последний {ddmm(last_contact)})"


def deferred_note(count: int, to_day: date) -> str:
    noun = plural(
        count,
        "обязательный звонок перенесён",
        "обязательных звонка перенесено",
        "обязательных звонков перенесено",
    )
    return f"{count} {noun} на {ddmm(to_day)}"


def exhausted_note(planned: int, target: int) -> str:
    return f"в портфеле больше некого звонить: {planned} из {target}"


def no_time_note(planned: int, target: int) -> str:
    return f"не хватило свободного времени в рабочем дне: {planned} из {target}"


def unreachable_note(count: int) -> str:
    noun = plural(count, "клиент недоступен", "клиента недоступны", "клиентов недоступны")
    return f"{count} {noun} в рабочие часы (окно звонка в часовом поясе клиента)"


NOTE_DAY_OFF = "нерабочий день по производственному календарю"
NOTE_ABSENT = "эксперт отсутствует (отпуск, больничный)"

# ---- the campaign for ДС (scheduler.inputs.Transition) -------------------------------------
TOPIC_TRANSITION = "Переход на дистанционный сервис"  # the script catalog's «Речевой ролик» serves it


def transition_text(status: str, since: date) -> str:
    """«переход на ДС: кандидат (назначен 02.12)», «переход на ДС: отложено до 10.12»."""
    if status == "postponed":
        return f"переход на ДС: отложено до {ddmm(since)}"
    return f"переход на ДС: кандидат (назначен {ddmm(since)})"
