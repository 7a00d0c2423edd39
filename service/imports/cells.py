"""One cell → one typed value, or CellError saying why not. Pure.

A cell is what a reader gives: `str` from CSV; `str`, `int`, `float`, `bool`, `datetime`,
`date` or `time` from XLSX. Empty cells never get here (the validator handles them); every
other cell passes `check_text` before its column's parser. The reasons are shown to the user.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialer.numbers import normalise_number
from service.imports.limits import MAX_CELL_CHARS, show
from texts.zones import zone_key

Parser = Callable[[object], Any]

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_RU_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_RU_MOMENT = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?")
_INTEGER = re.compile(r"[+-]?\d+")
_SPACES = re.compile(r"[\s\u00a0\u202f']")  # thousands separators: (narrow) no-break space, '
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE_SEPARATORS = re.compile(r"[,;]")
_TRUE = frozenset({"1", "да", "true"})
_FALSE = frozenset({"0", "нет", "false"})
# C0 controls except tab, LF and CR (a cell may hold lines), DEL and the C1 controls: invisible,
# never typed on purpose, and NUL cannot even be stored in PostgreSQL text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
ZONE_EXAMPLES = "например: Екатеринбург, МСК+2 или Asia/Yekaterinburg"
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 5, 15  # an extension-like short number … E.164's limit


class CellError(ValueError):
    """The cell cannot be read as the column's type; the message is the reason shown."""


def is_empty(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def check_text(raw: object) -> None:
    """Any text cell, whatever its column: at most MAX_CELL_CHARS, no control characters."""
    if not isinstance(raw, str):
        return
    if len(raw) > MAX_CELL_CHARS:
        raise CellError(f"длиннее {show(MAX_CELL_CHARS)} знаков (предел для ячейки)")
    found = _CONTROL.search(raw)
    if found:
        raise CellError(f"недопустимый управляющий символ U+{ord(found[0]):04X} "
                        f"(знак {show(found.start() + 1)}): уберите его из файла")


def display(raw: object) -> str:
    """The cell as the user typed it (for error messages)."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, (datetime, date, time)):
        return raw.isoformat()
    return str(raw)


def text(raw: object) -> str:
    """Trimmed text; Windows line ends become \\n; an XLSX number keeps no `.0` (INN, phone)."""
    if isinstance(raw, bool):
        return "1" if raw else "0"
    return display(raw).strip().replace("\r\n", "\n").replace("\r", "\n")


def bounded_text(limit: int) -> Parser:
    def parse(raw: object) -> str:
        value = text(raw)
        if len(value) > limit:
            raise CellError(f"длиннее {limit} знаков")
        return value
    return parse


def code(limit: int = 64) -> Parser:
    """An identifier (login, external id): no spaces inside."""
    def parse(raw: object) -> str:
        value = bounded_text(limit)(raw)
        if any(ch.isspace() for ch in value):
            raise CellError("пробелов быть не должно")
        return value
    return parse


def choice(options: Mapping[str, str], listed: str | None = None) -> Parser:
    """One of the options (case-insensitive); `options` maps each accepted spelling to its code.
    A refusal lists `listed` (the names people know the options by) or else the codes."""
    allowed = listed or ", ".join(dict.fromkeys(options.values()))

    def parse(raw: object) -> str:
        found = options.get(text(raw).casefold())
        if found is None:
            raise CellError(f"допустимо одно из: {allowed}")
        return found
    return parse


def parse_date(raw: object) -> date:
    """YYYY-MM-DD or DD.MM.YYYY; an XLSX date cell as it is."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    value = text(raw)
    iso, ru = _ISO_DATE.fullmatch(value), _RU_DATE.fullmatch(value)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if ru:
            return date(int(ru[3]), int(ru[2]), int(ru[1]))
    except ValueError as e:
        raise CellError("нет такой даты") from e
    raise CellError("не дата (ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)")


def parse_time(raw: object) -> time:
    """HH:MM or HH:MM:SS; an XLSX time cell as it is."""
    if isinstance(raw, datetime):
        return raw.time()
    if isinstance(raw, time):
        return raw
    match = _TIME.fullmatch(text(raw))
    if match is None:
        raise CellError("не время (ЧЧ:ММ)")
    try:
        return time(int(match[1]), int(match[2]), int(match[3] or 0))
    except ValueError as e:
        raise CellError("нет такого времени") from e


def moment(tz: ZoneInfo) -> Parser:
    """A moment: ISO 8601 with its offset (2026-12-04T10:15:00+03:00), or `DD.MM.YYYY HH:MM[:SS]`
    (or ISO without an offset, or an XLSX date-time cell) in `tz`, the organisation's zone."""
    def parse(raw: object) -> datetime:
        if isinstance(raw, datetime):
            return raw if raw.tzinfo is not None else raw.replace(tzinfo=tz)
        value = text(raw)
        ru = _RU_MOMENT.fullmatch(value)
        try:
            if ru:
                day, month, year, hour, minute, second = (int(g or 0) for g in ru.groups())
                return datetime(year, month, day, hour, minute, second, tzinfo=tz)
            if _ISO_MOMENT.fullmatch(value):
                found = datetime.fromisoformat(value)
                return found if found.tzinfo is not None else found.replace(tzinfo=tz)
        except ValueError as e:
            raise CellError("нет такой даты или времени") from e
        raise CellError("не дата и время (ГГГГ-ММ-ДДTЧЧ:ММ:СС+03:00 или ДД.ММ.ГГГГ ЧЧ:ММ[:СС])")
    return parse


def parse_bool(raw: object) -> bool:
    """1/0, да/нет, true/false in any case; an XLSX boolean cell as it is."""
    if isinstance(raw, bool):
        return raw
    value = text(raw).casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellError("не «да/нет» (1/0, да/нет, true/false)")


INT_COLUMN_MAX = 2_147_483_647  # an INTEGER column's largest value: a bigger one failed the write, not the check


def integer(minimum: int | None = None, maximum: int | None = None) -> Parser:
    def parse(raw: object) -> int:
        value = _to_int(raw)
        if minimum is not None and value < minimum:
            raise CellError(f"должно быть не меньше {minimum}")
        if maximum is not None and value > maximum:
            raise CellError(f"должно быть не больше {maximum}")
        if abs(value) > INT_COLUMN_MAX:
            raise CellError("слишком большое число")
        return value
    return parse


def _to_int(raw: object) -> int:
    if isinstance(raw, bool):
        raise CellError("не целое число")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    value = _SPACES.sub("", text(raw))
    if not _INTEGER.fullmatch(value):
        raise CellError("не целое число")
    return int(value)


def distance(raw: object) -> float:
    """Kilometres, ≥ 0: «12,5», «80», an XLSX number."""
    value = number(raw).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value < 0:
        raise CellError("не может быть отрицательным")
    return float(value)


def word_list(options: Mapping[str, str]) -> Parser:
    """A list separated by «;» or «,» of `options` (spellings casefolded → value), each once, in order."""
    def parse(raw: object) -> list[str]:
        words = [w.strip() for w in re.split(r"[;,]", text(raw)) if w.strip()]
        unknown = [w for w in words if w.casefold() not in options]
        if unknown:
            allowed = ", ".join(sorted(set(options.values())))
            raise CellError(f"неизвестное значение «{unknown[0]}» (можно: {allowed} через «;»)")
        return list(dict.fromkeys(options[w.casefold()] for w in words))
    return parse


NUMBER_MAX = Decimal("1e15")  # rounding a bigger one (1e166 in a cell) raised InvalidOperation: a crash, not a message
MONEY_MAX = Decimal("1e12")  # NUMERIC(14, 2): a trillion roubles does not fit (nor did a 1e166 cell: it crashed)


def money(raw: object) -> Decimal:
    """Roubles with kopecks: «1 234,50», «1234.5», an XLSX number; rounded to kopecks."""
    value = number(raw)
    if abs(value) >= MONEY_MAX:
        raise CellError("слишком большая сумма")
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def number(raw: object) -> Decimal:
    """A decimal number as written («1 234,5», «0,825», an XLSX number), not rounded."""
    if isinstance(raw, bool):
        raise CellError("не число")
    value = str(raw) if isinstance(raw, (int, float)) else _SPACES.sub("", text(raw))
    if "," in value and "." in value:
        raise CellError("не число (копейки — после одной запятой или точки, тысячи — через пробел)")
    try:
        parsed = Decimal(value.replace(",", "."))
    except InvalidOperation as e:
        raise CellError("не число") from e
    if not parsed.is_finite():
        raise CellError("не число")
    if abs(parsed) >= NUMBER_MAX:
        raise CellError("слишком большое число")
    return parsed


def timezone(raw: object) -> str:
    """A zone as IANA names it (Asia/Yekaterinburg) or as the product shows it (Екатеринбург,
    «Екатеринбург (UTC+5)», МСК+2): its IANA name."""
    value = text(raw)
    # The clock only checks a «(UTC+5)» tail against the offset the product would print today.
    key = zone_key(value, datetime.now(UTC))
    if key is not None:
        return key
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise CellError(f"неизвестный часовой пояс: нужен город, МСК±N или имя IANA ({ZONE_EXAMPLES})") from e
    return value


def phone(raw: object) -> tuple[str, str]:
    """(as given, E.164 of the first number): several numbers may be separated by , or ;."""
    given = bounded_text(64)(raw)
    first = next((p for p in _PHONE_SEPARATORS.split(given) if p.strip()), "")
    normalised = normalise_number(first)
    if normalised is None or not MIN_PHONE_DIGITS <= len(normalised) <= MAX_PHONE_DIGITS:
        raise CellError("не номер телефона")
    return given, normalised


def email(raw: object) -> str:
    value = bounded_text(255)(raw)
    if not _EMAIL.fullmatch(value):
        raise CellError("не адрес электронной почты")
    return value


def inn(raw: object) -> str:
    """ИНН: 10 digits (organisation) or 12 (individual entrepreneur)."""
    value = text(raw)
    if isinstance(raw, (int, float)) and len(value) in (9, 11):
        value = "0" + value  # a number cell drops the leading zero of regions 01–09
    if not value.isdigit() or len(value) not in (10, 12):
        raise CellError("в ИНН 10 или 12 цифр")
    return value


def extension(raw: object) -> str:
    """A PBX extension: 2 to 6 digits (what the Expert channel pattern recognises)."""
    value = text(raw)
    if not value.isdigit() or not 2 <= len(value) <= 6:
        raise CellError("во внутреннем номере от 2 до 6 цифр")
    return value
