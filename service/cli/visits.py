"""`dsdesk visits plan [--month ГГГГ-ММ]`: build (or top up) the PMs' visit plans for a month (issue 16)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from service.cli.arguments import month as month_value
from service.cli.database import command_sessions
from service.cli.registry import command, group
from service.month.kinds import month_label
from service.settings import Settings
from texts.words import plural

group("visits", "визиты ПМ по ДС")


def _plan_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--month", type=month_value, metavar="МЕСЯЦ",
                        help="месяц плана, ГГГГ-ММ (по умолчанию текущий); прошедший месяц не строится")
    parser.add_argument("--pm", metavar="ЛОГИН", action="append", help="только этот ПМ (можно несколько раз)")


@command("visits plan", "построить (или дополнить) план визитов ПМ на месяц по тем же причинам, что и звонки",
         configure=_plan_args)
async def visits_plan(args: argparse.Namespace, settings: Settings) -> int:
    from service.db.visits import VisitsRepository
    from service.plan_setup import build_visit_plans

    now = datetime.now(UTC)
    month = args.month or now.astimezone(settings.organisation.tz).date().replace(day=1)
    if month < now.astimezone(settings.organisation.tz).date().replace(day=1):
        print(f"{month_label(month)} уже прошёл: план визитов строится на текущий или будущий месяц")
        return 2
    async with command_sessions(settings) as sessions:
        if args.pm:  # found trying it: an unknown login or an Expert's was «добавлено 0 визитов», exit 0
            managers = {p.login for p in await VisitsRepository(sessions).managers()}
            unknown = [login for login in args.pm if login not in managers]
            if unknown:
                print("Нет ПМ по ДС с логином " + ", ".join(f"«{login}»" for login in unknown), file=sys.stderr)
                return 2
        added = await build_visit_plans(settings, sessions, now, month, args.pm)
    print(f"План визитов на {month_label(month)}: добавлено {added} "
          f"{plural(added, 'визит', 'визита', 'визитов')}")
    return 0
