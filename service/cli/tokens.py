"""`dsdesk tokens create|list|revoke`: the REST API's tokens (docs/api.md)."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from service.api.tokens import SCOPE_LABELS, SCOPES, checked_name, new_token, parse_scopes
from service.cli.database import command_sessions
from service.cli.output import print_lines, table_header, table_line
from service.cli.registry import command, group
from service.db.api_tokens import ApiTokensRepository
from service.errors import CommandError
from service.settings import Settings

LIST_COLUMNS = (("№", 5), ("название", 24), ("начало", 14), ("права", 18), ("в мин.", 7), ("состояние", 24))

group("tokens", "токены REST API: выдать, показать, отозвать")


def _create_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="НАЗВАНИЕ", help="для кого токен, например «CRM» или «BI отдела»")
    parser.add_argument("--scopes", metavar="ПРАВА", default="read",
                        help="через запятую: " + ", ".join(f"{s} — {SCOPE_LABELS[s]}" for s in SCOPES)
                             + " (по умолчанию read)")
    parser.add_argument("--per-minute", metavar="ЧИСЛО", type=int, default=None,
                        help="сколько запросов в минуту разрешено (по умолчанию api.per_minute из config.yaml)")


@command("tokens create", "выдать токен (он показывается один раз: сохраните его)", configure=_create_args)
async def tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    try:
        name = checked_name(args.name)
        scopes = parse_scopes(args.scopes.split(","))
    except ValueError as e:
        raise CommandError(str(e)) from e
    per_minute = args.per_minute if args.per_minute is not None else settings.api.per_minute
    if not 1 <= per_minute <= 100_000:
        raise CommandError("--per-minute: от 1 до 100000")
    made = new_token()
    async with _tokens(settings) as tokens:
        view = await tokens.create(name, scopes, per_minute, made, None, datetime.now(UTC))
    print(f"Токен №{view.id} «{view.name}» ({', '.join(view.scopes)}, {per_minute} запросов в минуту):")
    print(made.token)
    print("Он показан один раз и не хранится: сохраните его сейчас. "
          "Запросы: заголовок «Authorization: Bearer <токен>».")
    return 0


@command("tokens list", "показать токены (без самих токенов: только их начало)")
async def tokens_list(args: argparse.Namespace, settings: Settings) -> int:
    async with _tokens(settings) as tokens:
        views = await tokens.all_tokens()
    cells = ([str(v.id), v.name, v.prefix + "…", ",".join(v.scopes), str(v.per_minute),
              "действует" if v.active else f"отозван {v.revoked_at:%d.%m.%Y %H:%M}"] for v in views)
    print_lines([table_header(LIST_COLUMNS), *(table_line(c, LIST_COLUMNS) for c in cells),
                 f"токенов: {len(views)}"])
    return 0


def _revoke_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="НОМЕР", type=int, help="номер токена: столбец «№» в списке токенов")


@command("tokens revoke", "отозвать токен: запросы с ним сразу получают 401", configure=_revoke_args)
async def tokens_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async with _tokens(settings) as tokens:
        found = await tokens.get(args.id)
        if found is None:
            raise CommandError(f"нет токена №{args.id} (см. `dsdesk tokens list`)")
        if not await tokens.revoke(args.id, datetime.now(UTC)):
            raise CommandError(f"токен №{args.id} «{found.name}» уже отозван")
    print(f"Токен №{args.id} «{found.name}» отозван")
    return 0


@asynccontextmanager
async def _tokens(settings: Settings) -> AsyncIterator[ApiTokensRepository]:
    async with command_sessions(settings) as sessions:
        yield ApiTokensRepository(sessions)
