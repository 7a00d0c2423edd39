"""`dsdesk` speaks Russian: help, usage errors and output; every date option takes YYYY-MM-DD and DD.MM.YYYY."""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from scheduler.jobs import PLAN_JOB
from scheduler.planning import BuildReport
from service.cli import COMMANDS, build_parser, main
from service.cli.arguments import day, russian_error
from service.cli.plan import build_summary
from service.db.engine import create_engine, create_sessionmaker
from service.db.job_runs import JobRunsRepository
from service.settings import ENV_DATABASE_URL
from tests.service.test_cli import run_cli
from texts.imports import KIND_NAMES

ENGLISH_BOILERPLATE = ("usage:", "positional arguments", "options:", "optional arguments", "show this help",
                       "error:", "the following arguments", "invalid choice", "unrecognized arguments")
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
ENGLISH_PROSE = re.compile(r"\b[a-z]+ [a-z]+\b")  # two English words in a row: codes and file names never are


def russian(text: str | None) -> bool:
    return bool(text and CYRILLIC.search(text) and not ENGLISH_PROSE.search(text))


def describes(word: str, text: str | None) -> bool:
    """A command's help says what it does in Russian, not its own English word again
    («загрузить acts из файла» was how `import acts` read: issue 14)."""
    return not re.search(rf"(?<![\w.-]){re.escape(word)}(?![\w.-])", text or "", re.IGNORECASE)


@pytest.mark.parametrize(("word", "text", "ok"), [
    ("acts", "загрузить acts из файла CSV или XLSX", False),
    ("survey", "Survey", False),
    ("acts", "Акты выполненных работ: сроки и возврат", True),
    ("works", "выгрузить «Работы»; по умолчанию works-ГГГГ-ММ-ДД", True),  # a file name is not the word
])
def test_a_help_that_repeats_its_english_word_is_caught(word: str, text: str, ok: bool) -> None:
    assert describes(word, text) is ok


def test_import_kinds_are_described_by_their_russian_names(capsys: pytest.CaptureFixture[str]) -> None:
    text = " ".join(help_of("import", capsys).split())
    for kind, title in KIND_NAMES.items():
        assert f"{kind} {title}" in text
# Every date option of every command; test_every_date_option_is_listed keeps this list whole.
DATE_OPTIONS = [("calls list", "--date"), ("plan build", "--date"), ("plan show", "--date"),
                ("experts absent", "--from"), ("experts absent", "--to"), ("compare", "--from"), ("compare", "--to"),
                ("exports works", "--from"), ("exports works", "--to")]


def parsers() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """(name, parser) for `dsdesk` itself, every group (`dsdesk plan`) and every command."""
    pending: list[tuple[str, argparse.ArgumentParser]] = [("", build_parser())]
    while pending:
        name, parser = pending.pop()
        yield name, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending.extend((f"{name} {word}".strip(), sub) for word, sub in action.choices.items())


def help_of(name: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*name.split(), "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def usage_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    return capsys.readouterr().err


def test_every_help_is_russian(capsys: pytest.CaptureFixture[str]) -> None:
    seen = set()
    for name, parser in parsers():
        seen.add(name)
        text = help_of(name, capsys)
        assert text.startswith(f"Использование: {' '.join(['dsdesk', *name.split()])}"), text
        assert not [words for words in ENGLISH_BOILERPLATE if words in text], text
        assert "показать эту справку и выйти" in text
        assert russian(parser.description), f"{name!r}: {parser.description!r}"
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    assert russian(choice.help), f"{name} {choice.dest}: {choice.help!r}"
                    assert describes(choice.dest, choice.help), f"{name} {choice.dest}: {choice.help!r}"
            elif action.help is not argparse.SUPPRESS:
                assert russian(action.help), f"{name} {action.option_strings}: {action.help!r}"
            if action.nargs != 0 and action.choices is None:  # its value is shown by a Russian name
                assert re.fullmatch("[А-ЯЁ]+", str(action.metavar)), f"{name} {action.dest}: {action.metavar!r}"
    assert set(COMMANDS) <= seen


def test_the_installed_command_prints_russian_help() -> None:
    result = run_cli("--help", env={})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Использование: dsdesk ")
    assert "команды:" in result.stdout and "ГГГГ-ММ-ДД или ДД.ММ.ГГГГ" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["experts", "absent"], "dsdesk experts absent: ошибка: не указаны обязательные аргументы: ЛОГИН, --from, --to"),
    (["users", "add", "olga", "--role", "boss"],
     "dsdesk users add: ошибка: аргумент --role: недопустимое значение 'boss' "
     "(можно: 'expert', 'supervisor', 'admin', 'sio', 'pm')"),
    (["calls", "list", "--limit", "many"], "dsdesk calls list: ошибка: аргумент --limit: 'many' — не целое число"),
    (["calls", "list", "--date"], "dsdesk calls list: ошибка: аргумент --date: нужно значение"),
    (["calls", "list", "--bogus"], "dsdesk: ошибка: лишние аргументы: --bogus"),
    (["import", "clients", "a.csv", "--progress", "--no-progress"],
     "dsdesk import clients: ошибка: аргумент --no-progress: нельзя вместе с --progress"),
])
def test_usage_errors_are_russian(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    err = usage_error(args, capsys)
    assert err.startswith("Использование: dsdesk")
    assert err.splitlines()[-1] == message
    assert not [words for words in ENGLISH_BOILERPLATE if words in err], err


def test_an_unknown_command_names_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    err = usage_error(["plans"], capsys)
    assert "dsdesk: ошибка: аргумент КОМАНДА: недопустимое значение 'plans' (можно: 'calls'," in err


def test_a_message_argparse_does_not_know_stays_as_it_is() -> None:
    assert russian_error("expected 2 arguments") == "нужно значений: 2"
    assert russian_error("ambiguous option: --p could match --progress, --password-stdin") == \
        "неоднозначный параметр --p: подходят --progress, --password-stdin"
    assert russian_error("«x» — не дата") == "«x» — не дата"


def _parsed(command: str, option: str, value: str) -> argparse.Namespace:
    other = {"--from": ["--to", "2026-12-31"], "--to": ["--from", "2026-12-01"]}.get(option, [])
    login = ["maria"] if command == "experts absent" else []
    return build_parser().parse_args([*command.split(), *login, option, value, *other])


@pytest.mark.parametrize(("command", "option"), DATE_OPTIONS)
@pytest.mark.parametrize("value", ["2026-12-06", "06.12.2026", "6.12.2026"])
def test_every_date_option_takes_both_forms(command: str, option: str, value: str) -> None:
    args = _parsed(command, option, value)
    dest = {"--from": "start", "--to": "end"}.get(option, "date")
    assert getattr(args, dest) == date(2026, 12, 6)


@pytest.mark.parametrize(("command", "option"), DATE_OPTIONS)
@pytest.mark.parametrize("value", ["06-12-2026", "31.02.2026", "2026-13-01", "завтра"])
def test_a_bad_date_names_the_option_and_both_forms(capsys: pytest.CaptureFixture[str], command: str,
                                                    option: str, value: str) -> None:
    with pytest.raises(SystemExit) as exited:
        _parsed(command, option, value)
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"dsdesk {command}: ошибка: аргумент {option}: «{value}» — не дата: "
        f"нужно ГГГГ-ММ-ДД или ДД.ММ.ГГГГ (например, 2026-12-06 или 06.12.2026)")


def test_every_date_option_is_listed() -> None:
    """A new date option must use the shared `day` type; then it is in DATE_OPTIONS and tested above."""
    found = []
    for name, parser in parsers():
        for action in parser._actions:
            if action.type is day:
                found.append((name, action.option_strings[0]))
            else:
                assert action.metavar != "ДАТА" and "date" not in action.dest, (name, action.dest)
    assert sorted(found) == sorted(DATE_OPTIONS)


def test_day_reads_both_forms() -> None:
    assert day("2026-12-06") == day("06.12.2026") == day(" 06.12.2026 ") == date(2026, 12, 6)
    with pytest.raises(argparse.ArgumentTypeError, match="ГГГГ-ММ-ДД или ДД.ММ.ГГГГ"):
        day("2026/12/06")


async def test_plan_show_and_runs_speak_russian(migrated_db: str, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(ENV_DATABASE_URL, migrated_db)
    engine = create_engine(migrated_db)
    runs = JobRunsRepository(create_sessionmaker(engine))
    await runs.finished(await runs.started(PLAN_JOB, datetime(2026, 12, 7, 3, 30, tzinfo=UTC)), False, "boom")
    await engine.dispose()
    assert await asyncio.to_thread(main, ["plan", "show", "--date", "07.12.2026"]) == 0
    assert capsys.readouterr().out == "07.12.2026: 0 звонков в плане\n"
    assert await asyncio.to_thread(main, ["plan", "runs"]) == 0
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d  план на день\s+ошибка\s+boom", line), line


def test_a_build_report_reads_in_russian() -> None:
    report = BuildReport(date(2026, 12, 7), created=21, kept=3, per_expert={"maria": 15, "anna": 9},
                         deferred=2, notes=())
    assert build_summary(report) == ("план на 07.12.2026: добавлено 21 звонок, уже было в плане 3, "
                                     "обязательных отложено 2 (anna: 9, maria: 15)")
    empty = BuildReport(date(2026, 12, 7), created=0, kept=0, per_expert={}, deferred=0, notes=())
    assert build_summary(empty).endswith("добавлено 0 звонков, уже было в плане 0, обязательных отложено 0 "
                                         "(нет Экспертов на работе)")


def test_import_help_names_every_file_form_read(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 14: it named only UTF-8 and Windows-1251 with «;» or «,»; UTF-16 and tabs are read too."""
    text = " ".join(help_of("import clients", capsys).split())
    assert "UTF-16 с BOM" in text and "табуляция" in text and "Windows-1251" in text and "XLSX" in text
