"""The other names a CRM export gives each import column («Код», «ИНН», «ФИО»…), and how names compare. Pure.

A column is found by its own name (`external_id`) or by any of the names listed here for its
kind, compared by `normalise`: case, spaces and underscores, ё/е, a BOM and a trailing dot,
colon or asterisk do not matter. Within a kind no two columns may share a name (the tests check
it), and a name is listed only when a person would not mean another column by it: «Клиент» is a
name in one export and a code in another, so it is listed for neither.

Keyed by column name, not by the schema's columns: a name for a column the schema does not have
(yet) is simply never looked up. docs/import.md «Column names» lists the same table for people.
"""

from __future__ import annotations

import re

_RUNS = re.compile(r"[\s_]+")
_TRIMMED = " .:*"  # «Долг, руб.», «ИНН:», «Наименование*» (a required-column mark)

_CLIENT_CODE = ("Код клиента", "ID клиента", "Код организации")
_CONTACT_CODE = ("Код контакта", "Код контактного лица", "ID контакта")
_FULL_NAME = ("ФИО", "Ф.И.О.", "Фамилия Имя Отчество")

ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "clients": {
        "external_id": ("Код", *_CLIENT_CODE, "ID", "Идентификатор", "Код в CRM"),
        "name": ("Наименование", "Название", "Наименование клиента", "Организация", "Название организации"),
        "inn": ("ИНН",),
        "segment": ("Сегмент", "Вид сопровождения"),
        "territory": ("Территория", "Район"),
        "expert_login": ("Эксперт", "Ответственный", "Логин эксперта", "Ответственный эксперт"),
        "timezone": ("Часовой пояс", "Часовой пояс клиента"),
        "version": ("Версия", "Версия системы"),
        "online_last_login": ("Последний вход", "Дата последнего входа", "Последний вход в онлайн"),
        "online_logins_30d": ("Входов за 30 дней", "Заходов за 30 дней"),
        "debt_rub": ("Долг", "Задолженность", "Долг, руб", "Задолженность, руб"),
        "prepaid_months": ("Предоплата, мес", "Месяцев предоплаты", "Оплачено месяцев вперёд"),
        "terms_end": ("Окончание условий", "Окончание финансовых условий", "Условия до"),
        "ds_since": ("На ДС с", "Дата перехода на ДС"),
        "contact_every_days": ("Периодичность контакта", "Периодичность контакта, дней"),
        "client_since": ("Клиент с", "Клиент с даты", "Дата начала сопровождения"),
        "came_from": ("Пришёл от", "Откуда пришёл", "Прежняя система"),
        "distance_km": ("Удалённость, км", "Расстояние, км", "Удалённость"),
        "services": ("Сервисы", "Пользуется сервисами"),
        "ip_possible": ("Возможно ИП", "Возможность ИП"),
        "sio": ("СИО", "Специалист СИО"),
        "collection_completeness": ("Полнота сбора", "Полнота сбора СТТ", "Процент сбора СТТ"),
    },
    "contacts": {
        "external_id": ("Код", *_CONTACT_CODE, "ID", "Идентификатор"),
        "client_external_id": _CLIENT_CODE,
        "full_name": (*_FULL_NAME, "Контактное лицо"),
        "position": ("Должность",),
        "phone": ("Телефон", "Телефоны", "Номер телефона", "Тел"),
        "email": ("E-mail", "Эл. почта", "Электронная почта", "Почта", "Адрес электронной почты"),
        "is_user": ("Пользователь", "Пользователь системы", "Пользуется системой"),
        "call_from": ("Звонить с", "Удобное время с", "Время звонка с"),
        "call_to": ("Звонить до", "Удобное время до", "Время звонка до"),
    },
    "history": {
        "client_external_id": _CLIENT_CODE,
        "contact_external_id": _CONTACT_CODE,
        "date": ("Дата", "Дата контакта", "Дата работы"),
        "result": ("Результат", "Результат контакта"),
        "topic": ("Тема", "Инфоповод"),
        "comment": ("Комментарий", "Примечание"),
    },
    "signals": {
        "client_external_id": _CLIENT_CODE,
        "contact_external_id": _CONTACT_CODE,
        "kind": ("Вид", "Тип", "Вид сигнала", "Тип сигнала"),
        "occurred_on": ("Дата", "Дата сигнала"),
        "note": ("Примечание", "Комментарий"),
    },
    "absences": {
        "login": ("Логин", "Эксперт", "Логин эксперта"),
        "from": ("С", "С даты", "Начало", "Дата начала", "Первый день"),
        "to": ("По", "По дату", "Окончание", "Дата окончания", "Последний день"),
    },
    "logins": {
        "contact_external_id": (*_CONTACT_CODE, "Код пользователя"),
        "client_external_id": _CLIENT_CODE,
        "started_at": ("Начало сеанса", "Вход", "Время входа", "Дата входа", "Начало"),
        "ended_at": ("Конец сеанса", "Выход", "Время выхода", "Окончание", "Конец"),
    },
    "selection": {
        "client_external_id": _CLIENT_CODE,
        "criterion": ("Критерий",),
        "score": ("Балл", "Оценка"),
        "note": ("Примечание", "Комментарий"),
        "author_login": ("Автор", "Логин автора"),
    },
    "events": {
        "client_external_id": _CLIENT_CODE,
        "kind": ("Вид", "Тип", "Вид события", "Тип события", "Событие"),
        "occurred_on": ("Дата", "Дата события"),
        "amount_rub": ("Сумма", "Сумма, руб"),
        "employee_login": ("Логин сотрудника", "Логин", "Логин ответственного", "Логин эксперта"),
        "note": ("Примечание", "Комментарий"),
    },
    "plans": {
        "employee_login": ("Логин сотрудника", "Логин", "Логин эксперта"),
        "month": ("Месяц", "Период", "Месяц плана"),
        "kind": ("Показатель", "Вид плана", "Вид", "Тип"),
        "value": ("Значение", "План", "Величина"),
    },
    "visits": {
        "employee_login": ("Логин сотрудника", "Логин", "Логин ПМ", "ПМ"),
        "client_external_id": _CLIENT_CODE,
        "day": ("Дата", "Дата визита"),
        "planned": ("Плановый", "Плановый визит", "По плану"),
        "contacts_met": ("С кем встречались", "Контакты", "Встречались с"),
        "result": ("Результат", "Результат визита"),
        "topic": ("Тема", "Тема визита", "Инфоповод"),
        "comment": ("Комментарий", "Примечание"),
    },
    # The comparison's inputs (issue 17; docs/import.md). SendPulse's names: tests/data/compare/README.md.
    "trainings": {
        "client_external_id": _CLIENT_CODE,
        "contact_external_id": (*_CONTACT_CODE, "Код пользователя"),
        "date": ("Дата", "Дата обучения"),
        "kind": ("Вид", "Вид обучения", "Тип обучения"),
    },
    "seminars": {
        "client_external_id": _CLIENT_CODE,
        "contact_external_id": (*_CONTACT_CODE, "Код слушателя"),
        "date": ("Дата", "Дата семинара", "Дата посещения"),
        "seminar": ("Семинар", "Тема семинара", "Название семинара", "СТ"),
    },
    "acts": {
        "client_external_id": _CLIENT_CODE,
        "period": ("Период", "Месяц", "Период акта"),
        "due_on": ("Срок", "Срок возврата", "Вернуть до"),
        "returned_on": ("Возвращён", "Дата возврата", "Акт возвращён"),
    },
    "requests": {
        "client_external_id": _CLIENT_CODE,
        "channel": ("Канал", "Канал обращения", "Куда обратился"),
        "created_at": ("Дата и время", "Время обращения", "Дата обращения", "Создано"),
    },
    "mailings": {
        "campaign": ("Название рассылки", "Рассылка", "Campaign name", "Name"),
        "sent_on": ("Дата отправки", "Дата", "Send date", "Sent date", "Date"),
        "audience": ("Адресная книга", "Список", "Аудитория", "Mailing list", "Address book", "List"),
        "kind": ("Вид рассылки", "Тип рассылки"),
        "sent": ("Отправлено",),
        "delivered": ("Доставлено",),
        "opened": ("Открыто", "Открытия", "Открыли", "Opens"),
        "clicked": ("Переходы", "Переходов", "Клики", "Clicks", "Link clicks"),
        "unsubscribed": ("Отписались", "Отписки", "Unsubscribes"),
    },
    "survey": {
        "respondent": ("Respondent ID", "ID респондента", "Номер ответа"),
        "email": ("Адрес электронной почты", "Email Address", "E-mail", "Эл. почта"),
        "answered_at": ("Отметка времени", "Timestamp", "End Date", "Дата окончания", "Дата ответа"),
        "client_external_id": ("Код организации", *_CLIENT_CODE[:2], "Custom Data 1"),
    },
    "experts": {
        "login": ("Логин", "Учётная запись"),
        "full_name": (*_FULL_NAME, "Сотрудник"),
        "last_name": ("Фамилия",),
        "first_name": ("Имя",),
        "patronymic": ("Отчество",),
        "role": ("Роль",),
        "extension": ("Внутренний номер", "Внутренний", "Вн. номер", "Добавочный"),
        "timezone": ("Часовой пояс",),
        "daily_target": ("Звонков в день", "План звонков в день", "Норма звонков"),
        "group": ("Группа", "Рабочая группа"),
    },
}


def normalise(name: str) -> str:
    """A header name as it is compared: «  Учётная_запись: » and «учетная запись» are the same."""
    folded = name.replace("\ufeff", "").casefold().replace("ё", "е")
    return _RUNS.sub(" ", folded).strip(_TRIMMED)


def aliases_of(kind: str, column: str) -> tuple[str, ...]:
    """The other names `column` of `kind` goes by (none for a column no export renames)."""
    return ALIASES.get(kind, {}).get(column, ())
