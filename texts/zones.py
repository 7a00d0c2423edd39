"""Time zones as a Russian office worker names them: «Екатеринбург (UTC+5)», not Asia/Yekaterinburg.

The zones of Russia by the city the zone is named after (the tz database's own choice); any other
zone keeps its IANA name. The offset is the one the zone has at the given moment.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

CITY = {
    "Europe/Kaliningrad": "Калининград",
    "Europe/Moscow": "Москва",
    "Europe/Simferopol": "Симферополь",
    "Europe/Volgograd": "Волгоград",
    "Europe/Kirov": "Киров",
    "Europe/Astrakhan": "Астрахань",
    "Europe/Samara": "Самара",
    "Europe/Saratov": "Саратов",
    "Europe/Ulyanovsk": "Ульяновск",
    "Asia/Yekaterinburg": "Екатеринбург",
    "Asia/Omsk": "Омск",
    "Asia/Novosibirsk": "Новосибирск",
    "Asia/Barnaul": "Барнаул",
    "Asia/Tomsk": "Томск",
    "Asia/Novokuznetsk": "Новокузнецк",
    "Asia/Krasnoyarsk": "Красноярск",
    "Asia/Irkutsk": "Иркутск",
    "Asia/Chita": "Чита",
    "Asia/Yakutsk": "Якутск",
    "Asia/Khandyga": "Хандыга",
    "Asia/Vladivostok": "Владивосток",
    "Asia/Ust-Nera": "Усть-Нера",
    "Asia/Magadan": "Магадан",
    "Asia/Sakhalin": "Сахалин",
    "Asia/Srednekolymsk": "Среднеколымск",
    "Asia/Kamchatka": "Камчатка",
    "Asia/Anadyr": "Анадырь",
    "UTC": "UTC",
}


def zone_label(key: str, at: datetime) -> str:
    """«Екатеринбург (UTC+5)»; a zone outside Russia: its IANA name with the offset."""
    offset = at.astimezone(ZoneInfo(key)).utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    shown = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    name = CITY.get(key, key)
    return name if key == "UTC" else f"{name} ({shown})"


# «МСК+N» as office staff write a zone: N hours from Moscow → the zone that names that time zone of
# Russia in its law (самарское время, екатеринбургское…), so МСК+1 is Samara, not Astrakhan.
BY_MOSCOW_OFFSET: dict[int, str] = {
    -1: "Europe/Kaliningrad", 0: "Europe/Moscow", 1: "Europe/Samara", 2: "Asia/Yekaterinburg", 3: "Asia/Omsk",
    4: "Asia/Krasnoyarsk", 5: "Asia/Irkutsk", 6: "Asia/Yakutsk", 7: "Asia/Vladivostok", 8: "Asia/Magadan",
    9: "Asia/Kamchatka",
}
_MOSCOW = re.compile(r"мск(?:\s*([+−])\s*(\d{1,2}))?")


def _folded(text: str) -> str:
    """Compared as people mean it: any case, ё as е, any spaces, any dash as the minus zone_label prints."""
    return " ".join(text.replace("(", " (").split()).casefold().replace("ё", "е").replace("-", "−").replace("–", "−")


_BY_CITY = {_folded(city): key for key, city in CITY.items()}


def zone_key(text: str, at: datetime) -> str | None:
    """The IANA zone a Russian name means, or None: a city of CITY, also as zone_label prints it at `at`
    («Екатеринбург (UTC+5)»), or «МСК», «МСК+2», «МСК−1» (BY_MOSCOW_OFFSET). IANA names are not read here."""
    folded = _folded(text)
    city, _, tail = folded.partition(" (")
    key = _BY_CITY.get(city)
    if key is not None:
        return key if not tail or _folded(zone_label(key, at)) == folded else None
    return _moscow_based(folded)


def _moscow_based(folded: str) -> str | None:
    found = _MOSCOW.fullmatch(folded)
    if found is None:
        return None
    hours = int(found[2] or 0) * (-1 if found[1] == "−" else 1)
    return BY_MOSCOW_OFFSET.get(hours)
