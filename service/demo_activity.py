"""The demo department at work (pbx.mode simulator, demo load on): anna and pavel wrap up their
calls as real Experts would (service/demo_work.py), their clients' logins arrive as the
online-version usage report, and on the first start their last working days are filled in, with
a usage file for them imported through the real import path. Only the demo department's data.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from dialer.records import CallRecord
from service.days import day_bounds
from service.db.demo_calls import calls_to_wrap_up
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.db.logins import LoginsRepository
from service.db.models import Call
from service.db.step_scripts import StepScriptsRepository, VersionRow
from service.db.wrapups import CallStillUp, WrapUpRepository
from service.demo_coaching import demo_call_steps
from service.demo_work import DemoWork, demo_wrapup, past_calls
from service.imports.runner import import_file, import_rows
from service.imports.schemas import ImportContext
from service.scripts import ScriptCatalog
from service.settings import Settings

log = logging.getLogger(__name__)
WRAP_EVERY_S = 5.0
WRAP_DELAY = timedelta(seconds=4)  # an Expert takes a few seconds to fill the form in
PAST_WORKING_DAYS = 5
LOGIN_HEADER = ("contact_external_id", "client_external_id", "started_at", "ended_at")


class DemoExperts:
    def __init__(self, sessions: SessionMaker, settings: Settings, clients: Sequence[tuple[str, str, str]],
                 seed: int = 2026) -> None:
        self._sessions = sessions
        self._settings = settings
        self._extensions = tuple(settings.simulator.experts)
        self._clients = [(client_id, phone) for phone, _, client_id in clients if client_id]
        self._rng = random.Random(seed)
        self._catalog = ScriptCatalog.load()
        self._step_scripts: dict[str, VersionRow | None] = {}  # the backfill's published step scripts by file

    async def run(self) -> None:
        """Wrap up the demo Experts' finished calls every few seconds, until cancelled."""
        while True:
            try:
                await self.wrap_up_once(datetime.now(UTC))
            except Exception:  # the demo must go on; the log says what failed
                log.exception("demo wrap-ups failed")
            await asyncio.sleep(WRAP_EVERY_S)

    async def wrap_up_once(self, now: datetime) -> int:
        """Wrap up the calls of today that ended a few seconds ago; their logins are imported."""
        tz = self._settings.organisation.tz
        today = now.astimezone(tz).date()
        waiting = await calls_to_wrap_up(self._sessions, self._extensions, day_bounds(today, tz)[0],
                                         now - WRAP_DELAY)
        logins: list[dict[str, str]] = []
        for owner, call in waiting:
            work = self._work(call)
            if work is None:
                continue
            try:
                await WrapUpRepository(self._sessions).save(call.linkedid, owner, work.wrapup, today, now)
            except (CallStillUp, LookupError):
                continue
            await LoginsRepository(self._sessions).measure_call(
                call.linkedid, tz, self._settings.targets.login_grace_s, now)
            logins += _login_rows(call.client_id, work)
        if logins:  # the usage data of today, as the online version reports it (measures today again)
            await import_rows("logins", logins, self._sessions, context=ImportContext.of(self._settings, now))
        return len(waiting)

    async def backfill(self, today: date, now: datetime) -> None:
        """On the first start: the demo Experts' last working days, wrapped up, with their usage file."""
        if not self._extensions or not self._clients or await self._has_past_calls():
            return
        tz = self._settings.organisation.tz
        calendar = self._settings.plan.calendar()
        days: list[date] = []
        day = today
        while len(days) < PAST_WORKING_DAYS:
            day -= timedelta(days=1)
            if calendar.is_working_day(day):
                days.append(day)
        records = [r for d in sorted(days) for ext in self._extensions
                   for r in past_calls(d, ext, self._clients, self._rng, tz)]
        await LedgerRepository(self._sessions).upsert_calls(records)
        owners = dict(await _owners(self._sessions, [r.linkedid for r in records]))
        logins: list[dict[str, str]] = []
        for record in records:
            work = self._work(record)
            owner = owners.get(record.linkedid)
            if work is None or owner is None:
                continue
            # Saved a minute or two after the call ended, as the Expert would have.
            saved_at = (record.ended_at or now) + timedelta(seconds=self._rng.uniform(30, 150))
            await WrapUpRepository(self._sessions).save(record.linkedid, owner, work.wrapup,
                                                        record.started_at.astimezone(tz).date(), saved_at)
            await self._log_steps(record, owner, work)
            logins += _login_rows(record.client_id, work)
        path = self._usage_file(days, logins)
        report = await import_file("logins", path, self._sessions, progress=False,
                                   context=ImportContext.of(self._settings, now))
        log.info("demo: %d past calls of %s, usage file %s imported: %s", len(records), ", ".join(self._extensions),
                 path, report)

    async def _log_steps(self, record: CallRecord, owner: int, work: DemoWork) -> None:
        """The steps of the step script serving the call's topic, as the Expert went through them."""
        if record.answered_at is None:
            return
        file = self._catalog.for_topic(work.wrapup.topic).file
        repo = StepScriptsRepository(self._sessions)
        if file not in self._step_scripts:  # once per catalog script, not once per past call
            self._step_scripts[file] = await repo.published_for(file)
        version = self._step_scripts[file]
        if version is None:
            return
        rng = random.Random(record.linkedid)  # its own: the wrap-ups' sequence stays as it was
        for seq, (key, at) in enumerate(demo_call_steps(version.script, record.answered_at, record.talk_s, rng)):
            await repo.log_step(record.linkedid, seq, owner, version.id, key, at)

    def _work(self, call: CallRecord) -> DemoWork | None:
        return demo_wrapup(call, self._rng, self._settings.desk.topics, self._settings.targets.productive_min_talk_s,
                           self._settings.organisation.tz)

    async def _has_past_calls(self) -> bool:
        async with self._sessions() as session:
            found = await session.scalar(select(func.count()).select_from(Call).where(Call.linkedid.like("demo-%")))
        return bool(found)

    def _usage_file(self, days: list[date], logins: list[dict[str, str]]) -> Path:
        directory = Path(self._settings.recordings.dir).parent / "demo"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"logins-{min(days):%Y-%m-%d}_{max(days):%Y-%m-%d}.csv"
        with path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.DictWriter(file, LOGIN_HEADER, delimiter=";")
            writer.writeheader()
            writer.writerows(logins)
        return path


def _login_rows(client_id: str | None, work: DemoWork) -> list[dict[str, str]]:
    if work.login is None or client_id is None:
        return []
    start, end = work.login
    return [{"contact_external_id": "", "client_external_id": client_id,
             "started_at": start.isoformat(timespec="seconds"), "ended_at": end.isoformat(timespec="seconds")}]


async def _owners(sessions: SessionMaker, linkedids: list[str]) -> list[tuple[str, int]]:
    async with sessions() as session:
        rows = await session.execute(select(Call.linkedid, Call.expert_id)
                                     .where(Call.linkedid.in_(linkedids), Call.expert_id.is_not(None)))
        return [(linkedid, owner) for linkedid, owner in rows if owner is not None]
