"""The Russian words of the plan: reason texts, suggested topics (инфоповоды) and notes.

Kept apart from the rules so the wording can be reviewed by the department in one place; the
tone follows Мария's list in JOURNEYS.md («обращалась на Горячую линию 12.11»).
"""

from __future__ import annotations

from datetime import date, datetime

from scheduler.model import SignalKind

TOPIC_REVIEW = "Обзор новостей и изменений"
TOPIC_TERMS = "Продление финансовых условий"
TOPIC_TRAINING = "Обучение"
TOPIC_DEBT = "Задолженность"
TOPIC_CALLBACK = "Обратный звонок"

SIGNAL_TOPICS: dict[SignalKind, str] = {
    SignalKind.HOTLINE_REQUEST: "Ответ на обращение на ГЛ",
    SignalKind.CONSULTATION_REQUEST: "Ответ на вопрос в Линию консультаций",
    SignalKind.PROBLEM: "Решение проблемы",
    SignalKind.TASK: "Выполнение задания",
    SignalKind.NEW_USER: "Обучение нового пользователя",
    SignalKind.SEMINAR_INVITE: "Приглашение на семинар",
}

# (a person did it: feminine, masculine, unknown) — the unknown form names the event instead.
_SIGNAL_PHRASES: dict[SignalKind, tuple[str, str, str]] = {
    SignalKind.HOTLINE_REQUEST: (
        "обращалась на Горячую линию",
        "обращался на Горячую линию",
        "обращение на Горячую линию",
    ),
    SignalKind.CONSULTATION_REQUEST: (
        "задала вопрос Линии консультаций",
        "задал вопрос Линии консультаций",
        "вопрос Линии консультаций",
    ),
    SignalKind.PROBLEM: ("зарегистрирована проблема",) * 3,
    SignalKind.TASK: ("поставлено задание",) * 3,
    SignalKind.NEW_USER: ("новый пользователь с",) * 3,
    SignalKind.SEMINAR_INVITE: ("приглашение на семинар",) * 3,
}
_NOTE_LIMIT = 80  # a reason is one line on Мария's list; the full note is in the client's brief


def ddmm(d: date) -> str:
    return f"{d.day:02}.{d.month:02}"  # not strftime: it is slow on aware datetimes


def hhmm(moment: datetime) -> str:
    return f"{moment.hour:02}:{moment.minute:02}"


def plural(n: int, one: str, few: str, many: str) -> str:
    """Russian plural form for `n`: 1 день, 2 дня, 5 дней, 11 дней, 21 день."""
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def days(n: int) -> str:
    return f"{n} {plural(n, 'день', 'дня', 'дней')}"


def rubles(amount: float) -> str:
    """12500.0 -> «12 500 ₽» (whole rubles: kopecks do not change the reason to call)."""
    return f"{round(amount):,}".replace(",", " ") + " ₽"


def grammatical_gender(full_name: str) -> str | None:
    """'f', 'm' or None, from the patronymic (the last word of «Фамилия Имя Отчество»)."""
    words = full_name.split()
    if len(words) < 3:
        return None
    patronymic = words[-1].lower()
    if patronymic.endswith(("вна", "чна", "кызы")):
        return "f"
    if patronymic.endswith(("вич", "ич", "оглы")):
        return "m"
    return None


def short_name(full_name: str) -> str:
    """«Иванова Ольга Петровна» -> «Иванова О. П.», to say whom a merged reason is about."""
    words = full_name.split()
    if len(words) < 2:
        return full_name.strip()
    return " ".join([words[0], *(w[0] + "." for w in words[1:3])])


def signal_text(kind: SignalKind, occurred_on: date, note: str, person: str | None) -> str:
    feminine, masculine, neutral = _SIGNAL_PHRASES[kind]
    gender = grammatical_gender(person) if person else None
    phrase = feminine if gender == "f" else masculine if gender == "m" else neutral
    text = f"{phrase} {ddmm(occurred_on)}"
    note = " ".join(note.split())
    if note and kind in (SignalKind.PROBLEM, SignalKind.TASK, SignalKind.SEMINAR_INVITE):
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
