"""The works export's shell: read the days from the database, build the rows, encode, write the nightly file.

Used by the nightly job (scheduler/works_export.py through service/plan_setup.py), the supervisor's
download (service/exports/views.py) and `dsdesk exports works`. Encoding runs in a thread: a
quarter's XLSX takes seconds of CPU, and the Experts' screens share the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from service.db.engine import SessionMaker
from service.db.works_export import WorksExportRepository
from service.exports.files import encode
from service.exports.store import nightly_name, write_file
from service.exports.works import WorkRow, WorksConfig, day_rows
from service.settings import Settings
from texts.words import plural


@dataclass(frozen=True, slots=True)
class Written:
    """What writing one day's file did."""

    day: date
    path: Path
    rows: int
    changed: bool  # False: the file already held exactly these bytes

    def summary(self) -> str:
        """«07.12.2026: 42 работы → var/exports/works-2026-12-07.csv» (the job-run log's detail)."""
        works = f"{self.rows} {plural(self.rows, 'работа', 'работы', 'работ')}"
        return f"{self.day:%d.%m.%Y}: {works} → {self.path}" + ("" if self.changed else " (без изменений)")


def works_config(settings: Settings) -> WorksConfig:
    exports = settings.exports
    return WorksConfig(tz=settings.organisation.tz, public_url=settings.service.public_url, states=exports.states,
                       expert_assignment=exports.expert_assignment, pm_assignment=exports.pm_assignment)


async def read_rows(sessions: SessionMaker, days: Iterable[date], config: WorksConfig) -> list[WorkRow]:
    """The works of the days, day by day in the order given, each day in its fixed order."""
    rows: list[WorkRow] = []
    async for _, calls, visits in WorksExportRepository(sessions).days(days, config.tz):
        rows.extend(day_rows(calls, visits, config))
    return rows


async def export_bytes(sessions: SessionMaker, days: Iterable[date], config: WorksConfig,
                       file_format: str) -> tuple[bytes, int]:
    """The file of the days in `file_format`, and how many works it holds."""
    rows = await read_rows(sessions, days, config)
    return await asyncio.to_thread(encode, rows, file_format), len(rows)


async def write_day(sessions: SessionMaker, settings: Settings, day: date) -> Written:
    """Write `exports.dir/works-YYYY-MM-DD.<format>` for `day` (the nightly file); ExportsDirError if it cannot."""
    file_format = settings.exports.format
    data, count = await export_bytes(sessions, [day], works_config(settings), file_format)
    directory = settings.exports.dir
    name = nightly_name(day, file_format)
    changed = await asyncio.to_thread(write_file, directory, name, data)
    return Written(day, directory / name, count, changed)
