"""What each import kind holds, in Russian: the upload page's list and record, and `dsdesk import --help`. Pure.

The kind itself (`clients`, `acts`) stays the command word and the start of a file's name; people
read these names instead. tests/service/test_imports_web.py keeps one name per kind.
"""

from __future__ import annotations

# What CSV the readers take (service/imports/sniff.py, readers.py): the page and `--help` say it alike.
FILE_FORMS = ("CSV (UTF-8, Windows-1251 или UTF-16 с BOM — «Текст в Юникоде» из Excel; "
              "разделитель «;», «,» или табуляция)")

KIND_NAMES: dict[str, str] = {
    "experts": "Эксперты и пользователи",
    "clients": "Клиенты",
    "contacts": "Контактные лица",
    "history": "История контактов",
    "signals": "Сигналы",
    "absences": "Отсутствия Экспертов",
    "logins": "Заходы в систему — статистика онлайн-версии",
    "selection": "Оценки СИО для отбора на ДС",
    "events": "События из CRM: продления, продажи, проблемы, конкуренты",
    "plans": "Месячные планы и показатели сотрудников",
    "visits": "Визиты ПМ по ДС",
    "trainings": "Обучение пользователей клиентов",
    "seminars": "Посещения СТ — семинаров",
    "acts": "Акты выполненных работ: сроки и возврат",
    "requests": "Обращения в чат, ЛК и на горячую линию",
    "mailings": "Рассылки SendPulse: отчёт по рассылкам",
    "survey": "Ответы на опрос удовлетворённости",
}


def kind_name(kind: str) -> str:
    """The Russian name of an import kind; a code it does not know (an old record's) as it is."""
    return KIND_NAMES.get(kind, kind)
