"""The plan shell: roll over, load inputs (summaries computed in SQL), build (pure), save (top-up)."""

from __future__ import annotations

import gc
import logging
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from scheduler.builder import build_plan
from scheduler.calendar import WorkCalendar
from scheduler.inputs import ExistingItem, PlanInputs
from scheduler.model import Plan
from scheduler.rules import PlanRules

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SaveResult:
    created: tuple[str, ...]  # public ids of the items inserted, oldest id first
    kept: int  # items skipped: the contact already had an item that day
    notes_added: int


class PlanStore(Protocol):
    """Where plans live (service/db/plan.py: PlanRepository)."""

    async def roll_over(self, day: date, now: datetime | None = None) -> list[ExistingItem]: ...
    async def load_plan_inputs(self, day: date, tz: ZoneInfo,
                               expert_logins: Collection[str] | None = None) -> PlanInputs: ...
    async def save_plan(self, plan: Plan, now: datetime | None = None) -> SaveResult: ...


@dataclass(frozen=True, slots=True)
class BuildReport:
    day: date
    created: int
    kept: int
    per_expert: dict[str, int]
    deferred: int
    notes: tuple[str, ...]

    def summary(self) -> str:
        experts = ", ".join(f"{login}: {n}" for login, n in sorted(self.per_expert.items()))
        return (f"plan for {self.day.isoformat()}: {self.created} new items, {self.kept} already planned, "
                f"{self.deferred} owed calls deferred ({experts or 'no Expert on duty'})")


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: reference counting still frees everything acyclic.

    A full-size build holds over a million live objects (rows, inputs, candidates); allocating
    them triggers full collections again and again, each walking all of them: about a third of
    the build's CPU time (bench/RESULTS.md). Inputs and plan hold no reference cycles.
    """
    if not gc.isenabled():  # paused by someone else: theirs to resume
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Planner:
    """Builds a day's plan; running it again tops up, never duplicates, never drops made calls."""

    def __init__(self, store: PlanStore, calendar: WorkCalendar, rules: PlanRules, tz: ZoneInfo) -> None:
        self._store, self._calendar, self._rules, self._tz = store, calendar, rules, tz

    async def roll_over_until(self, day: date, now: datetime) -> int:
        return len(await self._store.roll_over(day, now))

    async def build_day(self, day: date, now: datetime, expert_logins: Collection[str] | None = None) -> BuildReport:
        # Only days that are over roll over: building tomorrow's plan at 09:35 must leave today's
        # open calls where they are (found trying it: they were all marked «перенесён» and copied).
        await self._store.roll_over(min(day, now.astimezone(self._tz).date()), now)
        with cyclic_gc_paused():
            inputs = await self._store.load_plan_inputs(day, self._tz, expert_logins)
            plan = build_plan(inputs, self._calendar, self._rules, now)
            saved = await self._store.save_plan(plan, now)
        report = BuildReport(
            day=day, created=len(saved.created), kept=saved.kept,
            per_expert={p.expert_login: len(p.items) for p in plan.experts if p.items},
            deferred=sum(len(p.deferred) for p in plan.experts),
            notes=tuple(f"{p.expert_login}: {note}" for p in plan.experts for note in p.notes),
        )
        log.info(report.summary())
        return report
