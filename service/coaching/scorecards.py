"""Scorecards (issue 18, docs/coaching-scorecards.md): the form a supervisor edits, a call's score, the figures. Pure.

A scorecard is a list of items with whole weights >= 0 (at least one > 0); a call's score is the weights of
the items met ÷ all the weights. The figures take plain rows the database grouped (one per Expert, one
per Expert and item text) and make the averages: each scored call weighs the same, however many scored it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from texts.words import decimal, plural

MAX_ITEMS = 30
MAX_TEXT = 200  # scorecard_items.text is VARCHAR(200)
MAX_WEIGHT = 100
DEFAULT_TITLE = "Оценка звонка"

_WHOLE = re.compile(r"\+?[0-9]{1,9}")
_NEGATIVE = re.compile(r"[-\u2212\u2013][0-9]+(?:[.,][0-9]*)?")  # -1, −1 (a minus sign), –1 (a dash)


@dataclass(frozen=True, slots=True)
class ItemDraft:
    text: str
    weight: int


@dataclass(frozen=True, slots=True)
class ScorecardDraft:
    """A scorecard before it is stored: what the config says or a supervisor typed."""

    title: str
    items: tuple[ItemDraft, ...]


@dataclass(frozen=True, slots=True)
class RowInput:
    """One row of the editor as typed: kept as text so that a refused form shows it again unchanged."""

    text: str
    weight: str


@dataclass(frozen=True, slots=True)
class FormProblem:
    row: int | None  # 1-based row of the editor; None: the form as a whole (the title, all weights 0)
    message: str


class BadTicks(ValueError):
    """A score form's ticks name no item of its scorecard (a forged or mangled form)."""


def parse_scorecard(title: str, rows: Sequence[RowInput]) -> ScorecardDraft | list[FormProblem]:
    """The scorecard the editor describes, or every problem found, each naming its row.

    A row left entirely empty (an added row not filled in) is skipped; its number still counts.
    """
    problems: list[FormProblem] = []
    clean_title = " ".join(title.split())
    if not clean_title:
        problems.append(FormProblem(None, "Укажите название оценочного листа"))
    elif len(clean_title) > MAX_TEXT:
        problems.append(FormProblem(None, f"Название длиннее {MAX_TEXT} символов"))
    items: list[ItemDraft] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        text, weight = " ".join(row.text.split()), row.weight.strip()
        if not text and not weight:
            continue
        found = _row_problems(number, text, weight, seen)
        problems.extend(found)
        seen.setdefault(text.casefold(), number)
        if not found:
            items.append(ItemDraft(text, int(weight)))
    problems.extend(_card_problems(items, problems))
    return problems or ScorecardDraft(clean_title, tuple(items))


def _row_problems(number: int, text: str, weight: str, seen: dict[str, int]) -> list[FormProblem]:
    problems = []
    if not text:
        problems.append("нет текста пункта")
    elif len(text) > MAX_TEXT:
        problems.append(f"текст длиннее {MAX_TEXT} символов")
    elif text.casefold() in seen:
        problems.append(f"такой пункт уже есть в строке {seen[text.casefold()]}")
    weight_problem = weight_problem_of(weight)
    if weight_problem:
        problems.append(weight_problem)
    return [FormProblem(number, f"строка {number}: {message}") for message in problems]


def weight_problem_of(weight: str) -> str | None:
    """Why `weight` (as typed) is no weight, or None: a whole number from 0 to MAX_WEIGHT."""
    if not weight:
        return "не указан вес"
    if _NEGATIVE.fullmatch(weight):
        return "вес не может быть отрицательным"
    if not _WHOLE.fullmatch(weight) or int(weight) > MAX_WEIGHT:
        return f"вес — целое число от 0 до {MAX_WEIGHT}"
    return None


def _card_problems(items: Sequence[ItemDraft], row_problems: Sequence[FormProblem]) -> list[FormProblem]:
    if row_problems and any(p.row is not None for p in row_problems):
        return []  # the rows first: «all weights are 0» may only be the refused rows' doing
    if not items:
        return [FormProblem(None, "В оценочном листе нет ни одного пункта")]
    if len(items) > MAX_ITEMS:
        return [FormProblem(None, f"Пунктов больше {MAX_ITEMS}: оставьте самые важные")]
    if not any(item.weight for item in items):
        return [FormProblem(None, "Все веса нулевые: дайте хотя бы одному пункту вес больше нуля")]
    return []


def score_pct(weights: Sequence[int], met: Sequence[bool]) -> float:
    """Weights of the items met ÷ all the weights × 100 (a stored scorecard always has some weight)."""
    if len(weights) != len(met):
        raise ValueError("one tick per item")
    total = sum(weights)
    if total <= 0:
        raise ValueError("a scorecard whose weights are all 0 scores nothing")
    return 100.0 * sum(weight for weight, ticked in zip(weights, met, strict=True) if ticked) / total


def parse_ticks(values: Sequence[str], count: int) -> frozenset[int]:
    """The 1-based positions ticked in a score form of `count` items; BadTicks for anything else."""
    ticked = set()
    for value in values:
        if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= count:
            raise BadTicks(f"no item {value[:20]!r} among {count}")
        ticked.add(int(value))
    return frozenset(ticked)


def carry_ticks(old_texts: Sequence[str], ticked: Collection[int], new_texts: Sequence[str]) -> frozenset[int]:
    """The ticks of a form made for one version, on another version: by the items' text (others unticked)."""
    texts = {old_texts[position - 1].casefold() for position in ticked if 1 <= position <= len(old_texts)}
    return frozenset(i for i, text in enumerate(new_texts, start=1) if text.casefold() in texts)


# ---- figures --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExpertScoreRow:
    """One Expert's scored calls in a period, as grouped in the database."""

    expert_id: int
    login: str
    full_name: str
    calls: int  # her calls with at least one score
    pct_sum: float  # the sum over those calls of the call's score (its scorers' average), 0..100 each


@dataclass(frozen=True, slots=True)
class ItemScoreRow:
    """One Expert and one item (by its text, across scorecard versions), as grouped in the database."""

    expert_id: int
    text: str
    calls: int  # her scored calls whose scorecard had this item
    met_sum: float  # the sum over those calls of the share of the call's scorers who ticked it


@dataclass(frozen=True, slots=True)
class ScoreFigure:
    value: float | None  # 0..1: the average score, or the share of calls the item was met on; None: no calls
    calls: int  # the scored calls behind it

    @property
    def text(self) -> str:
        return "—" if self.value is None else percent(self.value)


@dataclass(frozen=True, slots=True)
class ScoreLine:
    login: str | None  # None: the scope's line (every Expert shown together)
    full_name: str
    score: ScoreFigure
    items: tuple[ScoreFigure, ...]  # in ScoreFigures.items' order


@dataclass(frozen=True, slots=True)
class ScoreFigures:
    items: tuple[str, ...]  # the current scorecard's items, then any others the period's scores used
    lines: tuple[ScoreLine, ...]  # one per Expert with a scored call, by name
    total: ScoreLine
    one_expert: bool = False  # the figures of one Expert: her line is the total, shown alone

    @property
    def shown(self) -> tuple[ScoreLine, ...]:
        """The lines a table shows: the scope's, then each Expert's (one Expert: hers only)."""
        return (self.total,) if self.one_expert else (self.total, *self.lines)

    @property
    def empty(self) -> bool:
        return self.total.score.calls == 0


def score_figures(experts: Sequence[ExpertScoreRow], items: Sequence[ItemScoreRow], current_items: Sequence[str],
                  total_name: str, one_expert: bool = False) -> ScoreFigures:
    """Average score per Expert and in all, and each item's share of calls met (per Expert and in all)."""
    order = item_order(current_items, [row.text for row in items])
    by_expert: dict[tuple[int, str], ItemScoreRow] = {(row.expert_id, row.text): row for row in items}
    lines = tuple(
        ScoreLine(e.login, e.full_name, _figure(e.pct_sum / 100, e.calls),
                  tuple(_item_figure([by_expert.get((e.expert_id, text))]) for text in order))
        for e in sorted(experts, key=lambda e: (e.full_name, e.login)))
    calls = sum(e.calls for e in experts)
    total = ScoreLine(None, total_name, _figure(sum(e.pct_sum for e in experts) / 100, calls),
                      tuple(_item_figure([row for row in items if row.text == text]) for text in order))
    return ScoreFigures(order, lines, total, one_expert)


def item_order(current: Sequence[str], used: Sequence[str]) -> tuple[str, ...]:
    """The current scorecard's order; items only older versions had come after, alphabetically."""
    known = set(current)
    return (*current, *sorted({text for text in used if text not in known}))


def _figure(total: float, calls: int) -> ScoreFigure:
    return ScoreFigure(total / calls if calls else None, calls)


def _item_figure(rows: Sequence[ItemScoreRow | None]) -> ScoreFigure:
    present = [row for row in rows if row is not None]
    return _figure(sum(row.met_sum for row in present), sum(row.calls for row in present))


def percent(share: float) -> str:
    """0.8 → «80 %», 0.667 → «66,7 %»."""
    return f"{decimal(round(share * 100, 1))} %"


def by_calls(n: int) -> str:
    """«по 7 звонкам», «по 1 звонку», «по 21 звонку»."""
    return f"по {n} {plural(n, 'звонку', 'звонкам', 'звонкам')}"
