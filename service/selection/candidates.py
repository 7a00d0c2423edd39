"""The candidate list for ДС (issue 15): every client scored, filtered, sorted and paged. Pure.

The shell (service/selection/listing.py) reads the clients, their latest manual scores and their
transition status and scores them once per request; this module decides which rows a page, the
XLSX and `dsdesk selection list` show, and in which order. Filters and sort come from the page's
address (`?territory=&sio=&eligible=&candidates=1&sort=&order=&page=`); a value that cannot be what
it claims is a `BadListQuery` with a Russian message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.selection.errors import BadListQuery, BadManualScore
from service.selection.scoring import (
    ALREADY_ON_DS,
    CRITERIA,
    CRITERION_LABELS,
    IP_POSSIBLE_UNKNOWN,
    NO_ONLINE_OR_IP,
    RECOMMENDATION,
    Selection,
    check_manual,
    normalise_manual,
)

PAGE_SIZE = 200
MAX_FILTER_CHARS = 128  # a territory or a СИО as the clients import allows them
MAX_NOTE_CHARS = 1000
# `eligible=`: yes, no (any reason), or one reason by its code.
REASONS = {"already_ds": ALREADY_ON_DS, "no_ip": NO_ONLINE_OR_IP, "ip_unknown": IP_POSSIBLE_UNKNOWN}
ELIGIBLE_LABELS = {"yes": "подходят", "no": "не подходят (любая причина)",
                   **{code: f"не подходят: {reason}" for code, reason in REASONS.items()}}
SORTS = {"total": "итог", **CRITERION_LABELS, "name": "название"}
RECOMMENDATION_LABELS = {"yes": "да", "no": "нет"}


@dataclass(frozen=True, slots=True)
class Candidate:
    """One client of the list: who it is, its scores and its transition's status."""

    id: int  # clients.id
    external_id: str
    name: str
    territory: str | None
    sio: str | None
    selection: Selection
    status: str | None  # the transition's latest step (texts.labels.TRANSITION_LABELS' keys), None: not picked
    status_expert: str | None = None  # the campaign's Expert (who offers the move)

    def score(self, criterion: str) -> int:
        return self.selection.scores[criterion].value


@dataclass(frozen=True, slots=True)
class ListQuery:
    """The list's filters, sort and page, as the address gives them ("" or None: no filter)."""

    territory: str = ""
    sio: str = ""
    eligible: str = ""  # "" | "yes" | "no" | a REASONS code
    candidates: bool = False
    sort: str = "total"
    ascending: bool = False  # scores read best first; names A to Я
    page: int = 1

    def matches(self, row: Candidate) -> bool:
        selection = row.selection
        if self.candidates and not selection.candidate:
            return False
        if self.territory and (row.territory or "") != self.territory:
            return False
        if self.sio and (row.sio or "") != self.sio:
            return False
        if self.eligible == "yes":
            return selection.eligible
        if self.eligible == "no":
            return not selection.eligible
        return not self.eligible or selection.ineligible_reason == REASONS[self.eligible]

    def params(self, **changes: Any) -> dict[str, str]:
        """The address's parameters (without the defaults), for links: `changes` override fields."""
        values = {**{name: getattr(self, name) for name in self.__dataclass_fields__}, **changes}
        params = {"territory": values["territory"], "sio": values["sio"], "eligible": values["eligible"],
                  "candidates": "1" if values["candidates"] else "", "sort": values["sort"],
                  "order": "asc" if values["ascending"] else "desc", "page": str(values["page"])}
        defaults = {"sort": "total", "order": "desc", "page": "1"}
        if values["sort"] == "name":
            defaults["order"] = "asc"
        return {key: value for key, value in params.items() if value and defaults.get(key) != value}

    def sorted_by(self, key: str) -> dict[str, str]:
        """The parameters of a click on a column's header: that column, its natural order first, then flipped."""
        natural_ascending = key == "name"
        ascending = not self.ascending if key == self.sort else natural_ascending
        return self.params(sort=key, ascending=ascending, page=1)


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of the list, and what the filters can offer."""

    rows: list[Candidate]  # this page's
    matched: int
    page: int
    pages: int
    total: int  # clients scored
    eligible: int
    candidates: int
    territories: list[str] = field(default_factory=list)
    sios: list[str] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)  # REASONS code → clients


def read_query(args: Mapping[str, str]) -> ListQuery:
    """The address's parameters checked; BadListQuery (Russian) for a value no link of the page makes."""
    territory, sio = _filter_text(args, "territory", "территория"), _filter_text(args, "sio", "СИО")
    eligible = args.get("eligible", "").strip()
    if eligible and eligible not in ELIGIBLE_LABELS:
        raise BadListQuery(f"Неизвестный фильтр «подходит»: «{eligible[:40]}»; возможные: "
                           + ", ".join(f"«{label}»" for label in ELIGIBLE_LABELS.values()))
    sort = args.get("sort", "").strip() or "total"
    if sort not in SORTS:
        raise BadListQuery(f"Неизвестная сортировка «{sort[:40]}»; возможные: "
                           + ", ".join(f"«{label}»" for label in SORTS.values()))
    order = args.get("order", "").strip()
    if order not in ("", "asc", "desc"):
        raise BadListQuery(f"Непонятный порядок сортировки «{order[:40]}»: по возрастанию или по убыванию "
                           "(выберите столбец на странице)")
    ascending = order == "asc" if order else sort == "name"
    return ListQuery(territory, sio, eligible, _yes(args.get("candidates", "")), sort, ascending,
                     _page(args.get("page", "")))


def filtered(rows: Iterable[Candidate], query: ListQuery) -> list[Candidate]:
    """The rows the filters keep, in the query's order; ties keep the given order (by name)."""
    kept = [row for row in rows if query.matches(row)]
    kept.sort(key=sort_key(query.sort), reverse=not query.ascending)
    return kept


def sort_key(sort: str) -> Callable[[Candidate], Any]:
    if sort == "total":
        return lambda row: row.selection.total
    if sort == "name":
        return lambda row: row.name.casefold()
    return lambda row: row.selection.scores[sort].value


def listing(rows: Sequence[Candidate], query: ListQuery, page_size: int = PAGE_SIZE) -> Listing:
    """The query's page of the list, the counts the page states and the filters' choices."""
    kept = filtered(rows, query)
    pages = max(1, -(-len(kept) // page_size))
    page = min(query.page, pages)
    reasons = Counter(row.selection.ineligible_reason for row in rows)
    return Listing(
        rows=kept[(page - 1) * page_size:page * page_size], matched=len(kept), page=page, pages=pages,
        total=len(rows), eligible=sum(row.selection.eligible for row in rows),
        candidates=sum(row.selection.candidate for row in rows),
        territories=sorted({row.territory for row in rows if row.territory}, key=str.casefold),
        sios=sorted({row.sio for row in rows if row.sio}, key=str.casefold),
        reasons={code: reasons[reason] for code, reason in REASONS.items()},
    )


def read_manual(criterion: str, value: str, note: str) -> tuple[str, str, str | None]:
    """A manual score from the client's form: (criterion, stored value, note or None).

    BadManualScore lists every problem in the form's words (the criterion by its Russian label)."""
    criterion, value, note = criterion.strip(), value.strip(), note.strip()
    problems = []
    if criterion not in (*CRITERIA, RECOMMENDATION):
        problems.append("Выберите критерий из списка.")
    elif not value:
        problems.append("Укажите балл от 0 до 3 или рекомендацию «да»/«нет».")
    elif check_manual(criterion, value) is not None:
        if criterion == RECOMMENDATION:
            problems.append(f"Рекомендация СИО — «да» или «нет», а не «{value[:20]}».")
        else:
            problems.append(f"Балл по критерию «{CRITERION_LABELS[criterion]}» — целое число от 0 до 3, "
                            f"а не «{value[:20]}».")
    if len(note) > MAX_NOTE_CHARS:
        problems.append(f"Примечание длиннее {MAX_NOTE_CHARS} символов.")
    if problems:
        raise BadManualScore(problems)
    return criterion, normalise_manual(criterion, value), note or None


def manual_value_label(criterion: str, value: str) -> str:
    """A stored manual value as the pages show it: «2», «да», «нет»."""
    return RECOMMENDATION_LABELS.get(value, value) if criterion == RECOMMENDATION else value


def criterion_label(criterion: str) -> str:
    return "рекомендация СИО" if criterion == RECOMMENDATION else CRITERION_LABELS.get(criterion, criterion)


def _filter_text(args: Mapping[str, str], key: str, label: str) -> str:
    text = " ".join(args.get(key, "").split())
    if len(text) > MAX_FILTER_CHARS:
        raise BadListQuery(f"Фильтр «{label}» длиннее {MAX_FILTER_CHARS} символов")
    return text


def _yes(value: str) -> bool:
    if value.strip() in ("", "0", "no"):
        return False
    if value.strip() in ("1", "yes", "on"):
        return True
    raise BadListQuery(f"Фильтр «только кандидаты» — 1 или пусто, а не «{value[:40]}»")


def _page(value: str) -> int:
    value = value.strip()
    if not value:
        return 1
    if not value.isascii() or not value.isdigit() or len(value) > 6 or int(value) < 1:
        raise BadListQuery(f"Номер страницы — целое число от 1, а не «{value[:40]}»")
    return int(value)
