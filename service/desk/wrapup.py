"""The wrap-up after a call: its results, the form's validation and what each result means. Pure.

What the Expert may set is only their judgement (result, topic, logged in, productive, comment,
next contact, and for a client in the campaign for ДС its next transition step). Times, duration
and outcome belong to the PBX: the form never carries them and the server never reads them from a request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from scheduler.model import PlanState
from service.transition.errors import TransitionError
from service.transition.machine import DEFAULT_DECLINE_REASONS, OPEN, Status, next_statuses, steps
from texts.labels import RESULT_LABELS
from texts.words import minutes_seconds

COMMENT_LIMIT = 4000
MAX_NEXT_CONTACT_AHEAD = timedelta(days=366)  # a callback is planned within the year


class WrapUpResult(StrEnum):
    CONTACT_MADE = "contact_made"
    NOT_REACHED = "not_reached"
    CALLBACK = "callback"
    WRONG_NUMBER = "wrong_number"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return RESULT_LABELS[self]

    @property
    def is_contact(self) -> bool:
        """SPEC-NOTES: "refused" is a contact (not productive); "wrong number" is not a contact."""
        return self in (WrapUpResult.CONTACT_MADE, WrapUpResult.REFUSED)

    @property
    def plan_state(self) -> PlanState:
        """What the planned item becomes; not_reached items go back into the retry rules."""
        return _PLAN_STATES[self]


_PLAN_STATES: dict[WrapUpResult, PlanState] = {
    WrapUpResult.CONTACT_MADE: PlanState.CONTACT_MADE,
    WrapUpResult.REFUSED: PlanState.CONTACT_MADE,
    WrapUpResult.NOT_REACHED: PlanState.NOT_REACHED,
    WrapUpResult.WRONG_NUMBER: PlanState.NOT_REACHED,
    WrapUpResult.CALLBACK: PlanState.CALLBACK,
}
REACHED_OUTCOMES = frozenset({"answered"})


def suggested_result(outcome: str | None) -> WrapUpResult | None:
    """Pre-fill from the ledger: an answered call was most likely a contact. None for the Expert's
    own miss: no result of hers touches the client's retry counter (issue 13)."""
    if outcome == "expert_no_answer":
        return None
    return WrapUpResult.CONTACT_MADE if outcome in REACHED_OUTCOMES else WrapUpResult.NOT_REACHED


@dataclass(frozen=True, slots=True)
class TransitionChoice:
    """The campaign's next step the wrap-up records (service/transition/machine.py checks it)."""

    status: Status
    reason: str | None = None  # declined
    until: date | None = None  # postponed until


@dataclass(frozen=True, slots=True)
class CampaignField:
    """The wrap-up's «Переход на ДС» field for a client in the campaign: its status now, and what
    this call's wrap-up recorded before (a re-save with the same choice records nothing again)."""

    current: Status
    today: date  # the organisation's
    decline_reasons: tuple[str, ...] = DEFAULT_DECLINE_REASONS
    recorded: Status | None = None

    @property
    def editable(self) -> bool:
        return self.current in OPEN or self.recorded is not None

    @property
    def options(self) -> tuple[Status, ...]:
        """What a call may record: «переведён» is the supervisor's, on the client card, with its date."""
        options: list[Status] = [s for s in next_statuses(self.current, by_call=True) if s is not Status.MOVED]
        if self.recorded is not None and self.recorded not in options:
            options.insert(0, self.recorded)
        return tuple(options)


@dataclass(frozen=True, slots=True)
class WrapUpInput:
    result: WrapUpResult
    topic: str | None
    logged_in: bool
    productive: bool
    comment: str | None
    next_contact_at: datetime | None  # aware; a callback in the next plans
    transition: TransitionChoice | None = None  # None: the campaign's status stays as it is


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str  # Russian: shown beside the field


def parse_wrapup(form: Mapping[str, str], *, topics: Sequence[str], tz: ZoneInfo, now: datetime,
                 talk_s: float = 0.0, min_productive_talk_s: float = 0.0, answered: bool = True,
                 callback_check: Callable[[datetime], str | None] | None = None,
                 campaign: CampaignField | None = None) -> WrapUpInput | list[FieldError]:
    """The validated wrap-up, or every problem with the form (nothing is saved then).

    `talk_s`: the call's talk time from the PBX. Productive is the Expert's judgement, but only of
    a contact made whose talk lasted at least `min_productive_talk_s`: a tick on anything else is
    refused with the reason, never dropped silently (issue 13). `answered`: the PBX saw the client
    answer; a result that needs someone on the line (a contact, a refusal, a wrong number) is
    refused for a call nobody answered, so no contact can be claimed for it. `callback_check`: why a
    next contact at that moment cannot be promised (the client's hours, days off, too far ahead:
    scheduler/calling_hours.py), or None when it can. `campaign`: the client is in the campaign for ДС;
    its field is checked by the status machine here, before anything is saved."""
    errors: list[FieldError] = []
    result = _result(form.get("result", ""), errors)
    if result is not None and not answered and result in NEEDS_AN_ANSWER:
        errors.append(FieldError("result", f"Клиент не ответил (по данным АТС разговора не было): итог "
                                           f"«{result.label}» невозможен"))
    topic = _topic(form.get("topic", "").strip(), topics, errors)
    comment = form.get("comment", "").strip()
    if "\x00" in comment:  # PostgreSQL refuses NUL in text; say so instead of failing the save
        errors.append(FieldError("comment", "В комментарии недопустимый символ (NUL)"))
    if len(comment) > COMMENT_LIMIT:
        errors.append(FieldError("comment", f"Комментарий длиннее {COMMENT_LIMIT} символов"))
    next_at = _next_contact(form.get("next_contact", "").strip(), tz, now, errors)
    if next_at is not None and callback_check is not None and (problem := callback_check(next_at)) is not None:
        errors.append(FieldError("next_contact", problem))
        next_at = None
    if result is WrapUpResult.CALLBACK and next_at is None and not _has_error(errors, "next_contact"):
        errors.append(FieldError("next_contact", "Укажите, когда перезвонить"))
    if _checked(form.get("productive")) and result is not None:
        _productive_allowed(result, talk_s, min_productive_talk_s, errors)
    transition = _transition(form, campaign, result, errors) if campaign is not None else None
    if errors or result is None:
        return errors
    contact = result.is_contact
    return WrapUpInput(
        result=result, topic=topic,
        # Only a contact can be productive or have the client log in (a refusal is not productive).
        logged_in=contact and _checked(form.get("logged_in")),
        productive=result is WrapUpResult.CONTACT_MADE and _checked(form.get("productive")),
        comment=comment or None, next_contact_at=next_at, transition=transition,
    )


NEEDS_AN_ANSWER = frozenset({WrapUpResult.CONTACT_MADE, WrapUpResult.REFUSED, WrapUpResult.WRONG_NUMBER})
# The client was on the line: only then can the call move the transition.
ON_THE_LINE = frozenset({WrapUpResult.CONTACT_MADE, WrapUpResult.REFUSED, WrapUpResult.CALLBACK})
_TRANSITION_FIELDS = {"status": "transition", "reason": "transition_reason", "until": "transition_until"}


def _transition(form: Mapping[str, str], campaign: CampaignField, result: WrapUpResult | None,
                errors: list[FieldError]) -> TransitionChoice | None:
    raw = form.get("transition", "").strip()
    if not raw or not campaign.editable:
        return None
    try:
        wanted = Status(raw)
    except ValueError:
        errors.append(FieldError("transition", f"Неизвестный статус перехода «{raw}»"))
        return None
    if wanted is campaign.recorded:
        return None  # this call's wrap-up said so before: saving again changes nothing
    if wanted is Status.MOVED:
        errors.append(FieldError("transition", "«Переведён» с датой перевода отмечает руководитель группы "
                                               "в карточке клиента"))
        return None
    if result is not None and result not in ON_THE_LINE:
        errors.append(FieldError("transition", f"С итогом «{result.label}» статус перехода не меняется: "
                                               "клиента не было на линии"))
        return None
    raw_until = form.get("transition_until", "").strip()
    until = _day(raw_until, errors)
    if raw_until and until is None:
        return None  # the date's own problem is said already
    reason = form.get("transition_reason", "").strip() or None
    try:
        steps(campaign.current, wanted, today=campaign.today, by_call=True, reason=reason, until=until,
              decline_reasons=campaign.decline_reasons)
    except TransitionError as e:
        errors.append(FieldError(_TRANSITION_FIELDS[e.field], e.message))
        return None
    return TransitionChoice(wanted, reason if wanted is Status.DECLINED else None,
                            until if wanted is Status.POSTPONED else None)


def _day(raw: str, errors: list[FieldError]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError("transition_until", f"Непонятная дата «{raw}»: нужен вид ГГГГ-ММ-ДД"))
        return None


def _productive_allowed(result: WrapUpResult, talk_s: float, minimum: float, errors: list[FieldError]) -> None:
    if result is not WrapUpResult.CONTACT_MADE:
        errors.append(FieldError("productive", f"Результативным может быть только звонок с итогом "
                                               f"«{WrapUpResult.CONTACT_MADE.label}»"))
    elif talk_s < minimum:
        errors.append(FieldError("productive", f"Разговор длился {minutes_seconds(talk_s)}: результативным "
                                               f"считается разговор не короче {minutes_seconds(minimum)}"))


def _has_error(errors: list[FieldError], field: str) -> bool:
    return any(e.field == field for e in errors)


def _result(raw: str, errors: list[FieldError]) -> WrapUpResult | None:
    try:
        return WrapUpResult(raw)
    except ValueError:
        errors.append(FieldError("result", "Выберите результат звонка"))
        return None


def _topic(raw: str, topics: Sequence[str], errors: list[FieldError]) -> str | None:
    if not raw:
        return None
    if raw not in topics:
        errors.append(FieldError("topic", f"Неизвестный инфоповод «{raw}»"))
        return None
    return raw


def _checked(raw: str | None) -> bool:
    return raw is not None and raw.lower() in ("1", "on", "true", "yes", "да")


def _next_contact(raw: str, tz: ZoneInfo, now: datetime, errors: list[FieldError]) -> datetime | None:
    """`YYYY-MM-DDTHH:MM` (datetime-local, organisation time) or a bare date (then 10:00)."""
    if not raw:
        return None
    try:
        local = datetime.fromisoformat(raw) if "T" in raw else datetime.combine(date.fromisoformat(raw), time(10))
    except ValueError:
        errors.append(FieldError("next_contact", f"Непонятная дата «{raw}»: нужен вид ГГГГ-ММ-ДД ЧЧ:ММ"))
        return None
    if not now.year - 1 <= local.year <= now.year + 1:  # also keeps year 1 or 9999 away from UTC arithmetic
        errors.append(FieldError("next_contact", "Следующий контакт — не дальше чем через год"))
        return None
    if local.tzinfo is None:
        local = local.replace(tzinfo=tz)
    if local <= now:
        errors.append(FieldError("next_contact", "Следующий контакт должен быть в будущем"))
        return None
    if local > now + MAX_NEXT_CONTACT_AHEAD:
        errors.append(FieldError("next_contact", "Следующий контакт — не дальше чем через год"))
        return None
    return local
