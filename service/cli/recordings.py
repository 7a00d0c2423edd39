"""`dsdesk recordings purge [--dry-run]`: apply the recording retention now (the nightly job's body)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from service.cli.database import command_sessions
from service.cli.registry import command, group
from service.errors import CommandError
from service.plan_setup import build_retention_job
from service.settings import Settings

group("recordings", "записи разговоров")


def _purge_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true",
                        help="только посчитать, что было бы удалено; ничего не удалять и не отмечать")


@command("recordings purge", "удалить записи разговоров старше recordings.retention_days дней",
         configure=_purge_args)
async def recordings_purge(args: argparse.Namespace, settings: Settings) -> int:
    days = settings.recordings.retention_days
    if days <= 0:
        raise CommandError("recordings.retention_days равен 0 (хранить всегда): удалять нечего")
    async with command_sessions(settings) as sessions:
        job = build_retention_job(settings, sessions)
        report = await job.run(datetime.now(UTC), dry_run=args.dry_run)
    print(report.summary())
    return 1 if report.failed else 0
