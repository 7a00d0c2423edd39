"""What a call script can use: read-only views built from plain data (models, dataclasses, mappings).

Scripts never see the ORM objects themselves: a view holds only plain values, so a template
cannot trigger a lazy load or reach a session, and every derived value (the «Имя Отчество»,
days without a login, days until the financial terms end) is computed once, here, and tested.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from texts.labels import VERSION_LABELS
from texts.words import grammatical_gender

# Defaults match PlanSettings (not_logged_in_days, terms_ending_days); the desk passes the configured ones.
NOT_LOGGED_IN_DAYS = 14
TERMS_ENDING_DAYS = 30


@dataclass(frozen=True, slots=True)
class NameParts:
    """«Фамилия Имя Отчество» split; missing parts are empty strings."""

    last: str
    first: str
    patronymic: str

    @property
    def io(self) -> str:
        """The respectful address «Имя Отчество» (just «Имя» when there is no patronymic)."""
        return " ".join(part for part in (self.first, self.patronymic) if part)


def split_full_name(full_name: str | None) -> NameParts:
    """Split «Фамилия Имя Отчество»: surname first, extra spaces ignored.

    A single word is taken as the first name (that is how a person is addressed when the CRM
    has nothing else); four and more words keep the tail as the patronymic («Гейдар оглы»).
    """
    words = (full_name or "").split()
    if not words:
        return NameParts("", "", "")
    if len(words) == 1:
        return NameParts("", words[0], "")
    return NameParts(words[0], words[1], " ".join(words[2:]))


def respectful_name(full_name: str | None) -> str:
    """«Иванова Ольга Петровна» -> «Ольга Петровна»; «Иванова Ольга» -> «Ольга»."""
    return split_full_name(full_name).io


@dataclass(frozen=True, slots=True)
class ClientView:
    external_id: str | None
    name: str
    inn: str | None
    segment: str | None
    territory: str | None
    version: str | None
    version_label: str | None  # «онлайн-версия», «интернет-пополнение»
    is_online: bool
    timezone: str | None
    online_last_login: date | None
    online_logins_30d: int | None
    days_since_login: int | None  # None: never logged in, or not an online client
    long_without_login: bool  # online and no login for NOT_LOGGED_IN_DAYS (or never)
    debt_rub: float
    has_debt: bool
    prepaid_months: int | None
    terms_end: date | None
    terms_days_left: int | None  # negative: the terms have already ended
    terms_ending_soon: bool
    ds_since: date | None


@dataclass(frozen=True, slots=True)
class PersonView:
    """A contact person or the Expert: the name in every form a script needs."""

    full_name: str
    io: str  # «Имя Отчество»
    first_name: str
    patronymic: str
    last_name: str
    gender: str | None  # 'f', 'm' or None (from the patronymic)


@dataclass(frozen=True, slots=True)
class ContactView(PersonView):
    position: str | None
    is_user: bool
    email: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class ReasonView:
    code: str  # scheduler.model.ReasonCode: callback, signal, retry, not_logged_in, debt, …
    text: str  # Russian, as on the Expert's list


@dataclass(frozen=True, slots=True)
class OfferView:
    """The transition's offer the «Речевой ролик» names (config.yaml `selection.offer_*`): the kit, and
    the price and date when the department has set them (None: the script says to take them from the offer)."""

    kit: str
    price: str | None
    date: date | None


DEFAULT_KIT = "СМАРТ-комплект"  # the glossary's spelling (templates/glossary.yaml)


@dataclass(frozen=True, slots=True)
class ItemView:
    """The plan item; for an unplanned call `planned` is False and the rest is empty."""

    planned: bool
    public_id: str | None
    topic: str | None
    reasons: tuple[ReasonView, ...]
    reason_codes: tuple[str, ...]
    comment: str | None  # the previous contact's comment


def script_variables(
    client: Any,
    contact: Any,
    expert: Any,
    item: Any | None,
    today: date,
    *,
    not_logged_in_days: int = NOT_LOGGED_IN_DAYS,
    terms_ending_days: int = TERMS_ENDING_DAYS,
    offer: Any | None = None,
) -> dict[str, Any]:
    """The variables of a script: `client`, `contact`, `expert`, `item`, `offer`, `today`.

    Each argument may be an ORM model, a dataclass or a mapping; missing fields become None.
    `item` is None for an unplanned call; the script still gets an `item` (with planned=False)
    so that `{% if item.comment %}` works in every script without a guard. `offer` (kit, price,
    date): the transition's offer; None gives the СМАРТ-комплект with no price or date.
    """
    return {
        "client": client_view(client, today, not_logged_in_days, terms_ending_days),
        "contact": contact_view(contact),
        "expert": expert_view(expert),
        "item": item_view(item),
        "offer": offer_view(offer),
        "today": today,
    }


def offer_view(offer: Any | None) -> OfferView:
    return OfferView(kit=_text(_field(offer, "kit")) or DEFAULT_KIT, price=_text(_field(offer, "price")),
                     date=_field(offer, "date"))


def client_view(client: Any, today: date, not_logged_in_days: int = NOT_LOGGED_IN_DAYS,
                terms_ending_days: int = TERMS_ENDING_DAYS) -> ClientView:
    version = _text(_field(client, "version"))
    is_online = version == "online"
    last_login = _field(client, "online_last_login")
    days_since_login = (today - last_login).days if is_online and last_login else None
    debt = float(_field(client, "debt_rub") or Decimal(0))
    terms_end = _field(client, "terms_end")
    terms_days_left = (terms_end - today).days if terms_end else None
    return ClientView(
        external_id=_text(_field(client, "external_id")),
        name=_text(_field(client, "name")) or "",
        inn=_text(_field(client, "inn")),
        segment=_text(_field(client, "segment")),
        territory=_text(_field(client, "territory")),
        version=version,
        version_label=VERSION_LABELS.get(version or ""),
        is_online=is_online,
        timezone=_text(_field(client, "timezone")),
        online_last_login=last_login,
        online_logins_30d=_field(client, "online_logins_30d"),
        days_since_login=days_since_login,
        long_without_login=is_online and (days_since_login is None or days_since_login >= not_logged_in_days),
        debt_rub=debt,
        has_debt=debt > 0,
        prepaid_months=_field(client, "prepaid_months"),
        terms_end=terms_end,
        terms_days_left=terms_days_left,
        terms_ending_soon=terms_days_left is not None and terms_days_left <= terms_ending_days,
        ds_since=_field(client, "ds_since"),
    )


def person_view(full_name: str | None) -> PersonView:
    return PersonView(**_name_fields(full_name))


def expert_view(expert: Any) -> PersonView:
    """The Expert by the name parts stored for them (`last_name`, `first_name`, `patronymic`);
    a source without parts (an older caller, a row written around the repositories) by the full name."""
    last = _text(_field(expert, "last_name")) or ""
    first = _text(_field(expert, "first_name")) or ""
    if not (last or first):
        return person_view(_field(expert, "full_name"))
    parts = NameParts(last, first, _text(_field(expert, "patronymic")) or "")
    full_name = " ".join(part for part in (parts.last, parts.first, parts.patronymic) if part)
    return PersonView(full_name=full_name, io=parts.io, first_name=parts.first, patronymic=parts.patronymic,
                      last_name=parts.last, gender=grammatical_gender(full_name))


def contact_view(contact: Any) -> ContactView:
    return ContactView(
        **_name_fields(_field(contact, "full_name")),
        position=_text(_field(contact, "position")),
        is_user=bool(_field(contact, "is_user")),
        email=_text(_field(contact, "email")),
        phone=_text(_field(contact, "phone") or _field(contact, "phone_e164")),
    )


def item_view(item: Any | None) -> ItemView:
    if item is None:
        return ItemView(planned=False, public_id=None, topic=None, reasons=(), reason_codes=(), comment=None)
    reasons = tuple(_reason_view(reason) for reason in _field(item, "reasons") or ())
    return ItemView(
        planned=True,
        public_id=_text(_field(item, "public_id")),
        topic=_text(_field(item, "topic")),
        reasons=reasons,
        reason_codes=tuple(reason.code for reason in reasons),
        # PlannedCall.comment and scheduler PlanItem.previous_comment are the same thing.
        comment=_text(_field(item, "comment") or _field(item, "previous_comment")),
    )


def _reason_view(reason: Any) -> ReasonView:
    return ReasonView(code=_text(_field(reason, "code")) or "", text=_text(_field(reason, "text")) or "")


def _name_fields(full_name: str | None) -> dict[str, Any]:
    parts = split_full_name(full_name)
    return {
        "full_name": " ".join((full_name or "").split()),
        "io": parts.io,
        "first_name": parts.first,
        "patronymic": parts.patronymic,
        "last_name": parts.last,
        "gender": grammatical_gender(full_name or ""),
    }


def _field(source: Any, name: str) -> Any:
    """`source[name]` for a mapping, `source.name` otherwise; None when absent."""
    if source is None:
        return None
    if isinstance(source, Mapping):
        return source.get(name)
    return getattr(source, name, None)


def _text(value: Any) -> str | None:
    """A string for the template (a StrEnum becomes its value); blank becomes None."""
    if value is None:
        return None
    text = str(value.value if hasattr(value, "value") else value).strip()
    return text or None


def sample_variables(today: date, **overrides: Any) -> dict[str, Any]:
    """Realistic variables for previews and checks: a ДС client, a user, a planned item."""
    client = {
        "external_id": "C-501", "name": "ООО «Северный берег»", "segment": "ДС", "version": "online",
        "timezone": "Europe/Moscow", "online_last_login": date.fromordinal(today.toordinal() - 20),
        "online_logins_30d": 3, "debt_rub": Decimal("12500.00"), "prepaid_months": 3,
        "terms_end": date.fromordinal(today.toordinal() + 10), "territory": "Псков",
    }
    contact = {"full_name": "Иванова Ольга Петровна", "position": "главный бухгалтер", "is_user": True,
               "email": "olga@example.ru", "phone": "+7 811 200-00-01"}
    expert = {"last_name": "Смирнова", "first_name": "Мария", "patronymic": "Андреевна"}
    item = {"public_id": "PC-1001", "topic": "Обзор новостей и изменений",
            "comment": "просила напомнить про отчётность",
            "reasons": [{"code": "not_logged_in", "text": "не заходили в онлайн-версию 20 дней"},
                        {"code": "debt", "text": "задолженность 12 500 ₽"}]}
    offer = {"kit": DEFAULT_KIT, "price": "4 900 ₽ в месяц", "date": date.fromordinal(today.toordinal() + 30)}
    parts = {"client": client, "contact": contact, "expert": expert, "item": item, "offer": offer, **overrides}
    return script_variables(parts["client"], parts["contact"], parts["expert"], parts["item"], today,
                            offer=parts["offer"])
