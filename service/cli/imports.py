"""`dsdesk import KIND FILE` for every import kind, and `dsdesk experts absent|absences`.

A file with bad rows, an unreadable file or an unknown Expert exits with status 2 and lists
the problems on stderr in Russian (row, column, value, reason; the first 10,000, then how many
more); nothing is written then.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.cli.arguments import add_date_option
from service.cli.database import command_sessions
from service.cli.registry import command, group
from service.errors import UnknownExpertError
from service.imports.errors import ImportFailed, RowsRejected
from service.imports.limits import show
from service.imports.schemas import KINDS
from service.settings import Settings
from texts.imports import FILE_FORMS, kind_name

if TYPE_CHECKING:
    pass

USAGE_ERROR = 2


def _import_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="ФАЙЛ", help=f"{FILE_FORMS} или XLSX")
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="всегда показывать ход загрузки (в поток ошибок, stderr)")
    progress.add_argument("--no-progress", dest="progress", action="store_false",
                          help="никогда не показывать (по умолчанию — в терминале или для больших файлов)")


def _import_command(kind: str) -> Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]:
    async def run(args: argparse.Namespace, settings: Settings) -> int:
        from service.imports.runner import import_file
        from service.imports.schemas import ImportContext

        try:
            async with command_sessions(settings) as sessions:
                report = await import_file(kind, args.file, sessions, progress=args.progress,
                                           context=ImportContext.of(settings))
        except RowsRejected as e:
            return _rejected(kind, args.file, e)
        except ImportFailed as e:  # an unreadable file, or a month closed meanwhile
            print(f"dsdesk import {kind}: {args.file}: {e}", file=sys.stderr)
            return USAGE_ERROR
        print(report)
        return 0

    run.__name__ = f"import_{kind}"
    return run


def _rejected(kind: str, path: Path, error: RowsRejected) -> int:
    out = sys.stderr
    print(f"dsdesk import {kind}: {path}: {error}", file=out)
    for row_error in error.errors:  # the runner keeps the first MAX_KEPT_ERRORS and counts the rest
        print(f"  {row_error}", file=out)
    if error.total > len(error.errors):
        print(f"  … и ещё {show(error.total - len(error.errors))}", file=out)
    return USAGE_ERROR


group("import", "загрузить выгрузку из CRM, файл CSV или XLSX; что в каком файле — docs/import.md")
group("experts", "Эксперты: отсутствия")
for _kind in KINDS:  # the kind is the command word; its help says in Russian what the file holds
    command(f"import {_kind}", kind_name(_kind),
            configure=_import_args)(_import_command(_kind))


def _absent_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("login", metavar="ЛОГИН", help="логин Эксперта")
    add_date_option(parser, "--from", dest="start", required=True, help="первый день отсутствия")
    add_date_option(parser, "--to", dest="end", required=True, help="последний день отсутствия (включительно)")


@command("experts absent", "отметить, что Эксперт отсутствует (в эти дни плана для него нет)",
         configure=_absent_args)
async def experts_absent(args: argparse.Namespace, settings: Settings) -> int:
    from service.db.experts import ExpertsRepository

    if args.start > args.end:
        print("dsdesk experts absent: дата --from позже даты --to", file=sys.stderr)
        return USAGE_ERROR
    try:
        async with command_sessions(settings) as sessions:
            added = await ExpertsRepository(sessions).add_absence(args.login, args.start, args.end)
    except UnknownExpertError as e:
        print(f"dsdesk experts absent: {e}", file=sys.stderr)
        return USAGE_ERROR
    span = f"{args.start:%d.%m.%Y}–{args.end:%d.%m.%Y}"
    print(f"{args.login} отсутствует {span}" + ("" if added else " (уже было отмечено)"))
    return 0


@command("experts absences", "показать отмеченные отсутствия",
         configure=lambda p: p.add_argument("login", nargs="?", metavar="ЛОГИН", help="только этого Эксперта"))
async def experts_absences(args: argparse.Namespace, settings: Settings) -> int:
    from service.db.experts import ExpertsRepository

    async with command_sessions(settings) as sessions:
        absences = await ExpertsRepository(sessions).list_absences(args.login)
    for absence in absences:
        print(f"{absence.login}\t{absence.from_date:%d.%m.%Y}\t{absence.to_date:%d.%m.%Y}")
    return 0
