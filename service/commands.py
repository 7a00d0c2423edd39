"""The foundation's `dsdesk` commands: db upgrade, calls list, replay, run."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dialer.records import CallRecord
from service.cli import command
from service.errors import CommandError
from service.settings import Settings, mask_url

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
def replay(args: argparse.Namespace, settings: Settings) -> Any:
    replay_file = _lazy("dialer.replay", "replay_file")
    try:
        records = replay_file(args.file, settings)
    except FileNotFoundError as e:
        raise CommandError(f"no such file: {args.file}") from e
    if hasattr(records, "__await__"):
        return _print_awaited(records)
    print_json_lines(r.replay_dict() for r in records)
    return 0


async def _print_awaited(pending: Any) -> int:
    print_json_lines(r.replay_dict() for r in await pending)
    return 0


@command("run", "run the service (web app, PBX connection, scheduler)")
def run(args: argparse.Namespace, settings: Settings) -> Any:
    # May return a coroutine; the CLI runs it on a fresh event loop.
    return _lazy("service.runner", "run")(settings)


def print_json_lines(items: Iterable[dict[str, Any]]) -> None:
    out = _utf8_stdout()
    for item in items:
        out.write(json.dumps(item, ensure_ascii=False) + "\n")
    out.flush()


def print_table(records: list[CallRecord], tz: ZoneInfo) -> None:
    out = _utf8_stdout()
    out.write(_table_line([name for name, _ in TABLE_COLUMNS]) + "\n")
    for record in records:
        out.write(_table_line(_table_cells(record, tz)) + "\n")
    out.write(f"{len(records)} call(s); times in {tz.key}\n")
    out.flush()


def _table_cells(record: CallRecord, tz: ZoneInfo) -> list[str]:
    client = " ".join(part for part in (record.client_id, record.client_name) if part)
    return [
        record.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
        "out" if record.direction == "outbound" else "in",
        record.expert_ext or "-",
        record.client_number or "-",
        client or "-",
        "(in progress)" if record.outcome is None else str(record.outcome),
        _minutes(record.talk_s),
        _minutes(record.duration_s),
        record.linkedid,
    ]


def _table_line(cells: list[str]) -> str:
    return "  ".join(cell[:width].ljust(width) for cell, (_, width) in zip(cells, TABLE_COLUMNS)).rstrip()


def _minutes(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def _lazy(module: str, attribute: str) -> Any:
    """Import on use: the module may belong to a part of DS Desk that is not built yet."""
    try:
        return getattr(importlib.import_module(module), attribute)
    except ModuleNotFoundError as e:
        if e.name != module:
            raise  # a missing dependency inside the module is a real error
        raise CommandError(f"{module} is not available yet") from e


def _utf8_stdout() -> Any:
    # Client names are Cyrillic; a C/ASCII locale must not turn them into an error.
    if (sys.stdout.encoding or "").lower().replace("-", "") != "utf8":
        sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    return sys.stdout
