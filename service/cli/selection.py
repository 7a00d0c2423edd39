"""`dsdesk selection list [--json]`: every client scored for ДС, as the candidate list shows it (issue 15)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from service.cli.database import command_sessions
from service.cli.output import print_json_lines, print_lines, table_header, table_line
from service.cli.registry import command, group
from service.selection.candidates import RECOMMENDATION_LABELS, Candidate, ListQuery, filtered
from service.selection.scoring import CRITERIA
from service.settings import Settings
from texts.labels import TRANSITION_LABELS
from texts.words import plural

group("selection", "отбор клиентов на ДС: баллы по критериям, кандидаты")

# One column per criterion, in CRITERIA order: the presentation's wording, cut to fit.
SCORE_HEADERS = ("лоя", "нав", "пол", "пре", "усл", "сио", "уда", "глб")
TABLE_COLUMNS = (("код", 10), ("клиент", 30), ("подходит", 24), *((h, 3) for h in SCORE_HEADERS),
                 ("итог", 4), ("рек.", 4), ("канд.", 5), ("переход", 12))


def _list_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="по строке JSON на клиента вместо таблицы (для программ): client_id, eligible, "
                             "ineligible_reason, scores, total, recommendation, candidate, status")
    # dest: "candidates" holds "date", which the CLI's own test reads as a date option's name.
    parser.add_argument("--candidates", action="store_true", dest="shortlist", help="только кандидаты на ДС")


@command("selection list", "все клиенты с баллами отбора на ДС (по убыванию итога)", configure=_list_args)
async def selection_list(args: argparse.Namespace, settings: Settings) -> int:
    from service.selection.listing import scored_candidates

    async with command_sessions(settings) as sessions:
        rows = await scored_candidates(sessions, settings.selection.rules(),
                                       settings.organisation.tz, datetime.now(UTC))
    shown = filtered(rows, ListQuery(candidates=args.shortlist))
    if args.json:
        print_json_lines(as_json(row) for row in shown)
    else:
        print_lines(table(shown, settings.selection.min_total))
    return 0


def as_json(row: Candidate) -> dict[str, Any]:
    """One client as a JSON object: the external id, eligibility, the eight scores, total, recommendation,
    whether a candidate, and the transition's status (null: not in the campaign)."""
    s = row.selection
    return {"client_id": row.external_id, "eligible": s.eligible, "ineligible_reason": s.ineligible_reason,
            "scores": {criterion: s.scores[criterion].value for criterion in CRITERIA}, "total": s.total,
            "recommendation": s.recommendation, "candidate": s.candidate, "status": row.status}


def table(rows: list[Candidate], min_total: int) -> Iterable[str]:
    yield table_header(TABLE_COLUMNS)
    for row in rows:
        yield table_line(_cells(row), TABLE_COLUMNS)
    candidates = sum(row.selection.candidate for row in rows)
    yield (f"{len(rows)} {plural(len(rows), 'клиент', 'клиента', 'клиентов')}, из них кандидатов {candidates} "
           f"(итог от {min_total} из 24); баллы: " + ", ".join(
               f"{short} — {name}" for short, name in zip(SCORE_HEADERS, _CRITERIA_WORDS, strict=True)))


_CRITERIA_WORDS = ("лояльность", "навыки К+", "пользователи", "предоплата", "услуги", "без СИО", "удалённость",
                   "с Главбуха")


def _cells(row: Candidate) -> list[str]:
    s = row.selection
    return [row.external_id, row.name, "да" if s.eligible else f"нет: {s.ineligible_reason}",
            *(str(s.scores[c].value) for c in CRITERIA), str(s.total),
            RECOMMENDATION_LABELS.get(s.recommendation or "", "-"), "да" if s.candidate else "нет",
            TRANSITION_LABELS.get(row.status or "", "-")]
