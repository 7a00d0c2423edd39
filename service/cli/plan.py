"""`dsdesk plan build|show|runs`: the daily call plan from the command line."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime

from service.cli.output import print_json_lines
from service.cli.registry import command
from service.db.engine import create_engine, create_sessionmaker
from service.db.job_runs import JobRunsRepository
from service.db.plan import PlannedCallView, PlanRepository
from service.plan_setup import build_planner
from service.settings import Settings


def _date_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--date", type=date.fromisoformat, metavar="YYYY-MM-DD",
                        help="the plan's day (default: today in the organisation's time zone)")


def _show_args(parser: argparse.ArgumentParser) -> None:
    _date_arg(parser)
    parser.add_argument("--expert", metavar="LOGIN", help="only this Expert's plan")
    parser.add_argument("--json", action="store_true", help="JSON lines instead of a table")


@command("plan build", "build (or top up) the call plan for a day", configure=_date_arg)
async def plan_build(args: argparse.Namespace, settings: Settings) -> int:
    day = args.date or datetime.now(settings.organisation.tz).date()
    engine = create_engine(settings.database.url)
    try:
        report = await build_planner(settings, create_sessionmaker(engine)).build_day(day, datetime.now(UTC))
    finally:
        await engine.dispose()
    print(report.summary())
    for note in report.notes:
        print(f"  {note}")
    return 0


@command("plan show", "show the call plan for a day", configure=_show_args)
async def plan_show(args: argparse.Namespace, settings: Settings) -> int:
    day = args.date or datetime.now(settings.organisation.tz).date()
    engine = create_engine(settings.database.url)
    try:
        repo = PlanRepository(create_sessionmaker(engine))
        items = await repo.list_plan(day, args.expert)
        notes = await repo.list_notes(day, args.expert)
    finally:
        await engine.dispose()
    if args.json:
        print_json_lines(_json(item, settings) for item in items)
        return 0
    for item in items:
        slot = item.slot.astimezone(settings.organisation.tz).strftime("%H:%M")
        why = "; ".join(r.text for r in item.reasons)
        print(f"{item.expert_login:<10} {slot}  {item.public_id:<9} {item.client_external_id:<8} "
              f"{item.contact_external_id or '-':<8} {item.state:<12} {item.topic or ''} — {why}")
    for login, text in notes:
        print(f"{login}: {text}")
    print(f"{len(items)} planned call(s) on {day.isoformat()}")
    return 0


@command("plan runs", "the last runs of the scheduled plan jobs (failures included)")
async def plan_runs(args: argparse.Namespace, settings: Settings) -> int:
    engine = create_engine(settings.database.url)
    try:
        runs = await JobRunsRepository(create_sessionmaker(engine)).recent()
    finally:
        await engine.dispose()
    for run in runs:
        print(f"{run.started_at:%Y-%m-%d %H:%M} {run.job:<18} {run.status:<8} {run.detail or ''}")
    return 0


def _json(item: PlannedCallView, settings: Settings) -> dict[str, object]:
    return {
        "date": item.plan_date.isoformat(),
        "expert": item.expert_login,
        "slot": item.slot.astimezone(settings.organisation.tz).isoformat(),
        "client_id": item.client_external_id,
        "contact_id": item.contact_external_id,
        "reasons": [str(r.code) for r in item.reasons],
        "topic": item.topic,
        "state": str(item.state),
    }
