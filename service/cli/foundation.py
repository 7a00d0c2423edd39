"""The foundation's `dsdesk` commands: db upgrade, calls list, replay, run."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dialer.records import CallRecord
from service.cli.arguments import add_date_option
from service.cli.database import command_sessions
from service.cli.output import print_json_lines, print_lines, table_header, table_line
from service.cli.registry import command, group
from service.errors import CommandError
from service.settings import Settings, mask_url
from texts.labels import OUTCOME_LABELS
from texts.phones import phone_ru
from texts.words import dmy, minutes_seconds, plural
from texts.zones import zone_label

TABLE_COLUMNS = (
    ("начало", 19), ("вид", 3), ("доб.", 6), ("номер клиента", 18), ("клиент", 24),
    ("исход", 22), ("разговор", 8), ("всего", 7), ("id звонка", 20),
)

group("db", "база данных")
group("calls", "журнал звонков")


def _db_upgrade_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--revision", default="head", metavar="РЕВИЗИЯ",
                        help="до какой ревизии (по умолчанию head — последняя)")


@command("db upgrade", "применить миграции базы данных", configure=_db_upgrade_args)
async def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from service.db.migrate import current_revision, migrate

    url = settings.database.url
    await migrate(url, args.revision)
    print(f"база данных {mask_url(url)}: ревизия {await current_revision(url)}")
    return 0


def _calls_list_args(parser: argparse.ArgumentParser) -> None:
    add_date_option(parser, "--date", help="день по часовому поясу организации (по умолчанию сегодня)")
    parser.add_argument("--all", action="store_true", help="последние звонки за любые дни")
    parser.add_argument("--expert", metavar="НОМЕР", help="только звонки с этого добавочного номера Эксперта")
    parser.add_argument("--limit", type=int, default=1000, metavar="ЧИСЛО",
                        help="не больше стольких звонков (по умолчанию 1000)")
    parser.add_argument("--json", action="store_true", help="строки JSON вместо таблицы (для программ)")


@command("calls list", "показать журнал звонков за день", configure=_calls_list_args)
async def calls_list(args: argparse.Namespace, settings: Settings) -> int:
    from service.db.ledger import LedgerRepository

    tz = settings.organisation.tz
    day = None if args.all else args.date or datetime.now(tz).date()
    async with command_sessions(settings) as sessions:
        ledger = LedgerRepository(sessions)
        records = await ledger.list_calls(day, tz, expert_ext=args.expert, limit=args.limit)
    if args.json:
        print_json_lines({**r.replay_dict(), "client_name": r.client_name} for r in records)
    else:
        print_table(records, tz, datetime.now(UTC))
    return 0


def _replay_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="ФАЙЛ", help="запись обмена с АТС (AMI), байт в байт как получена")


@command("replay", "прогнать запись обмена с АТС через учёт звонков и вывести звонки строками JSON",
         configure=_replay_args)
def replay(args: argparse.Namespace, settings: Settings) -> int:
    """As `python -m dialer replay FILE`, with the tracker configured from config.yaml."""
    from dialer.replay import replay_file, replay_lines

    try:
        records = replay_file(args.file, settings.tracker_config())
    except FileNotFoundError as e:
        raise CommandError(f"нет такого файла: {args.file}") from e
    print_lines(replay_lines(records))
    return 0


@command("run", "запустить службу: веб-приложение, связь с АТС, планировщик")
def run(args: argparse.Namespace, settings: Settings) -> int:
    from service.runner import run as run_service  # on use: the web app and the PBX client load only here

    return run_service(settings)


def print_table(records: list[CallRecord], tz: ZoneInfo, now: datetime) -> None:
    """The table people read: phones as «+7 (911) 555-11-19», the zone as «Москва (UTC+3)» (its offset `now`)."""
    count = f"{len(records)} {plural(len(records), 'звонок', 'звонка', 'звонков')}"
    lines = [table_header(TABLE_COLUMNS), *(table_line(_table_cells(r, tz), TABLE_COLUMNS) for r in records),
             f"{count}; время — {zone_label(tz.key, now)}"]
    print_lines(lines)


def _table_cells(record: CallRecord, tz: ZoneInfo) -> list[str]:
    client = " ".join(part for part in (record.client_id, record.client_name) if part)
    started = record.started_at.astimezone(tz)
    return [
        f"{dmy(started)} {started:%H:%M:%S}",
        "исх" if record.direction == "outbound" else "вх",
        record.expert_ext or "-",
        phone_ru(record.client_number) if record.client_number else "-",
        client or "-",
        "(идёт)" if record.outcome is None else OUTCOME_LABELS.get(record.outcome, str(record.outcome)),
        minutes_seconds(record.talk_s),
        minutes_seconds(record.duration_s),
        record.linkedid,
    ]
