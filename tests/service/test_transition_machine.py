"""The transition to ДС as a status machine (service/transition/machine.py): every step allowed or refused. Pure."""

from __future__ import annotations

from datetime import date

import pytest

from service.transition.errors import TransitionError
from service.transition.machine import NEXT, Status, Step, check_assign, next_statuses, steps

S = Status
TODAY = date(2026, 12, 2)
LATER = date(2026, 12, 20)


def until_for(wanted: Status) -> date | None:
    return {S.POSTPONED: LATER, S.MOVED: TODAY}.get(wanted)


def reason_for(wanted: Status) -> str | None:
    return "Нет интернета" if wanted is S.DECLINED else None


# (from, to, by a call): the rows recorded — or the refusal's words.
ALLOWED = [
    (S.CANDIDATE, S.OFFERED, False, (S.OFFERED,)),
    (S.CANDIDATE, S.DECLINED, False, (S.DECLINED,)),
    (S.CANDIDATE, S.POSTPONED, False, (S.POSTPONED,)),
    (S.CANDIDATE, S.AGREED, True, (S.OFFERED, S.AGREED)),  # the call was the offer
    (S.OFFERED, S.AGREED, False, (S.AGREED,)),
    (S.OFFERED, S.DECLINED, True, (S.DECLINED,)),
    (S.OFFERED, S.POSTPONED, True, (S.POSTPONED,)),
    (S.AGREED, S.MOVED, False, (S.MOVED,)),
    (S.AGREED, S.DECLINED, False, (S.DECLINED,)),  # changed their mind before the move
    (S.AGREED, S.POSTPONED, True, (S.POSTPONED,)),
    (S.POSTPONED, S.OFFERED, True, (S.OFFERED,)),
    (S.POSTPONED, S.AGREED, True, (S.OFFERED, S.AGREED)),
    (S.POSTPONED, S.POSTPONED, True, (S.POSTPONED,)),  # postponed again, to another day
    (S.POSTPONED, S.DECLINED, False, (S.DECLINED,)),
]
REFUSED = [
    (S.CANDIDATE, S.MOVED, False,
     "Нельзя перейти из «кандидат» сразу в «переведён»: сначала «предложено», затем «согласен» "
     "(переход предлагают в звонке)"),
    (S.CANDIDATE, S.MOVED, True, "сначала «предложено», затем «согласен»"),
    (S.CANDIDATE, S.AGREED, False, "Нельзя перейти из «кандидат» сразу в «согласен»: сначала «предложено»"),
    (S.POSTPONED, S.AGREED, False, "сразу в «согласен»: сначала «предложено»"),
    (S.OFFERED, S.MOVED, True, "Нельзя перейти из «предложено» сразу в «переведён»: сначала «согласен»"),
    (S.POSTPONED, S.MOVED, False, "сначала «предложено», затем «согласен»"),
    (S.AGREED, S.OFFERED, True, "Из «согласен» нельзя вернуться в «предложено»"),
    (S.OFFERED, S.OFFERED, True, "Статус уже «предложено»"),
    (S.AGREED, S.AGREED, False, "Статус уже «согласен»"),
    (S.MOVED, S.DECLINED, False, "Переход клиента уже решён: «переведён»; статус больше не меняется"),
    (S.DECLINED, S.OFFERED, True, "Переход клиента уже решён: «отказ»"),
    (None, S.OFFERED, True, "Клиент не участвует в переходе на ДС"),
    (S.OFFERED, S.CANDIDATE, False, "Кандидатом клиента назначает руководитель группы"),
]


@pytest.mark.parametrize(("current", "wanted", "by_call", "recorded"), ALLOWED)
def test_allowed_steps(current: Status, wanted: Status, by_call: bool, recorded: tuple[Status, ...]) -> None:
    added = steps(current, wanted, today=TODAY, by_call=by_call, reason=reason_for(wanted),
                  until=until_for(wanted))
    assert tuple(step.status for step in added) == recorded
    assert added[-1] == Step(wanted, reason_for(wanted), until_for(wanted))
    assert all(step == Step(step.status) for step in added[:-1])  # an implied offer carries nothing


@pytest.mark.parametrize(("current", "wanted", "by_call", "message"), REFUSED)
def test_refused_steps_say_why(current: Status | None, wanted: Status, by_call: bool, message: str) -> None:
    with pytest.raises(TransitionError) as refused:
        steps(current, wanted, today=TODAY, by_call=by_call, reason=reason_for(wanted), until=until_for(wanted))
    assert message in refused.value.message and refused.value.field == "status"


def test_every_status_is_in_the_table_and_the_final_ones_lead_nowhere() -> None:
    assert set(NEXT) == {None, *Status}
    assert NEXT[S.MOVED] == NEXT[S.DECLINED] == frozenset()


@pytest.mark.parametrize(("wanted", "reason", "until", "field", "message"), [
    (S.DECLINED, None, None, "reason", "Укажите причину отказа"),
    (S.DECLINED, "Дорого", None, "reason", "Причина отказа «Дорого» не из списка: «Нужен выезд СИО»"),
    (S.POSTPONED, None, None, "until", "Укажите, до какого дня отложить переход"),
    (S.POSTPONED, None, TODAY, "until", "Отложить можно только до дня в будущем"),
    (S.POSTPONED, None, date(2028, 1, 1), "until", "не дальше чем на год"),
])
def test_a_refusal_needs_a_listed_reason_and_a_postponement_a_future_day(
        wanted: Status, reason: str | None, until: date | None, field: str, message: str) -> None:
    with pytest.raises(TransitionError) as refused:
        steps(S.OFFERED, wanted, today=TODAY, by_call=True, reason=reason, until=until)
    assert (refused.value.field, message in refused.value.message) == (field, True), refused.value.message


@pytest.mark.parametrize(("until", "message"), [
    (None, "Укажите дату перевода на ДС"),
    (date(2026, 12, 3), "Дата перевода не может быть в будущем"),
    (date(2025, 11, 1), "не раньше чем год назад"),
])
def test_a_move_needs_its_date_not_in_the_future(until: date | None, message: str) -> None:
    with pytest.raises(TransitionError) as refused:
        steps(S.AGREED, S.MOVED, today=TODAY, until=until)
    assert refused.value.field == "until" and message in refused.value.message


def test_a_listed_reason_is_normalised_and_a_configured_list_is_used() -> None:
    [step] = steps(S.OFFERED, S.DECLINED, today=TODAY, reason="  Свой  провайдер ",
                   decline_reasons=("Свой провайдер",))
    assert step == Step(S.DECLINED, "Свой провайдер")
    # A reason or a date another status does not take is refused, not dropped (found trying it:
    # «отказ» with a date was saved and the date lost without a word).
    with pytest.raises(TransitionError, match="Причина указывается только для «отказ»") as refused:
        steps(S.CANDIDATE, S.OFFERED, today=TODAY, reason="Другое")
    assert refused.value.field == "reason"
    with pytest.raises(TransitionError, match="Дата указывается только для «отложено» и «переведён»") as refused:
        steps(S.OFFERED, S.DECLINED, today=TODAY, reason="Свой провайдер", until=LATER,
              decline_reasons=("Свой провайдер",))
    assert refused.value.field == "until"
    assert steps(S.CANDIDATE, S.OFFERED, today=TODAY, reason="  ") == (Step(S.OFFERED),)


@pytest.mark.parametrize(("current", "by_call", "offered"), [
    (None, True, ()),
    (S.CANDIDATE, True, (S.OFFERED, S.AGREED, S.DECLINED, S.POSTPONED)),
    (S.CANDIDATE, False, (S.OFFERED, S.DECLINED, S.POSTPONED)),
    (S.OFFERED, True, (S.AGREED, S.DECLINED, S.POSTPONED)),
    (S.AGREED, False, (S.MOVED, S.DECLINED, S.POSTPONED)),
    (S.POSTPONED, True, (S.OFFERED, S.AGREED, S.DECLINED, S.POSTPONED)),
    (S.MOVED, False, ()),
])
def test_next_statuses_are_what_a_form_offers(current: Status | None, by_call: bool,
                                              offered: tuple[Status, ...]) -> None:
    assert next_statuses(current, by_call=by_call) == offered
    for wanted in offered:  # whatever a form offers, the machine takes
        steps(current, wanted, today=TODAY, by_call=by_call, reason=reason_for(wanted), until=until_for(wanted))


@pytest.mark.parametrize(("current", "message"), [
    (None, None), (S.CANDIDATE, None), (S.OFFERED, "уже не кандидат: «предложено»"),
    (S.POSTPONED, "уже не кандидат: «отложено»"), (S.MOVED, "переход уже решён: «переведён»"),
])
def test_only_a_client_not_offered_yet_may_be_assigned(current: Status | None, message: str | None) -> None:
    if message is None:
        check_assign(current)
        return
    with pytest.raises(TransitionError, match=message):
        check_assign(current)


def test_every_status_has_a_russian_label() -> None:
    assert [s.label for s in Status] == ["кандидат", "предложено", "согласен", "переведён", "отказ", "отложено"]
