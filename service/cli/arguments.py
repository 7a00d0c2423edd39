"""argparse in Russian for every `dsdesk` command, and the one date type all date options share.

Python ships no Russian catalogue for argparse, and argparse reads its words through the
process-wide gettext domain; rather than switch that domain (or patch argparse), the parser
names its own help option and argument groups, the formatter its usage prefix, and `error`
puts argparse's few usage errors into Russian before printing them.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from typing import Any, NoReturn

from service.imports.cells import CellError, parse_date
from service.month.kinds import read_month

USAGE_PREFIX = "Использование: "
DATE_METAVAR = "ДАТА"
DATE_FORMS = "ГГГГ-ММ-ДД или ДД.ММ.ГГГГ"

# argparse's usage errors (its msgids, as formatted) and their Russian; checked in order.
_ARGUMENT = re.compile(r"argument (?P<name>.+?): (?P<problem>.+)", re.DOTALL)
_ERROR_TEXTS = (
    (r"the following arguments are required: (?P<names>.+)", "не указаны обязательные аргументы: {names}"),
    (r"unrecognized arguments: (?P<names>.+)", "лишние аргументы: {names}"),
    (r"one of the arguments (?P<names>.+) is required", "нужен один из аргументов: {names}"),
    (r"ambiguous option: (?P<option>.+?) could match (?P<matches>.+)",
     "неоднозначный параметр {option}: подходят {matches}"),
    (r"invalid choice: (?P<value>.+) \(choose from (?P<choices>.+)\)",
     "недопустимое значение {value} (можно: {choices})"),
    (r"invalid int value: (?P<value>.+)", "{value} — не целое число"),
    (r"invalid \S+ value: (?P<value>.+)", "недопустимое значение {value}"),
    (r"expected one argument", "нужно значение"),
    (r"expected at most one argument", "допустимо не больше одного значения"),
    (r"expected at least one argument", "нужно хотя бы одно значение"),
    (r"expected (?P<count>\d+) arguments?", "нужно значений: {count}"),
    (r"not allowed with argument (?P<other>.+)", "нельзя вместе с {other}"),
    (r"ignored explicit argument (?P<value>.+)", "не принимает значения, а указано {value}"),
    (r"unexpected option string: (?P<option>.+)", "неожиданный параметр {option}"),
)
_ERRORS = tuple((re.compile(pattern, re.DOTALL), russian) for pattern, russian in _ERROR_TEXTS)


def russian_error(message: str) -> str:
    """One of argparse's usage errors in Russian; a message it does not know (ours) as it is."""
    found = _ARGUMENT.fullmatch(message)
    if found is not None:
        return f"аргумент {found['name']}: {russian_error(found['problem'])}"
    for pattern, russian in _ERRORS:
        found = pattern.fullmatch(message)
        if found is not None:
            return russian.format(**found.groupdict())
    return message


class RussianHelpFormatter(argparse.HelpFormatter):
    """argparse's help layout with the usage line in Russian."""

    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        # argparse passes prefix="" when it only measures a subcommand's prog: keep that.
        super().add_usage(usage, actions, groups, USAGE_PREFIX if prefix is None else prefix)


class RussianArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose help and usage errors read in Russian; subcommands inherit it."""

    def __init__(self, add_help: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", RussianHelpFormatter)
        super().__init__(**kwargs, add_help=False)
        # The two default groups are created with English titles; they are plain attributes.
        self._positionals.title = "аргументы"
        self._optionals.title = "параметры"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help="показать эту справку и выйти")

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: ошибка: {russian_error(message)}\n")


def day(value: str) -> date:
    """A date option's value, `YYYY-MM-DD` or `DD.MM.YYYY`, as in the imported files; argparse names the option."""
    try:
        return parse_date(value)
    except CellError as e:
        raise argparse.ArgumentTypeError(
            f"«{value}» — не дата: нужно {DATE_FORMS} (например, 2026-12-06 или 06.12.2026)") from e


def month(value: str) -> date:
    """A month option's value (`ГГГГ-ММ`, `ММ.ГГГГ`, «март 2026») as its first day."""
    try:
        first = read_month(value)
    except ValueError:
        first = None
    if first is None:
        raise argparse.ArgumentTypeError(f"неверный месяц «{value}»: нужен ГГГГ-ММ, например 2026-03")
    return first


def add_date_option(parser: argparse.ArgumentParser, *flags: str, help: str, **kwargs: Any) -> None:
    """A date option: accepts both forms and says so in its help."""
    parser.add_argument(*flags, type=day, metavar=DATE_METAVAR, help=f"{help}; {DATE_FORMS}", **kwargs)
