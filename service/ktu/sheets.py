"""The КТУ sheets of a month (docs/ktu.md «Storage»): the rules applied to the stored data and versions.

A draft's sheet is computed live from the month's data and the head's latest entries; an approved
version's sheet is the one frozen when it was approved. Every change goes through the repository's
per-person-month lock and the rules' own checks; a refusal is `KtuError` with the rules' Russian
message and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from service.db.ktu import KtuRepository, Locked, MonthData, Person, StoredEntry, StoredVersion
from service.ktu import rules as k
from service.ktu.snapshot import freeze, thaw
from service.month.kinds import month_after, month_label
from service.settings import Settings
from texts.words import short_name

REASON_MAX = 1000


@dataclass(frozen=True, slots=True)
class VersionView:
    number: int
    state: k.SheetState
    author: str
    created_at: datetime | None  # None: version 1 before anyone changed anything
    reason: str | None
    approved_by: str | None
    approved_at: datetime | None
    sheet: k.KtuSheet | None  # approved: frozen; draft: live; None when the data cannot make a sheet
    stored: bool = True


@dataclass(frozen=True, slots=True)
class PersonSheet:
    person: Person
    role: k.Role
    versions: tuple[VersionView, ...]  # oldest first, at least one
    error: str | None = None  # why the draft could not be computed (Russian)

    @property
    def latest(self) -> VersionView:
        return self.versions[-1]

    @property
    def sheet(self) -> k.KtuSheet | None:
        return self.latest.sheet

    @property
    def approved(self) -> bool:
        return self.latest.state is k.SheetState.APPROVED

    @property
    def missing(self) -> tuple[str, ...]:
        """The labels of computed components still without data (the draft's)."""
        sheet = self.sheet
        return tuple(v.label for v in sheet.values if v.missing) if sheet is not None and not self.approved else ()


def topics(settings: Settings) -> dict[str, Sequence[str]]:
    return {"training": settings.ktu.fact_topics.training, "st_invitations": settings.ktu.fact_topics.st_invitations}


def author_name(full_name: str) -> str:
    """«Смирнова О. В.»: as the sheet names whoever entered or approved."""
    return short_name(full_name)


def inputs_for(person: Person, month: date, data: MonthData, entries: dict[str, StoredEntry]) -> k.KtuInputs:
    """One person-month's inputs: a plan kind with no row was not imported (missing), facts default to 0."""
    plans = data.plans.get(person.id, {})
    facts = data.facts.get(person.id, {})
    plan_facts = {kind: k.PlanFact(int(plans[kind.value]), facts.get(kind.value, 0))
                  for kind in k.PlanKind if kind.value in plans}
    return k.KtuInputs(person.login, month, plan_facts, plans.get("vksp_balance"),
                       plans.get("collection_completeness"),
                       {key: k.Entry(e.value, e.reason, e.author) for key, e in entries.items()})


def _live(person: Person, month: date, data: MonthData, entries: dict[str, StoredEntry],
          rules: k.KtuRules) -> tuple[k.KtuSheet | None, str | None]:
    try:
        return k.compute_sheet(k.Role(person.role), inputs_for(person, month, data, entries), rules), None
    except k.KtuError as e:  # data a setting change made impossible: shown, never a broken page
        return None, str(e)


def _view(stored: StoredVersion, live: k.KtuSheet | None) -> VersionView:
    sheet = thaw(stored.sheet) if stored.state == k.SheetState.APPROVED and stored.sheet else live
    return VersionView(stored.number, k.SheetState(stored.state), stored.author, stored.created_at, stored.reason,
                       stored.approved_by, stored.approved_at, sheet)


def assemble(person: Person, month: date, data: MonthData, entries: dict[str, StoredEntry],
             stored: Sequence[StoredVersion], rules: k.KtuRules) -> PersonSheet:
    live, error = _live(person, month, data, entries, rules)
    if not stored:
        return PersonSheet(person, k.Role(person.role),
                           (VersionView(1, k.SheetState.DRAFT, "—", None, None, None, None, live, stored=False),),
                           error)
    views = tuple(_view(v, live) for v in stored)
    role = views[-1].sheet.role if views[-1].sheet is not None else k.Role(person.role)
    return PersonSheet(person, role, views, None if views[-1].state is k.SheetState.APPROVED else error)


async def month_sheets(repo: KtuRepository, settings: Settings, month: date,
                       people: Sequence[Person]) -> list[PersonSheet]:
    """Everyone's sheet of the month, from one read per source."""
    ids = [p.id for p in people]
    data = await repo.month_data(month, settings.organisation.tz, topics(settings), ids)
    entries = await repo.entries(month, ids)
    versions = await repo.versions(month, ids)
    rules = settings.ktu.rules()
    return [assemble(p, month, data, entries.get(p.id, {}), versions.get(p.id, []), rules) for p in people]


async def person_sheet(repo: KtuRepository, settings: Settings, month: date, person: Person) -> PersonSheet:
    return (await month_sheets(repo, settings, month, [person]))[0]


def closed_message(month: date) -> str:
    return f"Месяц {month_label(month)} закрыт: ведомости КТУ за него не меняются"


def _refuse_closed(lock: Locked, month: date) -> None:
    if lock.closed:
        raise k.KtuError(closed_message(month))


def _latest_state(lock: Locked) -> k.SheetState:
    return k.SheetState(lock.versions[-1].state)


def parse_value(text: str, label: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", ".").replace("−", "-"))
    except InvalidOperation as e:
        raise k.KtuError(f"«{label}»: значение должно быть числом") from e
    if not value.is_finite():
        raise k.KtuError(f"«{label}»: значение должно быть числом")
    return value


async def enter(repo: KtuRepository, settings: Settings, person: Person, month: date, key: str, value_text: str,
                reason: str, by_id: int, by_name: str, now: datetime) -> None:
    """The head's value for an entered component; only while the latest version is a draft."""
    rules = settings.ktu.rules()
    role = k.Role(person.role)
    value = parse_value(value_text, k.LABELS.get(key, key))
    reason = " ".join(reason.split())
    if len(reason) > REASON_MAX:
        raise k.KtuError(f"Причина длиннее {REASON_MAX} знаков")
    problem = k.check_entry(role, key, value, reason, rules)
    if problem is not None:
        raise k.KtuError(problem)
    author = author_name(by_name)
    async with repo.locked(person, month, author, now) as lock:
        _refuse_closed(lock, month)
        problem = k.check_change(_latest_state(lock))
        if problem is not None:
            raise k.KtuError(problem)
        await repo.add_entry(lock, person, month, key, value, reason, by_id, author, now)


async def approve(repo: KtuRepository, settings: Settings, person: Person, month: date, by_name: str,
                  now: datetime) -> int:
    """Approve the draft with the sheet as it stands now (computed inside the lock); returns its number."""
    by = author_name(by_name)
    async with repo.locked(person, month, by, now) as lock:
        _refuse_closed(lock, month)
        latest = lock.versions[-1]
        data = await repo.month_data(month, settings.organisation.tz, topics(settings), [person.id], lock.session)
        entries = (await repo.entries(month, [person.id], lock.session)).get(person.id, {})
        if latest.state == k.SheetState.APPROVED:
            raise k.KtuError(f"Ведомость уже утверждена (версия {latest.number})")
        sheet = k.compute_sheet(k.Role(person.role), inputs_for(person, month, data, entries), settings.ktu.rules())
        version = k.SheetVersion(latest.number, sheet, latest.author, latest.created_at, latest.reason)
        approved = k.approve(version, by, now)
        if not await repo.approve(lock, latest.id, by, now, freeze(approved.sheet)):
            raise k.KtuError(f"Ведомость уже утверждена (версия {latest.number})")
        return latest.number


async def new_version(repo: KtuRepository, settings: Settings, person: Person, month: date, reason: str,
                      by_name: str, now: datetime) -> int:
    """A draft after the approved latest version; the reason is mandatory. Returns its number."""
    author = author_name(by_name)
    if len(" ".join(reason.split())) > REASON_MAX:
        raise k.KtuError(f"Причина длиннее {REASON_MAX} знаков")
    async with repo.locked(person, month, author, now) as lock:
        _refuse_closed(lock, month)
        history = tuple(_as_rules_version(v) for v in lock.versions)
        previous = history[-1]
        created = k.new_version(previous, reason, author, now)
        # The new draft's sheet is computed live; the rules check the numbering and whose it is.
        k.append_version(history, created)
        await repo.add_version(lock, person, month, created.number, person.role, author, now, created.reason or "")
        return created.number


def _as_rules_version(stored: StoredVersion) -> k.SheetVersion:
    """A stored version for the rules' checks: the frozen sheet, or for a draft an empty one of its person."""
    sheet = thaw(stored.sheet) if stored.sheet else None
    if sheet is None:
        sheet = k.KtuSheet("", date.min, k.Role(stored.role), (), Decimal(0), Decimal(0), Decimal(0))
    return k.SheetVersion(stored.number, sheet, stored.author, stored.created_at, stored.reason,
                          k.SheetState(stored.state), stored.approved_by, stored.approved_at)


async def close_month(repo: KtuRepository, month: date, by_id: int | None, now: datetime, today: date) -> None:
    """Close the month when it is over and every active Expert's and PM's sheet is approved; else KtuError
    (Russian) saying why not. Found trying it: December closed on the 7th, and its plans could no longer
    be imported for the rest of the month."""
    if await repo.is_closed(month):
        raise k.KtuError(f"Месяц {month_label(month)} уже закрыт")
    if month_after(month) > today:
        raise k.KtuError(f"Месяц {month_label(month)} ещё не закончился: закрыть его можно "
                         f"с {month_after(month):%d.%m.%Y}")
    people = await repo.people()
    pending = await repo.close_month(month, by_id, now, people)
    if pending:
        names = ", ".join(p.full_name for p in pending)
        raise k.KtuError(f"Месяц {month_label(month)} не закрыт: не утверждены ведомости — {names}")
