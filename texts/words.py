"""Russian words for numbers, money, dates and names: «5 дней», «12 500 ₽», «2,3», «01.12», «Иванова О. П.». Pure."""

from __future__ import annotations

from datetime import date, datetime


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


def decimal(value: float, places: int = 1) -> str:
    """2,3 — a Russian decimal comma; whole numbers without a fraction."""
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.{places}f}".replace(".", ",")


def minutes_seconds(seconds: float) -> str:
    """`12:05` for 725 s: minutes and seconds as the Experts say them."""
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def ddmm(d: date) -> str:
    return f"{d.day:02}.{d.month:02}"  # not strftime: it is slow on aware datetimes


def dmy(d: date) -> str:
    """«01.12.2026»."""
    return f"{d.day:02}.{d.month:02}.{d.year}"


def hhmm(moment: datetime) -> str:
    return f"{moment.hour:02}:{moment.minute:02}"


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
