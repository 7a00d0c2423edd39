"""`dsdesk month close ГГГГ-ММ`: close a month once every КТУ sheet of it is approved (docs/ktu.md «CLI»)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from service.cli.arguments import month as month_value
from service.cli.database import command_sessions
from service.cli.registry import command, group
from service.errors import CommandError
from service.month.kinds import month_label
from service.settings import Settings

group("month", "месяц отдела: закрытие после утверждения ведомостей КТУ")



def _close_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("month", type=month_value, metavar="МЕСЯЦ", help="месяц, ГГГГ-ММ (например 2026-03)")


@command("month close", "закрыть месяц: только когда все ведомости КТУ утверждены; после этого его планы "
         "и ведомости не меняются", configure=_close_args)
async def month_close(args: argparse.Namespace, settings: Settings) -> int:
    from service.db.ktu import KtuRepository
    from service.ktu.rules import KtuError
    from service.ktu.sheets import close_month

    try:
        async with command_sessions(settings) as sessions:
            now = datetime.now(UTC)
            await close_month(KtuRepository(sessions), args.month, None, now,
                              now.astimezone(settings.organisation.tz).date())
    except KtuError as e:
        raise CommandError(str(e)) from e
    print(f"Месяц {month_label(args.month)} закрыт")
    return 0
