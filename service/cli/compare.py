"""`dsdesk compare --from Д --to Д [--json]`: the ДС-versus-КС comparison for a range of days (issue 17)."""

from __future__ import annotations

import argparse
import json
import sys

from service.cli.arguments import add_date_option
from service.cli.database import command_sessions
from service.cli.registry import command
from service.settings import Settings


def _args(parser: argparse.ArgumentParser) -> None:
    add_date_option(parser, "--from", dest="start", required=True, help="первый день периода")
    add_date_option(parser, "--to", dest="end", required=True, help="последний день периода")
    parser.add_argument("--json", action="store_true", help="по одному JSON-объекту на показатель в строке")


@command("compare", "сравнение ДС и КС за период: отвал, обучение, полнота сбора, предоплаты, акты, обращения, СТ",
         configure=_args)
async def compare(args: argparse.Namespace, settings: Settings) -> int:
    from service.compare.definitions import Period
    from service.compare.report import FIGURES, json_rows, period_problem
    from service.db.compare import comparison

    problem = period_problem(args.start, args.end)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    async with command_sessions(settings) as sessions:
        found = await comparison(sessions, Period(args.start, args.end), settings.organisation.tz,
                                 settings.compare.survey_mapping())
    rows = json_rows(found)
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    print(f"Сравнение ДС и КС за {args.start:%d.%m.%Y}–{args.end:%d.%m.%Y}")
    labels = {figure.key: figure.label for figure in FIGURES}
    for row in rows:
        ds = "нет данных" if row["ds"] is None else f"{str(row['ds']).replace('.', ',')} {row['unit']}"
        ks = "нет данных" if row["ks"] is None else f"{str(row['ks']).replace('.', ',')} {row['unit']}"
        print(f"  {labels[str(row['figure'])]}: ДС {ds}; КС {ks}")
    return 0
