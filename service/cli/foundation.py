"""The foundation's `dsdesk` commands: db upgrade, calls list, replay, run."""

from __future__ import annotations

import argparse
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dialer.records import CallRecord
from service.cli.output import print_json_lines, print_lines, table_header, table_line
from service.cli.registry import command
from service.errors import CommandError
from service.settings import Settings, mask_url
from texts.words import minutes_seconds

TABLE_COLUMNS = (
    ("started", 19), ("dir", 3), ("expert", 6), ("client number", 13), ("client", 24),
    ("outcome", 16), ("talk", 7), ("total", 7), ("linkedid", 20),
)


@command("db upgrade", "apply the database migrations",
         configure=lambda p: p.add_argument("--revision", default="head"))
async def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from service.db.migrate import current_revision, migrate

    url = settings.database.url
    await migrate(url, args.revision)
    print(f"database {mask_url(url)} is at revision {await current_revision(url)}")
    return 0


def _calls_list_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--date", type=date.fromisoformat, metavar="YYYY-MM-DD",
                        help="day in the organisation's time zone (default: today)")
    parser.add_argument("--all", action="store_true", help="the latest calls of any day")
    parser.add_argument("--expert", metavar="EXT", help="only this Expert's extension")
    parser.add_argument("--limit", type=int, default=1000, help="at most this many calls")
    parser.add_argument("--json", action="store_true", help="JSON lines instead of a table")


@command("calls list", "show the call ledger", configure=_calls_list_args)
async def calls_list(args: argparse.Namespace, settings: Settings) -> int:
    from service.db.engine import create_engine, create_sessionmaker
    from service.db.ledger import LedgerRepository

    tz = settings.organisation.tz
    day = None if args.all else args.date or datetime.now(tz).date()
    engine = create_engine(settings.database.url)
    try:
        ledger = LedgerRepository(create_sessionmaker(engine))
        records = await ledger.list_calls(day, tz, expert_ext=args.expert, limit=args.limit)
    finally:
        await engine.dispose()
    if args.json:
        print_json_lines({**r.replay_dict(), "client_name": r.client_name} for r in records)
    else:
        print_table(records, tz)
    return 0


@command("replay", "print the call records of a raw AMI capture as JSON lines",
         configure=lambda p: p.add_argument("file", help="AMI capture, bytes as received"))
def replay(args: argparse.Namespace, settings: Settings) -> int:
    """As `python -m dialer replay FILE`, with the tracker configured from config.yaml."""
    from dialer.replay import replay_file, replay_lines

    try:
        records = replay_file(args.file, settings.tracker_config())
    except FileNotFoundError as e:
        raise CommandError(f"no such file: {args.file}") from e
    print_lines(replay_lines(records))
    return 0


@command("run", "run the service (web app, PBX connection, scheduler)")
def run(args: argparse.Namespace, settings: Settings) -> int:
    from service.runner import run as run_service  # on use: the web app and the PBX client load only here

    return run_service(settings)


def print_table(records: list[CallRecord], tz: ZoneInfo) -> None:
    lines = [table_header(TABLE_COLUMNS), *(table_line(_table_cells(r, tz), TABLE_COLUMNS) for r in records),
             f"{len(records)} call(s); times in {tz.key}"]
    print_lines(lines)


def _table_cells(record: CallRecord, tz: ZoneInfo) -> list[str]:
    client = " ".join(part for part in (record.client_id, record.client_name) if part)
    return [
        record.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
        "out" if record.direction == "outbound" else "in",
        record.expert_ext or "-",
        record.client_number or "-",
        client or "-",
        "(in progress)" if record.outcome is None else str(record.outcome),
        minutes_seconds(record.talk_s),
        minutes_seconds(record.duration_s),
        record.linkedid,
    ]
