"""The `dsdesk` command line: a registry of subcommands and the entry point that runs them.

A subcommand is a small function registered with `@command`; a space in its name nests it
(`"calls list"` → `dsdesk calls list`), and `group` describes such a nest. A package adds its
commands by listing the module that registers them in COMMAND_MODULES. Help and usage errors
are in Russian (`arguments`): the users are the department's staff.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import logging
import sys
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TypeAlias, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from service.cli.arguments import DATE_FORMS, RussianArgumentParser
from service.errors import CommandError, SettingsError
from service.settings import Settings, load_settings, mask_url

Handler = Callable[[argparse.Namespace, Settings], int | None | Awaitable[int | None]]
Configure = Callable[[argparse.ArgumentParser], object]  # adds the command's arguments
H = TypeVar("H", bound=Handler)
Subcommands: TypeAlias = "argparse._SubParsersAction[RussianArgumentParser]"  # not subscriptable at run time

# Importing each of these registers its commands.
COMMAND_MODULES: list[str] = ["service.cli.foundation", "service.cli.imports", "service.cli.plan",
                              "service.cli.users", "service.cli.recordings", "service.cli.selection",
                              "service.cli.visits", "service.cli.ktu", "service.cli.compare",
                              "service.cli.exports", "service.cli.tokens"]


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # words separated by spaces, e.g. "db upgrade"
    help: str
    handler: Handler
    configure: Configure | None = None


COMMANDS: dict[str, Command] = {}
GROUPS: dict[str, str] = {}  # "calls" → its help in `dsdesk --help`


def group(name: str, help: str) -> None:
    """Describe the command group `dsdesk <name>` (its commands register with `@command`)."""
    GROUPS[name] = help


def command(name: str, help: str, configure: Configure | None = None) -> Callable[[H], H]:
    """Register the decorated function as `dsdesk <name>`; it may be sync or async."""

    def register(handler: H) -> H:
        COMMANDS[name] = Command(name, help, handler, configure)
        return handler

    return register


def main(argv: Sequence[str] | None = None, *, prog: str = "dsdesk",
         only: Collection[str] | None = None) -> int:
    """Parse `argv`, load the settings, run the chosen command; returns the exit status."""
    parser = build_parser(prog, only)
    args = parser.parse_args(argv)
    chosen: Command | None = getattr(args, "command", None)
    if chosen is None:
        getattr(args, "group_parser", parser).print_help(sys.stderr)
        return 2
    _configure_logging(args.verbose - args.quiet)
    try:
        return _run(chosen, args, load_settings(args.config))
    except SettingsError as e:
        print(f"{prog}: ошибка в настройках: {e}", file=sys.stderr)
        return 2
    except CommandError as e:
        print(f"{prog} {chosen.name}: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        sys.stderr.close()  # the reader (e.g. `| head`) went away: not an error
        return 0


def build_parser(prog: str = "dsdesk", only: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The argparse tree for every registered command (top-level names in `only`, if given)."""
    load_command_modules()
    parser = RussianArgumentParser(
        prog=prog, description="DS Desk — рабочее место отдела сопровождения: звонки, план звонков, пользователи.",
        epilog=f"Даты в параметрах: {DATE_FORMS}. Справка по команде: {prog} КОМАНДА --help.")
    parser.add_argument("--config", metavar="ПУТЬ",
                        help="файл настроек (по умолчанию $DSDESK_CONFIG, иначе ./config.yaml)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="подробнее в журнале (stderr)")
    parser.add_argument("-q", "--quiet", action="count", default=0, help="в журнале только предупреждения")
    groups: dict[tuple[str, ...], Subcommands] = {}
    groups[()] = parser.add_subparsers(title="команды", metavar="КОМАНДА")
    for name in sorted(COMMANDS):
        words = tuple(name.split())
        if only is None or words[0] in only:
            _add_command(groups, COMMANDS[name], words)
    return parser


def load_command_modules() -> None:
    for module in COMMAND_MODULES:
        importlib.import_module(module)


def _add_command(groups: dict[tuple[str, ...], Subcommands],
                 cmd: Command, words: tuple[str, ...]) -> None:
    for depth in range(1, len(words)):
        prefix = words[:depth]
        if prefix not in groups:
            about = GROUPS.get(" ".join(prefix))
            group = groups[prefix[:-1]].add_parser(prefix[-1], help=about, description=about)
            group.set_defaults(group_parser=group)
            groups[prefix] = group.add_subparsers(title="команды", metavar="КОМАНДА")
    leaf = groups[words[:-1]].add_parser(words[-1], help=cmd.help, description=cmd.help)
    if cmd.configure is not None:
        cmd.configure(leaf)
    leaf.set_defaults(command=cmd)


def _run(cmd: Command, args: argparse.Namespace, settings: Settings) -> int:
    try:
        result = cmd.handler(args, settings)
        if inspect.isawaitable(result):
            result = asyncio.run(_await(result))
    except DBAPIError as e:
        print(f"dsdesk: {_database_problem(e, settings)}", file=sys.stderr)
        return 1
    return 0 if result is None else int(result)


def _database_problem(error: DBAPIError, settings: Settings) -> str:
    """A database error in words a deployer can act on, instead of a traceback."""
    text = str(error.orig)
    where = mask_url(settings.database.url)
    if "no such table" in text or "does not exist" in text and "relation" in text:
        return f"база данных {where} не подготовлена: сначала выполните `dsdesk db upgrade` (или `make run`)"
    if isinstance(error, OperationalError):
        return f"нет доступа к базе данных {where}: {text}"
    return f"ошибка базы данных {where}: {text}"


async def _await(awaitable: Awaitable[int | None]) -> int | None:
    return await awaitable


def _configure_logging(verbosity: int) -> None:
    level = logging.DEBUG if verbosity > 0 else logging.INFO if verbosity == 0 else logging.WARNING
    # Logs go to stderr so that JSON output on stdout stays machine-readable.
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

