"""`dsdesk recordings purge [--dry-run]`: apply the recording retention now (the nightly job's body)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from service.cli.registry import command
from service.db.engine import create_engine, create_sessionmaker
from service.errors import CommandError
from service.plan_setup import build_retention_job
from service.settings import Settings


def _purge_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true",
                        help="only count what would be deleted; delete and mark nothing")


@command("recordings purge", "delete recordings older than recordings.retention_days", configure=_purge_args)
async def recordings_purge(args: argparse.Namespace, settings: Settings) -> int:
    days = settings.recordings.retention_days
    if days <= 0:
        raise CommandError("recordings.retention_days is 0 (keep forever): nothing to delete")
    engine = create_engine(settings.database.url)
    try:
        job = build_retention_job(settings, create_sessionmaker(engine))
        report = await job.run(datetime.now(UTC), dry_run=args.dry_run)
    finally:
        await engine.dispose()
    print(report.summary())
    return 1 if report.failed else 0
