"""The Expert's and the PM's monthly reports (issue 16, item 3): the presentation's two tables. Pure.

The presentation («Отчетность Эксперта по ДС», «Отчетность ПМ по ДС») lists what each report holds
and which CRM report it was read from by hand. Each row here keeps the presentation's wording and
is computed from DS Desk's own data (calls, wrap-ups, plan items, visits) or from the CRM's
business events (`dsdesk import events`). docs/month.md gives every definition.

A row is made of figures; a figure is a number with its unit, or «нет данных» with the reason (a
figure is never a default). `drill` names the rows behind a figure, for the web page's links: the
call log's filters (`calls`), the visits page (`visits`) or the events list (`events`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class Unit(StrEnum):
    COUNT = ""
    SHARE = "%"  # a share 0..1, shown as per cent
    RUB = "₽"


class Drill(StrEnum):
    CALLS = "calls"
    VISITS = "visits"
    EVENTS = "events"


@dataclass(frozen=True, slots=True)
class Figure:
    label: str  # «плановых», «доля от клиентов»
    value: Decimal | None  # None: no data (`missing` says why)
    unit: Unit = Unit.COUNT
    drill: tuple[Drill, Mapping[str, str]] | None = None
    missing: str | None = None
    target: str | None = None  # «норма 30–32», «цель 60 %»


@dataclass(frozen=True, slots=True)
class Row:
    title: str  # the presentation's wording
    source: str  # where DS Desk takes it from (replaces the presentation's «инструмент» column)
    figures: tuple[Figure, ...]


@dataclass(frozen=True, slots=True)
class CallFacts:
    """An Expert's call figures over the period (the control figures' day aggregates, summed)."""

    planned: int = 0  # planned items, cancelled excluded, rolled-over included
    calls: int = 0  # ledger calls, guessed ones aside
    unplanned: int = 0  # of them not linked to a planned item
    contacts: int = 0  # wrap-ups with a contact made
    productive: int = 0
    logged_in: int = 0  # contacts with the client logged in during the call
    guessed: int = 0  # calls with a guessed outcome or talk time: in no figure

    def __add__(self, other: CallFacts) -> CallFacts:
        return CallFacts(*(a + b for a, b in zip(_fields(self), _fields(other), strict=True)))


def _fields(facts: CallFacts) -> tuple[int, ...]:
    return (facts.planned, facts.calls, facts.unplanned, facts.contacts, facts.productive, facts.logged_in,
            facts.guessed)


@dataclass(frozen=True, slots=True)
class EventFacts:
    """One kind of business event over the period: how many, on how many clients, for how much."""

    count: int = 0
    clients: int = 0
    amount_rub: Decimal = Decimal(0)

    def __add__(self, other: EventFacts) -> EventFacts:
        return EventFacts(self.count + other.count, self.clients + other.clients, self.amount_rub + other.amount_rub)


DEBT_ACTIVE = "debt_collected:active"  # debt collected from a client that was not disconnected then
DEBT_DISCONNECTED = "debt_collected:disconnected"  # … from a disconnected one


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What one person's report is computed from, for one period (a month or a range of months)."""

    clients: int = 0  # her portfolio today (no history of portfolios is kept)
    users: int = 0  # contacts marked «пользователь» of those clients, today
    calls: CallFacts = CallFacts()
    topics: Mapping[str | None, int] = field(default_factory=dict)  # wrapped-up calls by topic
    visits_planned_plan: Decimal | None = None  # imported monthly plans, summed; None: not for every month
    visits_plan_gap: str | None = None  # why the plan is None when some of it was imported
    visits_planned_done: int = 0
    visits_unplanned_done: int = 0
    pm_calls: int = 0  # every ledger call she owns
    events: Mapping[str, EventFacts] = field(default_factory=dict)  # kind (or DEBT_*) → facts


@dataclass(frozen=True, slots=True)
class Targets:
    login_share: Decimal  # targets.login_share (0.6)
    visits_planned: tuple[int, int]  # per month
    visits_unplanned: tuple[int, int]
    pm_calls: tuple[int, int]
    months: int = 1  # the period's months: a monthly norm times this

    def per_period(self, band: tuple[int, int]) -> str:
        low, high = band[0] * self.months, band[1] * self.months
        return f"норма {low}–{high}"


MAILINGS_MISSING = "нет данных: отчёты рассылок (SendPulse) в DS Desk не загружаются"
NO_TOPIC = "без инфоповода"
EXPERT_TITLE = "Отчетность Эксперта по ДС"
# The department's column counts every event of the period, whoever it names (found trying it: a sale of
# an Expert's showed in «Отдел» and in nobody's column of the PMs' table).
EVENTS_SOURCE = "события CRM; «Отдел» — все события отдела, в том числе Экспертов и без сотрудника"
PM_TITLE = "Отчетность ПМ по ДС"


def expert_rows(facts: PersonFacts, targets: Targets, topic_order: Sequence[str | None] | None = None) -> list[Row]:
    """«Отчетность Эксперта по ДС», row by row as the presentation lists them; `topic_order` lists the
    topics to show (the department's, so that every column has the same lines), else her own."""
    c = facts.calls
    planned_calls = c.calls - c.unplanned
    login_plan = (Decimal(c.planned) * targets.login_share).quantize(Decimal(1), ROUND_HALF_UP)
    # A guessed talk time cannot make a call productive (the control figures' rule): say how many.
    guessed_note = f"; звонки с достроенными данными ({c.guessed}) в результативные не входят" if c.guessed else ""
    return [
        Row("кол-во организаций и кол-во пользователей",
            "портфель на сегодня: клиенты и их контакты с признаком «пользователь»",
            (Figure("организаций", Decimal(facts.clients)), Figure("пользователей", Decimal(facts.users)))),
        Row("плановое кол-во звонков/Работ", "план звонков DS Desk (отменённые не считаются)",
            (Figure("плановых звонков", Decimal(c.planned)),)),
        Row(f"плановое кол-во звонков с заходом в систему ({_percent(targets.login_share)})",
            f"план звонков × {_percent(targets.login_share)} (цель отдела)",
            (Figure("план звонков с заходом", login_plan),)),
        Row("факт выполненных звонков/работ", "итоги звонков «контакт состоялся» (и отказ)" + guessed_note,
            (Figure("контакт состоялся", Decimal(c.contacts), drill=_calls(result="contact")),
             Figure("из них результативных", Decimal(c.productive), drill=_calls(productive="yes", guessed="no")))),
        Row("кол-во плановых и неплановых звонков", "журнал звонков АТС: звонок по плану или вне плана",
            (Figure("плановых", Decimal(planned_calls), drill=_calls(planned="yes")),
             Figure("неплановых", Decimal(c.unplanned), drill=_calls(planned="no")))),
        Row("количество звонков с заходом в систему",
            "итоги звонков: клиент заходил в систему во время звонка",
            (Figure("с заходом", Decimal(c.logged_in), drill=_calls(result="contact", logged_in="yes")),
             Figure("доля от состоявшихся контактов", _share(c.logged_in, c.contacts), Unit.SHARE,
                    missing=None if c.contacts else "нет контактов за период",
                    target=f"цель {_percent(targets.login_share)}"))),
        Row("распределение звонков по основному инфоповоду", "итоги звонков: инфоповод",
            _topic_figures(facts.topics, topic_order)),
        Row("кол-во и темы рассылок/целевая аудитория/кол-во отправлений/открыто и переходов по ссылкам "
            "или скачиваний (кол-во и %)", "SendPulse",
            (Figure("рассылок", None, missing=MAILINGS_MISSING),)),
    ]


def pm_rows(facts: PersonFacts, targets: Targets) -> list[Row]:
    """«Отчетность ПМ по ДС», row by row as the presentation lists them."""
    ev = facts.events
    plan_missing = None if facts.visits_planned_plan is not None else (
        facts.visits_plan_gap or "план визитов за период не импортирован")
    return [
        Row("план/факт по запланированным визитам", "визиты ПМ и загруженный план визитов",
            (Figure("план", facts.visits_planned_plan, missing=plan_missing,
                    target=targets.per_period(targets.visits_planned)),
             Figure("факт (состоялись)", Decimal(facts.visits_planned_done), drill=_visits(planned="yes")))),
        Row("кол-во неплановых визитов", "визиты ПМ",
            (Figure("неплановых визитов", Decimal(facts.visits_unplanned_done), drill=_visits(planned="no"),
                    target=targets.per_period(targets.visits_unplanned)),)),
        Row("кол-во звонков", "журнал звонков АТС",
            (Figure("звонков", Decimal(facts.pm_calls), drill=_calls(),
                    target=targets.per_period(targets.pm_calls)),)),
        Row("кол-во продлений финансовых условий", EVENTS_SOURCE,
            (_count(ev, "terms_renewed", "продлений"),)),
        Row("кол-во и % Клиентов, перешедших на длинную предоплату или вернувшихся на ежемесячную",
            EVENTS_SOURCE + "; доля — от клиентов портфеля на сегодня",
            (*_clients_and_share(ev, "prepay_long", "на длинную предоплату", facts.clients),
             *_clients_and_share(ev, "prepay_monthly", "вернулись на ежемесячную", facts.clients))),
        Row("кол-во подписок на ГК текущих, продаж семинаров, продаж/допродаж", EVENTS_SOURCE,
            (_count(ev, "gk_subscription", "подписок на ГК"), _count(ev, "seminar_sold", "продаж семинаров"),
             _count(ev, "sale", "продаж"), _amount(ev, "sale", "сумма продаж"),
             _count(ev, "upsell", "допродаж"), _amount(ev, "upsell", "сумма допродаж"))),
        Row("отчеты по «Проблемам», работе по задолженности действующих и отключенных Клиентов, по работе "
            "по восстановлению, по Конкурентам", EVENTS_SOURCE,
            (_count(ev, "problem_registered", "проблем зарегистрировано"),
             _count(ev, "problem_solved", "проблем решено"),
             _count(ev, DEBT_ACTIVE, "задолженность погашена: действующие", drill=ACTIVE_DEBT),
             _amount(ev, DEBT_ACTIVE, "сумма: действующие", drill=ACTIVE_DEBT),
             _count(ev, DEBT_DISCONNECTED, "задолженность погашена: отключённые", drill=DISCONNECTED_DEBT),
             _amount(ev, DEBT_DISCONNECTED, "сумма: отключённые", drill=DISCONNECTED_DEBT),
             _count(ev, "client_disconnected", "отключено клиентов"),
             _count(ev, "client_restored", "восстановлено клиентов"),
             _count(ev, "competitor_lost", "ушли к конкурентам"),
             _count(ev, "competitor_won", "пришли от конкурентов"))),
    ]


def sum_facts(people: Sequence[PersonFacts], events: Mapping[str, EventFacts] | None = None) -> PersonFacts:
    """The department's facts: every person's summed; `events` (counted over the department, so a
    client two people worked with counts once) replaces the summed events when given."""
    total = PersonFacts()
    topics: dict[str | None, int] = {}
    summed: dict[str, EventFacts] = {}
    plans = [p.visits_planned_plan for p in people]
    # A plan summed over only some people would read as the department's whole plan: then none.
    plan = sum((v for v in plans if v is not None), Decimal(0)) if plans and None not in plans else None
    gap = ("план визитов загружен не у всех ПМ или не за все месяцы"
           if None in plans and any(v is not None or p.visits_plan_gap for v, p in zip(plans, people, strict=True))
           else None)
    for p in people:
        for key, n in p.topics.items():
            topics[key] = topics.get(key, 0) + n
        for kind, facts in p.events.items():
            summed[kind] = summed.get(kind, EventFacts()) + facts
        total = PersonFacts(
            clients=total.clients + p.clients, users=total.users + p.users, calls=total.calls + p.calls,
            visits_planned_done=total.visits_planned_done + p.visits_planned_done,
            visits_unplanned_done=total.visits_unplanned_done + p.visits_unplanned_done,
            pm_calls=total.pm_calls + p.pm_calls)
    return PersonFacts(total.clients, total.users, total.calls, topics, plan, gap, total.visits_planned_done,
                       total.visits_unplanned_done, total.pm_calls, summed if events is None else events)


def topic_order_of(topics: Mapping[str | None, int]) -> list[str | None]:
    """The most frequent first; «без инфоповода» last."""
    return sorted(topics, key=lambda key: (key is None, -topics[key], key or ""))


def _topic_figures(topics: Mapping[str | None, int], order: Sequence[str | None] | None) -> tuple[Figure, ...]:
    total = sum(topics.values())
    keys = topic_order_of(topics) if order is None else order
    if not keys:
        return (Figure("звонков с итогом", Decimal(0)),)
    figures: list[Figure] = []
    for topic in keys:
        name = topic or NO_TOPIC
        n = topics.get(topic, 0)
        figures.append(Figure(name, Decimal(n), drill=_calls(topic=topic) if topic else None))
        figures.append(Figure(f"{name}: доля", _share(n, total), Unit.SHARE,
                              missing=None if total else "нет звонков с итогом"))
    return tuple(figures)


# The events list's filters behind the split debt figures (found trying it: both opened all the payments).
ACTIVE_DEBT = {"kind": "debt_collected", "disconnected": "no"}
DISCONNECTED_DEBT = {"kind": "debt_collected", "disconnected": "yes"}


def _count(events: Mapping[str, EventFacts], kind: str, name: str,
           drill: Mapping[str, str] | None = None) -> Figure:
    facts = events.get(kind, EventFacts())
    return Figure(name, Decimal(facts.count), drill=(Drill.EVENTS, drill or {"kind": kind}))


def _amount(events: Mapping[str, EventFacts], kind: str, name: str,
            drill: Mapping[str, str] | None = None) -> Figure:
    facts = events.get(kind, EventFacts())
    return Figure(name, facts.amount_rub, Unit.RUB, drill=(Drill.EVENTS, drill or {"kind": kind}))


def _clients_and_share(events: Mapping[str, EventFacts], kind: str, name: str, clients: int) -> tuple[Figure, Figure]:
    facts = events.get(kind, EventFacts())
    share = _share(facts.clients, clients)
    return (Figure(f"{name}: клиентов", Decimal(facts.clients), drill=(Drill.EVENTS, {"kind": kind})),
            Figure(f"{name}: доля", share, Unit.SHARE,
                   missing=None if clients else "в портфеле нет клиентов"))


def _share(part: int, whole: int) -> Decimal | None:
    """part ÷ whole to four places (0,4167 is 41,7 %); None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def _percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}".replace(".", ",") + " %"


def _calls(**filters: str) -> tuple[Drill, Mapping[str, str]]:
    """The call log's filters (the same as the control figures' links), for the person and period."""
    return Drill.CALLS, filters


def _visits(**filters: str) -> tuple[Drill, Mapping[str, str]]:
    return Drill.VISITS, filters


@dataclass(frozen=True, slots=True)
class Column:
    title: str  # «Орлова Мария Сергеевна» or «Отдел»
    login: str | None  # None: the department


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    unit: Unit
    cells: tuple[Figure, ...]  # one per column


@dataclass(frozen=True, slots=True)
class TableRow:
    title: str
    source: str
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Table:
    title: str  # EXPERT_TITLE or PM_TITLE
    columns: tuple[Column, ...]
    rows: tuple[TableRow, ...]


def expert_table(people: Sequence[tuple[Column, PersonFacts]], targets: Targets,
                 department: PersonFacts | None = None) -> Table:
    """The Experts' report side by side, with the department's column when `department` is given."""
    columns = [*people, *([(Column("Отдел", None), department)] if department is not None else [])]
    order = topic_order_of(sum_facts([facts for _, facts in columns]).topics)
    return _table(EXPERT_TITLE, [(c, expert_rows(f, targets, order)) for c, f in columns])


def pm_table(people: Sequence[tuple[Column, PersonFacts]], targets: Targets,
             department: PersonFacts | None = None) -> Table:
    columns = [*people, *([(Column("Отдел", None), department)] if department is not None else [])]
    return _table(PM_TITLE, [(c, pm_rows(f, targets)) for c, f in columns])


def _table(title: str, columns: Sequence[tuple[Column, list[Row]]]) -> Table:
    """Rows aligned by position: every column was built with the same rows and lines."""
    if not columns:
        return Table(title, (), ())
    template = columns[0][1]
    rows = []
    for index, row in enumerate(template):
        lines = tuple(Line(figure.label, figure.unit, tuple(rows_[index].figures[n] for _, rows_ in columns))
                      for n, figure in enumerate(row.figures))
        rows.append(TableRow(row.title, row.source, lines))
    return Table(title, tuple(c for c, _ in columns), tuple(rows))

