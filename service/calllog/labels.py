"""Russian words for what the ledger stores: directions, who hung up, quality codes. Pure."""

from __future__ import annotations

from dialer.records import (
    Q_ANSWER_INFERRED,
    Q_END_INFERRED,
    Q_NO_TIMESTAMPS,
    Q_PBX_RESTARTED,
    Q_START_INFERRED,
)

DIRECTION_LABELS = {"outbound": "исходящий", "inbound": "входящий"}
HANGUP_BY_LABELS = {"expert": "Эксперт", "client": "клиент"}
QUALITY_LABELS = {
    Q_END_INFERRED: "Конец звонка восстановлен после переподключения к АТС (точность — до длительности обрыва)",
    Q_START_INFERRED: "Начало звонка восстановлено после переподключения к АТС",
    Q_ANSWER_INFERRED: "Время ответа восстановлено после переподключения к АТС",
    Q_NO_TIMESTAMPS: "АТС не передала время событий: время — по моменту получения",
    Q_PBX_RESTARTED: "АТС перезапускалась во время звонка",
}
# Q.850 causes a supervisor meets; others are shown by number.
HANGUP_CAUSES = {16: "обычное завершение", 17: "занято", 18: "нет ответа", 19: "нет ответа",
                 21: "вызов отклонён", 34: "нет свободных каналов", 38: "сеть недоступна",
                 1: "номер не существует", 0: "—"}


def quality_label(code: str) -> str:
    return QUALITY_LABELS.get(code, f"Отметка качества: {code}")


def hangup_cause_label(cause: int | None) -> str:
    if cause is None:
        return "—"
    return f"{cause} ({HANGUP_CAUSES[cause]})" if cause in HANGUP_CAUSES else str(cause)
