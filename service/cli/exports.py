"""`dsdesk exports works --from Д --to Д [--format csv|xlsx] [--out ПУТЬ]`: «Работы» for the CRM (docs/exports.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from service.cli.arguments import add_date_option
from service.cli.database import command_sessions
from service.cli.registry import command, group
from service.errors import CommandError
from service.settings import Settings
from texts.words import plural

group("exports", "выгрузки для других систем")


def _works_args(parser: argparse.ArgumentParser) -> None:
    add_date_option(parser, "--from", dest="start", required=True, help="первый день (по часовому поясу организации)")
    add_date_option(parser, "--to", dest="end", help="последний день (по умолчанию тот же, что --from)")
    parser.add_argument("--format", choices=("csv", "xlsx"), dest="file_format",
                        help="CSV в Windows-1251 с «;» или XLSX (по умолчанию exports.format из настроек)")
    parser.add_argument("--out", metavar="ПУТЬ", type=Path,
                        help="куда записать файл («-» — в стандартный вывод); по умолчанию в exports.dir "
                             "под именем works-ГГГГ-ММ-ДД (как ночной файл)")


@command("exports works", "выгрузить «Работы» для ВЭ: завершённые звонки и визиты за день или период",
         configure=_works_args)
async def exports_works(args: argparse.Namespace, settings: Settings) -> int:
    from service.exports.errors import ExportError
    from service.exports.export import export_bytes, works_config
    from service.exports.period import check_days
    from service.exports.store import write_file

    file_format = args.file_format or settings.exports.format
    try:
        days = check_days(args.start, args.end or args.start, settings.exports.max_range_days)
    except ExportError as e:
        raise CommandError(str(e)) from e
    async with command_sessions(settings) as sessions:
        data, count = await export_bytes(sessions, days, works_config(settings), file_format)
    works = f"{count} {plural(count, 'работа', 'работы', 'работ')}"
    if args.out is not None and str(args.out) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        print(f"{days}: {works}", file=sys.stderr)
        return 0
    target = args.out or settings.exports.dir / f"{days.stem}.{file_format}"
    try:
        write_file(target.parent, target.name, data)
    except ExportError as e:
        raise CommandError(str(e)) from e
    print(f"{days}: {works} → {target}")
    return 0
