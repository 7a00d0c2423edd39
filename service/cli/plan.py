"""`dsdesk plan build|show|runs`: the daily call plan from the command line."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from scheduler.jobs import PLAN_JOB, ROLLOVER_JOB
from scheduler.planning import BuildReport
from scheduler.retention import RETENTION_JOB
from scheduler.works_export import WORKS_EXPORT_JOB
from service.cli.arguments import add_date_option
from service.cli.database import command_sessions
from service.cli.output import print_json_lines
from service.cli.registry import command, group
from service.db.job_runs import JobRunsRepository
from service.db.plan import PlannedCallView, PlanRepository
from service.plan_setup import build_planner
from service.settings import Settings
from texts.labels import PLAN_STATE_LABELS
from texts.words import dmy, hhmm, plural

JOB_LABELS = {PLAN_JOB: "план на день", ROLLOVER_JOB: "перенос в конце дня", RETENTION_JOB: "удаление старых записей",
              WORKS_EXPORT_JOB: "работы для ВЭ"}
RUN_STATUS_LABELS = {"running": "идёт", "ok": "успешно", "failed": "ошибка"}

group("plan", "план звонков")


def _date_arg(parser: argparse.ArgumentParser) -> None:
    add_date_option(parser, "--date", help="день плана (по умолчанию сегодня по часовому поясу организации)")


def _show_args(parser: argparse.ArgumentParser) -> None:
    _date_arg(parser)
    parser.add_argument("--expert", metavar="ЛОГИН", help="только план этого Эксперта")
    parser.add_argument("--json", action="store_true", help="строки JSON вместо таблицы (для программ)")


@command("plan build", "построить (или дополнить) план звонков на день", configure=_date_arg)
async def plan_build(args: argparse.Namespace, settings: Settings) -> int:
    day = args.date or datetime.now(settings.organisation.tz).date()
    async with command_sessions(settings) as sessions:
        report = await build_planner(settings, sessions).build_day(day, datetime.now(UTC))
    print(build_summary(report))
    for note in report.notes:
        print(f"  {note}")
    return 0


@command("plan show", "показать план звонков на день", configure=_show_args)
async def plan_show(args: argparse.Namespace, settings: Settings) -> int:
    day = args.date or datetime.now(settings.organisation.tz).date()
    async with command_sessions(settings) as sessions:
        repo = PlanRepository(sessions)
        items = await repo.list_plan(day, args.expert)
        notes = await repo.list_notes(day, args.expert)
    if args.json:
        print_json_lines(_json(item, settings) for item in items)
        return 0
    for item in items:
        slot = item.slot.astimezone(settings.organisation.tz).strftime("%H:%M")
        why = "; ".join(r.text for r in item.reasons)
        state = PLAN_STATE_LABELS.get(item.state, str(item.state))
        print(f"{item.expert_login:<10} {slot}  {item.public_id:<9} {item.client_external_id:<8} "
              f"{item.contact_external_id or '-':<8} {state:<17} {item.topic or ''} — {why}")
    for login, text in notes:
        print(f"{login}: {text}")
    print(f"{dmy(day)}: {_calls(len(items))} в плане")
    return 0


@command("plan runs", "последние запуски плановых заданий (и их ошибки)")
async def plan_runs(args: argparse.Namespace, settings: Settings) -> int:
    async with command_sessions(settings) as sessions:
        runs = await JobRunsRepository(sessions).recent()
    tz = settings.organisation.tz
    for run in runs:
        started = run.started_at.astimezone(tz)
        print(f"{dmy(started)} {hhmm(started)}  {JOB_LABELS.get(run.job, run.job):<23} "
              f"{RUN_STATUS_LABELS.get(run.status, run.status):<8} {run.detail or ''}")
    return 0


def build_summary(report: BuildReport) -> str:
    """What a build did, in Russian: «план на 06.12.2026: добавлено 12 звонков, …»."""
    experts = ", ".join(f"{login}: {n}" for login, n in sorted(report.per_expert.items()))
    return (f"план на {dmy(report.day)}: добавлено {_calls(report.created)}, уже было в плане {report.kept}, "
            f"обязательных отложено {report.deferred} ({experts or 'нет Экспертов на работе'})")


def _calls(n: int) -> str:
    return f"{n} {plural(n, 'звонок', 'звонка', 'звонков')}"


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
