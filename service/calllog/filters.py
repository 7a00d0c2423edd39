"""The call log's filters: the query string read into `CallFilters`, every bad value named in Russian. Pure.

The names are a contract: the figures page links to /calls with exactly these parameters —
`expert` (extension), `from`, `to`, `outcome`, `topic`, `client`, `direction`, `planned`,
`min_talk`, `max_talk` (minutes), `logged_in`, `result`, `productive`, `q`, `guessed`, `talk_below`,
`login` (how "logged in" is known: `measured` from the usage data, `ticked` by the Expert only,
`disagree`: both known and different), `dialled` (the client was dialled: an ended call that is not
the Expert's own miss, as «Сделано звонков» counts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from service.days import day_bounds

OUTCOMES = ("answered", "no_answer", "rejected", "busy", "congestion", "cancelled", "expert_no_answer",
            "missed")
DIRECTIONS = ("outbound", "inbound")
RESULTS = ("contact_made", "not_reached", "callback", "wrong_number", "refused")
NO_WRAPUP = "none"  # `result=none`: calls nobody wrapped up yet
# `result=contact`: a contact was made — «контакт состоялся» or a refusal (SPEC-NOTES: a refusal is a
# contact, not productive); what the control figures count as contacts made.
ANY_CONTACT = "contact"
CONTACT_RESULTS = ("contact_made", "refused")
LOGIN_SOURCES = ("measured", "ticked", "disagree")
YES_NO = {"yes": True, "no": False, "да": True, "нет": False, "1": True, "0": False}
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
# A day outside these years is a typo or a probe: 0001-01-01 in Moscow time is not even a UTC instant.
YEARS = (2000, 2100)
MAX_TEXT = 100
_EXTENSION = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
_MINUTES = re.compile(r"^(\d{1,4})(?:[.,](\d{1,2}))?$")
_MIN_SEC = re.compile(r"^(\d{1,4}):([0-5]\d)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
LINKEDID_MAX = 64  # calls.linkedid is String(64)


@dataclass(frozen=True, slots=True)
class FilterError:
    field: str  # the query parameter's name
    message: str


@dataclass(frozen=True, slots=True)
class CallFilters:
    """What the log is narrowed to; None everywhere means every call."""

    expert_ext: str | None = None
    date_from: date | None = None  # organisation-local days, both inclusive
    date_to: date | None = None
    outcome: str | None = None
    topic: str | None = None
    client_id: str | None = None  # the client's external id (C-501)
    direction: str | None = None
    planned: bool | None = None
    min_talk_s: float | None = None
    max_talk_s: float | None = None
    logged_in: bool | None = None
    result: str | None = None  # a wrap-up result, or NO_WRAPUP
    productive: bool | None = None
    search: str | None = None  # a client's name or a phone number
    guessed: bool | None = None  # outcome or talk time a guess (a gap in the PBX link): yes / no
    talk_below_s: float | None = None  # talk strictly shorter (the figures' «короче порога» link)
    login: str | None = None  # one of LOGIN_SOURCES (the figures' «расхождения» link)
    dialled: bool | None = None  # the client was dialled: an ended call, not the Expert's own miss («Сделано звонков»)

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


def parse_filters(query: Mapping[str, str], tz: ZoneInfo, now: datetime) -> CallFilters | list[FilterError]:
    """The filters in `query` (empty values ignored), or every problem found, one per parameter."""
    errors: list[FilterError] = []
    today = now.astimezone(tz).date()

    def take(name: str) -> str | None:
        value = query.get(name, "").strip()
        return value or None

    def checked(name: str, value: object) -> object:
        if isinstance(value, FilterError):
            errors.append(value)
            return None
        return value

    values = {
        "expert_ext": checked("expert", _extension(take("expert"))),
        "date_from": checked("from", _day("from", take("from"), today)),
        "date_to": checked("to", _day("to", take("to"), today)),
        "outcome": checked("outcome", _choice("outcome", take("outcome"), OUTCOMES, "исход звонка")),
        "topic": checked("topic", _text("topic", take("topic"), "инфоповод")),
        "client_id": checked("client", _text("client", take("client"), "код клиента")),
        "direction": checked("direction", _choice("direction", take("direction"), DIRECTIONS, "направление")),
        "planned": checked("planned", _yes_no("planned", take("planned"))),
        "min_talk_s": checked("min_talk", _minutes("min_talk", take("min_talk"))),
        "max_talk_s": checked("max_talk", _minutes("max_talk", take("max_talk"))),
        "logged_in": checked("logged_in", _yes_no("logged_in", take("logged_in"))),
        "result": checked("result", _choice("result", take("result"), RESULTS + (NO_WRAPUP, ANY_CONTACT), "итог")),
        "productive": checked("productive", _yes_no("productive", take("productive"))),
        "search": checked("q", _text("q", take("q"), "поиск")),
        "guessed": checked("guessed", _yes_no("guessed", take("guessed"))),
        "talk_below_s": checked("talk_below", _minutes("talk_below", take("talk_below"))),
        "login": checked("login", _choice("login", take("login"), LOGIN_SOURCES, "источник отметки о заходе")),
        "dialled": checked("dialled", _yes_no("dialled", take("dialled"))),
    }
    errors.extend(_cross_checks(values))
    if errors:
        return errors
    return CallFilters(**values)  # type: ignore[arg-type]  # each value checked for its field above


def to_query(filters: CallFilters) -> dict[str, str]:
    """The query parameters that give `filters` back (for paging links and the form)."""
    names = {"expert_ext": "expert", "date_from": "from", "date_to": "to", "client_id": "client",
             "min_talk_s": "min_talk", "max_talk_s": "max_talk", "search": "q", "talk_below_s": "talk_below"}
    query: dict[str, str] = {}
    for f in fields(filters):
        value = getattr(filters, f.name)
        if value is None:
            continue
        name = names.get(f.name, f.name)
        if isinstance(value, bool):
            query[name] = "yes" if value else "no"
        elif isinstance(value, date):
            query[name] = value.isoformat()
        elif isinstance(value, float):
            query[name] = _minutes_text(value)
        else:
            query[name] = str(value)
    return query


def utc_bounds(filters: CallFilters, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """[start, end) in UTC for the organisation-local days `date_from`..`date_to`."""
    start = None if filters.date_from is None else day_bounds(filters.date_from, tz)[0]
    end = None if filters.date_to is None else day_bounds(filters.date_to, tz)[1]
    return start, end


def _cross_checks(values: Mapping[str, object]) -> list[FilterError]:
    errors = []
    start, end = values["date_from"], values["date_to"]
    if isinstance(start, date) and isinstance(end, date) and start > end:
        errors.append(FilterError("to", "Дата «по» раньше даты «с»"))
    low, high = values["min_talk_s"], values["max_talk_s"]
    if isinstance(low, float) and isinstance(high, float) and low > high:
        errors.append(FilterError("max_talk", "Разговор «до» короче, чем «от»"))
    return errors


def _extension(value: str | None) -> str | FilterError | None:
    if value is None or _EXTENSION.match(value):
        return value
    return FilterError("expert", "Эксперт: нужен добавочный номер, например 101")


def _day(name: str, value: str | None, today: date) -> date | FilterError | None:
    if value is None:
        return None
    if value.lower() in ("today", "сегодня"):
        return today
    if value.lower() in ("yesterday", "вчера"):
        return today - timedelta(days=1)
    label = "«с»" if name == "from" else "«по»"
    for pattern in DATE_FORMATS:
        try:
            day = datetime.strptime(value, pattern).date()
        except ValueError:
            continue
        if not YEARS[0] <= day.year <= YEARS[1]:
            return FilterError(name, f"Дата {label}: нужна дата между {YEARS[0]} и {YEARS[1]} годом")
        return day
    return FilterError(name, f"Дата {label}: нужна дата вида 25.12.2026 или 2026-12-25")


def _choice(name: str, value: str | None, allowed: tuple[str, ...], label: str) -> str | FilterError | None:
    if value is None or value in allowed:
        return value
    return FilterError(name, f"Неизвестное значение фильтра «{label}»: {value[:40]}")


def _yes_no(name: str, value: str | None) -> bool | FilterError | None:
    if value is None:
        return None
    if value.lower() in YES_NO:
        return YES_NO[value.lower()]
    return FilterError(name, f"Нужно «да» или «нет», а не «{value[:40]}»")


def is_linkedid(text: str) -> bool:
    """Could be a ledger key: a database never sees a NUL byte or a 10 kB id from a URL."""
    return 0 < len(text) <= LINKEDID_MAX and not _CONTROL.search(text)


def _text(name: str, value: str | None, label: str) -> str | FilterError | None:
    if value is None:
        return None
    if len(value) > MAX_TEXT:
        return FilterError(name, f"Слишком длинное значение в поле «{label}» (не больше {MAX_TEXT} знаков)")
    if _CONTROL.search(value):
        return FilterError(name, f"Недопустимые символы в поле «{label}»")
    return value


def _minutes(name: str, value: str | None) -> float | FilterError | None:
    """Minutes as `5`, `2,5`, `2.5` or `2:30`, returned in seconds."""
    if value is None:
        return None
    if match := _MIN_SEC.match(value):
        return float(int(match[1]) * 60 + int(match[2]))
    if match := _MINUTES.match(value):
        fraction = float(f"0.{match[2]}") if match[2] else 0.0
        return round((int(match[1]) + fraction) * 60, 3)
    label = {"min_talk": "от", "max_talk": "до"}.get(name, "короче")
    return FilterError(name, f"Разговор {label}: нужно число минут, например 5 или 2,5")


def _minutes_text(seconds: float) -> str:
    whole, rest = divmod(int(round(seconds)), 60)
    return f"{whole}:{rest:02d}" if rest else str(whole)
