"""Scoring a client for remote service (ДС): the mandatory condition, eight criteria of 0–3 points
and the СИО's recommendation, as the department's presentation lists them (docs/selection.md). Pure:
`today` is an argument, and every score carries its Russian explanation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from texts.words import ddmm, dmy, plural

CRITERIA = ("loyalty", "skills", "users", "prepay", "services", "without_sio", "remoteness", "from_glavbukh")
RECOMMENDATION = "recommendation"
MAX_SCORE = 3
MAX_TOTAL = MAX_SCORE * len(CRITERIA)  # 24
# The presentation's wording, for screens and exports.
CRITERION_LABELS = {
    "loyalty": "лояльность",
    "skills": "навыки работы с К+",
    "users": "кол-во пользователей",
    "prepay": "возможность платить предоплату",
    "services": "степень использования сервисных услуг",
    "without_sio": "готовы обойтись без СИО",
    "remoteness": "территориальная удаленность",
    "from_glavbukh": "перешли с Главбуха",
}
# The services that count (the import's `services` column), in the order explanations name them.
SERVICES = {"st": "СТ", "mailing": "рассылка", "video_seminars": "видеосеминары", "lk": "ЛК"}
ONLINE_VERSIONS = ("online", "internet_update")

ALREADY_ON_DS = "уже на ДС"
NO_ONLINE_OR_IP = "нет онлайн-версии, ИП и возможности ИП"
IP_POSSIBLE_UNKNOWN = "нет онлайн-версии и ИП, возможность ИП не указана"
NO_DATA = "нет данных"

_POINTS = frozenset(str(n) for n in range(MAX_SCORE + 1))
_YES_NO = {"yes": "yes", "no": "no", "да": "yes", "нет": "no"}
_CAME_FROM = {"glavbukh": "перешли с Главбуха", "garant": "перешли с Гаранта"}


@dataclass(frozen=True, slots=True)
class ClientFacts:
    """What scoring needs to know about one organisation (the clients import and its contacts)."""

    client_id: str  # external id
    segment: str  # "ДС" | "КС" | "VIP" (ДС = already on remote service)
    version: str  # "online" | "internet_update" | other values
    ip_possible: bool | None
    client_since: date | None
    debt_rub: Decimal
    online_logins_30d: int | None
    users: int  # contacts with is_user
    prepaid_months: int | None
    services: tuple[str, ...]  # subset of SERVICES' keys; other entries are ignored
    distance_km: float | None
    came_from: str | None  # "glavbukh" | "garant" | "other" | None


@dataclass(frozen=True, slots=True)
class ManualScore:
    """The latest manual entry per criterion (history is kept elsewhere)."""

    criterion: str  # one of CRITERIA or "recommendation"
    value: str  # "0".."3", or "yes"/"no" for recommendation
    author: str  # the author's full name (for the explanation)
    at: datetime  # shown as given: the caller passes it in the organisation's time zone
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Score:
    value: int  # 0..3
    explanation: str  # Russian: «3 — 2 пользователя», «вручную: Иванова, 02.12: готовы»
    manual: bool


@dataclass(frozen=True, slots=True)
class Selection:
    client_id: str
    eligible: bool
    ineligible_reason: str | None  # Russian, e.g. «уже на ДС», «нет онлайн-версии, ИП и возможности ИП»
    scores: dict[str, Score]  # every criterion, in CRITERIA order
    total: int  # 0..24
    recommendation: str | None  # "yes" | "no" | None (the СИО's)
    candidate: bool


@dataclass(frozen=True, slots=True)
class SelectionRules:
    """The thresholds for 1, 2 and 3 points of each criterion, and the total a candidate needs.

    The `selection:` section of config.yaml maps onto these fields one to one (service/settings.py).
    """

    loyalty_years: tuple[int, int, int] = (1, 3, 5)  # whole years a client
    debt_threshold_rub: Decimal = Decimal(0)  # debt strictly above this costs one loyalty point
    skills_logins: tuple[int, int, int] = (1, 5, 15)  # logins to the online version in 30 days
    users_at_most: tuple[int, int, int] = (2, 4, 7)  # at most this many users: 3, 2, 1 points; more: 0
    prepay_months: tuple[int, int, int] = (1, 2, 6)  # months paid in advance
    services_count: tuple[int, int, int] = (1, 2, 3)  # services used
    remoteness_km: tuple[float, float, float] = (10.0, 30.0, 80.0)  # distance from the office
    min_total: int = 12  # of MAX_TOTAL

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError("invalid selection rules: " + "; ".join(problems))

    def problems(self) -> list[str]:
        names = ("loyalty_years", "skills_logins", "users_at_most", "prepay_months", "services_count",
                 "remoteness_km")
        found = [f"{name} must be three ascending numbers >= 0, got {getattr(self, name)}"
                 for name in names if not ascending(getattr(self, name))]
        if self.users_at_most[0] < 1:
            found.append(f"users_at_most must start at 1 or more, got {self.users_at_most}")
        if self.debt_threshold_rub < 0:
            found.append(f"debt_threshold_rub must not be negative, got {self.debt_threshold_rub}")
        if not 0 <= self.min_total <= MAX_TOTAL:
            found.append(f"min_total must be 0..{MAX_TOTAL}, got {self.min_total}")
        return found


def ascending(thresholds: tuple[float, ...]) -> bool:
    """Thresholds for 1, 2 and 3 points: three, non-negative, strictly ascending."""
    return len(thresholds) == MAX_SCORE and 0 <= thresholds[0] < thresholds[1] < thresholds[2]


def score_client(facts: ClientFacts, manual: Mapping[str, ManualScore], rules: SelectionRules,
                 today: date) -> Selection:
    """The client's eligibility, its eight scores (a manual one overrides the computed one), the
    total and whether it is a candidate. Raises ValueError for a manual entry `check_manual` refuses."""
    for criterion, entry in manual.items():
        error = check_manual(criterion, entry.value)
        if error:
            raise ValueError(f"{facts.client_id}: {error}")
    scores = {name: _manual(name, manual[name], today) if name in manual else _COMPUTED[name](facts, rules, today)
              for name in CRITERIA}
    total = sum(score.value for score in scores.values())
    reason = ineligible_reason(facts)
    recommended = manual.get(RECOMMENDATION)
    recommendation = normalise_manual(RECOMMENDATION, recommended.value) if recommended else None
    candidate = reason is None and total >= rules.min_total and recommendation != "no"
    return Selection(facts.client_id, reason is None, reason, scores, total, recommendation, candidate)


def ineligible_reason(facts: ClientFacts) -> str | None:
    """Why the client cannot move to ДС (Russian), or None: the presentation's mandatory condition
    «Онлайн, ИП или возможность ИП», and not on ДС already."""
    if facts.segment.strip().upper() in ("ДС", "DS"):
        return ALREADY_ON_DS
    if facts.version in ONLINE_VERSIONS or facts.ip_possible:
        return None
    return IP_POSSIBLE_UNKNOWN if facts.ip_possible is None else NO_ONLINE_OR_IP


def check_manual(criterion: str, value: str) -> str | None:
    """A Russian error for a manual entry DS Desk cannot take, or None when it is fine."""
    if criterion == RECOMMENDATION:
        if value.strip().casefold() in _YES_NO:
            return None
        return f"рекомендация СИО — «да» или «нет», а не «{value}»"
    if criterion not in CRITERIA:
        named = ", ".join(f"«{label}»" for label in (*CRITERION_LABELS.values(), "рекомендация СИО"))
        return f"неизвестный критерий «{criterion}»; возможные: {named}"
    label = CRITERION_LABELS[criterion]
    if value.strip() in _POINTS:
        return None
    if not value.strip():
        return f"не указан балл по критерию «{label}» (от 0 до {MAX_SCORE})"
    return f"балл по критерию «{label}» — целое число от 0 до {MAX_SCORE}, а не «{value}»"


def normalise_manual(criterion: str, value: str) -> str:
    """The stored form of a manual entry: "0".."3", or "yes"/"no" («да»/«нет» too). ValueError if invalid."""
    error = check_manual(criterion, value)
    if error:
        raise ValueError(error)
    return _YES_NO[value.strip().casefold()] if criterion == RECOMMENDATION else value.strip()


def whole_years(since: date, today: date) -> int:
    """Whole years completed by `today` (since 2023-12-07: 3 on 2026-12-07, 2 on 2026-12-06)."""
    return today.year - since.year - ((today.month, today.day) < (since.month, since.day))


def _band(amount: float, thresholds: tuple[float, ...]) -> int:
    """Points for an amount where more is better: one for each threshold reached."""
    low, middle, high = thresholds  # unrolled: 100,000 clients are scored at once
    return (amount >= low) + (amount >= middle) + (amount >= high)


def _computed(value: int, reason: str) -> Score:
    return Score(value, f"{value} — {reason}", manual=False)


def _manual(criterion: str, entry: ManualScore, today: date) -> Score:
    surname = entry.author.split()[0] if entry.author.split() else ""
    when = ddmm(entry.at) if entry.at.year == today.year else dmy(entry.at)
    head = f"вручную: {surname}, {when}" if surname else f"вручную, {when}"
    note = (entry.note or "").strip()
    explanation = f"{head}: {note}" if note else head
    return Score(int(normalise_manual(criterion, entry.value)), explanation, manual=True)


def _loyalty(facts: ClientFacts, rules: SelectionRules, today: date) -> Score:
    if facts.client_since is None:
        return _computed(0, NO_DATA)
    years = max(0, whole_years(facts.client_since, today))  # a date ahead of today is a new client
    points = _band(years, rules.loyalty_years)
    reason = f"{years} {plural(years, 'год', 'года', 'лет')} с нами" if years else "меньше года с нами"
    if facts.debt_rub > rules.debt_threshold_rub:
        return _computed(max(0, points - 1), reason + (", есть долг: −1" if points else ", есть долг"))
    return _computed(points, reason)


def _skills(facts: ClientFacts, rules: SelectionRules, today: date) -> Score:
    logins = facts.online_logins_30d
    if logins is None:
        return _computed(0, NO_DATA)
    if logins <= 0:
        return _computed(0, "ни одного входа в систему за 30 дней")
    word = plural(logins, "вход", "входа", "входов")
    return _computed(_band(logins, rules.skills_logins), f"{logins} {word} в систему за 30 дней")


def _users(facts: ClientFacts, rules: SelectionRules, today: date) -> Score:
    # Fewer users are easier to serve remotely; none marked says nothing about the client.
    users = facts.users
    if users <= 0:
        return _computed(0, f"{NO_DATA}: пользователи не отмечены")
    points = MAX_SCORE - _band(users - 1, rules.users_at_most)  # above the first limit: one point less
    return _computed(points, f"{users} {plural(users, 'пользователь', 'пользователя', 'пользователей')}")


def _prepay(facts: ClientFacts, rules: SelectionRules, today: date) -> Score:
    months = facts.prepaid_months
    if months is None:
        return _computed(0, NO_DATA)
    if months <= 0:
        return _computed(0, "без предоплаты")
    word = plural(months, "месяц", "месяца", "месяцев")
    return _computed(_band(months, rules.prepay_months), f"предоплата на {months} {word}")


def _services(facts: ClientFacts, rules: SelectionRules, today: date) -> Score:
    named = {entry.strip().casefold() for entry in facts.services}
    used = [label for key, label in SERVICES.items() if key in named]
    if not used:
        return _computed(0, "не пользуется сервисными услугами")
    count = len(used)
    word = plural(count, "услуга", "услуги", "услуг")
    return _computed(_band(count, rules.services_count), f"{count} {word}: {', '.join(used)}")


def _without_sio(facts: ClientFacts, rules: SelectionRules, today: date) -> Score:
    return _computed(0, "СИО ещё не оценил")  # only the СИО can say; there is no data for it


def _remoteness(facts: ClientFacts, rules: SelectionRules, today: date) -> Score:
    km = facts.distance_km
    if km is None:
        return _computed(0, NO_DATA)
    # :g keeps 9.99 as 9,99 (one decimal would show 10 with the points of less than 10).
    return _computed(_band(km, rules.remoteness_km), f"{km:g} км".replace(".", ","))


def _from_glavbukh(facts: ClientFacts, rules: SelectionRules, today: date) -> Score:
    came_from = (facts.came_from or "").strip().casefold()
    if not came_from:
        return _computed(0, NO_DATA)
    points = MAX_SCORE if came_from == "glavbukh" else 0
    return _computed(points, _CAME_FROM.get(came_from, "пришли не с Главбуха"))


_COMPUTED: dict[str, Callable[[ClientFacts, SelectionRules, date], Score]] = {
    "loyalty": _loyalty,
    "skills": _skills,
    "users": _users,
    "prepay": _prepay,
    "services": _services,
    "without_sio": _without_sio,
    "remoteness": _remoteness,
    "from_glavbukh": _from_glavbukh,
}
