"""What each stored code reads as on screen: calls, wrap-ups, plan items, signals, the board, roles. Pure.

Keyed by the codes' string values: the enums live in dialer/, scheduler/ and service/, which
import this package, never the other way round (a StrEnum member finds its value's label).
tests/texts/ checks that every code of those enums has one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

# ---- calls (dialer.records) --------------------------------------------------------------
OUTCOME_LABELS: dict[str, str] = {
    "answered": "состоялся",
    "no_answer": "нет ответа",
    "rejected": "отклонён",
    "busy": "занято",
    "congestion": "сеть недоступна",
    "cancelled": "отменён",
    "expert_no_answer": "Эксперт не снял трубку",
    "missed": "пропущен",
}
DIRECTION_LABELS: dict[str, str] = {"outbound": "исходящий", "inbound": "входящий"}
HANGUP_BY_LABELS: dict[str, str] = {"expert": "Эксперт", "client": "клиент"}
QUALITY_LABELS: dict[str, str] = {
    "end_inferred_after_reconnect":
        "Конец звонка восстановлен после переподключения к АТС (точность — до длительности обрыва)",
    "start_inferred_after_reconnect": "Начало звонка восстановлено после переподключения к АТС",
    "answer_inferred_after_reconnect": "Время ответа восстановлено после переподключения к АТС",
    "times_from_receipt": "АТС не передала время событий: время — по моменту получения",
    "pbx_restarted": "АТС перезапускалась во время звонка",
    "from_cdr": "Исход и время взяты из журнала самой АТС (CDR): связь с АТС прерывалась",
    "outcome_inferred_after_reconnect":
        "Исход звонка восстановлен после переподключения к АТС: часть событий звонка потеряна",
}
GUESSED_TITLE = ("Неточные данные: связь с АТС прерывалась, исход или время разговора восстановлены "
                 "приблизительно; звонок не учтён в показателях")
# The call log's `login` filter: how "logged in during the call" is known.
LOGIN_SOURCE_LABELS = {
    "measured": "по статистике онлайн-версии",
    "ticked": "по отметке эксперта",
    "disagree": "статистика и отметка расходятся",
}
# Q.850 causes a supervisor meets; others are shown by number.
HANGUP_CAUSES: dict[int, str] = {
    16: "обычное завершение", 17: "занято", 18: "нет ответа", 19: "нет ответа", 21: "вызов отклонён",
    34: "нет свободных каналов", 38: "сеть недоступна", 1: "номер не существует", 0: "—",
}


def quality_label(code: str) -> str:
    return QUALITY_LABELS.get(code, f"Отметка качества: {code}")


def hangup_cause_label(cause: int | None) -> str:
    if cause is None:
        return "—"
    return f"{cause} ({HANGUP_CAUSES[cause]})" if cause in HANGUP_CAUSES else str(cause)


def call_timeline(direction: str, hangup_by: str | None,
                  moments: Mapping[str, datetime | None]) -> list[tuple[str, datetime]]:
    """(label, time) for each moment of a call that is known: started, ringing, answered, ended."""
    ringing = "Звонит у клиента" if direction == "outbound" else "Звонит у Эксперта"
    end = "Конец"
    if hangup_by in HANGUP_BY_LABELS:
        end += f": трубку положил {HANGUP_BY_LABELS[hangup_by]}"
    steps = (("Начало", "started_at"), (ringing, "ringing_at"), ("Ответ", "answered_at"), (end, "ended_at"))
    return [(label, at) for label, key in steps if (at := moments.get(key)) is not None]


def too_vague_search(text: str, limit: int) -> str:
    """The call log's notice when a name matches more clients than it searches by."""
    return f"Под «{text}» подходит больше {limit} клиентов: уточните поиск"


# ---- wrap-ups and plan items (service.desk.wrapup, scheduler.model) ------------------------
RESULT_LABELS: dict[str, str] = {
    "contact_made": "Контакт состоялся",
    "not_reached": "Не дозвонились",
    "callback": "Просили перезвонить",
    "wrong_number": "Неверный номер",
    "refused": "Отказ от разговора",
}
PLAN_STATE_LABELS: dict[str, str] = {
    "planned": "запланирован",
    "in_progress": "идёт звонок",
    "contact_made": "контакт состоялся",
    "not_reached": "не дозвонились",
    "callback": "перезвонить",
    "cancelled": "отменён",
    "rolled_over": "перенесён",
}


def queue_state_label(state: str | None, outcome: str | None, wrapup_result: str | None) -> str:
    """A row of the Expert's queue: the wrap-up's result, else the call's outcome, else the plan state."""
    if wrapup_result is not None:
        return RESULT_LABELS[wrapup_result]
    if outcome is not None:
        return f"звонок: {OUTCOME_LABELS.get(outcome, outcome)}, без итога"
    return PLAN_STATE_LABELS.get(state or "", state or "")


# ---- the client brief (scheduler.model: SignalKind, Version) -------------------------------
SIGNAL_KIND_LABELS: dict[str, str] = {
    "hotline_request": "Обращение на Горячую линию",
    "consultation_request": "Вопрос в Линию консультаций",
    "problem": "Проблема",
    "task": "Задание",
    "new_user": "Новый пользователь",
    "seminar_invite": "Приглашение на семинар",
}
VERSION_LABELS: dict[str, str] = {
    "online": "онлайн-версия",
    "internet_update": "интернет-пополнение",
    "other": "локальная версия",
}


def signal_kind_label(kind: str) -> str:
    return SIGNAL_KIND_LABELS.get(kind, kind)


def version_label(version: str) -> str:
    return VERSION_LABELS.get(version, version)


# ---- the live board (service.board) and people --------------------------------------------
BOARD_STATE_LABELS: dict[str, str] = {
    "available": "свободен",
    "ringing": "вызов",
    "talking": "разговор",
    "wrapup": "итоги звонка",
    "pause": "пауза",
    "away": "нет на месте",
}
SPY_MODE_LABELS: dict[str, str] = {"listen": "Слушать", "whisper": "Подсказывать", "barge": "Вмешаться"}
ROLE_LABELS: dict[str, str] = {"expert": "эксперт", "supervisor": "руководитель группы", "admin": "администратор",
                               "sio": "СИО", "pm": "ПМ по ДС"}

# ---- the control figures (service.figures.model) ------------------------------------------
FIGURE_STATUS_LABELS: dict[str, str] = {"ok": "в норме", "low": "ниже цели", "high": "выше цели", "none": ""}
PERIOD_LABELS: dict[str, str] = {"day": "день", "week": "неделя", "month": "месяц"}

# ---- the transition to ДС (service.transition.machine.Status) ------------------------------
TRANSITION_LABELS: dict[str, str] = {
    "candidate": "кандидат",
    "offered": "предложено",
    "agreed": "согласен",
    "moved": "переведён",
    "declined": "отказ",
    "postponed": "отложено",
}
