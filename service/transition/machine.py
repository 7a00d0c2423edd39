"""A client's move to remote service (ДС) as a status machine: which step may follow which. Pure.

    кандидат ──→ предложено ──→ согласен ──→ переведён (a date: the client is on ДС from then)
       │             │             │
       └─────────────┴─────────────┴──→ отказ (a reason from `selection.decline_reasons`)
                                     └─→ отложено (until a date; planned again that day)
    отложено ──→ предложено | отказ | отложено (another date)

A supervisor makes a client a candidate (assigning an Expert); the Expert's call offers the move.
A call is itself the offer: a wrap-up may say «согласен» for a candidate, and the history then
records «предложено» and «согласен» at once. Without a call (the client card) every step is taken
one by one, so «кандидат → переведён» is refused with the steps it skips. «Переведён» and «отказ»
end the campaign for the client. Every refusal is a `TransitionError` with a Russian message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from service.transition.errors import TransitionError
from texts.labels import TRANSITION_LABELS


class Status(StrEnum):
    CANDIDATE = "candidate"
    OFFERED = "offered"
    AGREED = "agreed"
    MOVED = "moved"
    DECLINED = "declined"
    POSTPONED = "postponed"

    @property
    def label(self) -> str:
        return TRANSITION_LABELS[self]


S = Status
# The steps that may directly follow each status; None: the client is not in the campaign.
NEXT: Mapping[Status | None, frozenset[Status]] = {
    None: frozenset({S.CANDIDATE}),
    S.CANDIDATE: frozenset({S.OFFERED, S.DECLINED, S.POSTPONED}),
    S.OFFERED: frozenset({S.AGREED, S.DECLINED, S.POSTPONED}),
    S.AGREED: frozenset({S.MOVED, S.DECLINED, S.POSTPONED}),
    S.POSTPONED: frozenset({S.OFFERED, S.DECLINED, S.POSTPONED}),
    S.MOVED: frozenset(),
    S.DECLINED: frozenset(),
}
FINAL = frozenset({S.MOVED, S.DECLINED})
OPEN = frozenset({S.CANDIDATE, S.OFFERED, S.AGREED, S.POSTPONED})  # in the campaign, not decided yet
# The order a form lists them in.
ORDER = (S.CANDIDATE, S.OFFERED, S.AGREED, S.MOVED, S.DECLINED, S.POSTPONED)

DEFAULT_DECLINE_REASONS = ("Нужен выезд СИО", "Нет интернета", "Не устраивает цена", "Руководство против",
                           "Другое")
MAX_POSTPONE = timedelta(days=366)
MAX_MOVED_BACK = timedelta(days=366)  # a move recorded late, but not a year late


@dataclass(frozen=True, slots=True)
class Step:
    """One row of the client's transition history, as the machine allows it."""

    status: Status
    reason: str | None = None  # declined: from the configured list
    until: date | None = None  # postponed: until then; moved: the transition date


def next_statuses(current: Status | None, *, by_call: bool = False) -> tuple[Status, ...]:
    """What may be recorded next, in ORDER: a call may also say «согласен» where the offer is implied."""
    allowed = set(NEXT[current])
    if by_call:
        allowed |= {wanted for wanted in ORDER if _implied_offer(current, wanted)}
    return tuple(status for status in ORDER if status in allowed and status is not S.CANDIDATE)


def steps(current: Status | None, wanted: Status, *, today: date, by_call: bool = False,
          reason: str | None = None, until: date | None = None,
          decline_reasons: Sequence[str] = DEFAULT_DECLINE_REASONS) -> tuple[Step, ...]:
    """The rows to append for moving from `current` to `wanted`, or TransitionError saying why not.

    `by_call`: the change comes from a call's wrap-up (the call offered the move). `reason` is read
    only for «отказ», `until` only for «отложено» (until then) and «переведён» (the transition date).
    """
    if wanted is S.CANDIDATE:
        raise TransitionError("Кандидатом клиента назначает руководитель группы (страница отбора)")
    path = _path(current, wanted, by_call=by_call)
    last = Step(wanted, _reason(wanted, reason, decline_reasons), _until(wanted, until, today))
    return (*(Step(status) for status in path[:-1]), last)


def check_assign(current: Status | None) -> None:
    """A client may be made a candidate (again, with another Expert) only before the offer."""
    if current is None or current is S.CANDIDATE:
        return
    if current in FINAL:
        raise TransitionError(f"переход уже решён: «{current.label}»")
    raise TransitionError(f"уже не кандидат: «{current.label}»")


def _path(current: Status | None, wanted: Status, *, by_call: bool) -> tuple[Status, ...]:
    if current is None:
        raise TransitionError("Клиент не участвует в переходе на ДС: сначала руководитель группы "
                              "назначает его кандидатом")
    if current in FINAL:
        raise TransitionError(f"Переход клиента уже решён: «{current.label}»; статус больше не меняется")
    if wanted in NEXT[current]:
        return (wanted,)
    if by_call and _implied_offer(current, wanted):
        return (S.OFFERED, wanted)
    if wanted is current:
        raise TransitionError(f"Статус уже «{current.label}»")
    between = _shortest(current, wanted)
    if between is None:
        raise TransitionError(f"Из «{current.label}» нельзя вернуться в «{wanted.label}»")
    named = ", затем ".join(f"«{status.label}»" for status in between[:-1])
    hint = " (переход предлагают в звонке)" if between[0] is S.OFFERED else ""
    raise TransitionError(f"Нельзя перейти из «{current.label}» сразу в «{wanted.label}»: "
                          f"сначала {named}{hint}")


def _implied_offer(current: Status | None, wanted: Status) -> bool:
    """A call to a client not offered yet is the offer: «согласен» may follow it at once."""
    return current is not None and S.OFFERED in NEXT[current] and wanted in NEXT[S.OFFERED] - NEXT[current]


def _shortest(current: Status, wanted: Status) -> tuple[Status, ...] | None:
    """The statuses after `current` on the shortest way forward to `wanted` (breadth first), or None.

    «Отложено» is never a step on the way: it is a pause, not a way back to an earlier status."""
    paths: dict[Status, tuple[Status, ...]] = {current: ()}
    frontier = [current]
    while frontier:
        reached: list[Status] = []
        for status in frontier:
            for following in sorted(NEXT[status], key=ORDER.index):
                if following not in paths and (following is wanted or following is not S.POSTPONED):
                    paths[following] = (*paths[status], following)
                    reached.append(following)
        frontier = reached
    return paths.get(wanted)


def _reason(wanted: Status, reason: str | None, decline_reasons: Sequence[str]) -> str | None:
    text = " ".join((reason or "").split())
    if wanted is not S.DECLINED:
        if text:  # a reason is the refusal's: kept elsewhere it would be lost without a word
            raise TransitionError(f"Причина указывается только для «{S.DECLINED.label}»: уберите её", "reason")
        return None
    if not text:
        raise TransitionError("Укажите причину отказа", "reason")
    if text not in decline_reasons:
        listed = ", ".join(f"«{r}»" for r in decline_reasons)
        raise TransitionError(f"Причина отказа «{text}» не из списка: {listed}", "reason")
    return text


def _until(wanted: Status, until: date | None, today: date) -> date | None:
    if wanted is S.POSTPONED:
        if until is None:
            raise TransitionError("Укажите, до какого дня отложить переход", "until")
        if until <= today:
            raise TransitionError("Отложить можно только до дня в будущем", "until")
        if until > today + MAX_POSTPONE:
            raise TransitionError("Отложить можно не дальше чем на год", "until")
        return until
    if wanted is S.MOVED:
        if until is None:
            raise TransitionError("Укажите дату перевода на ДС", "until")
        if until > today:
            raise TransitionError("Дата перевода не может быть в будущем", "until")
        if until < today - MAX_MOVED_BACK:
            raise TransitionError("Дата перевода — не раньше чем год назад", "until")
        return until
    if until is not None:  # found trying it: «отказ» with a date was taken, the date silently dropped
        raise TransitionError(f"Дата указывается только для «{S.POSTPONED.label}» и «{S.MOVED.label}»: "
                              "уберите её", "until")
    return None


__all__ = ["DEFAULT_DECLINE_REASONS", "FINAL", "NEXT", "OPEN", "ORDER", "Status", "Step", "check_assign",
           "next_statuses", "steps"]
